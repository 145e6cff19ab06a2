/**
 * TNEF decoder (MS-OXTNEF): a winmail.dat / application/ms-tnef body part → MapiMessage.
 *
 *   TNEF stream  = Signature(u32 0x223E9F78) LegacyKey(u16) *Attribute           (2.1.3.1)
 *   Attribute    = Level(u8) Id(u32) Length(u32) Data(Length) Checksum(u16)
 *                  Checksum = sum of the Data bytes modulo 65536
 *   attMsgProps, attAttachment = PropertyList; attRecipTable = RowCount(u32) *PropertyList
 *   PropertyList = Count(u32) *(Type(u16) Id(u16) [NamedPropSpec] Value)          (2.1.3.4)
 *   NamedPropSpec = Guid(16) (Kind 0: Lid(u32) / Kind 1: ByteLength(u32) UTF-16LE name, pad 4)
 *   Value: fixed-size scalars padded to 4 bytes; multi-valued fixed = Count + padded values;
 *          String8, String, Binary and Object (single or multi) = Count *(Size Bytes Pad4),
 *          an Object's Size counting the 16-byte interface id that starts its bytes.
 *
 * Legacy attributes map to MAPI properties as MS-OXTNEF and the MAPI "Mapping of TNEF
 * Attributes to MAPI Properties" table say; where an encapsulated property (attMsgProps,
 * attAttachment) and a mapped attribute disagree, the encapsulated one wins (2.1.3), whatever
 * their order in the stream. Legacy text attributes get PtypString tags (their text is decoded);
 * encapsulated properties keep the tag the stream gives, PtypString8 included.
 *
 * String8 values are kept as bytes while the stream is read and decoded at the end, when the code
 * page is known (attOemCodepage may come before or after them; PidTagMessageCodepage comes inside
 * attMsgProps). An embedded message without a code page of its own uses its parent's.
 *
 * Bad input never throws: what can be converted is, the rest is described in `problems`. Every
 * length and count is checked against the bytes left before anything is read or allocated, so the
 * output is bounded by the input; embedded messages nest at most MAX_EMBEDDING_DEPTH deep.
 */
import iconv from 'iconv-lite';
import { emptyMessage, type MapiAttachment, type MapiMessage, type NamedProp } from '../mapi-message.js';
import type { PropertyName } from '../../../storage/named-props.js';
import { MV_BASE_TYPES, MV_FLAG, PropType, dateToFiletime, propTag, type PropValue } from '../../../storage/prop-types.js';
import {
  ATTACH_DATA_ID,
  AttachMethod,
  AttId,
  AttrLevel,
  Atyp,
  Fms,
  IID_IMessage,
  MsgFlag,
  ONE_OFF_NO_RICH_INFO,
  ONE_OFF_PROVIDER_UID,
  Prio,
  TNEF_SIGNATURE,
  TNEF_VERSION,
  TRPID_ONE_OFF,
  TnefTag,
} from './tnef-ids.js';

/** Embedded messages nest at most this deep (the outer message is depth 0). */
export const MAX_EMBEDDING_DEPTH = 16;
/** At most this many problems are listed; one more line says how many were left out. */
export const MAX_PROBLEMS = 200;
/** Code page of String8 values when the stream names none (MS-OXTNEF writers default to it). */
export const DEFAULT_CODEPAGE = 1252;

export interface TnefResult {
  message: MapiMessage;
  /** What could not be converted, in stream order; empty for a clean stream. */
  problems: string[];
}

/** Decodes a TNEF stream. Never throws. */
export function decodeTnef(bytes: Uint8Array): TnefResult {
  const ctx: Ctx = { problems: [], omitted: 0 };
  let message: MapiMessage;
  try {
    // A plain view: Buffer's slice() would share memory where this module means to copy.
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const raw = pullStream(view, 0, ctx, '');
    message = finishMessage(raw, undefined, ctx, '');
  } catch (err) {
    // Only a bug gets here (bad input is handled where it is read); the caller still gets data.
    note(ctx, '', `internal error: ${err instanceof Error ? err.message : String(err)}`);
    message = emptyMessage();
  }
  if (ctx.omitted > 0) ctx.problems.push(`${ctx.omitted} more problems not listed`);
  return { message, problems: ctx.problems };
}

// ---------------------------------------------------------------------------------------------
// Reading

interface Ctx {
  problems: string[];
  omitted: number;
}

function note(ctx: Ctx, where: string, msg: string): void {
  if (ctx.problems.length < MAX_PROBLEMS) ctx.problems.push(where === '' ? msg : `${where}: ${msg}`);
  else ctx.omitted++;
}

