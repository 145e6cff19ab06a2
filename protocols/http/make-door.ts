/**
 * Builds the HTTP door from configuration: limits, the public base URLs, Basic authentication with
 * its throttle, metrics, and the routes of every HTTP protocol served so far (the door's own,
 * AutoDiscover). Later protocols add their routes here.
 */
import type { Logger } from 'pino';
import type { Config } from '../../runtime/config.js';
import type { Authenticator } from '../../runtime/auth.js';
import { renderPrometheus, type Sample } from '../../runtime/metrics.js';
import type { DirectoryStore } from '../../storage/directory-store.js';
import { HttpDoor } from './door.js';
import { HttpAuth } from './http-auth.js';
import { FailureThrottle } from '../shared/failure-throttle.js';
import { DoorMetrics } from './door-metrics.js';
import { parseAllowList } from './address-allow.js';
import { coreRoutes } from './core-routes.js';
import type { Route } from './router.js';
import { autodiscoverRoutes, serverIdFrom } from '../autodiscover/routes.js';
import { MailboxGuids } from '../autodiscover/mailbox-guids.js';
import type { MailEndpoint } from '../autodiscover/autoconfig.js';
import type { ActorSystem } from '../../runtime/actor-system.js';
import { makeMapiDoor } from '../mapi/mapi-door.js';
import type { OutboundQueue } from '../smtp/smtp-door.js';
import type { CpuPool } from '../../runtime/cpu-pool.js';

export interface HttpDoorContext {
  config: Config;
  hostname: string;
  log: Logger;
  dir: DirectoryStore;
  auth: Authenticator;
  health(): Promise<{ ok: boolean; detail: unknown }>;
  /** Runtime and directory samples for /metrics (the door adds its own). */
  samples(): Promise<Sample[]>;
  /** AutoDiscover DeploymentId (routes.ts deploymentIdFrom). */
  deploymentId: string;
  /** The MailboxGuid of a user's mailbox, from its mailbox actor. */
  fetchMailboxGuid(address: string): Promise<string>;
  /** Extra routes (tests, benchmarks). */
  extraRoutes?: readonly Route[];
  /** The actor system: with it the door serves MAPI over HTTP (protocols/mapi/). */
  system?: ActorSystem;
  /** The outbound queue (MAPI submissions to remote recipients). */
  outbound?: OutboundQueue;
  /** The CPU pool (MIME conversion of MAPI submissions). */
  pool?: CpuPool;
}

/** Base URLs of the HTTPS services, without a trailing slash. */
export function publicUrls(c: Config, hostname: string): { internal: string; external: string } {
  const port = c.listeners.https.port + c.server.port_base;
  const trim = (u: string) => u.replace(/\/+$/, '');
  const internal = c.http.internal_url !== '' ? trim(c.http.internal_url) : `https://${hostname}${port === 443 ? '' : `:${port}`}`;
  return { internal, external: c.http.external_url !== '' ? trim(c.http.external_url) : internal };
}

/** The enabled mail listeners, for autoconfig answers: implicit TLS first, then STARTTLS. */
export function mailEndpoints(c: Config): MailEndpoint[] {
  const all: [keyof Config['listeners'], MailEndpoint['kind'], MailEndpoint['type'], MailEndpoint['socketType']][] = [
    ['imaps', 'incomingServer', 'imap', 'SSL'],
    ['imap', 'incomingServer', 'imap', 'STARTTLS'],
    ['pop3s', 'incomingServer', 'pop3', 'SSL'],
    ['pop3', 'incomingServer', 'pop3', 'STARTTLS'],
    ['submissions', 'outgoingServer', 'smtp', 'SSL'],
    ['submission', 'outgoingServer', 'smtp', 'STARTTLS'],
  ];
  return all.filter(([l]) => c.listeners[l].enabled).map(([l, kind, type, socketType]) => ({ kind, type, socketType, port: c.listeners[l].port + c.server.port_base }));
}

export function makeHttpDoor(ctx: HttpDoorContext): HttpDoor {
  const c = ctx.config;
  const urls = publicUrls(c, ctx.hostname);
  const metrics = new DoorMetrics();
  const auth = new HttpAuth({
    realm: ctx.hostname,
    verify: (login, password) => ctx.auth.verify(login, password),
    current: (login, userId) => (login.includes('@') ? ctx.dir.userByAddress(login) : ctx.dir.userById(userId)),
    cacheMs: c.auth.cache_seconds * 1000,
    throttle: new FailureThrottle(c.http.auth_failure_limit, c.http.auth_failure_window_seconds * 1000),
    onFailure: () => metrics.authFailures++,
    onThrottled: () => metrics.authThrottled++,
  });
  const routes: Route[] = [
    ...coreRoutes({
      hostname: ctx.hostname,
      health: ctx.health,
      metricsAllow: parseAllowList(c.metrics.allow),
      metricsText: async () => renderPrometheus([...(await ctx.samples()), ...metrics.samples()]),
    }),
    ...autodiscoverRoutes({
      dir: ctx.dir,
      internalUrl: urls.internal,
      externalUrl: urls.external,
      deploymentId: ctx.deploymentId,
      serverId: serverIdFrom(ctx.hostname),
      guids: new MailboxGuids(ctx.fetchMailboxGuid),
      autoconfig: {
        organization: c.autodiscover.organization !== '' ? c.autodiscover.organization : ctx.dir.org(),
        mailHost: c.autodiscover.mail_host !== '' ? c.autodiscover.mail_host : ctx.hostname,
        endpoints: mailEndpoints(c),
      },
    }),
    ...(ctx.system !== undefined ? makeMapiDoor({ system: ctx.system, dir: ctx.dir, log: ctx.log, config: c, hostname: ctx.hostname, baseUrl: urls.external, outbound: ctx.outbound, pool: ctx.pool }).routes : []),
    ...(ctx.extraRoutes ?? []),
  ];
  return new HttpDoor({
    log: ctx.log,
    routes,
    auth,
    metrics,
    headerTimeoutMs: c.http.header_timeout_seconds * 1000,
    keepAliveMs: c.http.keep_alive_seconds * 1000,
    maxHeaderBytes: c.http.max_header_kib * 1024,
    defaults: { maxBodyBytes: c.http.max_body_kib * 1024, idleMs: c.http.idle_timeout_seconds * 1000, maxDurationMs: 0 },
    httpsBase: urls.external,
    allowPlaintext: c.server.allow_plaintext_auth,
    accessLog: c.http.access_log,
  });
}
