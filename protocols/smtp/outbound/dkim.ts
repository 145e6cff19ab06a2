/**
 * DKIM (RFC 6376) for outbound mail: per-domain keys (RSA 2048, made on `domain add` or on first
 * need), the DNS TXT record to publish, and signing through nodemailer's signer
 * (relaxed/relaxed, rsa-sha256, the header fields of RFC 6376 5.4.1's list that are present).
 */
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import DKIM from 'nodemailer/lib/dkim';
import type { DkimKey } from '../../../storage/directory-store.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** RSA modulus length: 2048 bits, RFC 8301 3.2 (1024 is the minimum, 2048 the advice). */
const DKIM_KEY_BITS = 2048;
/** A TXT record's character-strings are at most 255 octets each (RFC 1035 3.3.14). */
const TXT_STRING_MAX = 255;

/** "stoa" + the UTC date (stoa20250131); `taken` avoids reusing a selector (a second key the same day). */
export function dkimSelector(now: Date, taken?: string): string {
  const base = `stoa${now.toISOString().slice(0, 10).replace(/-/g, '')}`;
  if (taken === undefined || !taken.startsWith(base)) return base;
  const n = Number(taken.slice(base.length + 1)) || 1;
  return `${base}-${n + 1}`;
}

/** A new key pair (in libuv's pool: RSA generation takes ~0.3 s here). */
export async function makeDkimKey(now = new Date(), previousSelector?: string): Promise<DkimKey> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: DKIM_KEY_BITS,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { selector: dkimSelector(now, previousSelector), privateKey, publicKey: publicKey.toString('base64'), created: now.getTime() };
}

/** What an operator publishes: the record's name, its value, and a zone-file line. */
export interface DkimDnsRecord {
  name: string;
  type: 'TXT';
  value: string;
  /** `<selector>._domainkey.<domain>. IN TXT ( "…" "…" )`: the value cut into 255-octet strings. */
  zone: string;
}

export function dkimDnsRecord(domain: string, key: Pick<DkimKey, 'selector' | 'publicKey'>): DkimDnsRecord {
  const name = `${key.selector}._domainkey.${domain}`;
  const value = `v=DKIM1; k=rsa; p=${key.publicKey}`;
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += TXT_STRING_MAX) parts.push(`"${value.slice(i, i + TXT_STRING_MAX)}"`);
  return { name, type: 'TXT', value, zone: `${name}. IN TXT ( ${parts.join(' ')} )` };
}

/** The message with a DKIM-Signature header field on top (signed for `domain`). */
export async function dkimSign(raw: Buffer, domain: string, key: Pick<DkimKey, 'selector' | 'privateKey'>): Promise<Buffer> {
  const signer = new DKIM({ domainName: domain, keySelector: key.selector, privateKey: key.privateKey, cacheDir: false });
  const chunks: Buffer[] = [];
  for await (const c of signer.sign(raw)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
