/**
 * Runs consecutive ROPs of one logon inside the mailbox actor (MS-OXCROPS 3.2.5): the door sends
 * them as one message with the request's handle table; each ROP is pulled, its input handle
 * resolved, its handler run (a write handler commits in its own child transaction, so one ROP's
 * failure rolls back only its own writes), its response pushed, and output handles written into
 * the table. The door answers after the run's writes are flushed.
 *
 * The run stops early when the responses would pass the byte budget the door gives (the client's
 * maximum output size minus what is already answered); the door then answers RopBufferTooSmall
 * for the rest (MS-OXCROPS 3.2.5.1).
 */
import type { Logger } from 'pino';
import { WireReader } from '../../../protocols/mapi/wire/reader.js';
import { WireWriter } from '../../../protocols/mapi/wire/writer.js';
import { codecFor, type AnyRopCodec } from '../../../protocols/mapi/rops/codec/registry.js';
import type { RopRequest, RopResponse } from '../../../protocols/mapi/rops/codec/rop.js';
import type { RopCtx, Schema } from '../../../protocols/mapi/rops/codec/fields.js';
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import { ActorError } from '../../../runtime/errors.js';
import { ALL_RIGHTS, NO_HANDLE, RopSession, type Caller, type LogonAccess, type ObjectEntry, type ServerObject } from './rop-session.js';
import { FolderAcl } from '../../../storage/folder-acl.js';
import type { MailboxStore } from '../../../storage/mailbox-store.js';
import type { MessageStore } from '../../../storage/message-store.js';
import type { MailboxProtocol } from '../mailbox-actor.js';

export interface RopRunArgs {
  /** The door's session id (its EMSMDB session context). */
  session: string;
  caller: Caller;
  /** The door already has logons on this mailbox in this session: a missing session means it was lost. */
  expectSession: boolean;
  /** Consecutive ROP requests, all with the same LogonId. */
  rops: Uint8Array;
  /** The request's server object handle table (this run updates it). */
  handles: number[];
  /** Bytes the responses of this run may take. */
  budget: number;
  /** RopLogon only: how the caller reaches this mailbox (the door decided from the directory). */
  access?: LogonAccess;
}

export interface RopRunResult {
  /** The responses of the processed ROPs, back to back. */
  responses: Uint8Array;
  /** ROPs processed (the rest did not fit the budget, or a ROP could not be parsed). */
  done: number;
  handles: number[];
  /** Logon ids made by RopLogon in this run, and those ended by RopRelease. */
  logonsOpened: number[];
  logonsReleased: number[];
  /** When the run stopped for the budget: the size of the response that did not fit. */
  tooBig: number;
  /** Messages submitted by this run, for the door to send (at `due`, ms since 1970). */
  submissions?: { mid: number; due: number }[];
}

/** What a handler returns: a success (ok fields) or a return value with optional extra fields. */
export interface RopOutcome {
  returnValue?: number;
  ok?: Record<string, unknown>;
  always?: Record<string, unknown>;
  fail?: Record<string, unknown>;
  /** An object to place at the request's OutputHandleIndex (io / logon ROPs). */
  output?: ServerObject;
  /** Context for pushing the response (columns, asked tags). */
  ctx?: RopCtx;
}

/** What handlers may use. */
export interface RopEnv {
  log: Logger;
  mailbox: string;
  /** Reads after the writes queued so far committed. */
  read<T>(fn: (x: { store: MailboxStore; msgs: MessageStore }) => T): Promise<T>;
  /** Commits a write in its own child transaction; durability is awaited by the run. */
  write<T>(fn: (x: { store: MailboxStore; msgs: MessageStore }) => T): Promise<T>;
  /**
   * Runs one of the mailbox actor's own ops in place (no thread hop): tables, message instances,
   * folders, search criteria, named properties. A write op's flush is awaited by the run.
   */
  op<O extends keyof MailboxProtocol & string>(name: O, args: MailboxProtocol[O]['args']): Promise<MailboxProtocol[O]['result']>;
  /** Publishes an event to the door (notifications). */
  emit(topic: string, data: unknown): void;
}