/** Little-endian reads over a byte range; callers check `has(n)` first. */
class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get remaining(): number {
    return this.buf.byteLength - this.pos;
  }
  has(n: number): boolean {
    return n <= this.remaining;
  }
  u8(): number {
    return this.buf[this.pos++]!;
  }
  u16(): number {
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** A view (no copy) of the next n bytes. */
  bytes(n: number): Uint8Array {
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  /** Skips up to n bytes (a stream may end inside the padding after its last value). */
  skip(n: number): void {
    this.pos = Math.min(this.buf.byteLength, this.pos + n);
  }
  /** A fixed-size scalar of `type` at the current position (the caller checked the size). */
  scalar(type: number): PropValue {
    const p = this.pos;
    const v = this.view;
    switch (type) {
      case PropType.PtypInteger16:
        return v.getInt16(p, true);
      case PropType.PtypInteger32:
        return v.getInt32(p, true);
      case PropType.PtypFloating32:
        return v.getFloat32(p, true);
      case PropType.PtypFloating64:
      case PropType.PtypFloatingTime:
        return v.getFloat64(p, true);
      case PropType.PtypCurrency:
      case PropType.PtypInteger64:
        return v.getBigInt64(p, true);
      case PropType.PtypErrorCode:
        return v.getUint32(p, true);
      case PropType.PtypBoolean:
        // A 16-bit value (MS-OXTNEF) in a 4-byte slot.
        return v.getUint16(p, true) !== 0;
      case PropType.PtypTime:
        return v.getBigUint64(p, true);
      case PropType.PtypGuid:
        return this.buf.slice(p, p + 16);
      default:
        throw new Error(`scalar() called for type 0x${hex(type, 4)}`);
    }
  }
}

/** Byte sizes of the fixed-size types as the stream stores them (before padding to 4). */
const FIXED_SIZE: ReadonlyMap<number, number> = new Map([
  [PropType.PtypInteger16, 2],
  [PropType.PtypInteger32, 4],
  [PropType.PtypFloating32, 4],
  [PropType.PtypFloating64, 8],
  [PropType.PtypCurrency, 8],
  [PropType.PtypFloatingTime, 8],
  [PropType.PtypErrorCode, 4],
  [PropType.PtypBoolean, 2],
  [PropType.PtypInteger64, 8],
  [PropType.PtypTime, 8],
  [PropType.PtypGuid, 16],
]);

/** Types whose values are counted and sized even when single-valued. */
const VARIABLE_TYPES: ReadonlySet<number> = new Set([PropType.PtypString8, PropType.PtypString, PropType.PtypBinary, PropType.PtypObject]);

const pad4 = (n: number): number => (4 - (n % 4)) % 4;
const padded = (n: number): number => n + pad4(n);

function hex(n: number, width = 8): string {
  return n.toString(16).padStart(width, '0');
}

/** 8-bit text, decoded once the code page is known. */
class Str8 {
  constructor(readonly bytes: Uint8Array) {}
}

/** A PtypObject value: the interface id and the object's bytes. */
class ObjectVal {
  constructor(
    readonly iid: Uint8Array,
    readonly data: Uint8Array,
  ) {}
}

type Val = PropValue | Str8 | Str8[];
type StreamVal = Val | ObjectVal;

interface StreamProp {
  id: number;
  type: number;
  name?: PropertyName;
  value: StreamVal;
}

/** Marks a value that was read past but cannot be used. */
const SKIP = Symbol('skip');

interface RawNamed {
  name: PropertyName;
  type: number;
  value: Val;
}

/** Properties of one object while the stream is read, with the encapsulated-wins rule. */
class RawObject {
  readonly props = new Map<number, Val>();
  readonly named: RawNamed[] = [];
  /** Property ids set from a property stream. */
  private readonly fromStream = new Set<number>();
  /** Tags set from legacy attributes, by property id. */
  private readonly mapped = new Map<number, number[]>();

  setMapped(tag: number, value: Val): void {
    const id = tag >>> 16;
    if (this.fromStream.has(id)) return;
    this.props.set(tag, value);
    const tags = this.mapped.get(id);
    if (tags === undefined) this.mapped.set(id, [tag]);
    else if (!tags.includes(tag)) tags.push(tag);
  }

  setFromStream(tag: number, value: Val): void {
    const id = tag >>> 16;
    if (!this.fromStream.has(id)) {
      this.fromStream.add(id);
      // A legacy attribute's value of the same property (String8 where this may be String).
      for (const t of this.mapped.get(id) ?? []) this.props.delete(t);
      this.mapped.delete(id);
    }
    this.props.set(tag, value);
  }
}

class RawAttachment extends RawObject {
  data?: Uint8Array;
  dataFromStream = false;
  embedded?: RawMessage;
}

class RawMessage extends RawObject {
  readonly recipients: Map<number, Val>[] = [];
  readonly attachments: RawAttachment[] = [];
  oemCodepage?: number;
}

/** Attributes that belong to an attachment (all others are message attributes). */
const ATTACHMENT_ATTRS: ReadonlySet<number> = new Set([
  AttId.attAttachRenddata,
  AttId.attAttachTitle,
  AttId.attAttachData,
  AttId.attAttachMetaFile,
  AttId.attAttachCreateDate,
  AttId.attAttachModifyDate,
  AttId.attAttachTransportFilename,
  AttId.attAttachment,
]);

/** Attributes whose data is a property list: a truncated one still yields its first properties. */
const PROPERTY_ATTRS: ReadonlySet<number> = new Set([AttId.attMsgProps, AttId.attAttachment, AttId.attRecipTable]);

function checksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  return sum & 0xffff;
}

