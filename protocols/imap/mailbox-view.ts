/**
 * The selected mailbox as this session sees it (RFC 3501 §2.3.1): messages in UID order, their
 * sequence numbers, flags and MODSEQs, kept current from the actor's sync answers. Expunges of
 * other sessions are announced only where IMAP allows (§7.4.1: not during FETCH, STORE or SEARCH
 * by sequence number); until then the message keeps its number and is marked gone.
 */
import type { ImapMessageState, ImapSelectData, ImapSync } from '../../actors/mailbox/imap-view.js';
import { Flag, flagsText, sameKeywords } from './flags.js';
import { setRanges, type SequenceSet } from './parser/sequence-set.js';
import type { ResponseWriter } from './response/writer.js';

export class MailboxView {
  uidValidity: number;
  uidNext: number;
  /** The MODSEQ this view is current to (the `since` of the next sync). */
  modseq: number;
  uids: number[];
  mids: number[];
  flags: number[];
  modseqs: number[];
  keywords: (string[] | undefined)[];
  /** UIDs expunged elsewhere and not announced yet (still numbered here). */
  readonly gone = new Set<number>();
  /** UIDs that are \Recent in this session. */
  readonly recent = new Set<number>();
  /** Keywords in use (FLAGS / PERMANENTFLAGS), lower case → spelling. */
  readonly known = new Map<string, string>();
  /** The mailbox changed (an event came): sync before relying on the view. */
  dirty = false;
  /** The folder's keyword list grew: FLAGS must be sent again. */
  keywordsGrew = false;

  constructor(
    data: ImapSelectData,
    /** Display-name path (for the actor). */
    readonly path: string[],
    /** The IMAP name as the client gave it. */
    readonly name: string,
    readonly readOnly: boolean,
    /** Highest UID a session saw before: newer ones are \Recent here. */
    recentAfter: number,
  ) {
    this.folder = data.folder;
    this.uidValidity = data.uidValidity;
    this.uidNext = data.uidNext;
    this.modseq = data.highestModseq;
    this.uids = data.uids;
    this.mids = data.mids;
    this.flags = data.flags;
    this.modseqs = data.modseqs;
    this.keywords = data.uids.map((_, i) => data.keywords[i]);
    for (const k of data.folderKeywords) this.known.set(k.toLowerCase(), k);
    for (const u of this.uids) if (u > recentAfter) this.recent.add(u);
  }

  readonly folder: number;

  get exists(): number {
    return this.uids.length;
  }

  get recentCount(): number {
    return this.recent.size;
  }

