/**
 * The POP3 door's limits. Each guards against a client holding memory, a connection or a
 * password guesser's time for nothing; the door answers with a clear `-ERR` before it acts.
 * `Pop3Limits` are the ones a deployment (or a test) may change; the rest are fixed here.
 */

export interface Pop3Limits {
  /**
   * Longest line a client may send, line end included. RFC 2449 §4 holds clients to 255 octets
   * for a command line, but AUTH's base64 lines grow with the password (RFC 5034 §4 lets an
   * initial response too long for 255 octets go as a continuation line), so the door accepts
   * more; a longer line is answered `-ERR` and skipped up to its end.
   */
  lineBytes: number;
  /** Commands (of any kind) accepted before a successful login; then the door says why and closes. */
  commandsBeforeAuth: number;
  /** Unknown, malformed or out-of-state commands in one connection; the last one closes it. */
  badCommands: number;
  /** Failed logins in one connection; the last one closes it. */
  authFailures: number;
  /** Wait before answering a failed login; doubles with each failure in the connection (capped at 4x). */
  failedLoginDelayMs: number;
  /**
   * Inactivity autologout. RFC 1939 §3: at least 10 minutes; when it fires the server closes the
   * connection without a reply and without entering the UPDATE state (nothing is deleted).
   */
  idleMs: number;
  /** Time a client has to finish the TLS handshake after `STLS`. */
  tlsHandshakeMs: number;
  /** Unprocessed input (pipelined commands) held before the door stops reading the socket. */
  pendingInputBytes: number;
}

export const DEFAULT_POP3_LIMITS: Readonly<Pop3Limits> = {
  lineBytes: 4096,
  commandsBeforeAuth: 30,
  badCommands: 10,
  authFailures: 3,
  failedLoginDelayMs: 2000,
  idleMs: 10 * 60_000,
  tlsHandshakeMs: 30_000,
  pendingInputBytes: 64 * 1024,
};

/** Source bytes of a message handed to the socket per write during RETR / TOP (back-pressure granularity). */
export const OUTPUT_CHUNK_BYTES = 64 * 1024;
/** Messages fetched at once to learn their sizes (STAT / LIST on a cold cache). */
export const SIZE_FETCH_PARALLEL = 8;
/**
 * RETR reads the next messages ahead while the client takes this one (clients fetch in order):
 * at most READ_AHEAD_MESSAGES and READ_AHEAD_MAX_BYTES per session (only messages of known
 * size), each used only if asked for within READ_AHEAD_MAX_AGE_MS of its fetch (else fetched
 * afresh, so a message another client removed is not served from an old copy).
 */
export const READ_AHEAD_MESSAGES = 4;
export const READ_AHEAD_MAX_BYTES = 1024 * 1024;
export const READ_AHEAD_MAX_AGE_MS = 1000;
/** Message sizes the door remembers across sessions, keyed by (mailbox, MID, change number). */
export const SIZE_CACHE_ENTRIES = 100_000;
/** RFC 2449 §4: a response line is at most 512 octets, CRLF included. */
export const MAX_RESPONSE_LINE = 512;
/** How long a goodbye may take to flush before the socket is destroyed. */
export const GOODBYE_LINGER_MS = 2000;
