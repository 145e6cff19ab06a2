/**
 * Messages in a mailbox (MS-OXCMSG): normal and associated (FAI) messages with properties,
 * recipients (rows of properties) and attachments (properties and data); folder counts and sizes
 * kept in the same transaction as each change; one change number per change; read-state changes
 * with their own read CN that leave the change key alone; tombstones for deletions; the IMAP
 * view's UIDs (a content change gives a new UID, a flag change keeps it).
 *
 * Values above BLOB_THRESHOLD (bodies, attachment data, original MIME) live in the blobs key
 * space and are read without copying when the caller asks. Like MailboxStore, writing methods
 * run inside the caller's write transaction.
 */
import { actorError } from '../runtime/errors.js';
import { allocGlobcnt, makeEid, REPLID_LOCAL } from './ids.js';
import { gid, messageEntryId, pclWithChange } from './entry-ids.js';
import { decodePropBag, encodePropBag, type PropMap } from './prop-bag.js';
import { dateToFiletime, propTypeOf, PropType, propTag, type PropValue } from './prop-types.js';
import { COMPUTED_OBJECT_TAGS, Tag } from './prop-tags.js';
import type { FolderRecord, MailboxStore } from './mailbox-store.js';
import { SearchFolders } from './search-folders.js';

/** Values at least this large are stored as blobs. */
export const BLOB_THRESHOLD = 16 * 1024;
/** PidTagMessageFlags: the message has been read (MS-OXCMSG 2.2.1.6). */
/** Decoded message records kept between writes (MessageStore.record). */
const RECORD_CACHE_SIZE = 4096;

export const MSGFLAG_READ = 0x0001;
export const MSGFLAG_UNSENT = 0x0008;
/** A read receipt is owed once the message is read (MS-OXCMSG 2.2.1.6 mfNotifyRead). */
export const MSGFLAG_RN_PENDING = 0x0100;
export const MSGFLAG_HASATTACH = 0x0010;
export const MSGFLAG_ASSOCIATED = 0x0040;

export const MsgTag = {
  PidTagParentFolderId: propTag(0x6749, PropType.PtypInteger64),
  PidTagHasAttachments: propTag(0x0e1b, PropType.PtypBoolean),
  PidTagAttachNumber: propTag(0x0e21, PropType.PtypInteger32),
  PidTagAttachDataBinary: propTag(0x3701, PropType.PtypBinary),
  PidTagAttachSize: propTag(0x0e20, PropType.PtypInteger32),
  PidTagRowid: propTag(0x3000, PropType.PtypInteger32),
  PidTagAssociated: propTag(0x67aa, PropType.PtypBoolean),
} as const;

export interface AttachmentIn {
  /** Its number (PidTagAttachNumber) when it has one; stable across saves. Unnumbered or clashing ones get the next free numbers. */
  num?: number;
  props: PropMap;
  /** Attachment bytes (PidTagAttachDataBinary). */
  data?: Uint8Array;
  /** An embedded message (PidTagAttachMethod afEmbeddedMessage). */
  embedded?: MessageIn;
}

export interface MessageIn {
  props: PropMap;
  recipients?: PropMap[];
  attachments?: AttachmentIn[];
  /**
   * The Internet message this one was converted from (received or imported mail): kept and
   * served unchanged to IMAP and POP3 until the content changes (flag changes keep it).
   */
  mime?: Uint8Array;
}

interface StoredAttachment {
  num: number;
  props: Uint8Array;
  /** Blob key of the data, or inline bytes when small. */
  blob: number | null;
  data: Uint8Array | null;
  size: number;
  /** An embedded message, stored inside its attachment. */
  embedded?: StoredEmbedded;
}

interface StoredEmbedded {
  props: Uint8Array;
  blobs: [number, number][];
  recipients: Uint8Array[];
  attachments: StoredAttachment[];
}

export interface MessageRecord {
  folder: number;
  assoc: boolean;
  deleted: boolean;
  props: Uint8Array;
  /** Tags whose values are blobs: [tag, blob number]. */
  blobs: [number, number][];
  recipients: Uint8Array[];
  attachments: StoredAttachment[];
  flags: number;
  cn: number;
  readCn: number;
  pcl: Uint8Array;
  created: number;
  modified: number;
  size: number;
  /** IMAP UID in the folder (0 for FAI). */
  uid: number;
  /** When a soft delete happened (purged for good past the tombstone horizon). */
  deletedAt?: number;
  /** Blob number of the original Internet message (MessageIn.mime), while the content is unchanged. */
  mime?: number;
  mimeSize?: number;
}

export interface Tombstone {
  mid: number;
  sourceKey: Uint8Array;
  uid: number;
  assoc: boolean;
}

