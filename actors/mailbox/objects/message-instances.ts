/**
 * Message instances (MS-OXCMSG): a message opened (or created) for writing collects property,
 * recipient and attachment changes across many calls, held by the mailbox actor per session,
 * until it is saved. A save based on a version that changed meanwhile answers ecObjectModified
 * unless forced. Embedded messages are instances too; saving one writes it into its parent's
 * attachment (and so reaches the store only when the parent is saved).
 */
import { actorError } from '../../../runtime/errors.js';
import type { MessageIn, MessageStore } from '../../../storage/message-store.js';
import { MsgTag } from '../../../storage/message-store.js';
import type { PropMap } from '../../../storage/prop-bag.js';
import type { PropValue } from '../../../storage/prop-types.js';
import { Tag } from '../../../storage/prop-tags.js';

/** Open instances one session may hold; past this, ecInsufficientResrc. */
export const MAX_INSTANCES_PER_SESSION = 4096;

/** Properties the store computes: refused per property on an instance. */
const READ_ONLY: ReadonlySet<number> = new Set([
  Tag.PidTagEntryId,
  Tag.PidTagRecordKey,
  Tag.PidTagParentEntryId,
  Tag.PidTagSourceKey,
  Tag.PidTagParentSourceKey,
  Tag.PidTagChangeNumber,
  Tag.PidTagMid,
  MsgTag.PidTagParentFolderId,
  Tag.PidTagMessageSize,
  Tag.PidTagMessageSizeExtended,
  MsgTag.PidTagHasAttachments,
  MsgTag.PidTagAssociated,
]);

interface AttachmentState {
  props: PropMap;
  data?: Uint8Array;
  embedded?: MessageIn;
  /** Created by RopCreateAttachment and not saved yet: not part of the message (MS-OXCMSG 3.2.5.13). */
  pending?: boolean;
}

interface Instance {
  id: number;
  session: string;
  /** The stored message, or null for one not saved yet. */
  mid: number | null;
  folder: number;
  assoc: boolean;
  baseChangeKey: Uint8Array | null;
  props: PropMap;
  recipients: Map<number, PropMap>;
  attachments: Map<number, AttachmentState>;
  nextAttach: number;
  /** Set for an embedded message: where it saves into. */
  parent: { instance: number; num: number } | null;
  /** Recipients or attachments changed since opened or saved (a save then changes the content). */
  contentDirty?: boolean;
}

/**
 * Property ids whose change changes what the message says (its Internet form: subject, body,
 * addresses, dates, ids, class, importance...). A save that touches none of them, nor the
 * recipients or attachments, is a flag change: a new change key, the same IMAP UID (Outlook's
 * flags, categories, reminders and read state do not make IMAP clients fetch the message again).
 */
const CONTENT_IDS: ReadonlySet<number> = new Set([
  0x0037, 0x003d, 0x0e1d, 0x0070, 0x0071, // subject, prefix, normalized subject, conversation topic / index
  0x1000, 0x1013, 0x1009, 0x1016, 0x0e1f, // bodies, native body, RTF in sync
  0x0c1a, 0x0c19, 0x0c1e, 0x0c1f, 0x0c1d, 0x5d01, // sender
  0x0042, 0x0041, 0x0064, 0x0065, 0x003b, 0x5d02, // sent representing
  0x0e02, 0x0e03, 0x0e04, 0x004f, 0x0050, // display Bcc / Cc / To, reply recipients
  0x001a, 0x0017, 0x0036, 0x0026, // class, importance, sensitivity, priority
  0x0039, 0x0e06, 0x1035, 0x1042, 0x1039, 0x007d, 0x3fde, 0x0029, 0x0023, // dates, ids, headers, code page, receipts
]);

function sameValue(a: PropValue | undefined, b: PropValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return false;
}

function toState(m: MessageIn, inst: Pick<Instance, 'recipients' | 'attachments' | 'props'> & { nextAttach: number }): number {
  for (const [t, v] of m.props) inst.props.set(t, v);
  (m.recipients ?? []).forEach((r, i) => inst.recipients.set(i, new Map(r)));
  // Stored numbers stay (a deleted attachment does not renumber the others); the next new one follows the highest.
  let n = 0;
  for (const a of m.attachments ?? []) {
    const num = a.num !== undefined && !inst.attachments.has(a.num) ? a.num : n;
    inst.attachments.set(num, { props: new Map(a.props), data: a.data, embedded: a.embedded });
    n = Math.max(n, num + 1);
  }
  return n;
}

function toMessage(inst: Instance): MessageIn {
  return {
    props: new Map(inst.props),
    recipients: [...inst.recipients.keys()].sort((a, b) => a - b).map((k) => inst.recipients.get(k)!),
    attachments: [...inst.attachments.keys()]
      .sort((a, b) => a - b)
      .filter((k) => inst.attachments.get(k)!.pending !== true)
      .map((k) => ({ ...inst.attachments.get(k)!, num: k })),
  };
}

