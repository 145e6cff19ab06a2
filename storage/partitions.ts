/**
 * Where a mailbox's environment lives: <partition>/<domain>/<localpart>/ (the local part
 * %-encoded beyond [a-z0-9._+-], see localpartFolder). A mailbox address is
 * validated before it becomes a path (no traversal, no separators, no control characters), and
 * new mailboxes go to the partition with the most free space unless one is named.
 */
import { existsSync, mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { actorError } from '../runtime/errors.js';

/** RFC 5321 limits: 64 octets of local part, 255 of domain. */
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const DOMAIN_RE = /^(?=.{1,255}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** Dot-atom local parts (RFC 5322 atext) plus UTF-8 letters (RFC 6531); never '/', '\\', NUL or a leading dot. */
const LOCAL_RE = /^[\p{L}\p{N}!#$%&'*+\-=?^_`{|}~]+(\.[\p{L}\p{N}!#$%&'*+\-=?^_`{|}~]+)*$/u;

export interface MailboxAddress {
  localpart: string;
  domain: string;
}

/** Parses and normalizes (lower case) a mailbox address; ecInvalidParam when it cannot be a mailbox. */
export function parseMailboxAddress(address: string): MailboxAddress {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) throw actorError('ecInvalidParam', `not a mailbox address: ${JSON.stringify(address)}`);
  const localpart = address.slice(0, at).normalize('NFC').toLowerCase();
  const domain = address.slice(at + 1).toLowerCase();
  if (Buffer.byteLength(localpart) > MAX_LOCAL || !LOCAL_RE.test(localpart)) throw actorError('ecInvalidParam', `unusable local part in ${JSON.stringify(address)}`);
  if (domain.length > MAX_DOMAIN || !DOMAIN_RE.test(domain)) throw actorError('ecInvalidParam', `unusable domain in ${JSON.stringify(address)}`);
  return { localpart, domain };
}

/**
 * The folder name of a local part: letters a-z, digits and . _ + - as they are, every other byte
 * of its UTF-8 as %XX, so folder names stay portable and shell-safe whatever the address holds.
 */
export function localpartFolder(localpart: string): string {
  let out = '';
  for (const byte of Buffer.from(localpart, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[a-z0-9._+-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function mailboxPath(partition: string, a: MailboxAddress): string {
  return join(partition, a.domain, localpartFolder(a.localpart));
}

/** The existing environment of a mailbox, searching every partition; null when there is none. */
export function locateMailbox(partitions: readonly string[], a: MailboxAddress): string | null {
  for (const p of partitions) {
    const path = mailboxPath(p, a);
    if (existsSync(join(path, 'data.mdb'))) return path;
  }
  return null;
}

/** The partition with the most free space (creating partition folders as needed). */
export function choosePartition(partitions: readonly string[]): string {
  if (partitions.length === 0) throw actorError('ecNotConfigured', 'no storage partitions are configured');
  let best = partitions[0]!;
  let bestFree = -1;
  for (const p of partitions) {
    mkdirSync(p, { recursive: true, mode: 0o750 });
    const s = statfsSync(p);
    const free = s.bavail * s.bsize;
    if (free > bestFree) {
      bestFree = free;
      best = p;
    }
  }
  return best;
}
