/**
 * Notifications (MS-OXCNOTIF 3.1.4 / 3.1.5): RopRegisterNotification makes a NotifyObject (the
 * types asked for, on the whole store or one folder / message), and every event the mailbox
 * actor publishes after a durable write becomes RopNotify responses for the ROP sessions that
 * want it: subscriptions whose types and scope match get object / NewMail notifications; open
 * tables of the session the table event belongs to get TableModified ones (no registration
 * needed; tables opened with NoNotifications get none), with rows over the table's columns.
 * The actor then publishes one 'ropNotify' event per session ({ session, notes }), which the
 * door queues for the session's next Execute (and wakes NotificationWait).
 */
import type { Logger } from 'pino';
import { Notify, NotificationType as NT, NotificationFlag as NF, TableEventType as TE, type NotificationData } from '../../../protocols/mapi/rops/codec/oxcnotif.js';
import { RopId } from '../../../protocols/mapi/rops/ids.js';
import { WireWriter } from '../../../protocols/mapi/wire/writer.js';
import { eidGlobcnt, makeEid, REPLID_LOCAL } from '../../../storage/ids.js';
import { decodePropBag } from '../../../storage/prop-bag.js';
import { Tag } from '../../../storage/prop-tags.js';
import type { MailboxStore, FolderRecord } from '../../../storage/mailbox-store.js';
import type { MessageStore, MessageRecord } from '../../../storage/message-store.js';
import { specificRow } from './prop-rows.js';
import type { HandlerTable, RopHandler } from './rop-run.js';
import type { ObjectEntry, RopSession, TableObject } from './rop-session.js';

/** TableFlags NoNotifications (MS-OXCFOLD 2.2.1.13.1 hierarchy, 2.2.1.14.1 contents tables). */
export const TABLE_NO_NOTIFICATIONS = 0x10;
/** TableFlags UseUnicode: string columns of PtypUnspecified come as UTF-16. */
const TABLE_USE_UNICODE = 0x40;
/** The NotificationTypes bits RopRegisterNotification can ask for (NewMail ... SearchCompleted). */
const REGISTERABLE = 0xfe;
/** Row ids of plain rows are object GLOBCNTs; headers (negative) and instance rows are not. */
const GLOBCNT_LIMIT = 2 ** 48;

const eid = (gc: number): bigint => makeEid(REPLID_LOCAL, gc);

const registerNotification: RopHandler = (q) => {
  const wantWholeStore = q.wantWholeStore === true;
  const fid = wantWholeStore ? 0 : eidGlobcnt((q.folderId as bigint | undefined) ?? 0n);
  const mid = wantWholeStore ? 0 : eidGlobcnt((q.messageId as bigint | undefined) ?? 0n);
  return { output: { kind: 'notify', types: (q.notificationTypes as number) & REGISTERABLE, fid, mid, wantWholeStore } };
};

export function registerNotifyRops(t: HandlerTable): void {
  t.set(RopId.RegisterNotification, { logon: registerNotification, folder: registerNotification });
}

// ---------------------------------------------------------------------------------------------
// Events → notifications

/** What notifications read from the store (after the write they report is durable). */
export interface NotifyLookup {
  /** A message's folder, flags and class; deleted messages too (their folder only). */
  message(mid: number): { folder: number; flags: number; messageClass: string } | undefined;
  /** A folder's parent and counts; deleted folders too. */
  folder(fid: number): { parent: number; total: number; unread: number } | undefined;
}

export function notifyLookup(x: { store: MailboxStore; msgs: MessageStore }): NotifyLookup {
  const db = x.store.env.db;
  return {
    message(mid) {
      const rec = db.messages.get(mid) as MessageRecord | undefined;
      if (rec === undefined) return undefined;
      const cls = rec.deleted ? undefined : decodePropBag(Buffer.from(rec.props)).get(Tag.PidTagMessageClass);
      return { folder: rec.folder, flags: rec.flags, messageClass: typeof cls === 'string' && cls !== '' ? cls : 'IPM.Note' };
    },
    folder(fid) {
      const rec = db.folders.get(fid) as FolderRecord | undefined;
      return rec === undefined ? undefined : { parent: rec.parent, total: rec.content, unread: rec.unread };
    },
  };
}

