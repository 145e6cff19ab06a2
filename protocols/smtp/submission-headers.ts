/**
 * RFC 6409 8.2 / 8.3: a submission server may add a missing Date and Message-ID. Both go on top
 * of the header block; nothing else of the message changes.
 */
import { randomBytes } from 'node:crypto';
import { parseHeaderBlock } from '../mail/mime/headers.js';
import { rfc5322Date } from '../mail/mapi-to-mime.js';
import type { UserRecord } from '../../storage/directory-store.js';

export function addMissingHeaders(message: Buffer, hostname: string, user: UserRecord, now = new Date()): Buffer {
  const { headers } = parseHeaderBlock(message, 0, message.length);
  const has = (n: string) => headers.some((h) => h.name === n);
  let add = '';
  if (!has('date')) add += `Date: ${rfc5322Date(now)}\r\n`;
  if (!has('message-id')) add += `Message-ID: <${randomBytes(12).toString('hex')}.${user.id.slice(0, 8)}@${hostname}>\r\n`;
  return add === '' ? message : Buffer.concat([Buffer.from(add, 'latin1'), message]);
}
