/**
 * Every error the POP3 door meets becomes POP3 words here, and only here: the runtime's and the
 * mailbox actor's plain-data errors (runtime/errors.ts), and the authenticator's results.
 *
 * RFC 3206: [SYS/TEMP] a transient failure (the client may retry later without bothering the
 * user), [SYS/PERM] a failure that retrying will not fix, [AUTH] a problem with the credentials.
 */
import { ErrorCode, isErrorData } from '../../runtime/errors.js';
import { err, type After, type Reply } from './replies.js';

/** The store says the object is not there (deleted, moved, or no mailbox). */
export function isNotFound(e: unknown): boolean {
  return isErrorData(e) && e.code === 'ecNotFound';
}

const TEMPORARY: ReadonlySet<string> = new Set([ErrorCode.UNAVAILABLE, ErrorCode.BUSY, ErrorCode.TIMEOUT, ErrorCode.SHUTTING_DOWN]);

/** An error while doing something (`doing` reads "cannot <doing>"). Unknown throws (bugs) are temporary: the client may try again. */
export function errorReply(e: unknown, doing: string, after?: After): Reply {
  if (isErrorData(e)) {
    if (TEMPORARY.has(e.code) || e.retryable) return err('SYS/TEMP', `cannot ${doing} right now, try again later`, after);
    if (e.code === 'ecNotFound') return err('SYS/PERM', `cannot ${doing}: not found`, after);
    return err('SYS/PERM', `cannot ${doing} (${e.code})`, after);
  }
  return err('SYS/TEMP', `cannot ${doing}: internal error, try again later`, after);
}

export const replies = {
  greeting: (hostname: string) => `${hostname} Stoa POP3 server ready`,
  unknownCommand: (verb: string) => err(null, `unknown command ${verb.slice(0, 16)}`),
  malformed: () => err(null, 'malformed command'),
  empty: () => err(null, 'empty command line'),
  wrongState: (verb: string, loggedIn: boolean) => err(null, loggedIn ? `${verb} is not allowed after login` : `${verb} is only allowed after login`),
  usage: (verb: string, usage: string) => err(null, `syntax: ${verb} ${usage}`.trimEnd()),
  lineTooLong: (max: number) => err(null, `line too long (at most ${max} octets)`),
  tooManyBad: () => err(null, 'too many bad commands, closing connection', 'close'),
  tooManyBeforeAuth: () => err(null, 'too many commands without logging in, closing connection', 'close'),
  tlsFirst: () => err('AUTH', 'TLS first: use STLS, plaintext authentication is disabled on this connection'),
  badCredentials: () => err('AUTH', 'invalid user name or password'),
  tooManyFailures: () => err('AUTH', 'invalid user name or password; too many failures, closing connection', 'close'),
  /** RFC 2449 [LOGIN-DELAY]: too many failed logins from this address lately. */
  loginDelay: () => err('LOGIN-DELAY', 'too many failed logins from your address; try again later', 'close'),
  notAuthorized: (who: string) => err('AUTH', `not authorized to open the mailbox of ${who.slice(0, 100)}`),
  authUnavailable: () => err('SYS/TEMP', 'authentication is temporarily unavailable, try again later'),
  noMailbox: () => err('SYS/PERM', 'no mailbox for this account'),
  noSuchMessage: (n: number, count: number) => err(null, `no such message: ${n} (the maildrop has ${count})`),
  badMessageNumber: () => err(null, 'invalid message number'),
  alreadyDeleted: (n: number) => err(null, `message ${n} already deleted`),
  gone: (n: number) => err(null, `message ${n} is no longer available: another client removed it from the Inbox`),
};