export interface HandlerCtx {
  env: RopEnv;
  session: RopSession;
  logonId: number;
  /** The object behind the request's input handle (ecNullObject when none). */
  input: ObjectEntry;
  /** Per-ROP pull/push context of the logon. */
  ropCtx: RopCtx;
  /** The caller owns the mailbox (the logon's access, or for RopLogon what the door decided). */
  owner: boolean;
  /** How the caller reaches this mailbox. */
  access: LogonAccess;
  /** The caller's rights on a folder of this mailbox (MS-OXCPERM PidTagMemberRights bits). */
  rights(fid: number): Promise<number>;
  /** The request's handle table as it stands (DestHandleIndex of srcdst ROPs). */
  handles: readonly number[];
}

export type RopHandler = (q: RopRequest<Schema> & Record<string, unknown>, h: HandlerCtx) => RopOutcome | Promise<RopOutcome>;

/** Handlers by RopId and by the kind of the input object. */
export type HandlerTable = Map<number, Partial<Record<ServerObject['kind'], RopHandler>>>;

const codeOf = (err: unknown): number => {
  if (err instanceof ActorError) {
    const v = (Ec as Record<string, number>)[err.code];
    if (v !== undefined) return v;
  }
  return Ec.ecError;
};

/** The handle index a response carries (MS-OXCROPS 2.2.x: the input, output or response index). */
export function responseIndexOf(codec: AnyRopCodec, q: RopRequest<Schema>): number {
  switch (codec.handles) {
    case 'io':
    case 'logon':
      return q.outputHandleIndex ?? 0;
    case 'respin':
      return q.responseHandleIndex ?? 0;
    default:
      return q.inputHandleIndex;
  }
}

/** Fields a response must carry even on failure (`always`, `fail`), zero-filled when a handler gave none. */
function failureResponse(codec: AnyRopCodec, q: RopRequest<Schema>, rv: number, out: RopOutcome, ctx: RopCtx): RopResponse<Schema, Schema, Schema> {
  const zero = codec.genResponse(() => 0, ctx, rv);
  const resp: RopResponse<Schema, Schema, Schema> = { ropId: codec.id, handleIndex: responseIndexOf(codec, q), returnValue: rv };
  if (zero.always !== undefined) resp.always = { ...zero.always, ...(out.always ?? {}) };
  if (zero.fail !== undefined) resp.fail = { ...zero.fail, ...(out.fail ?? {}) };
  return resp;
}

export async function runRops(env: RopEnv, session: RopSession, args: RopRunArgs, handlers: HandlerTable): Promise<RopRunResult> {
  const handles = args.handles.slice();
  const w = new WireWriter();
  const r = new WireReader(args.rops);
  const opened: number[] = [];
  const released: number[] = [];
  let done = 0;
  let tooBig = 0;
  while (r.remaining > 0) {
    const start = r.pos;
    const codec = codecFor(args.rops[start]!);
    if (codec === undefined) break;
    const logonId = args.rops[start + 1] ?? 0;
    const logonHandle = session.logons.get(logonId);
    const logon = logonHandle === undefined ? undefined : session.get(logonHandle);
    const ropCtx: RopCtx = { privateLogon: logon === undefined ? true : ((logon.obj.kind === 'logon' ? logon.obj.logonFlags : 1) & 1) === 1 };
    const q = codec.pullRequest(r, ropCtx) as RopRequest<Schema> & Record<string, unknown>;
    if (!r.ok) break; // the door parsed these already; a failure here means a bug, not input
    const mark = w.pos;
    let outcome: RopOutcome;
    let pushCtx = ropCtx;
    if (codec.id === RopId.Logon) pushCtx = { privateLogon: ((q.logonFlags as number) & 1) === 1 };
    try {
      outcome = await dispatch(codec, q, env, session, logonId, handles, handlers, args.access ?? 'owner');
    } catch (err) {
      const rv = codeOf(err);
      if (rv === Ec.ecError) env.log.warn({ err, rop: codec.name }, 'ROP handler failed');
      outcome = { returnValue: rv };
    }
    if (outcome.ctx !== undefined) pushCtx = { ...pushCtx, ...outcome.ctx };
    const rv = outcome.returnValue ?? 0;
    if (codec.id === RopId.Release) {
      const h = handles[q.inputHandleIndex];
      if (h !== undefined && h !== NO_HANDLE) released.push(...session.release(h));
    } else if (!codec.noResponse) {
      if (rv === 0 && outcome.output !== undefined) {
        const parent = codec.id === RopId.Logon ? null : (handles[q.inputHandleIndex] ?? null);
        const handle = session.add(logonId, outcome.output, parent);
        handles[q.outputHandleIndex ?? 0] = handle;
        if (outcome.output.kind === 'logon') opened.push(logonId);
      }
      const resp: RopResponse<Schema, Schema, Schema> =
        rv === 0 ? { ropId: codec.id, handleIndex: responseIndexOf(codec, q), returnValue: 0, ok: outcome.ok ?? {}, ...(outcome.always ? { always: outcome.always } : {}) } : failureResponse(codec, q, rv, outcome, pushCtx);
      codec.pushResponse(w, resp, pushCtx);
    }
    if (w.pos > args.budget) {
      // This response does not fit: leave it (and what follows) to the door's RopBufferTooSmall.
      // The ROP has run (its response size is known only now); the client sends it again.
      tooBig = w.pos - mark;
      w.pos = mark;
      break;
    }
    done++;
  }
  const submissions = session.submitted.splice(0);
  return { responses: w.toBytes(), done, handles, logonsOpened: opened, logonsReleased: released, tooBig, ...(submissions.length > 0 ? { submissions } : {}) };
}