export interface ChangesSince {
  /**
   * True when tombstones newer than the client's state were already purged (older than the
   * horizon): the lists below are then incomplete and the client must resync the folder in full,
   * in its protocol's words.
   */
  fullResync: boolean;
  /** Messages created or whose content changed after the given CN. */
  changed: { mid: number; cn: number; uid: number; assoc: boolean }[];
  /** Messages whose read state (only) changed after the given CN. */
  readChanged: { mid: number; readCn: number; read: boolean }[];
  deleted: (Tombstone & { cn: number })[];
  /** IMAP UIDs retired because their message's content changed (it lives on under a new UID). */
  replacedUids: { uid: number; cn: number }[];
  /** The highest CN the answer covers. */
  cn: number;
}

/** Computed properties a client cannot set on a message. */
const COMPUTED: ReadonlySet<number> = new Set([
  ...COMPUTED_OBJECT_TAGS,
  Tag.PidTagMid,
  MsgTag.PidTagParentFolderId,
  Tag.PidTagMessageSize,
  MsgTag.PidTagHasAttachments,
  MsgTag.PidTagAssociated,
]);

function isBlobbable(tag: number, v: PropValue): v is Uint8Array | string {
  const t = propTypeOf(tag);
  if (t === PropType.PtypBinary && v instanceof Uint8Array) return v.byteLength >= BLOB_THRESHOLD;
  if (t === PropType.PtypString && typeof v === 'string') return v.length * 3 >= BLOB_THRESHOLD && Buffer.byteLength(v) >= BLOB_THRESHOLD;
  return false;
}

/** A position in a sort index: [folder, assoc, kind, value, mid]. */
export type IndexKey = [number, number, number, number, number];

/** The per-folder sort indexes: which property each kind orders by. */
export const SORT_INDEXES = [
  { kind: 0, tag: propTag(0x0e06, PropType.PtypTime) }, // PidTagMessageDeliveryTime
  { kind: 1, tag: propTag(0x3008, PropType.PtypTime) }, // PidTagLastModificationTime
] as const;

export class MessageStore {
  /** Search folders kept current by every message write (in the same transaction). */
  readonly searches: SearchFolders;
  /** Search-folder membership changes of the current write, for the doors' notifications. */
  searchChanges: { folder: number; mid: number; added: boolean }[] = [];

  constructor(private readonly mbx: MailboxStore) {
    this.searches = new SearchFolders(
      mbx,
      (mid) => {
        const rec = this.message(mid);
        if (rec === undefined) return undefined;
        return { folder: rec.folder, props: this.props(mid, { blobs: false }), recipients: this.recipients(mid), attachments: this.attachments(mid).map((a) => a.props) };
      },
      (folder) => this.contents(folder),
    );
  }

  /** The index values of a message: delivery time (the stored one, else creation) and modification time, in ms. */
  private indexValues(rec: MessageRecord): [number, number] {
    const props = decodePropBag(Buffer.from(rec.props));
    const dt = props.get(SORT_INDEXES[0].tag);
    return [typeof dt === 'bigint' ? Number(dt / 10_000n - 11_644_473_600_000n) : rec.created, rec.modified];
  }

  private indexAdd(folder: number, mid: number, rec: MessageRecord): void {
    const v = this.indexValues(rec);
    for (const ix of SORT_INDEXES) this.db.sortIndex.putSync([folder, rec.assoc ? 1 : 0, ix.kind, v[ix.kind]!, mid], 1);
  }

  private indexRemove(folder: number, mid: number, rec: MessageRecord): void {
    const v = this.indexValues(rec);
    for (const ix of SORT_INDEXES) this.db.sortIndex.removeSync([folder, rec.assoc ? 1 : 0, ix.kind, v[ix.kind]!, mid]);
  }

  /**
   * A page of a folder's messages in index order (ascending), after the given position; null
   * when `tag` has no index. Positions are opaque index keys.
   */
  indexPage(folderId: number, assoc: boolean, tag: number, after: IndexKey | null, limit: number): { ids: number[]; last: IndexKey | null } | null {
    const ix = SORT_INDEXES.find((x) => x.tag === tag);
    if (ix === undefined) return null;
    const a = assoc ? 1 : 0;
    let keys = [...this.db.sortIndex.getKeys({ start: after ?? [folderId, a, ix.kind], end: [folderId, a, ix.kind + 1], limit: limit + 1 })] as IndexKey[];
    // The start key is inclusive: skip the position we resume after.
    if (after !== null && keys.length > 0 && keys[0]![3] === after[3] && keys[0]![4] === after[4]) keys = keys.slice(1);
    keys = keys.slice(0, limit);
    return { ids: keys.map((k) => k[4]), last: keys.length === 0 ? null : keys[keys.length - 1]! };
  }

  private touched(mid: number, folder: number): void {
    for (const c of this.searches.messageChanged(mid, folder)) this.searchChanges.push({ folder: c.folder, mid, added: c.added });
  }

  private get db() {
    return this.mbx.env.db;
  }

  message(mid: number): MessageRecord | undefined {
    const m = this.record(mid);
    return m === undefined || m.deleted ? undefined : m;
  }

