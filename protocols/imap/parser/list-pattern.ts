/**
 * LIST patterns (RFC 3501 §6.3.8): "*" matches anything, "%" anything but the hierarchy
 * delimiter. The reference name is prefixed to the pattern (with the rules of §6.3.8 for a
 * reference ending in the delimiter). INBOX matches case-insensitively.
 */

export const DELIMITER = '/';

export function joinReference(reference: string, pattern: string): string {
  if (reference === '' ) return pattern;
  if (pattern.startsWith(DELIMITER)) return pattern;
  return reference.endsWith(DELIMITER) ? reference + pattern : `${reference}${DELIMITER}${pattern}`;
}

/** A matcher for one pattern (already joined with its reference). */
export function compilePattern(pattern: string): (name: string) => boolean {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '%') re += `[^${DELIMITER}]*`;
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  re += '$';
  const rx = new RegExp(re, 's');
  const inboxRx = /^inbox/i.test(pattern) ? new RegExp(`^INBOX${re.slice(6)}`, 's') : null;
  return (name: string) => {
    if (rx.test(name)) return true;
    if (inboxRx !== null && /^inbox(\/|$)/i.test(name)) return inboxRx.test(`INBOX${name.slice(5)}`);
    return false;
  };
}