export class MessageInstances {
  private readonly open = new Map<number, Instance>();
  private nextId = 1;

  constructor(private readonly msgs: () => MessageStore) {}

  /** Sessions that hold open instances (the actor is then not idle-passivated). */
  sessions(): string[] {
    return [...new Set([...this.open.values()].map((i) => i.session))];
  }

  private add(inst: Omit<Instance, 'id'>): number {
    let count = 0;
    for (const i of this.open.values()) if (i.session === inst.session) count++;
    if (count >= MAX_INSTANCES_PER_SESSION) throw actorError('ecInsufficientResrc', `a session may hold ${MAX_INSTANCES_PER_SESSION} open messages`);
    const id = this.nextId++;
    this.open.set(id, { ...inst, id });
    return id;
  }

  private get(id: number): Instance {
    const i = this.open.get(id);
    if (i === undefined) throw actorError('ecNullObject', `no open message instance ${id}`);
    return i;
  }

  /** Opens a stored message for reading and writing. */
  openStored(session: string, mid: number): number {
    const m = this.msgs();
    const rec = m.message(mid);
    if (rec === undefined) throw actorError('ecNotFound', `no message ${mid}`);
    const state = { props: new Map<number, PropValue>(), recipients: new Map<number, PropMap>(), attachments: new Map<number, AttachmentState>(), nextAttach: 0 };
    state.nextAttach = toState(m.content(mid), state);
    return this.add({ session, mid, folder: rec.folder, assoc: rec.assoc, baseChangeKey: m.props(mid).get(Tag.PidTagChangeKey) as Uint8Array, ...state, parent: null });
  }

  /** A new message in a folder, not stored until saved. */
  create(session: string, folder: number, assoc: boolean): number {
    const props = new Map<number, PropValue>([[Tag.PidTagMessageClass, 'IPM.Note']]);
    return this.add({ session, mid: null, folder, assoc, baseChangeKey: null, props, recipients: new Map(), attachments: new Map(), nextAttach: 0, parent: null });
  }

  getProps(id: number): PropMap {
    const i = this.get(id);
    const out = new Map(i.props);
    out.set(MsgTag.PidTagHasAttachments, [...i.attachments.values()].some((a) => a.pending !== true));
    return out;
  }

  /** Sets properties; computed ones come back as per-property problems. */
  setProps(id: number, props: PropMap): { tag: number; error: string }[] {
    const i = this.get(id);
    const problems: { tag: number; error: string }[] = [];
    for (const [t, v] of props) {
      if (READ_ONLY.has(t)) problems.push({ tag: t, error: 'ecAccessDenied' });
      else i.props.set(t, v);
    }
    return problems;
  }

  deleteProps(id: number, tags: readonly number[]): { tag: number; error: string }[] {
    const i = this.get(id);
    const problems: { tag: number; error: string }[] = [];
    for (const t of tags) {
      if (READ_ONLY.has(t)) problems.push({ tag: t, error: 'ecAccessDenied' });
      else i.props.delete(t);
    }
    return problems;
  }

  recipients(id: number): { rowid: number; props: PropMap }[] {
    return [...this.get(id).recipients].sort((a, b) => a[0] - b[0]).map(([rowid, props]) => ({ rowid, props }));
  }

  /** RopModifyRecipients: each row is added, replaced, or (props null) removed by its row id. */
  modifyRecipients(id: number, rows: readonly { rowid: number; props: PropMap | null }[]): void {
    this.markContent(id);
    const i = this.get(id);
    for (const r of rows) {
      if (!Number.isInteger(r.rowid) || r.rowid < 0) throw actorError('ecInvalidParam', `bad recipient row id ${r.rowid}`);
      if (r.props === null) i.recipients.delete(r.rowid);
      else i.recipients.set(r.rowid, new Map(r.props));
    }
  }

  removeAllRecipients(id: number): void {
    this.markContent(id);
    this.get(id).recipients.clear();
  }

  /** A new attachment; a pending one joins the message only when saved (saveAttachment). */
  /** Recipients or attachments change: the next save is a content change. */
  private markContent(id: number): void {
    const i = this.open.get(id);
    if (i !== undefined) i.contentDirty = true;
  }

  createAttachment(id: number, pending = false): number {
    if (!pending) this.markContent(id);
    const i = this.get(id);
    const num = i.nextAttach++;
    i.attachments.set(num, pending ? { props: new Map(), pending } : { props: new Map() });
    return num;
  }

  /** RopSaveChangesAttachment: a pending attachment becomes part of the message. */
  saveAttachment(id: number, num: number): void {
    this.markContent(id);
    const a = this.get(id).attachments.get(num);
    if (a === undefined) throw actorError('ecNotFound', `no attachment ${num}`);
    delete a.pending;
  }