  /**
   * Decoded records, kept while no write happened since (MailboxEnv.writeSeq unchanged) and only
   * outside write ops. Decoding a record is most of a table row's cost (msgpack reads the
   * record's definition again each time), and folder views read the same rows over and over.
   * Write ops never see cached objects (MailboxEnv.writing): they decode fresh records they may
   * change; the next read after a write finds a new sequence and starts over.
   */
  private record(mid: number): MessageRecord | undefined {
    const seq = this.mbx.env.writeSeq;
    if (this.mbx.env.writing > 0) return this.db.messages.get(mid) as MessageRecord | undefined;
    if (seq !== this.recordsSeq) {
      this.records.clear();
      this.recordsSeq = seq;
    }
    let m = this.records.get(mid);
    if (m === undefined) {
      m = this.db.messages.get(mid) as MessageRecord | undefined;
      if (m === undefined) return undefined;
      if (this.records.size >= RECORD_CACHE_SIZE) this.records.clear();
      this.records.set(mid, m);
    }
    return m;
  }

  private readonly records = new Map<number, MessageRecord>();
  private recordsSeq = -1;

  private must(mid: number): MessageRecord {
    const m = this.message(mid);
    if (m === undefined) throw actorError('ecNotFound', `no message ${mid}`);
    return m;
  }

