/**
 * The IMAP view of a mailbox (RFC 3501 over the MAPI store), computed where the data is: the
 * mailbox actor's "IMAP view" ops call these, one op per IMAP command. Pure functions of the
 * store plus the mapping rules:
 *
 * - Mailboxes: mail folders (PidTagContainerClass IPF.Note or none, not search folders) under the
 *   IPM subtree, by display-name path; the Inbox special folder is INBOX.
 * - UIDs: MessageRecord.uid (a content change retires the UID, a flag change keeps it);
 *   UIDVALIDITY and UIDNEXT from the folder record.
 * - MODSEQ: a message's is max(change number, read change number); a folder's highest is the
 *   largest of its messages' and its tombstones' change numbers. One CN sequence per mailbox
 *   drives every sync protocol, so CONDSTORE / QRESYNC can build on exactly this.
 * - Flags: \Seen ↔ MSGFLAG_READ (setRead: its own read CN, change key kept); \Draft ↔
 *   MSGFLAG_UNSENT; \Flagged ↔ MS-OXOFLAG follow-up flag (PidTagFlagStatus 2 with
 *   PidTagFollowupIcon and PidTagToDoItemFlags); \Answered / $Forwarded ↔ PidTagLastVerbExecuted
 *   (102 reply, 103 reply all / 104 forward) with PidTagIconIndex; keywords ↔ PidNameKeywords
 *   verbatim (categories that are not atoms stay hidden and survive a rewrite); \Deleted,
 *   $MDNSent, $Junk and $NotJunk (and the second of \Answered + $Forwarded, which MAPI cannot
 *   hold at once) in an IMAP-only multi-valued string property, never categories.
 */
import { actorError } from '../../runtime/errors.js';
import type { MailboxStore, SpecialFolder, FolderRecord } from '../../storage/mailbox-store.js';
import { MSGFLAG_READ, MSGFLAG_UNSENT, type MessageRecord, type MessageStore, type Tombstone } from '../../storage/message-store.js';
import { idsFromNames, PS_PUBLIC_STRINGS, type PropertyName } from '../../storage/named-props.js';
import { GLOBCNT_NEXT_KEY } from '../../storage/ids.js';
import { decodePropBag } from '../../storage/prop-bag.js';
import { guidFromString } from '../../storage/guid.js';
import { FolderType, Tag } from '../../storage/prop-tags.js';
import { MV_FLAG, PropType, propTag, propTypeOf, type PropValue } from '../../storage/prop-types.js';
import type { PropMap } from '../../storage/prop-bag.js';
import { evaluate, fromWireRestriction, Fuzzy, mapRow, type WireRestriction, type Restriction } from '../../storage/restriction.js';
import { Flag, PRIVATE_FLAGS, STORABLE, flagBit, isKeywordAtom } from '../../protocols/imap/flags.js';
import { synthesizeBodies } from '../../protocols/mail/body.js';
import { parseHeaderBlock, headerText } from '../../protocols/mail/mime/headers.js';
import type { WireMessage } from './wire-message.js';

/** MS-OXOFLAG / MS-OXOMSG tags the store's registry does not name yet. */
export const ImapTag = {
  PidTagFollowupIcon: propTag(0x1095, PropType.PtypInteger32),
  PidTagToDoItemFlags: propTag(0x0e2b, PropType.PtypInteger32),
  PidTagLastVerbExecutionTime: propTag(0x1082, PropType.PtypTime),
} as const;

/** PidTagLastVerbExecuted values (MS-OXOMSG 2.2.1.28). */
export const Verb = { ReplyToSender: 102, ReplyToAll: 103, Forward: 104 } as const;
/** PidTagIconIndex values for replied / forwarded mail (MS-OXOMSG 2.2.1.10). */
const ICON_REPLIED = 0x105;
const ICON_FORWARDED = 0x106;
/** PidTagFlagStatus followupFlagged, PidTagFollowupIcon red flag, PidTagToDoItemFlags todoTimeFlagged (MS-OXOFLAG 2.2.1). */
const FLAG_STATUS_FLAGGED = 2;
const FOLLOWUP_ICON_RED = 6;
const TODO_TIME_FLAGGED = 1;

/** PidNameKeywords (MS-OXPROPS): the categories. */
export const KEYWORDS_NAME: PropertyName = { guid: PS_PUBLIC_STRINGS, name: 'Keywords' };
/** Stoa's own property set for IMAP state MAPI has no place for. */
export const PS_STOA_IMAP = guidFromString('5d0a6f3e-9c2b-4e8a-a1f4-53746f61494d');
export const IMAP_FLAGS_NAME: PropertyName = { guid: PS_STOA_IMAP, name: 'ImapFlags' };
/** Subscriptions: folder ids unsubscribed and names subscribed that are no folder (on the store object). */
export const UNSUBSCRIBED_NAME: PropertyName = { guid: PS_STOA_IMAP, name: 'ImapUnsubscribed' };
export const EXTRA_SUBSCRIBED_NAME: PropertyName = { guid: PS_STOA_IMAP, name: 'ImapSubscribedNames' };

const MVS = PropType.PtypMultipleString;

/** The mailbox's property tags for the IMAP view's named properties (0 where not created yet). */
export interface ImapTags {
  keywords: number;
  imapFlags: number;
  unsubscribed: number;
  extraSubscribed: number;
}

/** Per mailbox store (one per activation): the tags once all four names exist (ids are never reused). */
const tagCache = new WeakMap<MailboxStore, ImapTags>();

export function imapTags(store: MailboxStore, create: boolean): ImapTags {
  const hit = tagCache.get(store);
  if (hit !== undefined) return hit;
  const ids = idsFromNames(store.env.db.named, store.env.db.meta, [KEYWORDS_NAME, IMAP_FLAGS_NAME, UNSUBSCRIBED_NAME, EXTRA_SUBSCRIBED_NAME], create);
  const t = (i: number, type: number) => (ids[i] === 0 ? 0 : propTag(ids[i]!, type));
  const tags = { keywords: t(0, MVS), imapFlags: t(1, MVS), unsubscribed: t(2, PropType.PtypMultipleInteger64), extraSubscribed: t(3, MVS) };
  if (tags.keywords !== 0 && tags.imapFlags !== 0 && tags.unsubscribed !== 0 && tags.extraSubscribed !== 0) tagCache.set(store, tags);
  return tags;
}

// ---------------------------------------------------------------- property bags, read lean

/**
 * Reads only the wanted tags out of a stored property bag (storage/prop-bag.ts layout: u32
 * count, then u32 tag and value per property), skipping the rest without decoding them: listing
 * a folder's flags must not decode every subject and small body.
 */
