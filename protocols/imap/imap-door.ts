/**
 * The IMAP door (RFC 3501 IMAP4rev1 with IDLE, UIDPLUS, MOVE, NAMESPACE, ID, ENABLE, LITERAL+,
 * SASL-IR, AUTH=PLAIN, SPECIAL-USE, LIST-EXTENDED, LIST-STATUS, UNSELECT, CHILDREN,
 * APPENDLIMIT; STARTTLS on the plain port, implicit TLS on 993 terminated by the listener).
 *
 * Mailboxes are the mail folders of the user's store; every store access is an IMAP view op of
 * the mailbox actor (actors/mailbox/imap-view.ts), one per command.
 */
import type { Socket } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { ActorSystem } from '../../runtime/actor-system.js';
import type { Authenticator } from '../../runtime/auth.js';
import type { CpuPool } from '../../runtime/cpu-pool.js';
import type { DirectoryStore } from '../../storage/directory-store.js';
import { mapiToWire } from '../../actors/mailbox/wire-message.js';
import { packWire } from '../../actors/mailbox/imap-pack.js';
import { localizeAddresses } from '../mail/localize.js';
import type { TlsIdentity } from '../shared/tls.js';
import { DEFAULT_IMAP_LIMITS, MIME_CACHE_BYTES, SIZE_CACHE_ENTRIES, type ImapLimits } from './limits.js';
import { MailboxAccess } from './mailbox-access.js';
import { MessageSource } from './message-source.js';
import { DoorRegistry } from './door-registry.js';
import { ImapSession } from './session.js';
import type { DoorDeps } from './session-state.js';

export type { ImapLimits } from './limits.js';

export interface ImapDoorContext {
  /** Named in the greeting; also the host of generated Message-IDs. */
  hostname: string;
  log: Logger;
  auth: Authenticator;
  dir: DirectoryStore;
  system: ActorSystem;
  /** Converts APPENDed messages (MS-OXCMAIL) off the main thread. */
  pool: CpuPool;
  /** The certificate STARTTLS offers. */
  tls: Pick<TlsIdentity, 'cert' | 'key'>;
  /** The listener terminated TLS already (993): no STARTTLS. */
  implicitTls: boolean;
  /** LOGIN / AUTHENTICATE before TLS on the plain port (default false: LOGINDISABLED). */
  allowPlaintextAuth: boolean;
  /** Changes to the door's limits (limits.ts has the defaults and what each guards). */
  limits?: Partial<ImapLimits>;
}

export type ImapDoor = ((socket: Socket | TLSSocket) => void) & {
  /** Open sessions, for metrics and tests. */
  stats(): { sessions: number };
};

export function makeImapDoor(ctx: ImapDoorContext): ImapDoor {
  const log = ctx.log.child({ component: 'imap' });
  const secureContext = !ctx.implicitTls && ctx.tls.cert !== '' ? createSecureContext({ cert: ctx.tls.cert, key: ctx.tls.key }) : null;
  const deps: DoorDeps = {
    hostname: ctx.hostname,
    log,
    auth: ctx.auth,
    dir: ctx.dir,
    allowPlaintextAuth: ctx.allowPlaintextAuth,
    implicitTls: ctx.implicitTls,
    limits: { ...DEFAULT_IMAP_LIMITS, ...ctx.limits },
    secureContext,
    source: new MessageSource(ctx.dir, ctx.hostname, MIME_CACHE_BYTES, SIZE_CACHE_ENTRIES),
    registry: new DoorRegistry(),
    openMailbox: (address) => new MailboxAccess(ctx.system, address),
    async convert(raw, internalDate) {
      const conv = await ctx.pool.run('mimeToMapi', { raw, deliveryTime: internalDate }, { bytes: raw.length });
      localizeAddresses(conv.message, (smtp) => {
        const u = ctx.dir.userByAddress(smtp);
        return u === undefined ? null : { legacyDn: u.legacyDn, displayName: u.displayName };
      });
      return packWire(mapiToWire(conv.message, raw));
    },
  };
  let nextId = 1;
  let open = 0;
  const door = (socket: Socket | TLSSocket): void => {
    open++;
    socket.once('close', () => open--);
    new ImapSession(deps, socket, nextId++);
  };
  return Object.assign(door, { stats: () => ({ sessions: open }) });
}