  private newBlob(bytes: Uint8Array): number {
    const n = allocGlobcnt(this.db.meta);
    this.db.blobs.putSync(n, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return n;
  }

  /** Splits big values into blobs; returns the bag of the rest and the blob list and total size. */
  private storeProps(props: PropMap): { bag: Buffer; blobs: [number, number][]; size: number } {
    const small: PropMap = new Map();
    const blobs: [number, number][] = [];
    let size = 0;
    for (const [tag, v] of props) {
      if (COMPUTED.has(tag)) continue;
      if (isBlobbable(tag, v)) {
        const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
        blobs.push([tag, this.newBlob(bytes)]);
        size += bytes.byteLength;
      } else small.set(tag, v);
    }
    const bag = encodePropBag(small);
    return { bag, blobs, size: size + bag.length };
  }

  private dropBlobs(rec: { blobs: [number, number][]; attachments: StoredAttachment[]; mime?: number }): void {
    for (const [, n] of rec.blobs) this.db.blobs.removeSync(n);
    if (rec.mime !== undefined) this.db.blobs.removeSync(rec.mime);
    for (const a of rec.attachments) {
      if (a.blob !== null) this.db.blobs.removeSync(a.blob);
      if (a.embedded !== undefined) this.dropBlobs(a.embedded);
    }
  }

  private countIn(folder: FolderRecord, rec: MessageRecord, sign: 1 | -1): void {
    if (rec.assoc) folder.assoc += sign;
    else {
      folder.content += sign;
      if ((rec.flags & MSGFLAG_READ) === 0) folder.unread += sign;
    }
    folder.size += sign * rec.size;
  }

  /** Creates and saves a message in a folder. */
  create(folderId: number, msg: MessageIn, opts: { assoc?: boolean } = {}, now = Date.now()): { mid: number; uid: number; cn: number } {
    const folder = this.mbx.mustFolder(folderId);
    const assoc = opts.assoc ?? false;
    const mid = allocGlobcnt(this.db.meta);
    const cn = allocGlobcnt(this.db.meta);
    const { bag, blobs, size } = this.storeProps(msg.props);
    const recipients = (msg.recipients ?? []).map((r) => encodePropBag(r));
    const attachments = this.storeAttachments(msg.attachments ?? []);
    const flagsIn = msg.props.get(Tag.PidTagMessageFlags);
    let flags = typeof flagsIn === 'number' ? flagsIn : 0;
    flags = (flags & ~(MSGFLAG_HASATTACH | MSGFLAG_ASSOCIATED)) | (attachments.length > 0 ? MSGFLAG_HASATTACH : 0) | (assoc ? MSGFLAG_ASSOCIATED : 0);
    const rec: MessageRecord = {
      folder: folderId,
      assoc,
      deleted: false,
      props: bag,
      blobs,
      recipients,
      attachments,
      flags,
      cn,
      readCn: cn,
      pcl: pclWithChange(undefined, gid(this.mbx.mustIdentity().replGuid, cn)),
      created: now,
      modified: now,
      size: size + recipients.reduce((n, r) => n + r.length, 0) + attachments.reduce((n, a) => n + a.size, 0),
      uid: assoc ? 0 : folder.uidNext++,
    };
    if (msg.mime !== undefined && msg.mime.byteLength > 0) {
      rec.mime = this.newBlob(msg.mime);
      rec.mimeSize = msg.mime.byteLength;
      rec.size += msg.mime.byteLength;
    }
    this.db.messages.putSync(mid, rec);
    this.db.contents.putSync([folderId, assoc ? 1 : 0, mid], 1);
    this.indexAdd(folderId, mid, rec);
    this.db.changes.putSync(cn, { m: mid });
    this.countIn(folder, rec, 1);
    this.db.folders.putSync(folderId, folder);
    if (!assoc) this.touched(mid, folderId);
    return { mid, uid: rec.uid, cn };
  }

  /** Attachments keep the numbers they come with (an open message's), the others take the next free ones. */
  private storeAttachments(list: readonly AttachmentIn[]): StoredAttachment[] {
    const used = new Set<number>();
    const nums = list.map((a) => {
      const n = a.num;
      if (n === undefined || !Number.isSafeInteger(n) || n < 0 || used.has(n)) return -1;
      used.add(n);
      return n;
    });
    let next = 0;
    return list.map((a, i) => {
      let num = nums[i]!;
      if (num < 0) {
        while (used.has(next)) next++;
        num = next;
        used.add(num);
      }
      return this.storeAttachment(num, a);
    });
  }

  private storeAttachment(num: number, a: AttachmentIn): StoredAttachment {
    const props = encodePropBag([...a.props].filter(([t]) => t !== MsgTag.PidTagAttachDataBinary && t !== MsgTag.PidTagAttachNumber));
    if (a.embedded !== undefined) {
      const e = a.embedded;
      const stored = this.storeProps(e.props);
      const recipients = (e.recipients ?? []).map((r) => encodePropBag(r));
      const attachments = this.storeAttachments(e.attachments ?? []);
      const size = props.length + stored.size + recipients.reduce((n, r) => n + r.length, 0) + attachments.reduce((n, x) => n + x.size, 0);
      return { num, props, blob: null, data: null, size, embedded: { props: stored.bag, blobs: stored.blobs, recipients, attachments } };
    }
    const data = a.data ?? (a.props.get(MsgTag.PidTagAttachDataBinary) as Uint8Array | undefined) ?? null;
    if (data === null) return { num, props, blob: null, data: null, size: props.length };
    const big = data.byteLength >= BLOB_THRESHOLD;
    return { num, props, blob: big ? this.newBlob(data) : null, data: big ? null : Buffer.from(data), size: props.length + data.byteLength };
  }

  /** A page of a folder's message ids after `after` (null: from the start), in creation order. */
  contentsPage(folderId: number, assoc: boolean, after: number | null, limit: number): number[] {
    const a = assoc ? 1 : 0;
    return [...this.db.contents.getKeys({ start: [folderId, a, after === null ? 0 : after + 1], end: [folderId, a + 1], limit })].map((k) => (k as [number, number, number])[2]);
  }

  /** Message ids in a folder (normal or FAI), in creation order. */
  contents(folderId: number, assoc = false): number[] {
    const a = assoc ? 1 : 0;
    return [...this.db.contents.getRange({ start: [folderId, a], end: [folderId, a + 1] })].map((e) => (e.key as [number, number, number])[2]);
  }

  /**
   * All properties of a message: stored, blobs (read in unless `blobs` is false, as for table
   * rows), and computed (MS-OXCMSG 2.2.1).
   */
  props(mid: number, opts: { blobs?: boolean; ids?: boolean } = {}): PropMap {
    const rec = this.must(mid);
    const out = decodePropBag(Buffer.from(rec.props));
    if (opts.ids === false) {
      // The cheap view for sorting and filtering table rows: no entry ids, keys or PCL to build.
      out.set(Tag.PidTagMid, makeEid(REPLID_LOCAL, mid));
      out.set(Tag.PidTagMessageFlags, rec.flags);
      out.set(Tag.PidTagMessageSize, rec.size);
      out.set(MsgTag.PidTagHasAttachments, rec.attachments.length > 0);
      out.set(Tag.PidTagCreationTime, dateToFiletime(new Date(rec.created)));
      out.set(Tag.PidTagLastModificationTime, dateToFiletime(new Date(rec.modified)));
      return out;
    }
    const id = this.mbx.mustIdentity();
    if (opts.blobs !== false) for (const [tag, n] of rec.blobs) {
      const bytes = this.db.blobs.getBinary(n) as Buffer;
      out.set(tag, propTypeOf(tag) === PropType.PtypString ? bytes.toString('utf8') : Buffer.from(bytes));
    }
    const eid = messageEntryId(id.mailboxGuid, id.replGuid, rec.folder, id.replGuid, mid);
    out.set(Tag.PidTagEntryId, eid);
    out.set(Tag.PidTagRecordKey, eid);
    out.set(Tag.PidTagParentEntryId, this.mbx.folderEntryId(rec.folder));
    out.set(Tag.PidTagSourceKey, gid(id.replGuid, mid));
    out.set(Tag.PidTagParentSourceKey, gid(id.replGuid, rec.folder));
    out.set(Tag.PidTagChangeKey, gid(id.replGuid, rec.cn));
    out.set(Tag.PidTagPredecessorChangeList, Buffer.from(rec.pcl));
    out.set(Tag.PidTagChangeNumber, makeEid(REPLID_LOCAL, Math.max(rec.cn, rec.readCn)));
    out.set(Tag.PidTagMid, makeEid(REPLID_LOCAL, mid));
    out.set(MsgTag.PidTagParentFolderId, makeEid(REPLID_LOCAL, rec.folder));
    out.set(Tag.PidTagMessageFlags, rec.flags);
    out.set(Tag.PidTagMessageSize, rec.size);
    out.set(Tag.PidTagMessageSizeExtended, BigInt(rec.size));
    out.set(MsgTag.PidTagHasAttachments, rec.attachments.length > 0);
    out.set(MsgTag.PidTagAssociated, rec.assoc);
    out.set(Tag.PidTagCreationTime, dateToFiletime(new Date(rec.created)));
    out.set(Tag.PidTagLastModificationTime, dateToFiletime(new Date(rec.modified)));
    return out;
  }

  /** A blob value without copying: valid only until the next read in this thread. */
  blobView(mid: number, tag: number): Buffer | undefined {
    const rec = this.must(mid);
    const hit = rec.blobs.find(([t]) => t === tag);
    return hit === undefined ? undefined : (this.db.blobs.getBinaryFast(hit[1]) as Buffer);
  }

  recipients(mid: number): PropMap[] {
    return this.must(mid).recipients.map((r, i) => decodePropBag(Buffer.from(r)).set(MsgTag.PidTagRowid, i));
  }

  attachments(mid: number): { num: number; props: PropMap; size: number }[] {
    return this.must(mid).attachments.map((a) => {
      const p = decodePropBag(Buffer.from(a.props));
      p.set(MsgTag.PidTagAttachNumber, a.num);
      p.set(MsgTag.PidTagAttachSize, a.size);
      return { num: a.num, props: p, size: a.size };
    });
  }

  /** The full content of a stored message, in the form create() and update() take (for copies, instances and embedding). */
  content(mid: number): MessageIn {
    const rec = this.must(mid);
    const props = this.props(mid);
    for (const t of COMPUTED) props.delete(t);
    props.set(Tag.PidTagMessageFlags, rec.flags);
    const mime = this.originalMime(mid) ?? undefined;
    return { props, recipients: this.recipients(mid).map((r) => (r.delete(MsgTag.PidTagRowid), r)), attachments: rec.attachments.map((a) => this.attachmentIn(a)), ...(mime !== undefined ? { mime } : {}) };
  }

  /** The original Internet message of a received or imported message, while its content is unchanged. */
  originalMime(mid: number): Buffer | null {
    const rec = this.must(mid);
    if (rec.mime === undefined) return null;
    const bytes = this.db.blobs.getBinary(rec.mime) as Buffer | undefined;
    return bytes === undefined ? null : Buffer.from(bytes);
  }

  private attachmentIn(a: StoredAttachment): AttachmentIn {
    const props = decodePropBag(Buffer.from(a.props));
    if (a.embedded !== undefined) return { num: a.num, props, embedded: this.embeddedIn(a.embedded) };
    const data = a.blob !== null ? Buffer.from(this.db.blobs.getBinary(a.blob) as Buffer) : a.data === null ? undefined : Buffer.from(a.data);
    return { num: a.num, props, data };
  }

  private embeddedIn(e: StoredEmbedded): MessageIn {
    const props = decodePropBag(Buffer.from(e.props));
    for (const [tag, n] of e.blobs) {
      const bytes = this.db.blobs.getBinary(n) as Buffer;
      props.set(tag, propTypeOf(tag) === PropType.PtypString ? bytes.toString('utf8') : Buffer.from(bytes));
    }
    return { props, recipients: e.recipients.map((r) => decodePropBag(Buffer.from(r))), attachments: e.attachments.map((x) => this.attachmentIn(x)) };
  }

  /** The message embedded in an attachment. */
  embeddedMessage(mid: number, num: number): MessageIn {
    const a = this.must(mid).attachments.find((x) => x.num === num);
    if (a?.embedded === undefined) throw actorError('ecNotFound', `attachment ${num} holds no embedded message`);
    return this.embeddedIn(a.embedded);
  }

  attachmentData(mid: number, num: number): Buffer | null {
    const a = this.must(mid).attachments.find((x) => x.num === num);
    if (a === undefined) throw actorError('ecNotFound', `no attachment ${num}`);
    if (a.blob !== null) return Buffer.from(this.db.blobs.getBinary(a.blob) as Buffer);
    return a.data === null ? null : Buffer.from(a.data);
  }

  /**
   * Changes a message's content (properties; recipients and attachments when given) as one save.
   * With `expectChangeKey`, a save based on a stale version answers ecObjectModified unless
   * `force` (MS-OXCMSG RopSaveChangesMessage, ForceSave). The message gets a new change number,
   * change key and IMAP UID.
   */
  update(
    mid: number,
    change: { set?: PropMap; remove?: number[]; recipients?: PropMap[]; attachments?: AttachmentIn[] },
    opts: { expectChangeKey?: Uint8Array; force?: boolean; flagsOnly?: boolean } = {},
    now = Date.now(),
  ): { cn: number; uid: number; oldUid: number } {
    const rec = this.must(mid);
    const id = this.mbx.mustIdentity();
    if (opts.expectChangeKey !== undefined && opts.force !== true) {
      const current = gid(id.replGuid, rec.cn);
      if (!current.equals(Buffer.from(opts.expectChangeKey))) throw actorError('ecObjectModified', 'the message was changed since it was opened');
    }
    const folder = this.mbx.mustFolder(rec.folder);
    this.countIn(folder, rec, -1);
    this.indexRemove(rec.folder, mid, rec);
    const props = this.props(mid);
    for (const t of COMPUTED) props.delete(t);
    for (const t of change.remove ?? []) props.delete(t);
    for (const [t, v] of change.set ?? []) if (!COMPUTED.has(t)) props.set(t, v);
    for (const [, n] of rec.blobs) this.db.blobs.removeSync(n);
    const stored = this.storeProps(props);
    rec.props = stored.bag;
    rec.blobs = stored.blobs;
    if (change.recipients !== undefined) rec.recipients = change.recipients.map((r) => encodePropBag(r));
    if (change.attachments !== undefined) {
      this.dropBlobs({ blobs: [], attachments: rec.attachments });
      rec.attachments = this.storeAttachments(change.attachments);
    }
    const flags = change.set?.get(Tag.PidTagMessageFlags);
    if (typeof flags === 'number') rec.flags = (flags & ~(MSGFLAG_HASATTACH | MSGFLAG_ASSOCIATED)) | (rec.flags & MSGFLAG_ASSOCIATED);
    rec.flags = (rec.flags & ~MSGFLAG_HASATTACH) | (rec.attachments.length > 0 ? MSGFLAG_HASATTACH : 0);
    rec.size = stored.size + rec.recipients.reduce((n, r) => n + r.length, 0) + rec.attachments.reduce((n, a) => n + a.size, 0);
    if (rec.mime !== undefined) {
      // The original Internet message says what the message said: gone with a content change.
      if (opts.flagsOnly === true) rec.size += rec.mimeSize ?? 0;
      else {
        this.db.blobs.removeSync(rec.mime);
        delete rec.mime;
        delete rec.mimeSize;
      }
    }
    const cn = allocGlobcnt(this.db.meta);
    this.db.changes.removeSync(rec.cn);
    rec.cn = cn;
    rec.pcl = pclWithChange(rec.pcl, gid(id.replGuid, cn));
    rec.modified = now;
    const oldUid = rec.uid;
    if (!rec.assoc && opts.flagsOnly !== true) {
      // A content change is a new message to IMAP: new UID, the old one expunged. Flag and
      // keyword changes (flagsOnly) keep the UID.
      this.db.tombstones.putSync([rec.folder, cn], { mid, sourceKey: gid(id.replGuid, mid), uid: oldUid, assoc: false, replaced: true, at: now });
      rec.uid = folder.uidNext++;
    }
    this.db.changes.putSync(cn, { m: mid });
    this.countIn(folder, rec, 1);
    this.db.messages.putSync(mid, rec);
    this.db.folders.putSync(rec.folder, folder);
    this.indexAdd(rec.folder, mid, rec);
    if (!rec.assoc) this.touched(mid, rec.folder);
    return { cn, uid: rec.uid, oldUid };
  }

  /**
   * Sets flag-like properties (keywords, follow-up flag): a new change number and change key as
   * any property change, but the IMAP UID stays (IMAP sees a flag change, not a new message).
   */
  setFlagProps(mid: number, set: PropMap, remove: number[] = [], now = Date.now()): { cn: number; uid: number } {
    const r = this.update(mid, { set, remove }, { flagsOnly: true }, now);
    return { cn: r.cn, uid: r.uid };
  }

  /** Marks messages read or unread: a new read CN each, change key and UID unchanged. */
  /**
   * Marks messages read or unread. A message read for the first time with a read receipt pending
   * reports `receipt` (and the pending flag clears), unless `suppressReceipt` (MS-OXCMSG
   * rfSuppressReceipt), which clears it silently.
   */
  setRead(mids: readonly number[], read: boolean, suppressReceipt = false): { mid: number; changed: boolean; receipt?: boolean }[] {
    return mids.map((mid) => {
      const rec = this.must(mid);
      const isRead = (rec.flags & MSGFLAG_READ) !== 0;
      if (isRead === read) return { mid, changed: false };
      let receipt = false;
      if (read && (rec.flags & MSGFLAG_RN_PENDING) !== 0) {
        rec.flags &= ~MSGFLAG_RN_PENDING;
        receipt = !suppressReceipt;
      }
      const folder = this.mbx.mustFolder(rec.folder);
      this.countIn(folder, rec, -1);
      rec.flags = read ? rec.flags | MSGFLAG_READ : rec.flags & ~MSGFLAG_READ;
      rec.readCn = allocGlobcnt(this.db.meta);
      this.db.changes.putSync(rec.readCn, { r: mid });
      this.countIn(folder, rec, 1);
      this.db.messages.putSync(mid, rec);
      this.db.folders.putSync(rec.folder, folder);
      if (!rec.assoc) this.touched(mid, rec.folder);
      return receipt ? { mid, changed: true, receipt } : { mid, changed: true };
    });
  }

  /**
   * Deletes messages from a folder. Soft: kept out of sight (recoverable later); hard: purged
   * with their blobs. Both leave a tombstone (source key, UID) under a new CN.
   */
  delete(folderId: number, mids: readonly number[], hard: boolean, now = Date.now()): { deleted: number[]; missing: number[] } {
    const id = this.mbx.mustIdentity();
    const folder = this.mbx.mustFolder(folderId);
    const deleted: number[] = [];
    const missing: number[] = [];
    for (const mid of mids) {
      const rec = this.message(mid);
      if (rec === undefined || rec.folder !== folderId) {
        missing.push(mid);
        continue;
      }
      this.countIn(folder, rec, -1);
      this.db.contents.removeSync([folderId, rec.assoc ? 1 : 0, mid]);
      this.indexRemove(folderId, mid, rec);
      this.db.changes.removeSync(rec.cn);
      if (rec.readCn !== rec.cn) this.db.changes.removeSync(rec.readCn);
      const cn = allocGlobcnt(this.db.meta);
      const stone: Tombstone & { at: number } = { mid, sourceKey: gid(id.replGuid, mid), uid: rec.uid, assoc: rec.assoc, at: now };
      this.db.tombstones.putSync([folderId, cn], stone);
      for (const sf of this.searches.messageRemoved(mid)) this.searchChanges.push({ folder: sf, mid, added: false });
      if (hard) {
        this.dropBlobs(rec);
        this.db.messages.removeSync(mid);
      } else {
        rec.deleted = true;
        rec.deletedAt = now;
        this.db.messages.putSync(mid, rec);
      }
      deleted.push(mid);
    }
    this.db.folders.putSync(folderId, folder);
    return { deleted, missing };
  }

  /**
   * Empties a folder (RopEmptyFolder): its messages (and FAI messages when asked) are deleted and
   * its subfolders removed, the folder itself stays.
   */
  emptyFolder(folderId: number, opts: { associated: boolean; hard: boolean }): void {
    for (const child of this.mbx.children(folderId)) this.deleteFolder(child, { messages: true, folders: true, hard: opts.hard });
    this.delete(folderId, this.contents(folderId), opts.hard);
    if (opts.associated) this.delete(folderId, this.contents(folderId, true), opts.hard);
  }

  /** RopDeleteFolder with the message store doing the message part. */
  deleteFolder(folderId: number, opts: { messages: boolean; folders: boolean; hard: boolean }): void {
    this.mbx.deleteFolder(folderId, opts, (f, hard) => {
      this.delete(f, [...this.contents(f), ...this.contents(f, true)], hard);
    });
  }

  /**
   * Copies a folder (RopCopyFolder) under a new parent, with its messages, and with its
   * subfolders when `recursive`. Returns the new folder's id.
   */
  copyFolder(folderId: number, newParent: number, newName: string | undefined, recursive: boolean, now = Date.now()): number {
    if (this.mbx.isWithin(newParent, folderId)) throw actorError('ecInvalidParam', 'a folder cannot be copied into itself or its subfolders');
    const props = this.mbx.folderProps(folderId);
    const made = this.mbx.createFolder(newParent, newName ?? (props.get(Tag.PidTagDisplayName) as string), {
      containerClass: props.get(Tag.PidTagContainerClass) as string | undefined,
      comment: props.get(Tag.PidTagComment) as string | undefined,
    }, now);
    for (const assoc of [false, true]) for (const mid of this.contents(folderId, assoc)) this.create(made.id, this.content(mid), { assoc }, now);
    if (recursive) for (const child of this.mbx.children(folderId)) this.copyFolder(child, made.id, undefined, true, now);
    return made.id;
  }

  /** Moves or copies messages to another folder; each lands as a new message there (new MID, UID, CN). */
  moveCopy(srcFolder: number, dstFolder: number, mids: readonly number[], move: boolean, now = Date.now()): { from: number; to: number }[] {
    this.mbx.mustFolder(dstFolder);
    const out: { from: number; to: number }[] = [];
    for (const mid of mids) {
      const rec = this.message(mid);
      if (rec === undefined || rec.folder !== srcFolder) throw actorError('ecNotFound', `no message ${mid} in folder ${srcFolder}`);
      const made = this.create(dstFolder, this.content(mid), { assoc: rec.assoc }, now);
      if (move) this.delete(srcFolder, [mid], true);
      out.push({ from: mid, to: made.mid });
    }
    return out;
  }

  /** What changed in a folder after change number `since` (for IMAP, EAS, DAV and ICS views). */
  changesSince(folderId: number, since: number): ChangesSince {
    this.mbx.mustFolder(folderId);
    const changed: ChangesSince['changed'] = [];
    const readChanged: ChangesSince['readChanged'] = [];
    let top = since;
    for (const assoc of [false, true]) {
      for (const mid of this.contents(folderId, assoc)) {
        const rec = this.message(mid)!;
        if (rec.cn > since) changed.push({ mid, cn: rec.cn, uid: rec.uid, assoc });
        else if (rec.readCn > since) readChanged.push({ mid, readCn: rec.readCn, read: (rec.flags & MSGFLAG_READ) !== 0 });
        top = Math.max(top, rec.cn, rec.readCn);
      }
    }
    const deleted: ChangesSince['deleted'] = [];
    const replacedUids: ChangesSince['replacedUids'] = [];
    for (const { key, value } of this.db.tombstones.getRange({ start: [folderId, since + 1], end: [folderId + 1] })) {
      const cn = (key as [number, number])[1];
      const t = value as Tombstone & { replaced?: boolean };
      if (t.replaced === true) replacedUids.push({ uid: t.uid, cn });
      else deleted.push({ mid: t.mid, sourceKey: t.sourceKey, uid: t.uid, assoc: t.assoc, cn });
      top = Math.max(top, cn);
    }
    changed.sort((a, b) => a.cn - b.cn);
    return { fullResync: since < this.mbx.tombstoneHorizon(folderId), changed, readChanged, deleted, replacedUids, cn: top };
  }

  /** Soft-deleted messages of a folder that can still be recovered (until the horizon). */
  softDeleted(folderId: number): number[] {
    const out: number[] = [];
    for (const { key, value } of this.db.messages.getRange()) {
      const rec = value as MessageRecord;
      if (rec.deleted && rec.folder === folderId) out.push(key as number);
    }
    return out;
  }

  /** Brings soft-deleted messages back into their folder (new CN and UID: they are new to every view). */
  recover(folderId: number, mids: readonly number[], now = Date.now()): { recovered: number[]; missing: number[] } {
    const folder = this.mbx.mustFolder(folderId);
    const recovered: number[] = [];
    const missing: number[] = [];
    for (const mid of mids) {
      const rec = this.db.messages.get(mid) as MessageRecord | undefined;
      if (rec === undefined || !rec.deleted || rec.folder !== folderId) {
        missing.push(mid);
        continue;
      }
      rec.deleted = false;
      delete rec.deletedAt;
      rec.cn = allocGlobcnt(this.db.meta);
      rec.readCn = rec.cn;
      rec.pcl = pclWithChange(rec.pcl, gid(this.mbx.mustIdentity().replGuid, rec.cn));
      rec.modified = now;
      if (!rec.assoc) rec.uid = folder.uidNext++;
      this.db.messages.putSync(mid, rec);
      this.db.contents.putSync([folderId, rec.assoc ? 1 : 0, mid], 1);
      this.indexAdd(folderId, mid, rec);
      this.db.changes.putSync(rec.cn, { m: mid });
      this.countIn(folder, rec, 1);
      if (!rec.assoc) this.touched(mid, folderId);
      recovered.push(mid);
    }
    this.db.folders.putSync(folderId, folder);
    return { recovered, missing };
  }

  /**
   * Purges soft-deleted messages older than `horizonMs` for good (with their blobs). Soft-deleted
   * folders go with their tombstones (MailboxStore.purgeTombstones).
   */
  purgeSoftDeleted(horizonMs: number, now = Date.now()): number {
    const cutoff = now - horizonMs;
    let purged = 0;
    for (const { key, value } of this.db.messages.getRange()) {
      const rec = value as MessageRecord;
      if (!rec.deleted || (rec.deletedAt ?? 0) > cutoff) continue;
      this.dropBlobs(rec);
      this.db.messages.removeSync(key);
      purged++;
    }
    return purged;
  }

  /** Size, counts and quota of the whole mailbox. */
  stats(): { sizeBytes: number; folders: number; messages: number; quota: { warnBytes: number; sendBytes: number; receiveBytes: number }; quotaState: string; path: string } {
    let folders = 0;
    let messages = 0;
    for (const { key, value } of this.db.folders.getRange()) {
      if ((value as { deleted?: boolean }).deleted === true) continue;
      folders++;
      messages += this.contents(key as number).length + this.contents(key as number, true).length;
    }
    return { sizeBytes: this.mbx.size(), folders, messages, quota: this.mbx.quota(), quotaState: this.mbx.quotaState(), path: this.mbx.env.path };
  }

  /** Delivers a message into the folder the receive-folder table names for its class. */
  deliver(msg: MessageIn, now = Date.now()): { folder: number; mid: number; uid: number } {
    if (this.mbx.quotaState() === 'receive-prohibited') throw actorError('ecQuotaExceeded', 'the mailbox is over its receive quota');
    const cls = msg.props.get(Tag.PidTagMessageClass);
    const { folder } = this.mbx.receiveFolder(typeof cls === 'string' ? cls : 'IPM.Note');
    const flags = msg.props.get(Tag.PidTagMessageFlags);
    const props = new Map(msg.props);
    // A read receipt asked for stays pending until the message is read (MSGFLAG_RN_PENDING).
    const rn = msg.props.get(Tag.PidTagReadReceiptRequested) === true ? MSGFLAG_RN_PENDING : 0;
    props.set(Tag.PidTagMessageFlags, (((typeof flags === 'number' ? flags : 0) & ~MSGFLAG_READ & ~MSGFLAG_UNSENT) | rn) >>> 0);
    const made = this.create(folder, { ...msg, props }, {}, now);
    return { folder, mid: made.mid, uid: made.uid };
  }
}
