/**
 * AUTHENTICATE (RFC 3501 §6.2.2) with PLAIN (RFC 4616) and SASL-IR (RFC 4959): the initial
 * response on the command line ("=" for an empty one) or after a "+ " continuation; "*" cancels.
 */
import type { Reader } from '../parser/reader.js';
import { bad, no } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import { login, plaintextRefused } from './login-common.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** authzid NUL authcid NUL passwd, from base64; a reason when it is not that. */
export function decodePlain(b64: string): { authzid: string; authcid: string; password: string } | string {
  if (b64 === '' || b64 === '=' || !BASE64.test(b64)) return 'the response is not base64';
  const raw = Buffer.from(b64, 'base64');
  const a = raw.indexOf(0);
  const b = a < 0 ? -1 : raw.indexOf(0, a + 1);
  if (a < 0 || b < 0 || raw.indexOf(0, b + 1) >= 0) return 'a PLAIN response is authzid NUL authcid NUL password';
  try {
    const out = { authzid: utf8.decode(raw.subarray(0, a)), authcid: utf8.decode(raw.subarray(a + 1, b)), password: utf8.decode(raw.subarray(b + 1)) };
    return out.authcid === '' || out.password === '' ? 'empty user name or password' : out;
  } catch {
    return 'the PLAIN response is not UTF-8';
  }
}

export async function handleAuthenticate(ctx: CommandContext, r: Reader): Promise<Completion> {
  if (!r.sp()) return bad('AUTHENTICATE needs a mechanism');
  const mech = r.atom();
  if (mech === null) return bad(r.error!);
  let initial: string | null = null;
  if (r.take(0x20)) {
    initial = r.run((c) => c > 0x20 && c < 0x7f, 'an initial response');
    if (initial === null) return bad(r.error!);
  }
  if (!r.end()) return bad(r.error!);
  if (mech.toUpperCase() !== 'PLAIN') return no('CANNOT', `Unsupported mechanism ${mech.slice(0, 20)} (supported: PLAIN)`);
  const refused = plaintextRefused(ctx);
  if (refused !== null) return refused;
  const response = initial ?? (await ctx.challenge(''));
  if (response === null) return bad('authentication exchange failed');
  if (response === '*') return bad('authentication cancelled');
  const c = decodePlain(response.trim());
  if (typeof c === 'string') return bad(`invalid PLAIN response: ${c}`);
  return login(ctx, c.authcid, c.password, c.authzid);
}
