/** Sequence sets of a command resolved against the selected mailbox's view. */
import type { Reader } from '../parser/reader.js';
import { readSequenceSet } from '../parser/sequence-set.js';
import type { SelectedState } from '../session-state.js';

/** The view indices a set names, or a reason (a message number past the end is a client error). */
export function readTargets(r: Reader, st: SelectedState, byUid: boolean): number[] | string {
  const set = readSequenceSet(r);
  if (set === null) return r.error!;
  if (byUid) return st.view.uidIndices(set);
  const idx = st.view.seqIndices(set);
  return idx === null ? 'invalid message sequence number' : idx;
}

/** Indices of messages still there (not expunged elsewhere). */
export function live(st: SelectedState, indices: readonly number[]): number[] {
  const v = st.view;
  return v.gone.size === 0 ? [...indices] : indices.filter((i) => !v.gone.has(v.uids[i]!));
}
