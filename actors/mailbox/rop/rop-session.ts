/**
 * A MAPI session's server objects in one mailbox actor (MS-OXCROPS 3.1.4.1 / 3.2.4.1): the
 * objects ROPs create (logons now; folders, tables, messages, streams with issue 8) by handle,
 * with their parent, so releasing an object releases what was opened through it.
 *
 * Handles are 32-bit values the client stores in its handle table: the top byte is the logon id
 * (two logons on one mailbox never share values) and the low 24 bits count up per session.
 * 0xFFFFFFFF is never used: clients put it in unused table slots.
 */
import { actorError } from '../../../runtime/errors.js';
import type { StreamState } from './stream-state.js';

/** Objects one session may hold in one mailbox (Outlook keeps a few hundred open). */
export const MAX_OBJECTS_PER_SESSION = 4096;

export const NO_HANDLE = 0xffffffff;

/** Who the session belongs to (the door authenticated them; the actor trusts the door). */
export interface Caller {
  userId: string;
  /** Primary address (the mailbox actor key of their own mailbox). */
  address: string;
  legacyDn: string;
  displayName: string;
}

/**
 * How a logon reached this mailbox: its owner; a delegate with the directory's full-access grant
 * (every right, not the owner's send-as); or anyone else, whose rights come from the folders'
 * permission tables (MS-OXCPERM) and who may log on only when some folder grants them something.
 */
export type LogonAccess = 'owner' | 'delegate' | 'acl';

/** PidTagMemberRights bits (MS-OXCPERM 2.2.7). */
export const Rights = {
  ReadAny: 0x00000001,
  Create: 0x00000002,
  EditOwned: 0x00000008,
  DeleteOwned: 0x00000010,
  EditAny: 0x00000020,
  DeleteAny: 0x00000040,
  CreateSubFolder: 0x00000080,
  FolderOwner: 0x00000100,
  FolderContact: 0x00000200,
  FolderVisible: 0x00000400,
  FreeBusySimple: 0x00000800,
  FreeBusyDetailed: 0x00001000,
} as const;

/** Every folder right (what owners and full-access delegates have). */
export const ALL_RIGHTS = 0x000007fb;

export interface LogonObject {
  kind: 'logon';
  access: LogonAccess;
  /** LogonFlags of the request (Private 0x01). */
  logonFlags: number;
  openFlags: number;
  /** The caller owns this mailbox (else a delegate with a directory grant). */
  owner: boolean;
}

/** An open folder (MS-OXCFOLD); `fid` is the folder's GLOBCNT in this mailbox. */
export interface FolderObject {
  kind: 'folder';
  fid: number;
}

/** What a table object lists. */
export type TableKind = 'contents' | 'associated' | 'hierarchy' | 'recipients' | 'attachments' | 'permissions' | 'rules';

/**
 * A table (MS-OXCTABL). Contents / associated / hierarchy tables are views the actor keeps
 * (`table` is the actor's table id; writes invalidate them and produce table notifications);
 * the others are made on the object they belong to.
 */
export interface TableObject {
  kind: 'table';
  tableKind: TableKind;
  /** The actor's table id (views), 0 for tables kept here. */
  table: number;
  /** The folder (views) or 0. */
  fid: number;
  /** Table flags of the opening ROP (Depth, NoNotifications, ...). */
  flags: number;
  /** Columns set by RopSetColumns (kept here too: the response codecs need them). */
  columns: number[] | null;
  /** The handle of the object the table was opened on (messages: attachments / recipients). */
  owner: number;
}

/** An open message (MS-OXCMSG) on one of the actor's message instances. */
export interface MessageObject {
  kind: 'message';
  instance: number;
  /** The stored message (null: created, not saved yet). */
  mid: number | null;
  fid: number;
  readOnly: boolean;
}

/** An open attachment of a message instance. */
export interface AttachmentObject {
  kind: 'attachment';
  instance: number;
  num: number;
  readOnly: boolean;
}

/** An open property stream (MS-OXCPRPT 2.2.x streams); the state lives in stream-state.ts. */
export interface StreamObject {
  kind: 'stream';
  state: StreamState;
}

/** A notification subscription (RopRegisterNotification, MS-OXCNOTIF). */
export interface NotifyObject {
  kind: 'notify';
  /** NotificationTypes flags asked for. */
  types: number;
  /** 0: the whole store; else the folder / message it watches. */
  fid: number;
  mid: number;
  wantWholeStore: boolean;
}

/** Every server object kind. */
export type ServerObject = LogonObject | FolderObject | TableObject | MessageObject | AttachmentObject | StreamObject | NotifyObject;

export interface ObjectEntry {
  handle: number;
  logonId: number;
  parent: number | null;
  children: Set<number>;
  obj: ServerObject;
}

export class RopSession {
  readonly objects = new Map<number, ObjectEntry>();
  /** Logon id → the handle of its logon object. */
  readonly logons = new Map<number, number>();
  /** Messages submitted in the current run (RopSubmitMessage): the door sends them. */
  readonly submitted: { mid: number; due: number }[] = [];
  /** ROP names already logged as not supported (logged once per session). */
  readonly warned = new Set<string>();
  private seq = 0;

  constructor(
    readonly id: string,
    readonly caller: Caller,
    /** Frees what an object holds in the actor (tables, message instances) when it is released. */
    private readonly dispose: (obj: ServerObject) => void = () => undefined,
  ) {}

  add(logonId: number, obj: ServerObject, parent: number | null): number {
    if (this.objects.size >= MAX_OBJECTS_PER_SESSION) throw actorError('ecMAPIOOM', `a session holds at most ${MAX_OBJECTS_PER_SESSION} objects`);
    let handle: number;
    do {
      this.seq = (this.seq + 1) & 0xffffff;
      handle = (((logonId & 0xff) << 24) | this.seq) >>> 0;
    } while (handle === NO_HANDLE || this.seq === 0 || this.objects.has(handle));
    const entry: ObjectEntry = { handle, logonId, parent, children: new Set(), obj };
    this.objects.set(handle, entry);
    if (parent !== null) this.objects.get(parent)?.children.add(handle);
    if (obj.kind === 'logon') this.logons.set(logonId, handle);
    return handle;
  }

  get(handle: number): ObjectEntry | undefined {
    return this.objects.get(handle);
  }

  /** Releases an object and everything opened through it; returns the logon ids that ended. */
  release(handle: number): number[] {
    const ended: number[] = [];
    const entry = this.objects.get(handle);
    if (entry === undefined) return ended;
    const stack = [entry];
    while (stack.length > 0) {
      const e = stack.pop()!;
      this.objects.delete(e.handle);
      try {
        this.dispose(e.obj);
      } catch {
        // Already gone in the actor (its session ended): nothing to free.
      }
      if (e.obj.kind === 'logon' && this.logons.get(e.logonId) === e.handle) {
        this.logons.delete(e.logonId);
        ended.push(e.logonId);
      }
      for (const c of e.children) {
        const ce = this.objects.get(c);
        if (ce !== undefined) stack.push(ce);
      }
    }
    if (entry.parent !== null) this.objects.get(entry.parent)?.children.delete(handle);
    return ended;
  }

  get size(): number {
    return this.objects.size;
  }

  /** Releases everything (the session ends). */
  releaseAll(): void {
    for (const h of [...this.logons.values()]) this.release(h);
    for (const h of [...this.objects.keys()]) this.release(h);
  }
}