async function dispatch(
  codec: AnyRopCodec,
  q: RopRequest<Schema> & Record<string, unknown>,
  env: RopEnv,
  session: RopSession,
  logonId: number,
  handles: number[],
  handlers: HandlerTable,
  access: LogonAccess,
): Promise<RopOutcome> {
  const logonEntry = session.logons.get(logonId);
  const logonObj = logonEntry === undefined ? undefined : session.get(logonEntry)?.obj;
  const logonAccess: LogonAccess = logonObj?.kind === 'logon' ? logonObj.access : access;
  const owner = logonAccess === 'owner';
  const rights = (fid: number) => folderRights(env, session, logonAccess, fid);
  const byKind = handlers.get(codec.id);
  if (codec.id === RopId.Logon) {
    const h = byKind?.logon;
    if (h === undefined) return { returnValue: Ec.ecNotSupported };
    return h(q, { env, session, logonId, input: undefined as unknown as ObjectEntry, ropCtx: {}, owner, access, rights, handles });
  }
  const handle = handles[q.inputHandleIndex];
  const input = handle === undefined ? undefined : session.get(handle);
  if (codec.id === RopId.Release) {
    // RopRelease has no response; a kind may act first (a stream commits its writes).
    const before = input === undefined || input.logonId !== logonId ? undefined : byKind?.[input.obj.kind];
    if (before !== undefined) {
      try {
        await before(q, { env, session, logonId, input: input!, ropCtx: {}, owner, access: logonAccess, rights, handles });
      } catch (err) {
        env.log.warn({ err, on: input!.obj.kind }, 'work on release failed');
      }
    }
    return {};
  }
  if (input === undefined || input.logonId !== logonId) return { returnValue: Ec.ecNullObject };
  const h = byKind?.[input.obj.kind];
  if (h === undefined) {
    if (!session.warned.has(codec.name)) {
      session.warned.add(codec.name);
      env.log.info({ rop: codec.name, on: input.obj.kind, session: session.id }, 'ROP not supported yet');
    }
    return { returnValue: Ec.ecNotSupported };
  }
  return h(q, { env, session, logonId, input, ropCtx: {}, owner, access: logonAccess, rights, handles });
}


/**
 * The caller's rights on a folder: owners and full-access delegates have them all; others get
 * their own entry's rights in the folder's permissions list, else the Default entry's (MS-OXCPERM).
 */
export async function folderRights(env: RopEnv, session: RopSession, access: LogonAccess, fid: number): Promise<number> {
  if (access !== 'acl') return ALL_RIGHTS;
  return env.read(({ store }) => new FolderAcl(store.env).rightsOf(fid, session.caller.legacyDn));
}
