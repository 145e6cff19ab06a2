/**
 * Every error the IMAP door meets becomes IMAP words here, and only here: the runtime's and the
 * mailbox actor's plain-data errors (runtime/errors.ts) as tagged NO with a response code
 * (RFC 5530), and the receiver's and parser's syntax errors as BAD.
 */
import { ErrorCode, isErrorData } from '../../runtime/errors.js';
import type { ReceiverError } from './receiver.js';
import type { Completion } from './session-state.js';

const TEMPORARY: ReadonlySet<string> = new Set([ErrorCode.UNAVAILABLE, ErrorCode.BUSY, ErrorCode.TIMEOUT, ErrorCode.SHUTTING_DOWN]);

/** A store or runtime error while doing something ("cannot <doing>"). */
export function errorCompletion(e: unknown, doing: string): Completion {
  if (isErrorData(e)) {
    if (TEMPORARY.has(e.code) || e.retryable) return no('UNAVAILABLE', `cannot ${doing} right now, try again later`);
    switch (e.code) {
      case 'ecNotFound':
        return no('NONEXISTENT', `cannot ${doing}: no such mailbox or message`);
      case 'ecDuplicateName':
        return no('ALREADYEXISTS', `cannot ${doing}: the mailbox exists already`);
      case 'ecAccessDenied':
        return no('CANNOT', `cannot ${doing}: not allowed for this mailbox`);
      case 'ecHasFolders':
        return no('INUSE', `cannot ${doing}: the mailbox has subfolders, delete them first`);
      case 'ecQuotaExceeded':
        return no('OVERQUOTA', `cannot ${doing}: the mailbox is full`);
      case 'ecDiskError':
        return no('SERVERBUG', `cannot ${doing}: storage is full or failing, try again later`);
      case 'ecInvalidParam':
        return no('CANNOT', `cannot ${doing}: ${e.detail.slice(0, 120)}`);
      case 'ecTooComplex':
        return no('LIMIT', `cannot ${doing}: too complex`);
      default:
        return no('SERVERBUG', `cannot ${doing} (${e.code})`);
    }
  }
  return no('SERVERBUG', `cannot ${doing}: internal error`);
}

export function no(code: string | null, text: string): Completion {
  return code === null ? { status: 'NO', text } : { status: 'NO', code, text };
}

export function bad(text: string, code?: string): Completion {
  return code === undefined ? { status: 'BAD', text } : { status: 'BAD', code, text };
}

export function ok(text: string, code?: string): Completion {
  return code === undefined ? { status: 'OK', text } : { status: 'OK', code, text };
}

export function receiverErrorText(why: ReceiverError, limit: number): Completion {
  switch (why) {
    case 'lineTooLong':
      return bad(`command line too long (at most ${limit} octets)`, 'TOOBIG');
    case 'literalTooLarge':
      return bad(`literal too large (at most ${limit} octets)`, 'TOOBIG');
    case 'badLiteral':
      return bad('malformed literal');
  }
}

export const texts = {
  greeting: (host: string) => `${host} Stoa IMAP4rev1 ready`,
  bye: 'Logging out',
  idleTimeout: 'Autologout; idle for too long',
  tooManyBad: 'Too many bad commands, closing connection',
  tooManyFailures: 'Too many failed logins, closing connection',
  shutdown: 'Server shutting down',
};