/** One TNEF stream (the outer one or an embedded message's). */
function pullStream(bytes: Uint8Array, depth: number, ctx: Ctx, where: string): RawMessage {
  const msg = new RawMessage();
  const r = new Reader(bytes);
  if (!r.has(6)) {
    note(ctx, where, `${bytes.byteLength} bytes are too few for a TNEF stream`);
    return msg;
  }
  const signature = r.u32();
  if (signature !== TNEF_SIGNATURE) {
    note(ctx, where, `not a TNEF stream (signature 0x${hex(signature)})`);
    return msg;
  }
  r.skip(2); // the legacy key: it ties attachments to positions in old tagged message text
  if (r.remaining === 0) note(ctx, where, 'the stream has no attributes');
  const state: StreamState = { msg, att: undefined, depth, ctx, where };
  while (r.remaining > 0) {
    const at = r.pos;
    if (!r.has(9)) {
      note(ctx, where, `attribute header cut short at offset ${at}`);
      break;
    }
    const level = r.u8();
    const id = r.u32();
    const length = r.u32();
    const name = attName(id);
    if (length > r.remaining) {
      note(ctx, where, `${name} at offset ${at}: length ${length} but ${r.remaining} bytes left`);
      if (PROPERTY_ATTRS.has(id)) handleAttribute(state, level, id, r.bytes(r.remaining), true);
      break;
    }
    const data = r.bytes(length);
    if (!r.has(2)) {
      note(ctx, where, `${name} at offset ${at}: checksum missing`);
      r.skip(2);
    } else {
      const sum = r.u16();
      const want = checksum(data);
      if (sum !== want) note(ctx, where, `${name} at offset ${at}: checksum 0x${hex(sum, 4)}, data sums to 0x${hex(want, 4)}`);
    }
    handleAttribute(state, level, id, data, false);
  }
  return msg;
}

interface StreamState {
  msg: RawMessage;
  att: RawAttachment | undefined;
  depth: number;
  ctx: Ctx;
  where: string;
}

const ATT_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(AttId).map(([k, v]) => [v, k]));

function attName(id: number): string {
  return ATT_NAMES.get(id) ?? `attribute 0x${hex(id)}`;
}

