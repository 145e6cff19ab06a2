/**
 * Sequence sets (RFC 3501 §9; RFC 9051 §9):
 *
 *   sequence-set = (seq-number / seq-range) ["," sequence-set]
 *   seq-range    = seq-number ":" seq-number        seq-number = nz-number / "*"
 *
 * "*" is kept symbolic (STAR) and means the largest number in use when the set is resolved
 * against a mailbox; a range is the same in either order.
 */
import { MAX_SEQUENCE_RANGES } from '../limits.js';
import type { Reader } from './reader.js';

export const STAR = -1;

export type SequenceSet = [number, number][];

function seqNumber(r: Reader): number | null {
  if (r.take(0x2a)) return STAR;
  return r.nzNumber();
}

export function readSequenceSet(r: Reader): SequenceSet | null {
  const out: SequenceSet = [];
  for (;;) {
    const a = seqNumber(r);
    if (a === null) return r.fail('bad sequence set');
    let b = a;
    if (r.take(0x3a)) {
      const x = seqNumber(r);
      if (x === null) return r.fail('bad sequence set');
      b = x;
    }
    out.push([a, b]);
    if (out.length > MAX_SEQUENCE_RANGES) return r.fail('sequence set too long');
    if (!r.take(0x2c)) return out;
  }
}

/** Whether the next bytes look like a sequence set (SEARCH keys start with letters). */
export function startsSequenceSet(r: Reader): boolean {
  const c = r.peek();
  return c === 0x2a || (c >= 0x31 && c <= 0x39);
}

/**
 * The numbers of a set within 1..max (a sorted ascending list of distinct numbers). `max` 0
 * means an empty mailbox: "*" then stands for nothing... except that a range with "*" still
 * reaches down to its other end (RFC 9051 §6.4.8 for UIDs: "UID n:*" matches the last message).
 */
export function* setRanges(set: SequenceSet, max: number): Generator<[number, number]> {
  for (const [a0, b0] of set) {
    const a = a0 === STAR ? max : a0;
    const b = b0 === STAR ? max : b0;
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    if (hi < 1) continue;
    yield [Math.max(lo, 1), hi];
  }
}

export function formatSequenceSet(nums: readonly number[]): string {
  if (nums.length === 0) return '';
  const sorted = [...nums].sort((x, y) => x - y);
  const parts: string[] = [];
  let start = sorted[0]!;
  let prev = start;
  for (let i = 1; i <= sorted.length; i++) {
    const n = sorted[i];
    if (n !== undefined && n === prev + 1) {
      prev = n;
      continue;
    }
    if (n !== undefined && n === prev) continue;
    parts.push(start === prev ? String(start) : `${start}:${prev}`);
    if (n !== undefined) start = prev = n;
  }
  return parts.join(',');
}

/** The list in the order given, as UIDPLUS's COPYUID wants the two sets paired. */
export function formatUidList(nums: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < nums.length) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    parts.push(i === j ? String(nums[i]) : `${nums[i]}:${nums[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
