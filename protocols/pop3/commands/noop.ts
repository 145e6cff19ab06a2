/** NOOP (RFC 1939 §5). */
import { ok, type Reply } from '../replies.js';

export function handleNoop(): Reply {
  return ok('');
}