export function pickProps(buf: Uint8Array, want: readonly number[]): Map<number, PropValue> {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Map<number, PropValue>();
  if (b.length < 4) return out;
  const count = b.readUInt32LE(0);
  let pos = 4;
  for (let k = 0; k < count && pos + 4 <= b.length; k++) {
    const tag = b.readUInt32LE(pos);
    pos += 4;
    const type = propTypeOf(tag);
    const wanted = want.includes(tag);
    if ((type & MV_FLAG) !== 0) {
      const n = b.readUInt32LE(pos);
      pos += 4;
      const arr: PropValue[] = [];
      for (let j = 0; j < n; j++) {
        const r = scalar(b, pos, type & ~MV_FLAG, wanted);
        pos = r.next;
        if (wanted) arr.push(r.value);
      }
      if (wanted) out.set(tag, arr);
    } else {
      const r = scalar(b, pos, type, wanted);
      pos = r.next;
      if (wanted) out.set(tag, r.value);
    }
  }
  return out;
}

function scalar(b: Buffer, pos: number, type: number, read: boolean): { value: PropValue; next: number } {
  switch (type) {
    case PropType.PtypNull:
    case PropType.PtypUnspecified:
      return { value: null, next: pos };
    case PropType.PtypInteger16:
      return { value: read ? b.readInt16LE(pos) : 0, next: pos + 2 };
    case PropType.PtypInteger32:
      return { value: read ? b.readInt32LE(pos) : 0, next: pos + 4 };
    case PropType.PtypErrorCode:
      return { value: read ? b.readUInt32LE(pos) : 0, next: pos + 4 };
    case PropType.PtypFloating32:
      return { value: read ? b.readFloatLE(pos) : 0, next: pos + 4 };
    case PropType.PtypFloating64:
    case PropType.PtypFloatingTime:
      return { value: read ? b.readDoubleLE(pos) : 0, next: pos + 8 };
    case PropType.PtypCurrency:
    case PropType.PtypInteger64:
      return { value: read ? b.readBigInt64LE(pos) : 0, next: pos + 8 };
    case PropType.PtypTime:
      return { value: read ? b.readBigUInt64LE(pos) : 0, next: pos + 8 };
    case PropType.PtypBoolean:
      return { value: b[pos] !== 0, next: pos + 1 };
    case PropType.PtypGuid:
      return { value: read ? Buffer.from(b.subarray(pos, pos + 16)) : null, next: pos + 16 };
    case PropType.PtypString:
    case PropType.PtypString8: {
      const n = b.readUInt32LE(pos);
      return { value: read ? b.toString('utf8', pos + 4, pos + 4 + n) : null, next: pos + 4 + n };
    }
    default: {
      const n = b.readUInt32LE(pos);
      return { value: read ? Buffer.from(b.subarray(pos + 4, pos + 4 + n)) : null, next: pos + 4 + n };
    }
  }
}

// ---------------------------------------------------------------- flags

export interface ImapMessageState {
  uid: number;
  mid: number;
  /** Flag bits (protocols/imap/flags.ts). */
  flags: number;
  /** Keywords shown to IMAP (atoms among the categories), when there are any. */
  keywords?: string[];
  modseq: number;
}

const FLAG_TAGS_BASE = [Tag.PidTagFlagStatus, Tag.PidTagLastVerbExecuted, Tag.PidTagMessageDeliveryTime];

function flagTagsOf(t: ImapTags): number[] {
  const out = [...FLAG_TAGS_BASE];
  if (t.keywords !== 0) out.push(t.keywords);
  if (t.imapFlags !== 0) out.push(t.imapFlags);
  return out;
}