function handleAttribute(s: StreamState, level: number, id: number, data: Uint8Array, truncated: boolean): void {
  const { msg, ctx, where } = s;
  const name = attName(id);
  const forAttachment = ATTACHMENT_ATTRS.has(id);
  if (level !== AttrLevel.Message && level !== AttrLevel.Attachment) note(ctx, where, `${name}: unknown level ${level}`);
  else if (ATT_NAMES.has(id) && forAttachment !== (level === AttrLevel.Attachment)) {
    note(ctx, where, `${name} at ${level === AttrLevel.Message ? 'message' : 'attachment'} level`);
  }
  if (truncated && !PROPERTY_ATTRS.has(id)) return;

  let obj: RawObject = msg;
  let att: RawAttachment | undefined;
  if (forAttachment) {
    if (id === AttId.attAttachRenddata || s.att === undefined) {
      if (id !== AttId.attAttachRenddata) note(ctx, where, `${name} before any attAttachRenddata: starts an attachment`);
      s.att = new RawAttachment();
      msg.attachments.push(s.att);
    }
    att = s.att;
    obj = att;
  }
  const aw = att === undefined ? where : join(where, `attachment ${msg.attachments.length}`);

  switch (id) {
    case AttId.attTnefVersion: {
      if (data.length < 4) note(ctx, where, `${name}: ${data.length} bytes`);
      else if (u32At(data, 0) !== TNEF_VERSION) note(ctx, where, `${name}: 0x${hex(u32At(data, 0))}`);
      return;
    }
    case AttId.attOemCodepage:
      if (data.length < 4) note(ctx, where, `${name}: ${data.length} bytes`);
      else msg.oemCodepage = u32At(data, 0);
      return;
    case AttId.attSubject:
      return obj.setMapped(TnefTag.PidTagSubject, new Str8(data));
    case AttId.attMessageClass:
      return obj.setMapped(TnefTag.PidTagMessageClass, new Str8(data));
    case AttId.attOriginalMessageClass:
      return obj.setMapped(TnefTag.PidTagOriginalMessageClass, new Str8(data));
    case AttId.attBody:
      return obj.setMapped(TnefTag.PidTagBody, new Str8(data));
    case AttId.attDateSent:
      return setDate(obj, TnefTag.PidTagClientSubmitTime, data, ctx, where, name);
    case AttId.attDateRecd:
      return setDate(obj, TnefTag.PidTagMessageDeliveryTime, data, ctx, where, name);
    case AttId.attDateModified:
      return setDate(obj, TnefTag.PidTagLastModificationTime, data, ctx, where, name);
    case AttId.attDateStart:
      return setDate(obj, TnefTag.PidTagStartDate, data, ctx, where, name);
    case AttId.attDateEnd:
      return setDate(obj, TnefTag.PidTagEndDate, data, ctx, where, name);
    case AttId.attPriority: {
      if (data.length < 2) return note(ctx, where, `${name}: ${data.length} bytes`);
      const prio = u16At(data, 0);
      const importance = prio === Prio.High ? 2 : prio === Prio.Normal ? 1 : prio === Prio.Low ? 0 : -1;
      if (importance < 0) return note(ctx, where, `${name}: unknown value ${prio}`);
      return obj.setMapped(TnefTag.PidTagImportance, importance);
    }
    case AttId.attMessageStatus: {
      if (data.length < 1) return note(ctx, where, `${name}: empty`);
      const fms = data[0]!;
      let flags = 0;
      if (fms & Fms.Read) flags |= MsgFlag.Read;
      if (!(fms & Fms.Modified)) flags |= MsgFlag.Unmodified;
      if (fms & Fms.Submitted) flags |= MsgFlag.Submit;
      if (fms & Fms.Local) flags |= MsgFlag.Unsent;
      if (fms & Fms.HasAttach) flags |= MsgFlag.HasAttach;
      return obj.setMapped(TnefTag.PidTagMessageFlags, flags);
    }
    case AttId.attMessageID:
      return setHexKey(obj, TnefTag.PidTagSearchKey, data, ctx, where, name);
    case AttId.attParentID:
      return setHexKey(obj, TnefTag.PidTagParentKey, data, ctx, where, name);
    case AttId.attConversationID:
      return setHexKey(obj, TnefTag.PidTagConversationKey, data, ctx, where, name);
    case AttId.attFrom:
      return setFrom(obj, data, ctx, where);
    case AttId.attAidOwner:
      if (data.length < 4) return note(ctx, where, `${name}: ${data.length} bytes`);
      return obj.setMapped(TnefTag.PidTagOwnerAppointmentId, u32At(data, 0) | 0);
    case AttId.attRequestRes:
      if (data.length < 2) return note(ctx, where, `${name}: ${data.length} bytes`);
      return obj.setMapped(TnefTag.PidTagResponseRequested, u16At(data, 0) !== 0);
    case AttId.attOwner:
    case AttId.attSentFor:
    case AttId.attDelegate:
      // Legacy meeting attributes; Outlook also writes their properties into attMsgProps, and
      // their mapping depends on the message class (MS-OXTNEF 2.3.3.10). Not mapped here.
      return;
    case AttId.attMsgProps:
      return applyProps(s, msg, undefined, pullPropList(new Reader(data), ctx, join(where, name)).props, join(where, name));
    case AttId.attRecipTable:
      return pullRecipients(msg, data, ctx, join(where, name));

    case AttId.attAttachRenddata: {
      // RENDDATA: atyp(u16) ulPosition(u32) dxWidth(u16) dyHeight(u16) dwFlags(u32).
      if (data.length < 6) return note(ctx, aw, `${name}: ${data.length} bytes`);
      const atyp = u16At(data, 0);
      if (atyp === Atyp.File) obj.setMapped(TnefTag.PidTagAttachMethod, AttachMethod.ByValue);
      else if (atyp === Atyp.Ole) obj.setMapped(TnefTag.PidTagAttachMethod, AttachMethod.Ole);
      obj.setMapped(TnefTag.PidTagRenderingPosition, u32At(data, 2) | 0);
      return;
    }
    case AttId.attAttachTitle:
      return obj.setMapped(TnefTag.PidTagAttachFilename, new Str8(data));
    case AttId.attAttachData:
      if (att !== undefined && !att.dataFromStream) att.data = data.slice();
      return;
    case AttId.attAttachMetaFile:
      return obj.setMapped(TnefTag.PidTagAttachRendering, data.slice());
    case AttId.attAttachCreateDate:
      return setDate(obj, TnefTag.PidTagCreationTime, data, ctx, aw, name);
    case AttId.attAttachModifyDate:
      return setDate(obj, TnefTag.PidTagLastModificationTime, data, ctx, aw, name);
    case AttId.attAttachTransportFilename:
      return obj.setMapped(TnefTag.PidTagAttachTransportName, new Str8(data));
    case AttId.attAttachment:
      return applyProps(s, att!, att, pullPropList(new Reader(data), ctx, join(aw, name)).props, join(aw, name));
    default:
      note(ctx, where, `${name} (level ${level}, ${data.length} bytes) not known: ignored`);
  }
}

