/**
 * The POP3 door (RFC 1939, with CAPA and response codes of RFC 2449 / 3206, STLS of RFC 2595,
 * AUTH PLAIN of RFC 5034 / 4616): the maildrop is the Inbox.
 *
 * One door serves both listeners: pop3 (plain, STLS offered) and pop3s (the listener has
 * terminated TLS already); a session knows which from its socket. Sharing one door shares its
 * size cache between the two.
 */
import type { Socket } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { FailureThrottle } from '../shared/failure-throttle.js';
import type { Logger } from 'pino';
import type { ActorSystem } from '../../runtime/actor-system.js';
import type { Authenticator } from '../../runtime/auth.js';
import type { DirectoryStore } from '../../storage/directory-store.js';
import type { TlsIdentity } from '../shared/tls.js';
import { DEFAULT_POP3_LIMITS, SIZE_CACHE_ENTRIES, type Pop3Limits } from './limits.js';
import { SizeCache } from './size-cache.js';
import { openActorMailbox } from './mailbox-access.js';
import { Pop3Session } from './session.js';
import type { DoorDeps } from './session-state.js';

export type { Pop3Limits } from './limits.js';

export interface Pop3DoorContext {
  /** Named in the greeting and goodbye; also the host of generated Message-IDs. */
  hostname: string;
  log: Logger;
  auth: Authenticator;
  dir: DirectoryStore;
  system: ActorSystem;
  /** The certificate STLS offers. */
  tls: Pick<TlsIdentity, 'cert' | 'key'>;
  /** Accept USER / PASS / AUTH before TLS on the plain port (default false: "-ERR [AUTH] TLS first"). */
  allowPlaintextAuth: boolean;
  /** Changes to the door's limits (limits.ts has the defaults and what each guards). */
  limits?: Partial<Pop3Limits>;
  /** Size cache entries (default SIZE_CACHE_ENTRIES; 0 turns the cache off). */
  sizeCacheEntries?: number;
  /** Failed logins per client address across connections (shared with SMTP). */
  throttle?: FailureThrottle;
}

export type Pop3Door = ((socket: Socket | TLSSocket) => void) & {
  /** Open sessions and size cache figures, for metrics and tests. */
  stats(): { sessions: number; sizeCacheEntries: number; sizeCacheHits: number; sizeCacheMisses: number };
};

export function makePop3Door(ctx: Pop3DoorContext): Pop3Door {
  const sizes = new SizeCache(ctx.sizeCacheEntries ?? SIZE_CACHE_ENTRIES);
  const deps: DoorDeps = {
    hostname: ctx.hostname,
    log: ctx.log.child({ component: 'pop3' }),
    auth: ctx.auth,
    dir: ctx.dir,
    allowPlaintextAuth: ctx.allowPlaintextAuth,
    limits: { ...DEFAULT_POP3_LIMITS, ...ctx.limits },
    secureContext: createSecureContext({ cert: ctx.tls.cert, key: ctx.tls.key }),
    sizes,
    openMailbox: (address) => openActorMailbox(ctx.system, ctx.dir, ctx.hostname, address),
    ...(ctx.throttle !== undefined ? { throttle: ctx.throttle } : {}),
  };
  let nextId = 1;
  let open = 0;
  const door = (socket: Socket | TLSSocket): void => {
    open++;
    socket.once('close', () => open--);
    new Pop3Session(deps, socket, nextId++);
  };
  return Object.assign(door, {
    stats: () => ({ sessions: open, sizeCacheEntries: sizes.size, sizeCacheHits: sizes.hits, sizeCacheMisses: sizes.misses }),
  });
}
