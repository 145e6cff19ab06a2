/**
 * One declaration per ROP (MS-OXCROPS 2.2.x) gives its four codecs: request pull and push,
 * response pull and push (the server needs request pull + response push; the test client the
 * other two; together they make round trips). A departure from hand-written pullX/pushX pairs:
 * the fields are written once, so the directions cannot disagree. Each spec-document file
 * (oxcstor, oxcfold, ...) exports its ROPs' definitions and the typed request/response aliases.
 *
 * Request header by handle shape:
 *   in      RopId LogonId InputHandleIndex
 *   io      RopId LogonId InputHandleIndex OutputHandleIndex
 *   srcdst  RopId LogonId SourceHandleIndex DestHandleIndex (source kept as inputHandleIndex)
 *   respin  RopId LogonId ResponseHandleIndex InputHandleIndex (RopSaveChangesMessage,
 *           RopSaveChangesAttachment, RopSetMessageReadFlag; the response carries ResponseHandleIndex)
 *   logon   RopId LogonId OutputHandleIndex (RopLogon)
 *   none    response-only ROPs (RopNotify, RopPending, RopBackoff, RopBufferTooSmall)
 * Response header: RopId, the handle index (input, output, source, or the request's
 * ResponseHandleIndex for the Save/SetReadFlag ROPs), ReturnValue; then, in this order, the
 * `fail` fields when ReturnValue is the ROP's special failure code (ecWrongServer,
 * ecDstNullObject, ecServerBusy), the `always` fields, and the `ok` fields when ReturnValue is 0.
 * Response-only ROPs have no handle index or ReturnValue: their fields are all `ok`.
 */
import type { WireReader } from '../../wire/reader.js';
import type { WireWriter } from '../../wire/writer.js';
import { genSchema, pullSchema, pushSchema, type Infer, type Rand, type RopCtx, type Schema } from './fields.js';
import { ropName } from '../ids.js';

export type HandleShape = 'in' | 'io' | 'srcdst' | 'respin' | 'logon' | 'none';

export interface RopRequestHeader {
  ropId: number;
  logonId: number;
  /** InputHandleIndex (SourceHandleIndex for srcdst ROPs; 0 for RopLogon). */
  inputHandleIndex: number;
  /** OutputHandleIndex (io and logon ROPs). */
  outputHandleIndex?: number;
  /** DestHandleIndex (srcdst ROPs). */
  destHandleIndex?: number;
  /** ResponseHandleIndex (respin ROPs): the handle index their response carries. */
  responseHandleIndex?: number;
}

export interface RopResponseHeader {
  ropId: number;
  handleIndex: number;
  returnValue: number;
}

export type RopRequest<Q extends Schema> = RopRequestHeader & Infer<Q>;
export type RopResponse<O extends Schema, A extends Schema, F extends Schema> = RopResponseHeader & {
  ok?: Infer<O>;
  always?: Infer<A>;
  fail?: Infer<F>;
};

const EMPTY = {} as const;
type Empty = typeof EMPTY;

export interface RopDef<Q extends Schema, O extends Schema, A extends Schema, F extends Schema> {
  id: number;
  /** The MS-OX document that specifies the ROP's semantics (codec grouping). */
  doc: string;
  handles: HandleShape;
  req?: Q;
  ok?: O;
  always?: A;
  fail?: { code: number; fields: F };
  /** No response at all (RopRelease). */
  noResponse?: boolean;
}

export interface RopCodec<Q extends Schema = Schema, O extends Schema = Schema, A extends Schema = Schema, F extends Schema = Schema> {
  readonly id: number;
  readonly name: string;
  readonly doc: string;
  readonly handles: HandleShape;
  readonly noResponse: boolean;
  readonly failCode: number | null;
  pullRequest(r: WireReader, ctx: RopCtx): RopRequest<Q>;
  pushRequest(w: WireWriter, req: RopRequest<Q>, ctx: RopCtx): void;
  pullResponse(r: WireReader, ctx: RopCtx): RopResponse<O, A, F>;
  pushResponse(w: WireWriter, resp: RopResponse<O, A, F>, ctx: RopCtx): void;
  genRequest(g: Rand, ctx: RopCtx): RopRequest<Q>;
  genResponse(g: Rand, ctx: RopCtx, returnValue: number): RopResponse<O, A, F>;
}

