/**
 * The IMAP session's state (RFC 3501 §3) as a discriminated union: the login exists only once
 * authenticated, the selected mailbox's view only while selected. Also what command handlers see
 * of the session and the door (`CommandContext`), and what a command ends with (`Completion`).
 */
import type { Logger } from 'pino';
import type { SecureContext } from 'node:tls';
import type { Authenticator } from '../../runtime/auth.js';
import type { DirectoryStore, UserRecord } from '../../storage/directory-store.js';
import type { ImapLimits } from './limits.js';
import type { MailboxAccess } from './mailbox-access.js';
import type { MailboxView } from './mailbox-view.js';
import type { MessageSource } from './message-source.js';
import type { ResponseWriter } from './response/writer.js';
import type { DoorRegistry } from './door-registry.js';

export type NotAuthenticatedState = { kind: 'notAuthenticated' };
export type AuthenticatedState = { kind: 'authenticated'; user: UserRecord; mailbox: MailboxAccess };
export type SelectedState = { kind: 'selected'; user: UserRecord; mailbox: MailboxAccess; view: MailboxView };
export type LogoutState = { kind: 'logout' };

export type State = NotAuthenticatedState | AuthenticatedState | SelectedState | LogoutState;

/** How a command ends: the tagged response, and what the session does next. */
export interface Completion {
  status: 'OK' | 'NO' | 'BAD';
  /** Response code without brackets ("UIDNEXT 5", "ALREADYEXISTS"). */
  code?: string;
  text: string;
  /** After the tagged response: close (LOGOUT), start TLS, or wait in IDLE for DONE. */
  after?: 'close' | 'starttls';
}

/** What the door shares between its sessions. */
export interface DoorDeps {
  hostname: string;
  log: Logger;
  auth: Authenticator;
  dir: DirectoryStore;
  allowPlaintextAuth: boolean;
  implicitTls: boolean;
  limits: ImapLimits;
  secureContext: SecureContext | null;
  source: MessageSource;
  registry: DoorRegistry;
  openMailbox(address: string): MailboxAccess;
  /** An Internet message as MAPI data to store, packed (MS-OXCMAIL in the CPU pool, local people localized, the original kept). */
  convert(raw: Buffer, internalDate: number): Promise<Uint8Array>;
}

export interface CommandContext {
  readonly door: DoorDeps;
  readonly log: Logger;
  /** TLS is on (implicit, or after STARTTLS). */
  readonly tls: boolean;
  state: State;
  /** The running command's tag. */
  readonly tag: string;
  /** Untagged responses of the running command are written here (sent in order before the tagged one). */
  readonly out: ResponseWriter;
  /** Sends what `out` holds; waits when the socket's buffer is full (large FETCH). */
  flush(): Promise<void>;
  /** AUTHENTICATE: sends "+ <text>" and reads the client's line (null when cancelled or gone). */
  challenge(base64: string): Promise<string | null>;
  /** IDLE: runs until the client's DONE (or the connection ends). */
  idle(): Promise<'done' | 'bad' | 'gone'>;
  /** Failed logins in this connection. */
  authFailures: number;
  readonly remote: string;
  /** Extensions the client turned on (ENABLE). */
  readonly enabled: Set<string>;
  /** The capability list in the current state. */
  capabilities(): string;
  /** Selects (or leaves) the state, moving event subscriptions along. */
  setState(s: State): void;
}
