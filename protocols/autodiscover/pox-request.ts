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
 * Parsed with fast-xml-parser configured for untrusted input: no DOCTYPE at all (so no entity
 * definitions or expansion), entities left unprocessed, nesting capped; the body size is capped
 * by the route. Pure: bytes in, a request or an error reason out.
 */
import { XMLParser } from 'fast-xml-parser';

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

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_NESTING,
});

export function parsePoxRequest(body: Uint8Array): PoxRequest | { error: string } {
  let text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return { error: 'empty request body' };
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) return { error: 'DTDs are not accepted' };
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    return { error: `not well-formed XML: ${(err as Error).message.split('\n')[0]}` };
  }
  if (typeof doc !== 'object' || doc === null) return { error: 'not well-formed XML' };
  const root = (doc as Record<string, unknown>).Autodiscover;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) return { error: 'the root element is not one Autodiscover' };
  const req = (root as Record<string, unknown>).Request;
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return { error: 'Autodiscover holds no single Request' };
  const r = req as Record<string, unknown>;
  const email = single(r.EMailAddress);
  const legacyDn = single(r.LegacyDN);
  const schema = single(r.AcceptableResponseSchema);
  if (email === undefined || legacyDn === undefined || schema === undefined) return { error: 'an element appears more than once or holds elements' };
  if (schema === null || schema === '') return { error: 'AcceptableResponseSchema is missing' };
  if ((email === null || email === '') && (legacyDn === null || legacyDn === '')) return { error: 'neither EMailAddress nor LegacyDN is given' };
  if (email !== null && email.length > MAX_ADDRESS) return { error: 'EMailAddress is too long' };
  if (legacyDn !== null && legacyDn.length > MAX_LEGACY_DN) return { error: 'LegacyDN is too long' };
  return { emailAddress: email === '' ? null : email, legacyDn: legacyDn === '' ? null : legacyDn, acceptableResponseSchema: schema };
}

/** A text-only element's value; null when absent; undefined when repeated or not text. */
function single(v: unknown): string | null | undefined {
  if (v === undefined) return null;
  if (typeof v === 'string') return v;
  return undefined;
}