function strings(v: PropValue | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The IMAP flags of a stored message, from its record and a few of its properties. */
export function messageFlags(rec: MessageRecord, picked: ReadonlyMap<number, PropValue>, t: ImapTags): { flags: number; keywords?: string[] } {
  let flags = 0;
  if ((rec.flags & MSGFLAG_READ) !== 0) flags |= Flag.Seen;
  if ((rec.flags & MSGFLAG_UNSENT) !== 0) flags |= Flag.Draft;
  if (picked.get(Tag.PidTagFlagStatus) === FLAG_STATUS_FLAGGED) flags |= Flag.Flagged;
  const verb = picked.get(Tag.PidTagLastVerbExecuted);
  if (verb === Verb.ReplyToSender || verb === Verb.ReplyToAll) flags |= Flag.Answered;
  else if (verb === Verb.Forward) flags |= Flag.Forwarded;
  if (t.imapFlags !== 0) {
    for (const s of strings(picked.get(t.imapFlags))) flags |= flagBit(s) & STORABLE;
  }
  if (t.keywords === 0) return { flags };
  const kws = strings(picked.get(t.keywords)).filter((k) => isKeywordAtom(k) && flagBit(k) === 0);
  return kws.length === 0 ? { flags } : { flags, keywords: kws };
}

function stateOf(msgs: MessageStore, mid: number, rec: MessageRecord, t: ImapTags, flagTags: number[]): ImapMessageState & { picked: Map<number, PropValue> } {
  const picked = pickProps(rec.props, flagTags);
  const f = messageFlags(rec, picked, t);
  void msgs;
  return { uid: rec.uid, mid, flags: f.flags, ...(f.keywords !== undefined ? { keywords: f.keywords } : {}), modseq: Math.max(rec.cn, rec.readCn), picked };
}

function publicState(s: ImapMessageState & { picked?: unknown }): ImapMessageState {
  return { uid: s.uid, mid: s.mid, flags: s.flags, ...(s.keywords !== undefined ? { keywords: s.keywords } : {}), modseq: s.modseq };
}

/** Delivery time in ms (IMAP INTERNALDATE), else creation. */
function internalDate(rec: MessageRecord, picked: ReadonlyMap<number, PropValue>): number {
  const v = picked.get(Tag.PidTagMessageDeliveryTime);
  return typeof v === 'bigint' ? Number(v / 10_000n - 11_644_473_600_000n) : rec.created;
}

export type StoreMode = 'set' | 'add' | 'remove';

/**
 * The property changes that give a message the wanted flags. Returns the read state to set (if
 * it changes) and the properties to set and remove (empty when nothing changes).
 */
export function flagChanges(
  rec: MessageRecord,
  picked: ReadonlyMap<number, PropValue>,
  t: ImapTags,
  mode: StoreMode,
  bits: number,
  keywords: readonly string[],
  now: number,
): { read: boolean | null; set: PropMap; remove: number[]; messageFlags: number | null } {
  const cur = messageFlags(rec, picked, t);
  bits &= STORABLE;
  const want = mode === 'set' ? bits : mode === 'add' ? cur.flags | bits : cur.flags & ~bits;
  const set: PropMap = new Map();
  const remove: number[] = [];
  const changed = (b: number) => (cur.flags & b) !== (want & b);
  const read = changed(Flag.Seen) ? (want & Flag.Seen) !== 0 : null;
  let messageFlagsOut: number | null = null;
  if (changed(Flag.Draft)) messageFlagsOut = (want & Flag.Draft) !== 0 ? rec.flags | MSGFLAG_UNSENT : rec.flags & ~MSGFLAG_UNSENT;
  if (changed(Flag.Flagged)) {
    if ((want & Flag.Flagged) !== 0) {
      set.set(Tag.PidTagFlagStatus, FLAG_STATUS_FLAGGED);
      set.set(ImapTag.PidTagFollowupIcon, FOLLOWUP_ICON_RED);
      set.set(ImapTag.PidTagToDoItemFlags, TODO_TIME_FLAGGED);
    } else remove.push(Tag.PidTagFlagStatus, ImapTag.PidTagFollowupIcon, ImapTag.PidTagToDoItemFlags);
  }
  // \Answered and $Forwarded share PidTagLastVerbExecuted: the verb holds one, the IMAP-only
  // property the other when both are set.
  const verb = picked.get(Tag.PidTagLastVerbExecuted);
  const answered = (want & Flag.Answered) !== 0;
  const forwarded = (want & Flag.Forwarded) !== 0;
  let wantVerb: number | null = null;
  if (forwarded) wantVerb = Verb.Forward;
  else if (answered) wantVerb = verb === Verb.ReplyToAll ? Verb.ReplyToAll : Verb.ReplyToSender;
  const curVerb = typeof verb === 'number' && (verb === Verb.ReplyToSender || verb === Verb.ReplyToAll || verb === Verb.Forward) ? verb : null;
  if (wantVerb !== curVerb) {
    if (wantVerb === null) remove.push(Tag.PidTagLastVerbExecuted, Tag.PidTagIconIndex, ImapTag.PidTagLastVerbExecutionTime);
    else {
      set.set(Tag.PidTagLastVerbExecuted, wantVerb);
      set.set(Tag.PidTagIconIndex, wantVerb === Verb.Forward ? ICON_FORWARDED : ICON_REPLIED);
      set.set(ImapTag.PidTagLastVerbExecutionTime, BigInt(now + 11_644_473_600_000) * 10_000n);
    }
  }
  // The IMAP-only property: \Deleted, $MDNSent, $Junk, $NotJunk, and \Answered beside a forward.
  const priv: string[] = [];
  for (const [bit, name] of PRIVATE_FLAGS) if ((want & bit) !== 0) priv.push(name);
  if (answered && forwarded) priv.push('\\Answered');
  const curPriv = t.imapFlags === 0 ? [] : strings(picked.get(t.imapFlags));
  if (priv.join(' ') !== curPriv.join(' ')) {
    if (t.imapFlags === 0) throw actorError('ecNotInitialized', 'IMAP flag property not mapped');
    if (priv.length === 0) remove.push(t.imapFlags);
    else set.set(t.imapFlags, priv);
  }
  // Keywords: categories verbatim; non-atom categories are invisible to IMAP and always kept.
  const stored = t.keywords === 0 ? [] : strings(picked.get(t.keywords));
  const visible = (k: string) => isKeywordAtom(k) && flagBit(k) === 0;
  const given = keywords.filter((k) => flagBit(k) === 0);
  let next: string[];
  if (mode === 'set') {
    next = stored.filter((k) => !visible(k));
    for (const k of given) if (!next.some((x) => x.toLowerCase() === k.toLowerCase())) next.push(k);
  } else if (mode === 'add') {
    next = [...stored];
    for (const k of given) if (!next.some((x) => x.toLowerCase() === k.toLowerCase())) next.push(k);
  } else {
    const drop = new Set(given.map((k) => k.toLowerCase()));
    next = stored.filter((k) => !(visible(k) && drop.has(k.toLowerCase())));
  }
  if (next.join('\u0000') !== stored.join('\u0000')) {
    if (t.keywords === 0) throw actorError('ecNotInitialized', 'keyword property not mapped');
    if (next.length === 0) remove.push(t.keywords);
    else set.set(t.keywords, next);
  }
  return { read, set, remove, messageFlags: messageFlagsOut };
}

/** The flags a new message (APPEND) starts with, as properties of the message to create. */
export function initialFlagProps(props: PropMap, t: ImapTags, bits: number, keywords: readonly string[]): void {
  const base = typeof props.get(Tag.PidTagMessageFlags) === 'number' ? (props.get(Tag.PidTagMessageFlags) as number) : 0;
  let mf = base & ~(MSGFLAG_READ | MSGFLAG_UNSENT);
  if ((bits & Flag.Seen) !== 0) mf |= MSGFLAG_READ;
  if ((bits & Flag.Draft) !== 0) mf |= MSGFLAG_UNSENT;
  props.set(Tag.PidTagMessageFlags, mf);
  // Start from a blank slate (the converter may have set a few from the message's own headers).
  const fake: MessageRecord = { flags: mf } as MessageRecord;
  const picked = new Map<number, PropValue>();
  for (const tag of [Tag.PidTagFlagStatus, Tag.PidTagLastVerbExecuted, t.keywords, t.imapFlags]) {
    const v = props.get(tag);
    if (v !== undefined && tag !== 0) picked.set(tag, v);
  }
  const kws = [...new Set([...strings(picked.get(t.keywords)), ...keywords])];
  const ch = flagChanges(fake, picked, t, 'set', bits, kws, Date.now());
  for (const tag of ch.remove) props.delete(tag);
  for (const [tag, v] of ch.set) props.set(tag, v);
}

// ---------------------------------------------------------------- folders

export interface ImapFolderInfo {
  id: number;
  /** Display names from the top (the Inbox is "INBOX"). */
  path: string[];
  special: SpecialFolder | null;
  /** Has mail subfolders. */
  hasChildren: boolean;
  subscribed: boolean;
  messages: number;
  unseen: number;
  uidNext: number;
  uidValidity: number;
  size: number;
}

/** A folder is a mailbox when its class is IPF.Note or none (its stored bag read lean, no computed properties). */
export function isMailFolder(store: MailboxStore, id: number, rec: FolderRecord): boolean {
  void store;
  void id;
  if (rec.type === FolderType.FOLDER_SEARCH) return false;
  const cls = pickProps(rec.props, [Tag.PidTagContainerClass]).get(Tag.PidTagContainerClass);
  return cls === undefined || cls === null || cls === '' || (typeof cls === 'string' && cls.toLowerCase() === 'ipf.note');
}

function displayName(rec: FolderRecord): string {
  const n = pickProps(rec.props, [Tag.PidTagDisplayName]).get(Tag.PidTagDisplayName);
  return typeof n === 'string' ? n : '';
}

/** Every mail folder under the IPM subtree, parents before children. */
export function listMailFolders(store: MailboxStore, t: ImapTags): ImapFolderInfo[] {
  const special = store.specialFolders();
  const out: ImapFolderInfo[] = [];
  const storeProps = t.unsubscribed === 0 ? new Map<number, PropValue>() : store.storeProps();
  const unsub = new Set((t.unsubscribed === 0 ? [] : ((storeProps.get(t.unsubscribed) as PropValue[] | undefined) ?? [])).map((x) => Number(x)));
  const walk = (parent: number, prefix: string[]): void => {
    for (const id of store.children(parent)) {
      const rec = store.folder(id);
      if (rec === undefined || !isMailFolder(store, id, rec)) continue;
      const name = id === special.inbox && parent === special.ipmSubtree ? 'INBOX' : displayName(rec);
      const info: ImapFolderInfo = {
        id,
        path: [...prefix, name],
        special: rec.special ?? null,
        hasChildren: false,
        subscribed: !unsub.has(id),
        messages: rec.content,
        unseen: rec.unread,
        uidNext: rec.uidNext,
        uidValidity: rec.uidValidity,
        size: rec.size,
      };
      out.push(info);
      const before = out.length;
      walk(id, info.path);
      info.hasChildren = out.length > before;
    }
  };
  walk(special.ipmSubtree, []);
  return out;
}

/** Names subscribed that are not (or no longer) folders (RFC 3501 §6.3.6 allows them). */
export function extraSubscriptions(store: MailboxStore, t: ImapTags): string[] {
  if (t.extraSubscribed === 0) return [];
  return strings(store.storeProps().get(t.extraSubscribed));
}

/** The folder at an IMAP path (display names; "INBOX" first for the Inbox), or ecNotFound. */
export function resolvePath(store: MailboxStore, path: readonly string[]): number {
  if (path.length === 0) throw actorError('ecNotFound', 'empty mailbox name');
  const special = store.specialFolders();
  let id = special.ipmSubtree;
  path.forEach((name, i) => {
    const next = i === 0 && name.toUpperCase() === 'INBOX' ? special.inbox : store.childByName(id, name);
    const rec = next === undefined ? undefined : store.folder(next);
    if (next === undefined || rec === undefined || !isMailFolder(store, next, rec)) throw actorError('ecNotFound', `no mailbox ${path.join('/')}`);
    id = next;
  });
  return id;
}

// ---------------------------------------------------------------- selecting and syncing

export interface ImapSelectData {
  folder: number;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** Messages in UID order, as parallel arrays (compact across threads). */
  uids: number[];
  mids: number[];
  flags: number[];
  modseqs: number[];
  /** Keywords by index into the arrays, where a message has any. */
  keywords: Record<number, string[]>;
  /** Every keyword in use in the folder (for FLAGS and PERMANENTFLAGS). */
  folderKeywords: string[];
  readOnly: boolean;
}

export function selectFolder(store: MailboxStore, msgs: MessageStore, folder: number, t: ImapTags): ImapSelectData {
  const f = store.mustFolder(folder);
  const tags = flagTagsOf(t);
  const rows: ImapMessageState[] = [];
  let highest = 1;
  for (const mid of msgs.contents(folder)) {
    const rec = msgs.message(mid);
    if (rec === undefined) continue;
    const s = stateOf(msgs, mid, rec, t, tags);
    rows.push(s);
    if (s.modseq > highest) highest = s.modseq;
  }
  for (const { key } of store.env.db.tombstones.getRange({ start: [folder, 0], end: [folder + 1] })) {
    const cn = (key as [number, number])[1];
    if (cn > highest) highest = cn;
  }
  rows.sort((a, b) => a.uid - b.uid);
  const out: ImapSelectData = { folder, uidValidity: f.uidValidity, uidNext: f.uidNext, highestModseq: highest, uids: [], mids: [], flags: [], modseqs: [], keywords: {}, folderKeywords: [], readOnly: false };
  const kw = new Map<string, string>();
  rows.forEach((r, i) => {
    out.uids.push(r.uid);
    out.mids.push(r.mid);
    out.flags.push(r.flags);
    out.modseqs.push(r.modseq);
    if (r.keywords !== undefined) {
      out.keywords[i] = r.keywords;
      for (const k of r.keywords) if (!kw.has(k.toLowerCase())) kw.set(k.toLowerCase(), k);
    }
  });
  out.folderKeywords = [...kw.values()];
  return out;
}

export interface ImapSync {
  /** Tombstones older than the session's state were purged: the session must select afresh. */
  fullResync: boolean;
  /** Messages created or changed (flags, keywords, read state) since, in UID order. */
  changed: ImapMessageState[];
  /** UIDs that left the folder since (deleted, moved away, or retired by a content change). */
  expunged: number[];
  highestModseq: number;
  uidNext: number;
}

/**
 * What changed in a folder after MODSEQ `since`: the mailbox's change index (latest change of
 * each object, by CN) read from `since`, and the folder's tombstones after it. O(changes).
 */
export function syncFolder(store: MailboxStore, msgs: MessageStore, folder: number, since: number, t: ImapTags): ImapSync {
  const f = store.mustFolder(folder);
  const db = store.env.db;
  const tags = flagTagsOf(t);
  const seen = new Set<number>();
  const changed: ImapMessageState[] = [];
  let highest = since;
  for (const { key, value } of db.changes.getRange({ start: since + 1 })) {
    const cn = key as number;
    const v = value as { m?: number; r?: number };
    const mid = v.m ?? v.r;
    if (mid === undefined || seen.has(mid)) continue;
    seen.add(mid);
    const rec = msgs.message(mid);
    if (rec === undefined || rec.folder !== folder || rec.assoc) continue;
    changed.push(publicState(stateOf(msgs, mid, rec, t, tags)));
    if (cn > highest) highest = cn;
  }
  const expunged: number[] = [];
  for (const { key, value } of db.tombstones.getRange({ start: [folder, since + 1], end: [folder + 1] })) {
    const cn = (key as [number, number])[1];
    const stone = value as Tombstone;
    if (!stone.assoc && stone.uid > 0) expunged.push(stone.uid);
    if (cn > highest) highest = cn;
  }
  for (const c of changed) if (c.modseq > highest) highest = c.modseq;
  changed.sort((a, b) => a.uid - b.uid);
  return { fullResync: since < store.tombstoneHorizon(folder), changed, expunged, highestModseq: highest, uidNext: f.uidNext };
}

// ---------------------------------------------------------------- the folder index

/**
 * A folder's IMAP listing kept in the actor's memory (UIDs, MIDs, flags, MODSEQs, keywords in
 * UID order), brought up to date from the change index instead of re-read: SELECT, sync and
 * EXPUNGE of a large folder then cost O(changes since), not a decode of every message record.
 * Current while the mailbox's GLOBCNT counter (every change allocates from it) is unchanged.
 */
export class FolderIndex {
  uids: number[] = [];
  mids: number[] = [];
  flags: number[] = [];
  modseqs: number[] = [];
  keywords: (string[] | undefined)[] = [];
  uidValidity = 0;
  uidNext = 1;
  highestModseq = 1;
  /** The GLOBCNT counter this index is current to. */
  private stamp = -1;
  /** Every change up to this CN has been looked at. */
  private scanned = 0;

  constructor(readonly folder: number) {}

  /** Brings the index up to date; returns it. */
  refresh(store: MailboxStore, msgs: MessageStore, t: ImapTags): this {
    const stamp = (store.env.db.meta.get(GLOBCNT_NEXT_KEY) as number | undefined) ?? 0;
    if (stamp === this.stamp) return this;
    if (this.stamp < 0) this.rebuild(store, msgs, t);
    else {
      const s = syncFolder(store, msgs, this.folder, this.scanned, t);
      if (s.fullResync) this.rebuild(store, msgs, t);
      else this.apply(s);
    }
    const f = store.mustFolder(this.folder);
    this.uidValidity = f.uidValidity;
    this.uidNext = f.uidNext;
    this.stamp = stamp;
    this.scanned = stamp - 1;
    return this;
  }

  private rebuild(store: MailboxStore, msgs: MessageStore, t: ImapTags): void {
    this.byMid = null;
    const d = selectFolder(store, msgs, this.folder, t);
    this.uids = d.uids;
    this.mids = d.mids;
    this.flags = d.flags;
    this.modseqs = d.modseqs;
    this.keywords = d.uids.map((_, i) => d.keywords[i]);
    this.highestModseq = d.highestModseq;
  }

  private byMid: Map<number, number> | null = null;

  /** Position of a mid in the listing, or -1. */
  positionOf(mid: number): number {
    if (this.byMid === null) {
      this.byMid = new Map();
      this.mids.forEach((m, i) => this.byMid!.set(m, i));
    }
    return this.byMid.get(mid) ?? -1;
  }

  private find(uid: number): number {
    let lo = 0;
    let hi = this.uids.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.uids[m]! < uid) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  private apply(s: ImapSync): void {
    this.byMid = null;
    if (s.expunged.length > 0) {
      const gone = new Set(s.expunged);
      const keep = (_: unknown, i: number) => !gone.has(this.uids[i]!);
      this.mids = this.mids.filter(keep);
      this.flags = this.flags.filter(keep);
      this.modseqs = this.modseqs.filter(keep);
      this.keywords = this.keywords.filter(keep);
      this.uids = this.uids.filter((u) => !gone.has(u));
    }
    for (const c of s.changed) {
      const i = this.find(c.uid);
      if (this.uids[i] === c.uid) {
        this.flags[i] = c.flags;
        this.modseqs[i] = c.modseq;
        this.keywords[i] = c.keywords;
      } else {
        this.uids.splice(i, 0, c.uid);
        this.mids.splice(i, 0, c.mid);
        this.flags.splice(i, 0, c.flags);
        this.modseqs.splice(i, 0, c.modseq);
        this.keywords.splice(i, 0, c.keywords);
      }
    }
    if (s.highestModseq > this.highestModseq) this.highestModseq = s.highestModseq;
  }

  /**
   * UIDs and mids of \\Deleted messages as of now, inside a write: the index as last refreshed
   * (committed state) plus what changed since, without advancing the index (a write that does
   * not commit must not leave it ahead).
   */
  deleted(store: MailboxStore, msgs: MessageStore, t: ImapTags): { uid: number; mid: number }[] {
    if (this.stamp < 0) {
      const d = selectFolder(store, msgs, this.folder, t);
      return d.uids.flatMap((uid, i) => ((d.flags[i]! & Flag.Deleted) !== 0 ? [{ uid, mid: d.mids[i]! }] : []));
    }
    const s = syncFolder(store, msgs, this.folder, this.scanned, t);
    const gone = new Set(s.expunged);
    const out = new Map<number, number>();
    this.uids.forEach((uid, i) => {
      if ((this.flags[i]! & Flag.Deleted) !== 0 && !gone.has(uid)) out.set(uid, this.mids[i]!);
    });
    for (const c of s.changed) {
      if ((c.flags & Flag.Deleted) !== 0) out.set(c.uid, c.mid);
      else out.delete(c.uid);
    }
    return [...out].map(([uid, mid]) => ({ uid, mid }));
  }

  /** SELECT's answer (copies: the index stays the actor's). */
  selectData(readOnly: boolean): ImapSelectData {
    const keywords: Record<number, string[]> = {};
    const kw = new Map<string, string>();
    this.keywords.forEach((k, i) => {
      if (k === undefined) return;
      keywords[i] = k;
      for (const x of k) if (!kw.has(x.toLowerCase())) kw.set(x.toLowerCase(), x);
    });
    return {
      folder: this.folder,
      uidValidity: this.uidValidity,
      uidNext: this.uidNext,
      highestModseq: this.highestModseq,
      uids: [...this.uids],
      mids: [...this.mids],
      flags: [...this.flags],
      modseqs: [...this.modseqs],
      keywords,
      folderKeywords: [...kw.values()],
      readOnly,
    };
  }

  /** What changed after `since` (a session's view): from memory, plus the folder's tombstones. */
  syncData(store: MailboxStore, since: number): ImapSync {
    const changed: ImapMessageState[] = [];
    let highest = since;
    for (let i = 0; i < this.uids.length; i++) {
      const m = this.modseqs[i]!;
      if (m <= since) continue;
      const k = this.keywords[i];
      changed.push({ uid: this.uids[i]!, mid: this.mids[i]!, flags: this.flags[i]!, ...(k !== undefined ? { keywords: k } : {}), modseq: m });
      if (m > highest) highest = m;
    }
    const expunged: number[] = [];
    for (const { key, value } of store.env.db.tombstones.getRange({ start: [this.folder, since + 1], end: [this.folder + 1] })) {
      const cn = (key as [number, number])[1];
      const stone = value as Tombstone;
      if (!stone.assoc && stone.uid > 0) expunged.push(stone.uid);
      if (cn > highest) highest = cn;
    }
    return { fullResync: since < store.tombstoneHorizon(this.folder), changed, expunged, highestModseq: highest, uidNext: this.uidNext };
  }
}

/** The actor's folder indexes, the most recently used kept (each costs memory per message). */
export class FolderIndexes {
  private readonly map = new Map<number, FolderIndex>();
  constructor(private readonly max = 16) {}
  /** The index as it is, without refreshing (inside writes). */
  peek(folder: number): FolderIndex {
    return this.map.get(folder) ?? new FolderIndex(folder);
  }
  get(store: MailboxStore, msgs: MessageStore, folder: number, t: ImapTags): FolderIndex {
    let ix = this.map.get(folder);
    if (ix === undefined) {
      store.mustFolder(folder);
      ix = new FolderIndex(folder);
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    } else this.map.delete(folder);
    this.map.set(folder, ix);
    return ix.refresh(store, msgs, t);
  }
  clear(): void {
    this.map.clear();
  }
}

// ---------------------------------------------------------------- fetching

export type FetchWant = 'none' | 'size' | 'header' | 'full';

export interface ImapFetched {
  mid: number;
  uid: number;
  flags: number;
  keywords?: string[];
  modseq: number;
  /** INTERNALDATE, ms since 1970. */
  internalDate: number;
  /** RFC822.SIZE when the original MIME is kept (else the door sizes the generated MIME). */
  mimeSize: number | null;
  /** The original MIME: whole ('full') or its header block ('header'). */
  mime?: Uint8Array;
  /** The message as MAPI data, when there is no original MIME and content was asked for. */
  wire?: WireMessage;
}

/**
 * FETCH's answer as it crosses threads: message bytes are not nested in the answer (a frame must
 * fit the ring) but packed into one top-level buffer (moved by transfer); each message names its
 * [offset, length] in it, MAPI data as MessagePack.
 */
export type ImapFetchedRef = Omit<ImapFetched, 'mime' | 'wire'> & { mime?: [number, number]; wire?: [number, number] };

/** Where a message's header block ends (after the blank line), or its length. */
export function headerEnd(b: Uint8Array): number {
  for (let i = 0; i + 1 < b.length; i++) {
    if (b[i] === 0x0a) {
      if (b[i + 1] === 0x0a) return i + 2;
      if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) return i + 3;
    }
  }
  return b.length;
}

