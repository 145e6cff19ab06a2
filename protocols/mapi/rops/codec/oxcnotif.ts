/** MS-OXCNOTIF ROPs (MS-OXCROPS 2.2.14): notifications. */
import { defineRop } from './rop.js';
import { RopId } from '../ids.js';
import { u8, u16, u32, u64, bool, when, arr, tag, strBy, struct, lookup, row, type Field, type Infer, type Obj, type RopCtx } from './fields.js';
import type { PropertyRow } from '../../wire/prop-values.js';

const DOC = 'MS-OXCNOTIF';

export const RegisterNotification = defineRop({
  id: RopId.RegisterNotification,
  doc: DOC,
  handles: 'io',
  req: {
    notificationTypes: u8,
    reserved: u8,
    wantWholeStore: bool,
    folderId: when((so) => so.wantWholeStore === false, u64),
    messageId: when((so) => so.wantWholeStore === false, u64),
  },
});

/**
 * NotificationType (the low 12 bits of NotificationFlags, MS-OXCNOTIF 2.2.1.4.1.2). The same bits
 * are RopRegisterNotification's NotificationTypes (one byte: TableModified is never registered,
 * open tables get it on their own).
 */
export const NotificationType = {
  NewMail: 0x0002,
  ObjectCreated: 0x0004,
  ObjectDeleted: 0x0008,
  ObjectModified: 0x0010,
  ObjectMoved: 0x0020,
  ObjectCopied: 0x0040,
  SearchCompleted: 0x0080,
  TableModified: 0x0100,
  /** Reserved: not used by the server; no data fields follow. */
  Reserved: 0x0400,
} as const;

/** The availability flags in the top four bits of NotificationFlags. */
export const NotificationFlag = {
  /** TotalMessageCount follows (the folder's message count changed). */
  T: 0x1000,
  /** UnreadMessageCount follows. */
  U: 0x2000,
  /** The event happened in a search folder. */
  S: 0x4000,
  /** The object is a message (MessageId fields follow). */
  M: 0x8000,
} as const;

/** TableEventType of a TableModified notification (the MAPI TABLE_* event values). */
export const TableEventType = {
  TableChanged: 0x0001,
  TableRowAdded: 0x0003,
  TableRowDeleted: 0x0004,
  TableRowModified: 0x0005,
  TableRestrictionChanged: 0x0007,
} as const;

/**
 * RopCtx plus what a RopNotify reader needs: the column set of the table a notification handle
 * names (TableRowData is a PropertyRow over the table's columns). Without it (ctx.columns as a
 * fallback), TableRowData is kept as its bytes.
 */
export interface NotifyCtx extends RopCtx {
  notifyColumns?: (notificationHandle: number) => readonly number[] | undefined;
}

const typeOf = (so: Obj): number => ((so.notificationFlags as number) ?? 0) & 0x0fff;
const has = (so: Obj, flag: number): boolean => (((so.notificationFlags as number) ?? 0) & flag) !== 0;
const isTable = (so: Obj): boolean => typeOf(so) === NotificationType.TableModified;
const tableEvent = (so: Obj): number => (isTable(so) ? ((so.tableEventType as number | undefined) ?? 0) : 0);
/** Row added, deleted or modified: the row's ids follow. */
const rowEvent = (so: Obj): boolean => {
  const e = tableEvent(so);
  return e === TableEventType.TableRowAdded || e === TableEventType.TableRowDeleted || e === TableEventType.TableRowModified;
};
/** Row added or modified: where it goes and its data follow. */
const rowDataEvent = (so: Obj): boolean => {
  const e = tableEvent(so);
  return e === TableEventType.TableRowAdded || e === TableEventType.TableRowModified;
};
/** Object notifications (all but TableModified and the reserved type) carry FolderId. */
const objectEvent = (so: Obj): boolean => !isTable(so) && typeOf(so) !== NotificationType.Reserved;
const oneOf = (so: Obj, ...types: number[]): boolean => types.includes(typeOf(so));
const moveCopy = (so: Obj): boolean => oneOf(so, NotificationType.ObjectMoved, NotificationType.ObjectCopied);

