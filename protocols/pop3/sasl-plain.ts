/**
 * SASL PLAIN (RFC 4616 §2), decoded from the base64 of a POP3 AUTH line (RFC 5034 §4):
 *
 *   message = [authzid] UTF8NUL authcid UTF8NUL passwd
 *
 * authcid and passwd are non-empty; none holds NUL. Pure; bad input is a value, not a throw.
 */

export type PlainCredentials = { ok: true; authzid: string; authcid: string; password: string } | { ok: false; why: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodePlain(base64: string): PlainCredentials {
  // RFC 5034 §4: "=" is an initial response of zero length.
  if (base64 === '=' || base64 === '') return { ok: false, why: 'empty PLAIN response' };
  if (!BASE64.test(base64)) return { ok: false, why: 'the response is not base64' };
  const raw = Buffer.from(base64, 'base64');
  const a = raw.indexOf(0);
  const b = a < 0 ? -1 : raw.indexOf(0, a + 1);
  if (a < 0 || b < 0 || raw.indexOf(0, b + 1) >= 0) return { ok: false, why: 'a PLAIN response is authzid NUL authcid NUL password' };
  let parts: string[];
  try {
    parts = [utf8.decode(raw.subarray(0, a)), utf8.decode(raw.subarray(a + 1, b)), utf8.decode(raw.subarray(b + 1))];
  } catch {
    return { ok: false, why: 'the PLAIN response is not UTF-8' };
  }
  const [authzid, authcid, password] = parts as [string, string, string];
  if (authcid === '' || password === '') return { ok: false, why: 'empty user name or password' };
  return { ok: true, authzid, authcid, password };
}