/** One object notification before encoding, with what subscriptions match it on. */
interface ObjectNote {
  data: NotificationData;
  type: number;
  /** GLOBCNTs a folder / message subscription may watch. */
  folders: number[];
  mid: number;
}

const COUNT_TAGS = [Tag.PidTagContentCount, Tag.PidTagContentUnreadCount];

function folderCounts(look: NotifyLookup, fid: number): ObjectNote | null {
  const f = look.folder(fid);
  if (f === undefined) return null;
  return {
    type: NT.ObjectModified,
    folders: [fid],
    mid: 0,
    data: { notificationFlags: NT.ObjectModified | NF.T | NF.U, folderId: eid(fid), tags: COUNT_TAGS, totalMessageCount: f.total, unreadMessageCount: f.unread },
  };
}

function messageNote(type: number, folder: number, mid: number, extra: Partial<NotificationData> = {}, flags = 0): ObjectNote {
  return { type, folders: [folder], mid, data: { notificationFlags: type | NF.M | flags, folderId: eid(folder), messageId: eid(mid), ...extra } };
}

/** The object notifications one actor event stands for (none for topics that are not about objects). */
export function objectNotes(topic: string, data: unknown, look: NotifyLookup): ObjectNote[] {
  const d = data as Record<string, unknown>;
  const notes: (ObjectNote | null)[] = [];
  const counted = new Set<number>();
  const counts = (fid: number) => {
    if (counted.has(fid)) return;
    counted.add(fid);
    notes.push(folderCounts(look, fid));
  };
  const mids = (): number[] => (typeof d.mid === 'number' ? [d.mid] : Array.isArray(d.mids) ? (d.mids as number[]) : []);
  switch (topic) {
    case 'newMail': {
      const folder = d.folder as number;
      const mid = d.mid as number;
      const m = look.message(mid);
      notes.push(messageNote(NT.NewMail, folder, mid, { messageFlags: m?.flags ?? 0, unicodeFlag: true, messageClass: m?.messageClass ?? 'IPM.Note' }));
      notes.push(messageNote(NT.ObjectCreated, folder, mid, { tags: [] }));
      counts(folder);
      break;
    }
    case 'objectCreated': {
      const folder = d.folder as number;
      if (typeof d.parent === 'number') {
        // A folder.
        notes.push({ type: NT.ObjectCreated, folders: [folder, d.parent], mid: 0, data: { notificationFlags: NT.ObjectCreated, folderId: eid(folder), parentFolderId: eid(d.parent), tags: [] } });
        break;
      }
      for (const mid of mids()) notes.push(messageNote(NT.ObjectCreated, folder, mid, { tags: [] }));
      counts(folder);
      break;
    }
    case 'objectModified':
    case 'flagsChanged': {
      if (mids().length === 0 && typeof d.folder === 'number') {
        // A folder emptied: its counts changed.
        counts(d.folder);
        break;
      }
      const tags = topic === 'flagsChanged' ? [Tag.PidTagMessageFlags] : [];
      for (const mid of mids()) {
        const m = look.message(mid);
        if (m === undefined) continue;
        notes.push(messageNote(NT.ObjectModified, m.folder, mid, { tags }));
        counts(m.folder);
      }
      break;
    }
    case 'objectDeleted': {
      const folder = d.folder as number;
      if (d.mids === undefined) {
        const parent = look.folder(folder)?.parent ?? 0;
        notes.push({ type: NT.ObjectDeleted, folders: [folder, parent], mid: 0, data: { notificationFlags: NT.ObjectDeleted, folderId: eid(folder), parentFolderId: eid(parent) } });
        break;
      }
      for (const mid of mids()) notes.push(messageNote(NT.ObjectDeleted, folder, mid));
      counts(folder);
      break;
    }
    case 'objectMoved':
    case 'objectCopied': {
      const type = topic === 'objectMoved' ? NT.ObjectMoved : NT.ObjectCopied;
      if (Array.isArray(d.pairs)) {
        const from = d.from as number;
        const to = d.to as number;
        for (const p of d.pairs as { from: number; to: number }[]) {
          const n = messageNote(type, to, p.to, { oldFolderId: eid(from), oldMessageId: eid(p.from) });
          n.folders.push(from);
          notes.push(n);
        }
        counts(to);
        if (type === NT.ObjectMoved) counts(from);
        break;
      }
      // A folder: moved (folder, new parent) or copied (folder, new copy `to`).
      const folder = (type === NT.ObjectMoved ? d.folder : d.to) as number;
      const old = d.folder as number;
      const parent = type === NT.ObjectMoved ? (d.parent as number) : (look.folder(folder)?.parent ?? 0);
      // The old parent of a moved folder is not in the event: 0 (unknown).
      const oldParent = type === NT.ObjectMoved ? 0 : (look.folder(old)?.parent ?? 0);
      notes.push({
        type,
        folders: [folder, parent, old, oldParent].filter((f) => f !== 0),
        mid: 0,
        data: { notificationFlags: type, folderId: eid(folder), parentFolderId: eid(parent), oldFolderId: eid(old), oldParentFolderId: eid(oldParent) },
      });
      break;
    }
    case 'searchCompleted': {
      // MS-OXCNOTIF 2.2.1.4.1.2: SearchCompleted carries the search folder's id.
      const folder = d.folder as number;
      notes.push({ type: NT.SearchCompleted, folders: [folder], mid: 0, data: { notificationFlags: NT.SearchCompleted, folderId: eid(folder) } });
      break;
    }
    case 'searchRowAdded':
    case 'searchRowRemoved': {
      // A message entered or left a search folder: FolderId is the search folder, ParentFolderId its real folder (S).
      const folder = d.folder as number;
      const mid = d.mid as number;
      const real = look.message(mid)?.folder ?? 0;
      const type = topic === 'searchRowAdded' ? NT.ObjectCreated : NT.ObjectDeleted;
      notes.push(messageNote(type, folder, mid, { parentFolderId: eid(real), ...(type === NT.ObjectCreated ? { tags: [] } : {}) }, NF.S));
      break;
    }
    default:
      break;
  }
  return notes.filter((n): n is ObjectNote => n !== null);
}