export function fetchMessage(store: MailboxStore, msgs: MessageStore, mid: number, rec: MessageRecord, t: ImapTags, want: FetchWant, generatedSizeKnown: boolean, toWire: (mid: number) => WireMessage): ImapFetched {
  const s = stateOf(msgs, mid, rec, t, flagTagsOf(t));
  const out: ImapFetched = { ...publicState(s), internalDate: internalDate(rec, s.picked), mimeSize: rec.mime !== undefined ? (rec.mimeSize ?? null) : null };
  if (want === 'none') return out;
  if (rec.mime !== undefined) {
    if (want === 'size') return out;
    if (want === 'header') {
      // A view of the blob, only the header block copied out.
      const view = store.env.db.blobs.getBinaryFast(rec.mime) as Buffer | undefined;
      if (view !== undefined) out.mime = Buffer.from(view.subarray(0, headerEnd(view)));
    } else {
      const whole = store.env.db.blobs.getBinary(rec.mime) as Buffer | undefined;
      if (whole !== undefined) out.mime = whole;
    }
    return out;
  }
  if (want === 'size' && generatedSizeKnown) return out;
  out.wire = toWire(mid);
  return out;
}

// ---------------------------------------------------------------- message content, cached by UID

/**
 * What IMAP reads of a message's content (its stored property bag, recipients, blob numbers,
 * original MIME, sizes, INTERNALDATE). A UID names fixed content (a content change gives a new
 * UID), so an entry keyed by (MID, UID) never goes stale: SEARCH and FETCH then need no decode of
 * the message record (Dovecot's index cache plays the same part). Flags come from the folder index.
 */
