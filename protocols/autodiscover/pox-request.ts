/**
 * The AutoDiscover request (MS-OXDSCLI §2.2.3; MS-ASCMD §6.3 for phones):
 *
 *   <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
 *     <Request>
 *       <EMailAddress>user@contoso.com</EMailAddress>        (or <LegacyDN>/o=.../cn=...</LegacyDN>)
 *       <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
 *     </Request>
 *   </Autodiscover>
 *
 * Read with a small strict reader (small-xml.ts): no DOCTYPE at all (so no entity definitions
 * or expansion), only the predefined entities, nesting capped; the body size is capped by the
 * route. Pure: bytes in, a request or an error reason out.
 */
import { readSmallXml, type XmlElement } from './small-xml.js';

export const OUTLOOK_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
export const MOBILESYNC_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006';

/** Deepest element nesting accepted (a request is 3 deep). */
const MAX_NESTING = 8;
/** Longest e-mail address (RFC 5321: 64 + 1 + 255) and legacy DN considered. */
const MAX_ADDRESS = 320;
const MAX_LEGACY_DN = 1024;

export interface PoxRequest {
  emailAddress: string | null;
  legacyDn: string | null;
  acceptableResponseSchema: string;
}

export function parsePoxRequest(body: Uint8Array): PoxRequest | { error: string } {
  let text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return { error: 'empty request body' };
  const root = readSmallXml(text, MAX_NESTING);
  if ('error' in root) return { error: root.error === 'DTDs are not accepted' ? root.error : `not well-formed XML: ${root.error}` };
  if (root.name !== 'Autodiscover') return { error: 'the root element is not one Autodiscover' };
  const reqs = root.children.filter((c) => c.name === 'Request');
  if (reqs.length !== 1) return { error: 'Autodiscover holds no single Request' };
  const r = fields(reqs[0]!);
  const email = single(r.EMailAddress, 'EMailAddress' in r);
  const legacyDn = single(r.LegacyDN, 'LegacyDN' in r);
  const schema = single(r.AcceptableResponseSchema, 'AcceptableResponseSchema' in r);
  if (email === undefined || legacyDn === undefined || schema === undefined) return { error: 'an element appears more than once or holds elements' };
  if (schema === null || schema === '') return { error: 'AcceptableResponseSchema is missing' };
  if ((email === null || email === '') && (legacyDn === null || legacyDn === '')) return { error: 'neither EMailAddress nor LegacyDN is given' };
  if (email !== null && email.length > MAX_ADDRESS) return { error: 'EMailAddress is too long' };
  if (legacyDn !== null && legacyDn.length > MAX_LEGACY_DN) return { error: 'LegacyDN is too long' };
  return { emailAddress: email === '' ? null : email, legacyDn: legacyDn === '' ? null : legacyDn, acceptableResponseSchema: schema };
}

/** Each child element's text, by name; undefined for a repeated name or one holding elements. */
function fields(el: XmlElement): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const c of el.children) out[c.name] = c.name in out || c.children.length > 0 ? undefined : c.text.trim();
  return out;
}

/** A text-only element's value; null when absent; undefined when repeated or not text. */
function single(v: string | undefined, present: boolean): string | null | undefined {
  if (!present) return null;
  return v;
}
