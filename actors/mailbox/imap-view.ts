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
import { guidFromString } from '../../storage/guid.js';
import { FolderType, Tag } from '../../storage/prop-tags.js';
import { MV_FLAG, PropType, propTag, propTypeOf, type PropValue } from '../../storage/prop-types.js';
import type { PropMap } from '../../storage/prop-bag.js';
import { evaluate, fromWireRestriction, mapRow, type WireRestriction, type Restriction } from '../../storage/restriction.js';
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

export function imapTags(store: MailboxStore, create: boolean): ImapTags {
  const ids = idsFromNames(store.env.db.named, store.env.db.meta, [KEYWORDS_NAME, IMAP_FLAGS_NAME, UNSUBSCRIBED_NAME, EXTRA_SUBSCRIBED_NAME], create);
  const t = (i: number, type: number) => (ids[i] === 0 ? 0 : propTag(ids[i]!, type));
  return { keywords: t(0, MVS), imapFlags: t(1, MVS), unsubscribed: t(2, PropType.PtypMultipleInteger64), extraSubscribed: t(3, MVS) };
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

export function isMailFolder(store: MailboxStore, id: number, rec: FolderRecord): boolean {
  if (rec.type === FolderType.FOLDER_SEARCH) return false;
  const cls = store.folderProps(id).get(Tag.PidTagContainerClass);
  return cls === undefined || cls === null || cls === '' || (typeof cls === 'string' && cls.toLowerCase() === 'ipf.note');
}

function displayName(store: MailboxStore, id: number): string {
  const n = store.folderProps(id).get(Tag.PidTagDisplayName);
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
      const name = id === special.inbox && parent === special.ipmSubtree ? 'INBOX' : displayName(store, id);
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

export function fetchMessage(msgs: MessageStore, mid: number, rec: MessageRecord, t: ImapTags, want: FetchWant, generatedSizeKnown: boolean, toWire: (mid: number) => WireMessage): ImapFetched {
  const s = stateOf(msgs, mid, rec, t, flagTagsOf(t));
  const out: ImapFetched = { ...publicState(s), internalDate: internalDate(rec, s.picked), mimeSize: rec.mime !== undefined ? (rec.mimeSize ?? null) : null };
  if (want === 'none') return out;
  if (rec.mime !== undefined) {
    if (want === 'size') return out;
    const mime = msgs.originalMime(mid);
    if (mime === null) return out;
    out.mime = want === 'header' ? Buffer.from(mime.subarray(0, headerEnd(mime))) : mime;
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

/** A message as search nodes read it: each part loaded once, only when a node needs it. */
class SearchRow {
  private full: PropMap | null = null;
  private headersText: string | null = null;
  private state: ImapMessageState & { picked: Map<number, PropValue> };
  constructor(
    readonly msgs: MessageStore,
    readonly mid: number,
    readonly rec: MessageRecord,
    private readonly t: ImapTags,
    tags: number[],
  ) {
    this.state = stateOf(msgs, mid, rec, t, tags);
  }
  get flags(): number {
    return this.state.flags;
  }
  get keywords(): string[] {
    return this.state.keywords ?? [];
  }
  get modseq(): number {
    return this.state.modseq;
  }
  get internalDate(): number {
    return internalDate(this.rec, this.state.picked);
  }
  props(): PropMap {
    if (this.full === null) {
      this.full = this.msgs.props(this.mid);
      synthesizeBodies(this.full, [Tag.PidTagBody]);
    }
    return this.full;
  }
  /** The header block as text (original MIME, else the transport headers Outlook kept). */
  headers(): string {
    if (this.headersText === null) {
      const mime = this.rec.mime !== undefined ? this.msgs.originalMime(this.mid) : null;
      if (mime !== null) this.headersText = mime.toString('latin1', 0, headerEnd(mime));
      else {
        const th = this.props().get(Tag.PidTagTransportMessageHeaders);
        this.headersText = typeof th === 'string' ? th : '';
      }
    }
    return this.headersText;
  }
  size(): number {
    return this.rec.mimeSize ?? this.rec.size;
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

function evalNode(n: SearchNode, row: SearchRow, restrictions: Map<SearchNode, Restriction>, midSets: Map<SearchNode, Set<number>>): boolean {
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
      const p = row.props();
      return evaluate(restrictions.get(n)!, mapRow(p, { recipients: row.msgs.recipients(row.mid), attachments: [] }));
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

function prepare(n: SearchNode, restrictions: Map<SearchNode, Restriction>, midSets: Map<SearchNode, Set<number>>): void {
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
        restrictions.set(n, fromWireRestriction(n.r));
      } catch (err) {
        throw actorError('ecTooComplex', (err as Error).message);
      }
      return;
    default:
      return;
  }
}

/** The mids (of those given, in their order) that match the program. */
export function searchFolder(msgs: MessageStore, folder: number, candidates: readonly number[], program: SearchNode, t: ImapTags): { mids: number[]; highestModseq: number } {
  const restrictions = new Map<SearchNode, Restriction>();
  const midSets = new Map<SearchNode, Set<number>>();
  prepare(program, restrictions, midSets);
  const tags = [...flagTagsOf(t)];
  const out: number[] = [];
  let highest = 0;
  for (const mid of candidates) {
    const rec = msgs.message(mid);
    if (rec === undefined || rec.folder !== folder) continue;
    const row = new SearchRow(msgs, mid, rec, t, tags);
    if (evalNode(program, row, restrictions, midSets)) {
      out.push(mid);
      if (row.modseq > highest) highest = row.modseq;
    }
  }
  return { mids: out, highestModseq: highest };
}

export { stateOf as imapStateOf, publicState as imapPublicState };