function encode(handle: number, logonId: number, data: NotificationData, columns?: readonly number[]): Uint8Array {
  const w = new WireWriter(64);
  Notify.pushResponse(w, { ropId: RopId.Notify, handleIndex: 0, returnValue: 0, ok: { notificationHandle: handle, logonId, notificationData: data } }, columns === undefined ? {} : { columns });
  return w.toBytes();
}

function matches(e: ObjectEntry, n: ObjectNote): boolean {
  if (e.obj.kind !== 'notify' || (e.obj.types & n.type) === 0) return false;
  if (e.obj.wantWholeStore) return true;
  if (e.obj.mid !== 0) return e.obj.mid === n.mid;
  return n.folders.includes(e.obj.fid);
}

/** A table event as the actor publishes it (objects/table.ts TableEvent, rows as prop bags). */
type TableEventOut =
  | { type: 'rowAdded' | 'rowModified'; instanceKey: Uint8Array; prevInstanceKey: Uint8Array | null; row: Uint8Array }
  | { type: 'rowDeleted'; instanceKey: Uint8Array }
  | { type: 'tableChanged' };

const rowId = (key: Uint8Array): number => Number(Buffer.from(key.buffer, key.byteOffset, key.byteLength).readBigInt64LE(0));
const plain = (id: number): boolean => id > 0 && id < GLOBCNT_LIMIT;