function join(where: string, part: string): string {
  return where === '' ? part : `${where} > ${part}`;
}

function u16At(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** The bytes before the first NUL. */
function cstr(b: Uint8Array): Uint8Array {
  const end = b.indexOf(0);
  return end < 0 ? b : b.subarray(0, end);
}

/**
 * A DTR (TNEF.H): year, month, day, hour, minute, second, day of week, each u16. It carries no
 * time zone; it is read as UTC. Writers also put the exact UTC time into attMsgProps, which wins.
 */
function setDate(obj: RawObject, tag: number, data: Uint8Array, ctx: Ctx, where: string, name: string): void {
  if (data.length < 12) return note(ctx, where, `${name}: ${data.length} bytes, a date needs 14`);
  const [y, mo, d, h, mi, s] = [0, 2, 4, 6, 8, 10].map((at) => u16At(data, at)) as [number, number, number, number, number, number];
  if (y < 1601 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
    return note(ctx, where, `${name}: not a date (${y}-${mo}-${d} ${h}:${mi}:${s})`);
  }
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s));
  date.setUTCFullYear(y);
  obj.setMapped(tag, dateToFiletime(date));
}

/** attMessageID, attParentID, attConversationID: the key's bytes as hexadecimal text. */
function setHexKey(obj: RawObject, tag: number, data: Uint8Array, ctx: Ctx, where: string, name: string): void {
  const text = Buffer.from(cstr(data)).toString('latin1');
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return note(ctx, where, `${name}: not hexadecimal`);
  obj.setMapped(tag, new Uint8Array(Buffer.from(text, 'hex')));
}

/**
 * attFrom: a TRP (trpid, cbgrtrp, cch, cb: u16 each), the sender's display name (cch bytes with
 * its NUL and padding), then "type:address" (cb bytes with its NUL). Mapped to PidTagSenderName,
 * PidTagSenderAddressType, PidTagSenderEmailAddress and a one-off PidTagSenderEntryId whose
 * strings stay 8-bit (MS-OXCDATA 2.2.5.1 with the Unicode flag clear).
 */
function setFrom(obj: RawObject, data: Uint8Array, ctx: Ctx, where: string): void {
  if (data.length < 8) return note(ctx, where, `attFrom: ${data.length} bytes`);
  const trpid = u16At(data, 0);
  const cch = u16At(data, 4);
  const cb = u16At(data, 6);
  if (trpid !== TRPID_ONE_OFF) note(ctx, where, `attFrom: TRP id ${trpid}, expected a one-off address`);
  if (8 + cch + cb > data.length) return note(ctx, where, `attFrom: names of ${cch} and ${cb} bytes in ${data.length - 8}`);
  const name = cstr(data.subarray(8, 8 + cch));
  const address = cstr(data.subarray(8 + cch, 8 + cch + cb));
  const colon = address.indexOf(0x3a);
  const type = colon < 0 ? new Uint8Array(0) : address.subarray(0, colon);
  const email = colon < 0 ? address : address.subarray(colon + 1);
  obj.setMapped(TnefTag.PidTagSenderName, new Str8(name));
  if (type.length > 0) obj.setMapped(TnefTag.PidTagSenderAddressType, new Str8(type));
  if (email.length > 0) obj.setMapped(TnefTag.PidTagSenderEmailAddress, new Str8(email));
  obj.setMapped(TnefTag.PidTagSenderEntryId, oneOffEntryId(name, type, email));
}

