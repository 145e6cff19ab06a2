/**
 * The POP3 session's state (RFC 1939 §3: AUTHORIZATION, TRANSACTION, UPDATE) as a discriminated
 * union: the USER name exists only while authorizing, the maildrop only in a transaction.
 * Also what command handlers see of the session and the door (`CommandContext`).
 */
import type { FailureThrottle } from '../shared/failure-throttle.js';
import type { Logger } from 'pino';
import type { SecureContext } from 'node:tls';
import type { Authenticator } from '../../runtime/auth.js';
import type { DirectoryStore, UserRecord } from '../../storage/directory-store.js';
import type { Pop3Limits } from './limits.js';
import type { Maildrop } from './maildrop.js';
import type { MailboxAccess } from './mailbox-access.js';
import type { SizeCache } from './size-cache.js';

export type AuthorizationState = {
  kind: 'authorization';
  /** The USER argument, waiting for PASS. */
  user: string | null;
};
/** Inside AUTHORIZATION: AUTH sent, the next line is the client's SASL response (RFC 5034 §4). */
export type SaslState = { kind: 'sasl'; mechanism: 'PLAIN' };
export type TransactionState = { kind: 'transaction'; login: UserRecord; drop: Maildrop };
/** QUIT in a transaction: deletes are being applied; nothing more is read. */
export type UpdateState = { kind: 'update' };
export type ClosedState = { kind: 'closed' };

export type State = AuthorizationState | SaslState | TransactionState | UpdateState | ClosedState;

/** What the door shares between its sessions. */
export interface DoorDeps {
  hostname: string;
  log: Logger;
  auth: Authenticator;
  dir: DirectoryStore;
  allowPlaintextAuth: boolean;
  limits: Pop3Limits;
  secureContext: SecureContext;
  sizes: SizeCache;
  openMailbox(address: string): Promise<MailboxAccess>;
  /** Failed logins per client address across connections (shared with SMTP). */
  throttle?: FailureThrottle;
}

export interface CommandContext {
  readonly door: DoorDeps;
  readonly log: Logger;
  /** TLS is on (implicit, or after STLS). */
  readonly tls: boolean;
  state: State;
  /** Failed logins in this connection. */
  authFailures: number;
  /** Where the client connects from (for logs). */
  readonly remote: string;
}

/** USER, PASS and AUTH carry credentials: before TLS they are refused unless the door allows it. */
export function credentialsAllowed(s: CommandContext): boolean {
  return s.tls || s.door.allowPlaintextAuth;
}
