/**
 * MAPI over HTTP as the HTTPS door serves it: the transport routes (http/mapi-routes.ts), the
 * mailbox endpoint's service (emsmdb/) over the actor system, and the address book (nspi/) over
 * the directory. Sessions whose actor state was lost (a mailbox moved to another worker, a worker
 * restarted) are marked lost here, so their next request answers "context not found".
 */
import type { Logger } from 'pino';
import type { ActorSystem } from '../../runtime/actor-system.js';
import type { Config } from '../../runtime/config.js';
import type { DirectoryStore } from '../../storage/directory-store.js';
import type { Route } from '../http/router.js';
import { EmsmdbService } from './emsmdb/emsmdb-service.js';
import { mapiRoutes, type NspiEndpoint } from './http/mapi-routes.js';
import { NspiService } from './nspi/nspi-service.js';
import { Submissions } from '../mail/submission.js';
import type { OutboundQueue } from '../smtp/smtp-door.js';
import type { CpuPool } from '../../runtime/cpu-pool.js';

/** What we announce in X-ServerApplication: Outlook enables features by the Exchange build it sees. */
export const SERVER_APPLICATION = 'Exchange/15.02.1544.004';

export interface MapiDoorOptions {
  system: ActorSystem;
  dir: DirectoryStore;
  log: Logger;
  config: Config;
  hostname: string;
  /** Base URL of the HTTPS services (no trailing slash). */
  baseUrl: string;
  /** Where messages to remote recipients go (the outbound queue). */
  outbound?: OutboundQueue;
  /** The CPU pool (MIME conversion of outgoing mail). */
  pool?: CpuPool;
}

export interface MapiDoor {
  routes: Route[];
  close(): void;
}

export function makeMapiDoor(o: MapiDoorOptions): MapiDoor {
  const log = o.log.child({ door: 'mapi' });
  const submissions = new Submissions({ system: o.system, dir: o.dir, log: log.child({ part: 'submission' }), hostname: o.hostname, outbound: o.outbound, pool: o.pool });
  const emsmdb = new EmsmdbService({ system: o.system, dir: o.dir, log, submissions });
  const nspiService = new NspiService({ directory: o.dir, baseUrl: o.baseUrl, hostname: o.hostname });
  const nspi: NspiEndpoint<unknown> = {
    types: NspiService.requestTypes,
    bind: (body, caller) => nspiService.bind(body, caller),
    handle: (type, body, session, caller) => nspiService.handle(type, body, session as never, caller),
  };
  const c = o.config.mapi;
  const m = mapiRoutes({
    emsmdb,
    nspi,
    log,
    contextIdleMs: c.context_idle_seconds * 1000,
    pendingPeriodMs: c.pending_period_seconds * 1000,
    notificationWaitMs: c.notification_wait_seconds * 1000,
    serverApplication: SERVER_APPLICATION,
    maxContextsPerUser: c.max_sessions_per_user,
  });
  const onLost = (_key: string, sessions: readonly string[]) => {
    for (const id of sessions) {
      for (const ctx of m.contexts.all()) {
        if (ctx.id === id && ctx.state.kind === 'emsmdb') {
          ctx.state.session.lost = true;
          for (const w of ctx.state.session.waiters) w();
        }
      }
    }
  };
  o.system.on('sessionsLost', onLost);
  return {
    routes: m.routes,
    close: () => {
      o.system.off('sessionsLost', onLost);
      m.close();
      submissions.close();
      emsmdb.close();
    },
  };
}
