/**
 * The IMAP door's limits. Each guards against a client holding memory, a connection or a
 * password guesser's time for nothing. `ImapLimits` are the ones a deployment (or a test) may
 * change; the rest are fixed here with their reason.
 */

export interface ImapLimits {
  /** Longest command line (one line between literals), CRLF included; RFC 7162 §4 asks for at least 8192. */
  lineBytes: number;
  /** Most bytes of literals in one command other than APPEND's message (SEARCH strings, LOGIN). */
  literalBytes: number;
  /** APPENDLIMIT (RFC 7889): largest message APPEND takes. */
  appendBytes: number;
  /** Syntax errors and unknown commands in one connection; the last one ends it with BYE. */
  badCommands: number;
  /** Failed logins in one connection; the last one ends it. */
  authFailures: number;
  /** Wait before answering a failed login; doubles with each failure in the connection (capped at 4x). */
  failedLoginDelayMs: number;
  /** RFC 3501 §5.4: at least 30 minutes of inactivity before an autologout. */
  idleMs: number;
  /**
   * RFC 2177 §3: clients re-issue IDLE at least every 29 minutes (the server's 30-minute autologout
   * would otherwise end them); an IDLE longer than this ends with BYE.
   */
  idleCommandMs: number;
  /** Before login: a connection that does not authenticate in this time is closed. */
  preAuthMs: number;
  /** Time a client has to finish the TLS handshake after STARTTLS. */
  tlsHandshakeMs: number;
  /** Connections one user may have open at once (Thunderbird opens up to 5 per account). */
  connectionsPerUser: number;
  /** Failed logins from one address within a minute before that address must wait. */
  authFailuresPerAddressPerMinute: number;
}

export const DEFAULT_IMAP_LIMITS: Readonly<ImapLimits> = {
  lineBytes: 64 * 1024,
  literalBytes: 256 * 1024,
  appendBytes: 50 * 1024 * 1024,
  badCommands: 20,
  authFailures: 3,
  failedLoginDelayMs: 2000,
  idleMs: 30 * 60_000,
  idleCommandMs: 31 * 60_000,
  preAuthMs: 60_000,
  tlsHandshakeMs: 30_000,
  connectionsPerUser: 50,
  authFailuresPerAddressPerMinute: 20,
};

/** A connection's input buffer is cut back to this after each command (grow-only holds within one). */
export const SHRINK_BYTES = 4096;
/** Bytes of MIME asked from the store per FETCH round (a large FETCH streams in rounds with back-pressure). */
export const FETCH_BUDGET_BYTES = 2 * 1024 * 1024;
/** Output held in the socket before a response waits for 'drain'. */
export const OUTPUT_HIGH_WATER = 256 * 1024;
/** Generated MIME (messages with no original) the door keeps, in bytes. */
export const MIME_CACHE_BYTES = 32 * 1024 * 1024;
/** Generated-MIME sizes remembered, by (mailbox, MID, UID). */
export const SIZE_CACHE_ENTRIES = 200_000;
/** Literal size LITERAL- (RFC 7888) allows non-synchronizing; LITERAL+ allows any. */
export const LITERAL_MINUS_MAX = 4096;
/** How long a goodbye may take to flush before the socket is destroyed. */
export const GOODBYE_LINGER_MS = 2000;
/** An untagged OK this often while a client idles (NAT and firewall state; Dovecot sends one every 2 minutes). */
export const IDLE_KEEPALIVE_MS = 2 * 60_000;
/** Events from the mailbox are folded into one sync per this many ms while IDLE. */
export const IDLE_COALESCE_MS = 10;
/** Most sequence-set ranges in one command (each range is cheap, but not unbounded). */
export const MAX_SEQUENCE_RANGES = 10_000;
/** Deepest nesting of parenthesized lists and search keys. */
export const MAX_NESTING = 32;