export interface MessageContent {
  uid: number;
  folder: number;
  props: Buffer;
  blobs: [number, number][];
  recipients: Buffer[];
  mime: number | null;
  mimeSize: number | null;
  size: number;
  internalDate: number;
  bytes: number;
  /** Lower-cased string properties SEARCH compared already (kept with the content). */
  folded?: Map<number, string | string[] | null>;
}

function contentOf(rec: MessageRecord): MessageContent {
  const props = Buffer.from(rec.props);
  const recipients = rec.recipients.map((r) => Buffer.from(r));
  const picked = pickProps(props, [Tag.PidTagMessageDeliveryTime]);
  return {
    uid: rec.uid,
    folder: rec.folder,
    props,
    blobs: rec.blobs,
    recipients,
    mime: rec.mime ?? null,
    mimeSize: rec.mime !== undefined ? (rec.mimeSize ?? null) : null,
    size: rec.size,
    internalDate: internalDate(rec, picked),
    bytes: 200 + props.length + recipients.reduce((n, r) => n + r.length, 0),
  };
}

/** Per actor, bounded by bytes, most recently used kept. */
export class ContentCache {
  private readonly map = new Map<number, MessageContent>();
  private bytes = 0;
  constructor(private readonly maxBytes = 8 * 1024 * 1024) {}