  /** Index of a UID, or -1. */
  indexOfUid(uid: number): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.uids[mid]!;
      if (v === uid) return mid;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First index with uid >= `uid`. */
  private lowerBound(uid: number): number {
    let lo = 0;
    let hi = this.uids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.uids[mid]! < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Indices named by message sequence numbers, ascending, distinct; null when a number is past the end. */
  seqIndices(set: SequenceSet): number[] | null {
    const n = this.uids.length;
    const marks = new Set<number>();
    for (const [lo, hi] of setRanges(set, n)) {
      if (hi > n) return null;
      for (let s = lo; s <= hi; s++) marks.add(s - 1);
    }
    return [...marks].sort((a, b) => a - b);
  }

  /** Indices named by UIDs (numbers not in the mailbox are simply absent, RFC 3501 §6.4.8). */
  uidIndices(set: SequenceSet): number[] {
    const max = this.uids.length === 0 ? 0 : this.uids[this.uids.length - 1]!;
    const marks = new Set<number>();
    for (const [lo, hi] of setRanges(set, max)) {
      for (let i = this.lowerBound(lo); i < this.uids.length && this.uids[i]! <= hi; i++) marks.add(i);
    }
    return [...marks].sort((a, b) => a - b);
  }

  flagsAt(i: number): number {
    return this.recent.has(this.uids[i]!) ? this.flags[i]! | Flag.Recent : this.flags[i]!;
  }

  flagsTextAt(i: number): string {
    return flagsText(this.flagsAt(i), this.keywords[i]);
  }

  /** The FLAGS response's list: system flags and every keyword in use. */
  flagList(): string {
    const kws = [...this.known.values()];
    return `\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $MDNSent $Junk $NotJunk${kws.length > 0 ? ` ${kws.join(' ')}` : ''}`;
  }

  private learn(keywords: readonly string[] | undefined): void {
    if (keywords === undefined) return;
    for (const k of keywords) {
      if (!this.known.has(k.toLowerCase())) {
        this.known.set(k.toLowerCase(), k);
        this.keywordsGrew = true;
      }
    }
  }

  /** Takes a message's new state (our own STORE's answer): true when its flags changed. */
  update(s: ImapMessageState): boolean {
    const i = this.indexOfUid(s.uid);
    if (i < 0 || s.modseq < this.modseqs[i]!) return false;
    const changed = this.flags[i] !== s.flags || !sameKeywords(this.keywords[i], s.keywords);
    this.flags[i] = s.flags;
    this.keywords[i] = s.keywords;
    this.modseqs[i] = s.modseq;
    this.learn(s.keywords);
    return changed;
  }

  /**
   * Applies what changed in the store: flag changes as untagged FETCH, new messages as EXISTS
   * (and RECENT), expunges as EXPUNGE when `canExpunge`, else remembered as gone.
   */
  apply(sync: ImapSync, w: ResponseWriter, canExpunge: boolean, claimRecent: (highest: number) => number): void {
    const fresh: ImapMessageState[] = [];
    const lastUid = this.uids.length === 0 ? 0 : this.uids[this.uids.length - 1]!;
    for (const s of sync.changed) {
      const i = this.indexOfUid(s.uid);
      if (i >= 0) {
        if (s.modseq <= this.modseqs[i]! || this.gone.has(s.uid)) continue;
        if (this.update(s)) w.raw(`* ${i + 1} FETCH (UID ${s.uid} FLAGS (${this.flagsTextAt(i)}))\r\n`);
      } else if (s.uid > lastUid) fresh.push(s);
    }
    for (const uid of sync.expunged) if (this.indexOfUid(uid) >= 0) this.gone.add(uid);
    if (canExpunge) this.announceExpunges(w);
    if (fresh.length > 0) {
      fresh.sort((a, b) => a.uid - b.uid);
      const before = claimRecent(fresh[fresh.length - 1]!.uid);
      for (const s of fresh) {
        this.uids.push(s.uid);
        this.mids.push(s.mid);
        this.flags.push(s.flags);
        this.modseqs.push(s.modseq);
        this.keywords.push(s.keywords);
        this.learn(s.keywords);
        if (s.uid > before) this.recent.add(s.uid);
      }
      w.raw(`* ${this.uids.length} EXISTS\r\n* ${this.recent.size} RECENT\r\n`);
    }
    if (this.keywordsGrew) {
      this.keywordsGrew = false;
      w.raw(`* FLAGS (${this.flagList()})\r\n* OK [PERMANENTFLAGS (${this.flagList()} \\*)] Flags permitted\r\n`);
    }
    if (sync.uidNext > this.uidNext) this.uidNext = sync.uidNext;
    if (sync.highestModseq > this.modseq) this.modseq = sync.highestModseq;
  }

  /** Announces and drops the messages expunged elsewhere (or by our EXPUNGE). */
  announceExpunges(w: ResponseWriter): void {
    if (this.gone.size === 0) return;
    // Highest number first: earlier numbers stay valid while later ones go.
    for (let i = this.uids.length - 1; i >= 0; i--) if (this.gone.has(this.uids[i]!)) w.raw(`* ${i + 1} EXPUNGE\r\n`);
    const keep = (_: unknown, i: number) => !this.gone.has(this.uids[i]!);
    const uids = this.uids;
    this.mids = this.mids.filter((_, i) => !this.gone.has(uids[i]!));
    this.flags = this.flags.filter(keep);
    this.modseqs = this.modseqs.filter(keep);
    this.keywords = this.keywords.filter(keep);
    for (const u of this.gone) this.recent.delete(u);
    this.uids = uids.filter((u) => !this.gone.has(u));
    this.gone.clear();
  }

  /** Expunged UIDs of our own (EXPUNGE, MOVE): gone now, announced by the caller's order. */
  markGone(uids: readonly number[]): void {
    for (const u of uids) if (this.indexOfUid(u) >= 0) this.gone.add(u);
  }
}
