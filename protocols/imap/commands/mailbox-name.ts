/**
 * Mailbox names between IMAP and the store: modified UTF-7 (RFC 3501 §5.1.3), "/" as the
 * hierarchy delimiter, INBOX case-insensitive (§5.1). A "/" inside a folder's display name shows
 * as U+2215 (DIVISION SLASH) and maps back, so every folder has a name.
 */
import { decodeMutf7, encodeMutf7 } from '../mutf7.js';
import { DELIMITER } from '../parser/list-pattern.js';
import type { Reader } from '../parser/reader.js';

const SLASH_STANDIN = '\u2215';

export interface MailboxName {
  /** As the client wrote it (for responses). */
  imap: string;
  /** Display names from the top; "INBOX" first for the Inbox. */
  path: string[];
}

/** A mailbox name from its bytes (astring content); a reason when unusable. */
export function parseMailboxName(bytes: Buffer): MailboxName | string {
  const imap = bytes.toString('latin1');
  // Clients that send UTF-8 names (they should not, without UTF8=ACCEPT) get them taken as UTF-8.
  const decoded = /[\x80-\xff]/.test(imap) ? bytes.toString('utf8') : decodeMutf7(imap);
  if (decoded === null) return 'mailbox name is not valid modified UTF-7';
  const parts = decoded.split(DELIMITER);
  if (parts.some((p) => p === '')) return 'empty hierarchy level in mailbox name';
  const path = parts.map((p, i) => (i === 0 && p.toUpperCase() === 'INBOX' ? 'INBOX' : p.split(SLASH_STANDIN).join('/')));
  return { imap: imapName(path), path };
}

/** Reads a mailbox argument (astring); null with the reader's error set when unusable. */
export function readMailbox(r: Reader): MailboxName | null {
  const bytes = r.astringBytes();
  if (bytes === null) return null;
  const n = parseMailboxName(bytes);
  return typeof n === 'string' ? r.fail(n) : n;
}

/** The IMAP name of a store path. */
export function imapName(path: readonly string[]): string {
  return path.map((p, i) => (i === 0 && p === 'INBOX' ? 'INBOX' : encodeMutf7(p.split('/').join(SLASH_STANDIN)))).join(DELIMITER);
}