  /** The content of `mid` as of UID `uid`; undefined when the message is gone or has another UID now. */
  get(msgs: MessageStore, mid: number, uid: number): MessageContent | undefined {
    const hit = this.map.get(mid);
    if (hit !== undefined) {
      this.map.delete(mid);
      if (hit.uid === uid) {
        this.map.set(mid, hit);
        return hit;
      }
      this.bytes -= hit.bytes;
    }
    const rec = msgs.message(mid);
    if (rec === undefined || rec.uid !== uid) return undefined;
    const c = contentOf(rec);
    this.map.set(mid, c);
    this.bytes += c.bytes;
    while (this.bytes > this.maxBytes && this.map.size > 1) {
      const [k, v] = this.map.entries().next().value!;
      this.map.delete(k);
      this.bytes -= v.bytes;
    }
    return c;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}

/** FETCH's data for one message from the folder index and the content cache (reads only). */
export function fetchIndexed(store: MailboxStore, msgs: MessageStore, ix: FolderIndex, cache: ContentCache, mid: number, uid: number, want: FetchWant, generatedSizeKnown: boolean, toWire: (mid: number) => WireMessage): ImapFetched | null {
  const i = ix.positionOf(mid);
  if (i < 0 || ix.uids[i] !== uid) return null;
  const c = cache.get(msgs, mid, uid);
  if (c === undefined) return null;
  const k = ix.keywords[i];
  const out: ImapFetched = { uid, mid, flags: ix.flags[i]!, ...(k !== undefined ? { keywords: k } : {}), modseq: ix.modseqs[i]!, internalDate: c.internalDate, mimeSize: c.mimeSize };
  if (want === 'none') return out;
  if (c.mime !== null) {
    if (want === 'size') return out;
    if (want === 'header') {
      const view = store.env.db.blobs.getBinaryFast(c.mime) as Buffer | undefined;
      if (view !== undefined) out.mime = Buffer.from(view.subarray(0, headerEnd(view)));
    } else {
      const whole = store.env.db.blobs.getBinary(c.mime) as Buffer | undefined;
      if (whole !== undefined) out.mime = whole;
    }
    return out;
  }
  if (want === 'size' && generatedSizeKnown) return out;
  out.wire = toWire(mid);
  return out;
}

// ---------------------------------------------------------------- searching

/** An IMAP SEARCH program as data (the door resolves sequence sets and session flags first). */
export type SearchNode =
  | { k: 'all' }
  | { k: 'none' }
  | { k: 'and'; c: SearchNode[] }
  | { k: 'or'; a: SearchNode; b: SearchNode }
  | { k: 'not'; c: SearchNode }
  | { k: 'mids'; mids: number[] }
  | { k: 'flag'; bit: number; set: boolean }
  | { k: 'keyword'; name: string; set: boolean }
  /** Message properties (subject, senders, recipients, body) as an MS-OXCDATA restriction. */
  | { k: 'restriction'; r: WireRestriction }
  | { k: 'header'; name: string; value: string }
  | { k: 'body'; value: string }
  | { k: 'text'; value: string }
  /** day: ms of 00:00 UTC of the day; field: INTERNALDATE or the Date header. */
  | { k: 'date'; field: 'internal' | 'sent'; op: 'before' | 'on' | 'since'; day: number }
  | { k: 'size'; op: 'larger' | 'smaller'; n: number }
  | { k: 'modseq'; n: number };

/** The message tags a restriction reads (single- and multi-valued forms); null when it needs them all. */
function restrictionTags(r: Restriction, out: Set<number>): boolean {
  const add = (tag: number) => {
    out.add(tag);
    out.add((tag | MV_FLAG) >>> 0);
  };
  switch (r.type) {
    case 'and':
    case 'or':
      return r.children.every((c) => restrictionTags(c, out));
    case 'not':
      return restrictionTags(r.child, out);
    case 'content':
    case 'property':
    case 'bitmask':
    case 'size':
    case 'exist':
      add(r.tag);
      return true;
    case 'compareProps':
      add(r.tag1);
      add(r.tag2);
      return true;
    case 'sub':
      return true;
    case 'comment':
      return r.child === null || restrictionTags(r.child, out);
    case 'count':
      return restrictionTags(r.child, out);
  }
}

/** A message as search nodes read it: its record read once, each part decoded only when a node needs it. */
class SearchRow {
  private full: PropMap | null = null;
  private recips: PropMap[] | null = null;
  private headersText: string | null = null;
  constructor(
    private readonly store: MailboxStore,
    readonly mid: number,
    private readonly c: MessageContent,
    readonly flags: number,
    private readonly kws: string[] | undefined,
    readonly modseq: number,
  ) {}
  get keywords(): string[] {
    return this.kws ?? [];
  }
  get internalDate(): number {
    return this.c.internalDate;
  }
  /** The message's properties, large ones (bodies) read from their blobs, a plain-text body made when missing. */
  props(): PropMap {
    if (this.full === null) {
      this.full = decodePropBag(this.c.props, false);
      for (const [tag, n] of this.c.blobs) {
        const bytes = this.store.env.db.blobs.getBinary(n) as Buffer | undefined;
        if (bytes !== undefined) this.full.set(tag, propTypeOf(tag) === PropType.PtypString ? bytes.toString('utf8') : bytes);
      }
      synthesizeBodies(this.full, [Tag.PidTagBody]);
    }
    return this.full;
  }
  /** Only the given tags (a restriction's), without decoding the rest of the bag. */
  some(tags: readonly number[]): Map<number, PropValue> {
    if (this.full !== null) return this.full;
    const out = pickProps(this.c.props, tags);
    for (const [tag, n] of this.c.blobs) {
      if (!tags.includes(tag)) continue;
      const bytes = this.store.env.db.blobs.getBinary(n) as Buffer | undefined;
      if (bytes !== undefined) out.set(tag, propTypeOf(tag) === PropType.PtypString ? bytes.toString('utf8') : bytes);
    }
    return out;
  }
  /** A string property lower-cased (a multi-valued one per value), remembered with the content. */
  folded(tag: number): string | string[] | null {
    const memo = (this.c.folded ??= new Map());
    let v = memo.get(tag);
    if (v === undefined) {
      const mv = (tag | MV_FLAG) >>> 0;
      const p = this.some([tag, mv]);
      const raw = p.get(tag) ?? p.get(mv);
      v = typeof raw === 'string' ? raw.toLowerCase() : Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string').map((x) => x.toLowerCase()) : null;
      memo.set(tag, v);
      this.c.bytes += typeof v === 'string' ? v.length * 2 : 16;
    }
    return v;
  }
  recipients(): PropMap[] {
    this.recips ??= this.c.recipients.map((r) => decodePropBag(r, false));
    return this.recips;
  }
  /** The header block as text (original MIME, else the transport headers Outlook kept). */
  headers(): string {
    if (this.headersText === null) {
      const view = this.c.mime !== null ? (this.store.env.db.blobs.getBinaryFast(this.c.mime) as Buffer | undefined) : undefined;
      if (view !== undefined) this.headersText = view.toString('latin1', 0, headerEnd(view));
      else {
        const th = this.props().get(Tag.PidTagTransportMessageHeaders);
        this.headersText = typeof th === 'string' ? th : '';
      }
    }
    return this.headersText;
  }
  size(): number {
    return this.c.mimeSize ?? this.c.size;
  }
  sentDate(): number | null {
    const v = this.props().get(Tag.PidTagClientSubmitTime);
    return typeof v === 'bigint' ? Number(v / 10_000n - 11_644_473_600_000n) : null;
  }
  headerValues(name: string): string[] {
    const text = this.headers();
    if (text === '') return [];
    const buf = Buffer.from(text, 'latin1');
    const hb = parseHeaderBlock(buf, 0, buf.length);
    const n = name.toLowerCase();
    return hb.headers.filter((h) => h.name === n).map((h) => headerText(h.value));
  }
}

const DAY_MS = 86_400_000;

function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

function fold(s: string): string {
  return s.toLocaleLowerCase('und');
}

/** Prepared restriction nodes: the restriction, the tags it reads (null: all), and a fast matcher when it has one. */
interface Prepared {
  r: Restriction;
  tags: number[] | null;
  fast: ((row: SearchRow) => boolean) | null;
}

const SUBSTRING_IGNORECASE = Fuzzy.FL_SUBSTRING | Fuzzy.FL_IGNORECASE;

/**
 * The common text restrictions (case-insensitive substring on string properties, and / or / not
 * of them) as closures over remembered lower-cased values; the same result as evaluate(), which
 * folds with toLocaleLowerCase('und') (the root locale: the default Unicode lower-casing, as
 * toLowerCase). Null for anything else (evaluate() then runs).
 */
function fastMatcher(r: Restriction): ((row: SearchRow) => boolean) | null {
  switch (r.type) {
    case 'content': {
      const type = propTypeOf(r.tag) & ~MV_FLAG;
      if (r.fuzzy !== SUBSTRING_IGNORECASE || typeof r.value !== 'string' || (type !== PropType.PtypString && type !== PropType.PtypString8)) return null;
      const needle = r.value.toLowerCase();
      const tag = r.tag & ~MV_FLAG;
      return (row) => {
        const v = row.folded(tag);
        return v === null ? false : typeof v === 'string' ? v.includes(needle) : v.some((x) => x.includes(needle));
      };
    }
    case 'and': {
      const cs = r.children.map(fastMatcher);
      return cs.every((c) => c !== null) ? (row) => cs.every((c) => c!(row)) : null;
    }
    case 'or': {
      const cs = r.children.map(fastMatcher);
      return cs.every((c) => c !== null) ? (row) => cs.some((c) => c!(row)) : null;
    }
    case 'not': {
      const c = fastMatcher(r.child);
      return c === null ? null : (row) => !c(row);
    }
    default:
      return null;
  }
}

function evalNode(n: SearchNode, row: SearchRow, restrictions: Map<SearchNode, Prepared>, midSets: Map<SearchNode, Set<number>>): boolean {
  switch (n.k) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'and':
      return n.c.every((c) => evalNode(c, row, restrictions, midSets));
    case 'or':
      return evalNode(n.a, row, restrictions, midSets) || evalNode(n.b, row, restrictions, midSets);
    case 'not':
      return !evalNode(n.c, row, restrictions, midSets);
    case 'mids':
      return midSets.get(n)!.has(row.mid);
    case 'flag':
      return ((row.flags & n.bit) !== 0) === n.set;
    case 'keyword':
      return row.keywords.some((k) => k.toLowerCase() === n.name.toLowerCase()) === n.set;
    case 'restriction': {
      const prep = restrictions.get(n)!;
      if (prep.fast !== null) return prep.fast(row);
      const p = prep.tags === null ? row.props() : row.some(prep.tags);
      return evaluate(prep.r, { get: (tag) => p.get(tag) ?? (((tag & MV_FLAG) === 0 ? p.get((tag | MV_FLAG) >>> 0) : undefined)), subRows: (sub) => mapRow(new Map(), { recipients: row.recipients(), attachments: [] }).subRows!(sub) });
    }
    case 'header': {
      const values = row.headerValues(n.name);
      // RFC 3501 §6.4.4: an empty string matches every message that has the field.
      return values.length > 0 && (n.value === '' || values.some((v) => fold(v).includes(fold(n.value))));
    }
    case 'body': {
      const body = row.props().get(Tag.PidTagBody);
      return typeof body === 'string' && fold(body).includes(fold(n.value));
    }
    case 'text': {
      const body = row.props().get(Tag.PidTagBody);
      const needle = fold(n.value);
      if (typeof body === 'string' && fold(body).includes(needle)) return true;
      const h = row.headers();
      if (fold(h).includes(needle)) return true;
      // Decoded header text (encoded words) too.
      const buf = Buffer.from(h, 'latin1');
      return parseHeaderBlock(buf, 0, buf.length).headers.some((x) => fold(headerText(x.value)).includes(needle));
    }
    case 'date': {
      const ms = n.field === 'internal' ? row.internalDate : row.sentDate();
      if (ms === null) return false;
      const d = dayOf(ms);
      return n.op === 'before' ? d < n.day : n.op === 'on' ? d === n.day : d >= n.day;
    }
    case 'size':
      return n.op === 'larger' ? row.size() > n.n : row.size() < n.n;
    case 'modseq':
      return row.modseq >= n.n;
  }
}