const columnsFor = (ctx: RopCtx, so: Obj): readonly number[] | undefined => {
  const handle = lookup(so, 'notificationHandle') as number | undefined;
  const byHandle = handle === undefined ? undefined : (ctx as NotifyCtx).notifyColumns?.(handle);
  return byHandle ?? ctx.columns;
};

const rowField = row((ctx) => ctx.columns);

/**
 * TableRowDataSize (u16) + TableRowData: a PropertyRow over the table's columns, or its bytes when
 * the reader does not know the columns.
 */
const tableRowData: Field<PropertyRow | Uint8Array> = {
  pull: (r, ctx, so) => {
    const size = r.u16();
    if (!r.has(size, 'TableRowData')) return new Uint8Array(0);
    const cols = columnsFor(ctx, so);
    if (cols === undefined) return r.copy(size);
    const end = r.pos + size;
    const saved = r.end;
    r.end = end;
    const v = rowField.pull(r, { ...ctx, columns: cols }, so);
    if (r.ok && r.pos !== end) r.fail('bad-size', 'TableRowDataSize does not match the row');
    r.end = saved;
    return v;
  },
  push: (w, v, ctx, so) => {
    const at = w.pos;
    w.u16(0);
    if (v instanceof Uint8Array) w.bytes(v);
    else {
      const cols = columnsFor(ctx, so);
      if (cols === undefined) throw new TypeError('TableRowData needs the table columns');
      rowField.push(w, v, { ...ctx, columns: cols }, so);
    }
    w.patchU16(at, w.pos - at - 2);
  },
  gen: (g, ctx, so) => {
    const cols = columnsFor(ctx, so);
    if (cols === undefined) return Uint8Array.from([0, 1, 2]);
    return rowField.gen(g, { ...ctx, columns: cols }, so);
  },
};

/**
 * TagCount (u16) + Tags. A TagCount of 0xFFFF is read as "no Tags follow" (null); the server
 * sends real counts only.
 */
const tagList: Field<number[] | null> = {
  pull: (r, ctx, so) => {
    const n = r.u16();
    if (n === 0xffff) return null;
    const count = r.count(n, 4, 'Tags');
    const out: number[] = [];
    for (let i = 0; i < count && r.ok; i++) out.push(tag.pull(r, ctx, so));
    return out;
  },
  push: (w, v) => {
    if (v === null) return w.u16(0xffff);
    w.u16(v.length);
    for (const t of v) w.u32(t);
  },
  gen: (g, ctx, so) => (g() < 0.1 ? null : arr(2, tag, 4, 3).gen(g, ctx, so)),
};

const GEN_TYPES = [0x0002, 0x0004, 0x0008, 0x0010, 0x0020, 0x0040, 0x0080, 0x0100, 0x0400];
const notificationFlags: Field<number> = {
  ...u16,
  gen: (g) => GEN_TYPES[Math.floor(g() * GEN_TYPES.length)]! | (Math.floor(g() * 16) << 12),
};
const GEN_TABLE_EVENTS = Object.values(TableEventType);
const tableEventType: Field<number> = { ...u16, gen: (g) => GEN_TABLE_EVENTS[Math.floor(g() * GEN_TABLE_EVENTS.length)]! };

