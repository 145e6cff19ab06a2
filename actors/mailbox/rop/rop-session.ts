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

export interface LogonObject {
  kind: 'logon';
  /** LogonFlags of the request (Private 0x01). */
  logonFlags: number;
  openFlags: number;
  /** The caller owns this mailbox (else a delegate with a directory grant). */
  owner: boolean;
}

/** Every server object kind; issue 8 adds folders, tables, messages, attachments, streams. */
export type ServerObject = LogonObject;

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
  /** ROP names already logged as not supported (logged once per session). */
  readonly warned = new Set<string>();
  private seq = 0;

  constructor(
    readonly id: string,
    readonly caller: Caller,
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
}