export function defineRop<Q extends Schema = Empty, O extends Schema = Empty, A extends Schema = Empty, F extends Schema = Empty>(def: RopDef<Q, O, A, F>): RopCodec<Q, O, A, F> {
  const req = (def.req ?? EMPTY) as Q;
  const raw = def.handles === 'none';
  const failCode = def.fail?.code ?? null;
  const name = ropName(def.id);

  return {
    id: def.id,
    name,
    doc: def.doc,
    handles: def.handles,
    noResponse: def.noResponse === true,
    failCode,

    pullRequest(r, ctx) {
      const h: RopRequestHeader = { ropId: r.u8(), logonId: r.u8(), inputHandleIndex: 0 };
      switch (def.handles) {
        case 'in':
          h.inputHandleIndex = r.u8();
          break;
        case 'io':
          h.inputHandleIndex = r.u8();
          h.outputHandleIndex = r.u8();
          break;
        case 'srcdst':
          h.inputHandleIndex = r.u8();
          h.destHandleIndex = r.u8();
          break;
        case 'respin':
          h.responseHandleIndex = r.u8();
          h.inputHandleIndex = r.u8();
          break;
        case 'logon':
          h.outputHandleIndex = r.u8();
          break;
        case 'none':
          r.fail('bad-value', `${name} is not a request`);
          return h as RopRequest<Q>;
      }
      return pullSchema(r, req, ctx, h as unknown as Record<string, unknown>) as RopRequest<Q>;
    },

    pushRequest(w, q, ctx) {
      if (raw) throw new TypeError(`${name} is not a request`);
      w.u8(def.id);
      w.u8(q.logonId);
      if (def.handles === 'respin') w.u8(q.responseHandleIndex ?? 0);
      if (def.handles !== 'logon') w.u8(q.inputHandleIndex);
      if (def.handles === 'io' || def.handles === 'logon') w.u8(q.outputHandleIndex ?? 0);
      if (def.handles === 'srcdst') w.u8(q.destHandleIndex ?? 0);
      pushSchema(w, req, q, ctx);
    },

    pullResponse(r, ctx) {
      const ropId = r.u8();
      if (raw) return { ropId, handleIndex: 0, returnValue: 0, ok: def.ok ? pullSchema(r, def.ok, ctx) : undefined };
      const resp: RopResponse<O, A, F> = { ropId, handleIndex: r.u8(), returnValue: r.u32() };
      if (def.fail && resp.returnValue === def.fail.code) resp.fail = pullSchema(r, def.fail.fields, ctx);
      if (def.always) resp.always = pullSchema(r, def.always, ctx);
      if (def.ok && resp.returnValue === 0) resp.ok = pullSchema(r, def.ok, ctx);
      return resp;
    },

    pushResponse(w, resp, ctx) {
      if (def.noResponse) throw new TypeError(`${name} has no response`);
      w.u8(def.id);
      if (raw) {
        if (def.ok) pushSchema(w, def.ok, need(resp.ok, 'ok'), ctx);
        return;
      }
      w.u8(resp.handleIndex);
      w.u32(resp.returnValue);
      if (def.fail && resp.returnValue === def.fail.code) pushSchema(w, def.fail.fields, need(resp.fail, 'fail'), ctx);
      if (def.always) pushSchema(w, def.always, need(resp.always, 'always'), ctx);
      if (def.ok && resp.returnValue === 0) pushSchema(w, def.ok, need(resp.ok, 'ok'), ctx);
    },

    genRequest(g, ctx) {
      const h: RopRequestHeader = { ropId: def.id, logonId: Math.floor(g() * 256), inputHandleIndex: def.handles === 'logon' ? 0 : Math.floor(g() * 256) };
      if (def.handles === 'io' || def.handles === 'logon') h.outputHandleIndex = Math.floor(g() * 256);
      if (def.handles === 'srcdst') h.destHandleIndex = Math.floor(g() * 256);
      if (def.handles === 'respin') h.responseHandleIndex = Math.floor(g() * 256);
      return genSchema(g, req, ctx, h as unknown as Record<string, unknown>) as RopRequest<Q>;
    },

    genResponse(g, ctx, returnValue) {
      if (raw) return { ropId: def.id, handleIndex: 0, returnValue: 0, ok: def.ok ? genSchema(g, def.ok, ctx) : undefined };
      const resp: RopResponse<O, A, F> = { ropId: def.id, handleIndex: Math.floor(g() * 256), returnValue };
      if (def.fail && returnValue === def.fail.code) resp.fail = genSchema(g, def.fail.fields, ctx);
      if (def.always) resp.always = genSchema(g, def.always, ctx);
      if (def.ok && returnValue === 0) resp.ok = genSchema(g, def.ok, ctx);
      return resp;
    },
  };
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new TypeError(`response is missing its ${what} fields`);
  return v;
}

/** The failure response most ROPs send: RopId, handle index, ReturnValue. */
export function failureResponse(ropId: number, handleIndex: number, returnValue: number): RopResponseHeader {
  return { ropId, handleIndex, returnValue };
}