/**
 * NotificationData (MS-OXCNOTIF 2.2.1.4.1.2): NotificationFlags, then the fields its type and
 * flags call for, in this order. Presence as this reading of the section has it:
 *   TableEventType                      TableModified
 *   TableRowFolderID                    TableRowAdded / Deleted / Modified
 *   TableRowMessageID, TableRowInstance  the same, with M
 *   InsertAfterTableRowFolderID         TableRowAdded / Modified
 *   InsertAfterTableRowID, ...Instance   the same, with M
 *   TableRowDataSize, TableRowData      TableRowAdded / Modified
 *   FolderId                            every type but TableModified and the reserved 0x0400
 *   MessageId                           the same, with M
 *   ParentFolderId                      ObjectCreated / Deleted / Moved / Copied, when M is clear
 *                                       (a folder) or S is set (a message in a search folder)
 *   OldFolderId                         ObjectMoved / Copied
 *   OldMessageId                        the same, with M
 *   OldParentFolderId                   the same, without M
 *   TagCount, Tags                      ObjectCreated / Modified
 *   TotalMessageCount                   T
 *   UnreadMessageCount                  U
 *   MessageFlags, UnicodeFlag,          NewMail (MessageClass null-terminated, UTF-16LE when
 *   MessageClass                        UnicodeFlag is set, else 8-bit)
 */
export const NOTIFICATION_DATA = {
  notificationFlags,
  tableEventType: when((so) => isTable(so), tableEventType),
  tableRowFolderId: when((so) => rowEvent(so), u64),
  tableRowMessageId: when((so) => rowEvent(so) && has(so, NotificationFlag.M), u64),
  tableRowInstance: when((so) => rowEvent(so) && has(so, NotificationFlag.M), u32),
  insertAfterTableRowFolderId: when((so) => rowDataEvent(so), u64),
  insertAfterTableRowId: when((so) => rowDataEvent(so) && has(so, NotificationFlag.M), u64),
  insertAfterTableRowInstance: when((so) => rowDataEvent(so) && has(so, NotificationFlag.M), u32),
  tableRowData: when((so) => rowDataEvent(so), tableRowData),
  folderId: when((so) => objectEvent(so), u64),
  messageId: when((so) => objectEvent(so) && has(so, NotificationFlag.M), u64),
  parentFolderId: when(
    (so) =>
      oneOf(so, NotificationType.ObjectCreated, NotificationType.ObjectDeleted, NotificationType.ObjectMoved, NotificationType.ObjectCopied) &&
      (!has(so, NotificationFlag.M) || has(so, NotificationFlag.S)),
    u64,
  ),
  oldFolderId: when((so) => moveCopy(so), u64),
  oldMessageId: when((so) => moveCopy(so) && has(so, NotificationFlag.M), u64),
  oldParentFolderId: when((so) => moveCopy(so) && !has(so, NotificationFlag.M), u64),
  tags: when((so) => oneOf(so, NotificationType.ObjectCreated, NotificationType.ObjectModified), tagList),
  totalMessageCount: when((so) => objectEvent(so) && has(so, NotificationFlag.T), u32),
  unreadMessageCount: when((so) => objectEvent(so) && has(so, NotificationFlag.U), u32),
  messageFlags: when((so) => oneOf(so, NotificationType.NewMail), u32),
  unicodeFlag: when((so) => oneOf(so, NotificationType.NewMail), bool),
  messageClass: when((so) => oneOf(so, NotificationType.NewMail), strBy('unicodeFlag')),
};

type Optional<T> = { [K in keyof T as undefined extends T[K] ? K : never]?: T[K] } & { [K in keyof T as undefined extends T[K] ? never : K]: T[K] };

/** A decoded NotificationData (fields absent for the type are undefined or left out). */
export type NotificationData = Optional<Infer<typeof NOTIFICATION_DATA>>;

/**
 * RopNotify (response only, MS-OXCROPS 2.2.14.2): NotificationHandle (4), LogonId (1),
 * NotificationData. Table notifications need the table's columns: ctx.columns, or a NotifyCtx
 * giving them by notification handle. RopPending's SessionIndex (2 bytes) is checked against
 * MS-OXCROPS 2.2.14.3.1.
 */
export const Notify = defineRop({
  id: RopId.Notify,
  doc: DOC,
  handles: 'none',
  ok: { notificationHandle: u32, logonId: u8, notificationData: struct(NOTIFICATION_DATA) as Field<NotificationData> },
});

export const Pending = defineRop({ id: RopId.Pending, doc: DOC, handles: 'none', ok: { sessionIndex: u16 } });

export const ROPS = [RegisterNotification, Notify, Pending] as const;