function prepare(n: SearchNode, restrictions: Map<SearchNode, Prepared>, midSets: Map<SearchNode, Set<number>>): void {
  switch (n.k) {
    case 'and':
      for (const c of n.c) prepare(c, restrictions, midSets);
      return;
    case 'or':
      prepare(n.a, restrictions, midSets);
      prepare(n.b, restrictions, midSets);
      return;
    case 'not':
      prepare(n.c, restrictions, midSets);
      return;
    case 'mids':
      midSets.set(n, new Set(n.mids));
      return;
    case 'restriction':
      try {
        const r = fromWireRestriction(n.r);
        const tags = new Set<number>();
        restrictions.set(n, { r, tags: restrictionTags(r, tags) ? [...tags] : null, fast: fastMatcher(r) });
      } catch (err) {
        throw actorError('ecTooComplex', (err as Error).message);
      }
      return;
    default:
      return;
  }
}

/** The mids (of those given, in their order) that match the program. */
export function searchFolder(store: MailboxStore, msgs: MessageStore, ix: FolderIndex, cache: ContentCache, candidates: readonly number[], program: SearchNode): { mids: number[]; highestModseq: number } {
  const restrictions = new Map<SearchNode, Prepared>();
  const midSets = new Map<SearchNode, Set<number>>();
  prepare(program, restrictions, midSets);
  const out: number[] = [];
  let highest = 0;
  for (const mid of candidates) {
    const i = ix.positionOf(mid);
    if (i < 0) continue;
    const c = cache.get(msgs, mid, ix.uids[i]!);
    if (c === undefined) continue;
    const row = new SearchRow(store, mid, c, ix.flags[i]!, ix.keywords[i], ix.modseqs[i]!);
    if (evalNode(program, row, restrictions, midSets)) {
      out.push(mid);
      if (row.modseq > highest) highest = row.modseq;
    }
  }
  return { mids: out, highestModseq: highest };
}

export { stateOf as imapStateOf, publicState as imapPublicState };
