/**
 * The door's own routes: the health probe, Prometheus metrics (by client address), and a
 * "not served yet" answer on the paths of HTTP protocols still to come, so clients get a clear
 * 503 instead of a 404 that some would cache as "no such service".
 */
import type { BlockList } from 'node:net';
import { allowed } from './address-allow.js';
import { send, sendText } from './exchange.js';
import type { Route } from './router.js';

export interface CoreRouteDeps {
  hostname: string;
  health(): Promise<{ ok: boolean; detail: unknown }>;
  /** The whole Prometheus text (runtime, directory, door). */
  metricsText(): Promise<string>;
  metricsAllow: BlockList;
}

/** Paths of protocols that later issues serve (MAPI over HTTP, RPC over HTTP, EAS, EWS, OAB, DAV, admin). */
const PLANNED_PREFIXES = ['/mapi/', '/rpc/', '/microsoft-server-activesync', '/ews/', '/oab/', '/dav/', '/.well-known/caldav', '/.well-known/carddav', '/admin/'];

export function coreRoutes(deps: CoreRouteDeps): Route[] {
  const routes: Route[] = [
    {
      name: 'health',
      paths: ['/healthz'],
      methods: ['GET'],
      listeners: ['http', 'https'],
      auth: 'none',
      async handle({ req, res, log }) {
        const h = await deps.health().catch((err: unknown) => {
          log.error({ err }, 'health probe failed');
          return { ok: false, detail: { status: 'down' } };
        });
        const body = JSON.stringify({ status: h.ok ? 'ok' : 'degraded', ...(h.detail as object) });
        send(res, h.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }, body, req.method === 'HEAD');
      },
    },
    {
      name: 'metrics',
      paths: ['/metrics'],
      methods: ['GET'],
      listeners: ['http', 'https'],
      auth: 'none',
      async handle({ req, res }) {
        if (!allowed(deps.metricsAllow, req.remoteAddress)) return sendText(res, 403, 'Metrics are not available to this address (see metrics.allow).');
        send(res, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' }, await deps.metricsText(), req.method === 'HEAD');
      },
    },
  ];
  for (const prefix of PLANNED_PREFIXES) {
    routes.push({
      name: 'not-yet',
      prefix,
      methods: '*',
      auth: 'none',
      // The body is never read (RPC_IN_DATA announces 1 GiB): answer 503, not 413.
      limits: { maxBodyBytes: Number.MAX_SAFE_INTEGER },
      handle({ req, res }) {
        sendText(res, 503, `${deps.hostname}: ${req.method} ${req.path} is not served by this build yet.`, { 'retry-after': 3600 });
      },
    });
  }
  return routes;
}