function oneOffEntryId(name: Uint8Array, type: Uint8Array, email: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 16 + 4 + name.length + 1 + type.length + 1 + email.length + 1);
  out.set(ONE_OFF_PROVIDER_UID, 4);
  out[22] = ONE_OFF_NO_RICH_INFO & 0xff; // version 0 at 20..21, then the flags word
  out[23] = ONE_OFF_NO_RICH_INFO >> 8;
  let at = 24;
  for (const s of [name, type, email]) {
    out.set(s, at);
    at += s.length + 1;
  }
  return out;
}

function pullRecipients(msg: RawMessage, data: Uint8Array, ctx: Ctx, where: string): void {
  const r = new Reader(data);
  if (!r.has(4)) return note(ctx, where, 'row count missing');
  const rows = r.u32();
  // Each row needs at least its 4-byte property count.
  if (rows > r.remaining / 4) note(ctx, where, `${rows} rows claimed in ${r.remaining} bytes`);
  for (let i = 0; i < rows; i++) {
    const rw = join(where, `row ${i + 1}`);
    if (r.remaining === 0) {
      note(ctx, where, `${rows - i} of ${rows} rows missing`);
      break;
    }
    const row = new Map<number, Val>();
    const list = pullPropList(r, ctx, rw, false);
    for (const p of list.props) {
      if (p.name !== undefined) {
        note(ctx, rw, `named property 0x${hex(p.id, 4)} in a recipient row: dropped`);
        continue;
      }
      row.set(propTag(p.id, p.type), p.value instanceof ObjectVal ? p.value.data.slice() : p.value);
    }
    if (row.size > 0 || list.complete) msg.recipients.push(row);
    // After a damaged row the next one cannot be found.
    if (!list.complete) return;
  }
  if (r.remaining > 0) note(ctx, where, `${r.remaining} bytes after the last row`);
}

/**
 * A property list. With `whole` (attMsgProps, attAttachment) the list fills the data; in
 * attRecipTable rows follow each other.
 */
function pullPropList(r: Reader, ctx: Ctx, where: string, whole = true): { props: StreamProp[]; complete: boolean } {
  const out: StreamProp[] = [];
  if (!r.has(4)) {
    note(ctx, where, 'property count missing');
    r.skip(4);
    return { props: out, complete: false };
  }
  const count = r.u32();
  let complete = true;
  for (let i = 0; i < count; i++) {
    if (r.remaining === 0) {
      note(ctx, where, `${count - i} of ${count} properties missing`);
      complete = false;
      break;
    }
    const p = pullProp(r, ctx, where);
    if (p === null) {
      complete = false;
      break;
    }
    if (p !== SKIP) out.push(p);
  }
  if (whole && complete && r.remaining > 0) note(ctx, where, `${r.remaining} bytes after the last property`);
  return { props: out, complete };
}

/** One property; null when the rest of the list cannot be found (the problem is noted). */
function pullProp(r: Reader, ctx: Ctx, where: string): StreamProp | typeof SKIP | null {
  const at = r.pos;
  if (!r.has(4)) {
    note(ctx, where, `property tag cut short at offset ${at}`);
    return null;
  }
  const type = r.u16();
  const id = r.u16();
  const pw = `${where} > property 0x${hex(id, 4)}${hex(type, 4)}`;
  let name: PropertyName | undefined;
  let unusableName = false;
  if (id >= 0x8000) {
    if (!r.has(20)) {
      note(ctx, pw, 'property name cut short');
      return null;
    }
    const guid = r.bytes(16).slice();
    const kind = r.u32();
    if (kind === 0) {
      if (!r.has(4)) {
        note(ctx, pw, 'LID cut short');
        return null;
      }
      name = { guid, lid: r.u32() };
    } else if (kind === 1) {
      if (!r.has(4)) {
        note(ctx, pw, 'name length cut short');
        return null;
      }
      const length = r.u32();
      if (length > r.remaining) {
        note(ctx, pw, `name of ${length} bytes, ${r.remaining} left`);
        return null;
      }
      const text = utf16(r.bytes(length));
      r.skip(pad4(length));
      if (text === '') {
        note(ctx, pw, 'empty property name: dropped');
        unusableName = true;
      }
      name = { guid, name: text };
    } else {
      note(ctx, pw, `name kind ${kind} is neither LID (0) nor string (1)`);
      return null;
    }
  }
  const value = pullValue(r, type, ctx, pw);
  if (value === null || value === SKIP || unusableName) return value === null ? null : SKIP;
  return name === undefined ? { id, type, value } : { id, type, name, value };
}