/** TableModified notifications for one open table. */
function tableNotes(t: TableObject, events: TableEventOut[], look: NotifyLookup): NotificationData[] {
  const contents = t.tableKind === 'contents' || t.tableKind === 'associated';
  const flags = NT.TableModified | (contents ? NF.M : 0);
  const changed: NotificationData = { notificationFlags: NT.TableModified, tableEventType: TE.TableChanged };
  // Rows that are not objects (category headers, multi-valued instances): the table just changed.
  const unplain = events.some((e) => e.type === 'tableChanged' || !plain(rowId(e.instanceKey)) || ('prevInstanceKey' in e && e.prevInstanceKey !== null && !plain(rowId(e.prevInstanceKey))));
  if (unplain || t.columns === null) return [changed];
  const ids = (id: number | null): { folder: bigint; message: bigint } => {
    if (id === null) return { folder: 0n, message: 0n };
    if (!contents) return { folder: eid(id), message: 0n };
    return { folder: eid(look.message(id)?.folder ?? t.fid), message: eid(id) };
  };
  const columns = t.columns;
  return events.map((e): NotificationData => {
    if (e.type === 'tableChanged') return changed;
    const row = ids(rowId(e.instanceKey));
    const at = { tableRowFolderId: row.folder, ...(contents ? { tableRowMessageId: row.message, tableRowInstance: 0 } : {}) };
    if (e.type === 'rowDeleted') return { notificationFlags: flags, tableEventType: TE.TableRowDeleted, ...at };
    const prev = ids(e.prevInstanceKey === null ? null : rowId(e.prevInstanceKey));
    const props = decodePropBag(Buffer.from(e.row));
    return {
      notificationFlags: flags,
      tableEventType: e.type === 'rowAdded' ? TE.TableRowAdded : TE.TableRowModified,
      ...at,
      insertAfterTableRowFolderId: prev.folder,
      ...(contents ? { insertAfterTableRowId: prev.message, insertAfterTableRowInstance: 0 } : {}),
      tableRowData: specificRow(props, columns, { wantUnicode: (t.flags & TABLE_USE_UNICODE) !== 0, sizeLimit: 0 }),
    };
  });
}

/**
 * The RopNotify responses an actor event makes, by session: object events for every session's
 * matching subscriptions, table events for the open tables of the session they belong to.
 */
export function ropNotifications(sessions: ReadonlyMap<string, RopSession>, topic: string, data: unknown, look: () => NotifyLookup, log?: Logger): { session: string; notes: Uint8Array[] }[] {
  const out: { session: string; notes: Uint8Array[] }[] = [];
  try {
    if (topic === 'tableNotify') {
      const d = data as { session: string; table: number; events: TableEventOut[] };
      const s = sessions.get(d.session);
      if (s === undefined) return out;
      const notes: Uint8Array[] = [];
      for (const e of s.objects.values()) {
        if (e.obj.kind !== 'table' || e.obj.table !== d.table || (e.obj.flags & TABLE_NO_NOTIFICATIONS) !== 0) continue;
        for (const n of tableNotes(e.obj, d.events, look())) notes.push(encode(e.handle, e.logonId, n, e.obj.columns ?? undefined));
      }
      if (notes.length > 0) out.push({ session: d.session, notes });
      return out;
    }
    let objects: ObjectNote[] | null = null;
    for (const s of sessions.values()) {
      const notes: Uint8Array[] = [];
      for (const e of s.objects.values()) {
        if (e.obj.kind !== 'notify') continue;
        objects ??= objectNotes(topic, data, look());
        for (const n of objects) if (matches(e, n)) notes.push(encode(e.handle, e.logonId, n.data));
      }
      if (notes.length > 0) out.push({ session: s.id, notes });
    }
  } catch (err) {
    log?.warn({ err, topic }, 'notifications for an event failed');
  }
  return out;
}
