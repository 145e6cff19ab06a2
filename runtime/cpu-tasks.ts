/**
 * Stateless CPU jobs that may run in the piscina pool or inline. Each is a named export taking
 * one plain-data argument; converters (MIME, iCalendar) add theirs here. Keep them pure: they
 * run on whichever thread is free.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { mimeToMapi as convertMime, type MimeConversion } from '../protocols/mail/mime-to-mapi.js';
import { dkimSign as signDkim } from '../protocols/smtp/outbound/dkim.js';
import { mapiToMime } from '../protocols/mail/mapi-to-mime.js';
import { wireToMapi, type WireMessage } from '../actors/mailbox/wire-message.js';

export interface Sha256Input {
  data: Uint8Array;
  /** Rounds of hashing (a knob for the benchmarks; 1 for real use). */
  rounds?: number;
}

export function sha256({ data, rounds = 1 }: Sha256Input): string {
  let digest = createHash('sha256').update(data).digest();
  for (let i = 1; i < rounds; i++) digest = createHash('sha256').update(digest).update(data).digest();
  return digest.toString('hex');
}

export interface ScryptParams {
  /** CPU/memory cost (a power of two). */
  n: number;
  r: number;
  p: number;
}

const SCRYPT_KEY_BYTES = 32;
const SALT_BYTES = 16;

function scryptKey(password: string, salt: Buffer, { n, r, p }: ScryptParams): Buffer {
  return scryptSync(password.normalize('NFC'), salt, SCRYPT_KEY_BYTES, { N: n, r, p, maxmem: 256 * n * r + (1 << 20) });
}

/** A salted slow hash: `scrypt$N$r$p$salt$key` (base64). Runs in the CPU pool, never on libuv's pool. */
export function hashPassword({ password, params }: { password: string; params: ScryptParams }): string {
  const salt = randomBytes(SALT_BYTES);
  const key = scryptKey(password, salt, params);
  return `scrypt$${params.n}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Checks a password against hashPassword's output (the parameters stored with it), in constant time. */
export function verifyPassword({ password, encoded }: { password: string; encoded: string }): boolean {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![n, r, p].every((v) => Number.isInteger(v) && v > 0) || n > 2 ** 22 || r > 64 || p > 16) return false;
  const want = Buffer.from(parts[5]!, 'base64');
  const got = scryptKey(password, Buffer.from(parts[4]!, 'base64'), { n, r, p });
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Internet message → MAPI message (MS-OXCMAIL); the result is structured-clone data. */
export function mimeToMapi({ raw, deliveryTime }: { raw: Uint8Array; deliveryTime?: number }): MimeConversion {
  return convertMime(raw, deliveryTime === undefined ? {} : { deliveryTime: new Date(deliveryTime) });
}

/** A message DKIM-signed (RFC 6376) with a domain's key: RSA signing costs about a millisecond, off the main thread. */
export function dkimSign({ raw, domain, selector, privateKey }: { raw: Uint8Array; domain: string; selector: string; privateKey: string }): Promise<Uint8Array> {
  return signDkim(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), domain, { selector, privateKey });
}

/**
 * A stored MAPI message (WireMessage) → Internet message (MS-OXCMAIL), for the outbound queue.
 * EX addresses come pre-resolved (`exAddresses`, legacy DN in lower case → SMTP address and name):
 * the directory lives on the main thread.
 */
export function wireToMime({ wire, hostname, includeBcc, exAddresses }: { wire: WireMessage; hostname: string; includeBcc: boolean; exAddresses: Record<string, { address: string; name?: string }> }): Uint8Array {
  return mapiToMime(wireToMapi(wire), { hostname, includeBcc, resolveEx: (dn) => exAddresses[dn.toLowerCase()] ?? null });
}

export const cpuTasks = { sha256, hashPassword, verifyPassword, mimeToMapi, dkimSign, wireToMime } as const;
export type CpuTaskName = keyof typeof cpuTasks;
export type CpuTaskInput<N extends CpuTaskName> = Parameters<(typeof cpuTasks)[N]>[0];
export type CpuTaskOutput<N extends CpuTaskName> = ReturnType<(typeof cpuTasks)[N]>;