function pullValue(r: Reader, type: number, ctx: Ctx, where: string): StreamVal | typeof SKIP | null {
  if (type & MV_FLAG) {
    const base = type & ~MV_FLAG;
    if (!MV_BASE_TYPES.has(base)) {
      note(ctx, where, 'unsupported multi-valued type: the rest of the list is lost');
      return null;
    }
    if (!r.has(4)) {
      note(ctx, where, 'value count cut short');
      return null;
    }
    const count = r.u32();
    const fixed = FIXED_SIZE.get(base);
    const least = fixed === undefined ? 4 : padded(fixed);
    if (count > r.remaining / least) {
      note(ctx, where, `${count} values claimed in ${r.remaining} bytes`);
      return null;
    }
    const values: StreamVal[] = [];
    for (let i = 0; i < count; i++) {
      if (fixed !== undefined) {
        values.push(r.scalar(base));
        r.skip(padded(fixed));
        continue;
      }
      const v = pullSized(r, base, ctx, where);
      if (v === null) return null;
      if (v !== SKIP) values.push(v);
    }
    return values as Val;
  }
  const fixed = FIXED_SIZE.get(type);
  if (fixed !== undefined) {
    if (!r.has(fixed)) {
      note(ctx, where, 'value cut short');
      return null;
    }
    const v = r.scalar(type);
    r.skip(padded(fixed));
    return v;
  }
  if (!VARIABLE_TYPES.has(type)) {
    // Without a size the next property cannot be found (PtypNull, PtypUnspecified, unknown).
    note(ctx, where, 'unsupported type: the rest of the list is lost');
    return null;
  }
  if (!r.has(4)) {
    note(ctx, where, 'value count cut short');
    return null;
  }
  const count = r.u32();
  if (count > r.remaining / 4) {
    note(ctx, where, `${count} values claimed in ${r.remaining} bytes`);
    return null;
  }
  if (count !== 1) note(ctx, where, `${count} values for a single-valued property`);
  let first: StreamVal | typeof SKIP = SKIP;
  for (let i = 0; i < count; i++) {
    const v = pullSized(r, type, ctx, where);
    if (v === null) return null;
    if (i === 0) first = v;
  }
  return first;
}

/** Size, bytes, padding: one value of a variable-size type. */
function pullSized(r: Reader, type: number, ctx: Ctx, where: string): Str8 | string | Uint8Array | ObjectVal | typeof SKIP | null {
  if (!r.has(4)) {
    note(ctx, where, 'value size cut short');
    return null;
  }
  const size = r.u32();
  if (size > r.remaining) {
    note(ctx, where, `value of ${size} bytes, ${r.remaining} left`);
    return null;
  }
  const raw = r.bytes(size);
  r.skip(pad4(size));
  switch (type) {
    case PropType.PtypString8:
      return new Str8(raw);
    case PropType.PtypString:
      return utf16(raw);
    case PropType.PtypBinary:
      return raw.slice();
    default:
      if (size < 16) {
        note(ctx, where, `object of ${size} bytes has no interface id`);
        return SKIP;
      }
      return new ObjectVal(raw.slice(0, 16), raw.subarray(16));
  }
}