  /** An attachment object was released: a pending (never saved) attachment goes with it. */
  dropPendingAttachment(id: number, num: number): void {
    const i = this.open.get(id);
    if (i?.attachments.get(num)?.pending === true) i.attachments.delete(num);
  }

  setAttachment(id: number, num: number, change: { props?: PropMap; data?: Uint8Array }): void {
    this.markContent(id);
    const a = this.get(id).attachments.get(num);
    if (a === undefined) throw actorError('ecNotFound', `no attachment ${num}`);
    for (const [t, v] of change.props ?? []) a.props.set(t, v);
    if (change.data !== undefined) a.data = change.data;
  }

  attachments(id: number): { num: number; props: PropMap; size: number; embedded: boolean }[] {
    return [...this.get(id).attachments]
      .sort((a, b) => a[0] - b[0])
      .map(([num, a]) => ({ num, props: new Map(a.props).set(MsgTag.PidTagAttachNumber, num), size: a.data?.byteLength ?? 0, embedded: a.embedded !== undefined }));
  }

  attachmentData(id: number, num: number): Uint8Array | null {
    const a = this.get(id).attachments.get(num);
    if (a === undefined) throw actorError('ecNotFound', `no attachment ${num}`);
    return a.data ?? null;
  }

  deleteAttachment(id: number, num: number): void {
    this.markContent(id);
    if (!this.get(id).attachments.delete(num)) throw actorError('ecNotFound', `no attachment ${num}`);
  }

  /** Opens (or with create, starts) the message embedded in an attachment, as a child instance. */
  openEmbedded(id: number, num: number, create: boolean): number {
    const i = this.get(id);
    const a = i.attachments.get(num);
    if (a === undefined) throw actorError('ecNotFound', `no attachment ${num}`);
    if (a.embedded === undefined && !create) throw actorError('ecNotFound', `attachment ${num} holds no embedded message`);
    const state = { props: new Map<number, PropValue>(), recipients: new Map<number, PropMap>(), attachments: new Map<number, AttachmentState>(), nextAttach: 0 };
    if (a.embedded !== undefined) state.nextAttach = toState(a.embedded, state);
    else state.props.set(Tag.PidTagMessageClass, 'IPM.Note');
    return this.add({ session: i.session, mid: null, folder: i.folder, assoc: false, baseChangeKey: null, ...state, parent: { instance: id, num } });
  }

  /**
   * Saves an instance (RopSaveChangesMessage). Top-level: into the store (a write the caller
   * runs in its transaction), refused with ecObjectModified when the stored message changed
   * since it was opened, unless forced. Embedded: into the parent instance's attachment.
   */
  save(id: number, opts: { keepOpen: boolean; force: boolean }): { mid: number | null } {
    const i = this.get(id);
    const msg = toMessage(i);
    if (i.parent !== null) {
      const parent = this.get(i.parent.instance);
      const a = parent.attachments.get(i.parent.num);
      if (a === undefined) throw actorError('ecNotFound', 'the parent attachment is gone');
      a.embedded = msg;
      a.props.set(propAttachMethod, AF_EMBEDDED_MESSAGE);
      parent.contentDirty = true;
      if (!opts.keepOpen) this.open.delete(id);
      return { mid: null };
    }
    const m = this.msgs();
    let mid: number;
    if (i.mid === null) {
      mid = m.create(i.folder, msg, { assoc: i.assoc }).mid;
    } else {
      const stored = m.content(i.mid);
      const remove = [...stored.props.keys()].filter((t) => !i.props.has(t));
      const changed = new Map([...msg.props].filter(([t, v]) => !sameValue(v, stored.props.get(t))));
      const touchesContent = i.contentDirty === true || [...changed.keys(), ...remove].some((t) => CONTENT_IDS.has(t >>> 16));
      if (touchesContent) m.update(i.mid, { set: msg.props, remove, recipients: msg.recipients, attachments: msg.attachments }, { expectChangeKey: i.baseChangeKey ?? undefined, force: opts.force });
      else m.update(i.mid, { set: changed, remove }, { expectChangeKey: i.baseChangeKey ?? undefined, force: opts.force, flagsOnly: true });
      i.contentDirty = false;
      mid = i.mid;
    }
    if (opts.keepOpen) {
      i.mid = mid;
      i.baseChangeKey = m.props(mid).get(Tag.PidTagChangeKey) as Uint8Array;
    } else this.open.delete(id);
    return { mid };
  }

  release(id: number): void {
    this.open.delete(id);
    for (const [k, v] of this.open) if (v.parent?.instance === id) this.open.delete(k);
  }

  /** Drops every instance of a session (its connection ended). */
  endSession(session: string): number {
    let n = 0;
    for (const [k, v] of this.open) {
      if (v.session === session) {
        this.open.delete(k);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.open.clear();
  }
}

const propAttachMethod = 0x37050003;
/** PidTagAttachMethod afEmbeddedMessage (MS-OXCMSG 2.2.2.9). */
const AF_EMBEDDED_MESSAGE = 5;