/** UTF-16LE up to the first NUL code unit (the terminator). */
function utf16(raw: Uint8Array): string {
  let end = raw.length & ~1;
  for (let i = 0; i < end; i += 2) {
    if (raw[i] === 0 && raw[i + 1] === 0) {
      end = i;
      break;
    }
  }
  return Buffer.from(raw.buffer, raw.byteOffset, end).toString('utf16le');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** attMsgProps into the message, attAttachment into an attachment. */
function applyProps(s: StreamState, obj: RawObject, att: RawAttachment | undefined, props: StreamProp[], where: string): void {
  const { ctx } = s;
  for (const p of props) {
    let value: StreamVal = p.value;
    if (p.name !== undefined) {
      obj.named.push({ name: p.name, type: p.type, value: value instanceof ObjectVal ? value.data.slice() : value });
      continue;
    }
    const tag = propTag(p.id, p.type);
    if (att !== undefined && p.id === ATTACH_DATA_ID) {
      if (p.type === PropType.PtypBinary && value instanceof Uint8Array) {
        att.data = value;
        att.dataFromStream = true;
        continue;
      }
      if (p.type === PropType.PtypObject && value instanceof ObjectVal && sameBytes(value.iid, IID_IMessage)) {
        if (s.depth + 1 > MAX_EMBEDDING_DEPTH) {
          note(ctx, where, `embedded message deeper than ${MAX_EMBEDDING_DEPTH} levels: kept as bytes`);
        } else if (value.data.length < 4 || u32At(value.data, 0) !== TNEF_SIGNATURE) {
          note(ctx, where, 'embedded message is not a TNEF stream: kept as bytes');
        } else {
          att.embedded = pullStream(value.data, s.depth + 1, ctx, join(where, 'embedded message'));
          continue;
        }
      }
    }
    if (value instanceof ObjectVal) value = value.data.slice();
    obj.setFromStream(tag, value);
  }
}

// ---------------------------------------------------------------------------------------------
// Finishing: String8 decoding and the public types

const CODEPAGE_NAMES: ReadonlyMap<number, string> = new Map([
  [65001, 'utf8'],
  [1200, 'utf16le'],
  [1201, 'utf16be'],
  [20127, 'ascii'],
  [10000, 'macintosh'],
  [20866, 'koi8-r'],
  [21866, 'koi8-u'],
  [20932, 'euc-jp'],
  [51932, 'euc-jp'],
  [54936, 'gb18030'],
  [936, 'gbk'],
]);

/** The iconv-lite name of a Windows code page, or undefined when it has none. */
export function codepageEncoding(cp: number): string | undefined {
  const candidates = [CODEPAGE_NAMES.get(cp), cp >= 28591 && cp <= 28606 ? `iso-8859-${cp - 28590}` : undefined, `cp${cp}`, `windows-${cp}`];
  return candidates.find((n) => n !== undefined && iconv.encodingExists(n));
}

function intProp(obj: RawObject, tag: number): number | undefined {
  const v = obj.props.get(tag);
  return typeof v === 'number' ? v >>> 0 : undefined;
}

type Decode = (bytes: Uint8Array) => string;

function finishMessage(raw: RawMessage, inherited: number | undefined, ctx: Ctx, where: string): MapiMessage {
  // The stream's own code page first: MS-OXTNEF 2.1.3 says attOemCodepage is the one its writer
  // used for all 8-bit strings; the message's properties name the code page of its content.
  const cp = raw.oemCodepage ?? intProp(raw, TnefTag.PidTagMessageCodepage) ?? intProp(raw, TnefTag.PidTagInternetCodepage) ?? inherited ?? DEFAULT_CODEPAGE;
  let encoding = codepageEncoding(cp);
  if (encoding === undefined) {
    note(ctx, where, `code page ${cp} not supported: 8-bit strings read as windows-1252`);
    encoding = 'windows-1252';
  }
  const enc = encoding;
  const decode: Decode = (b) => iconv.decode(Buffer.from(b.buffer, b.byteOffset, cstr(b).length), enc);

  const message = emptyMessage();
  finishObject(raw, message.props, message.named, decode);
  for (const row of raw.recipients) message.recipients.push(finishProps(row, decode));
  raw.attachments.forEach((a, i) => {
    const attachment: MapiAttachment = { props: new Map(), named: [] };
    finishObject(a, attachment.props, attachment.named, decode);
    if (a.data !== undefined) attachment.data = a.data;
    if (a.embedded !== undefined) attachment.embedded = finishMessage(a.embedded, cp, ctx, join(where, `attachment ${i + 1} > embedded message`));
    message.attachments.push(attachment);
  });
  return message;
}

function finishObject(raw: RawObject, props: Map<number, PropValue>, named: NamedProp[], decode: Decode): void {
  for (const [tag, v] of raw.props) props.set(tag, finishValue(v, decode));
  for (const n of raw.named) named.push({ name: n.name, type: n.type, value: finishValue(n.value, decode) });
}

function finishProps(raw: Map<number, Val>, decode: Decode): Map<number, PropValue> {
  const out = new Map<number, PropValue>();
  for (const [tag, v] of raw) out.set(tag, finishValue(v, decode));
  return out;
}

function finishValue(v: Val, decode: Decode): PropValue {
  if (v instanceof Str8) return decode(v.bytes);
  if (Array.isArray(v)) return (v as (PropValue | Str8)[]).map((x) => (x instanceof Str8 ? decode(x.bytes) : x));
  return v;
}
