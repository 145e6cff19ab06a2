/**
 * MAPI over HTTP transport (MS-OXCMAPIHTTP 2.2, 3.2): the mailbox endpoint `/mapi/emsmdb/` and
 * the address book endpoint `/mapi/nspi/`. Every request is a POST with X-RequestType,
 * X-RequestId and X-ClientInfo; the answer is HTTP 200 with X-ResponseCode (0 when the request
 * was taken; otherwise the transport's reason, section 2.2.2.2.3) and a chunked body of
 * meta-tags, `PROCESSING`, `PENDING` every X-PendingPeriod while the work lasts, `DONE`, then the
 * additional headers (X-ElapsedTime, X-StartTime), an empty line and the binary response body.
 *
 * The head is held back for a moment (HOLD_MS): a request answered within it goes out whole in
 * one write with Content-Length (section 3.2.5.2 lets a server that has the whole answer forgo
 * the chunked form; one TLS record instead of three), a slower one gets its PROCESSING at once
 * and keep-alives as the spec asks. The final block after DONE always carries X-ResponseCode,
 * so a session found lost while an Execute runs still answers 10 (context not found), which
 * makes Outlook reconnect rather than retry with dead handles.
 */
import type { Logger } from 'pino';
import { header, type HttpResponse, type OutgoingHeaders } from '../../http/exchange.js';
import type { Route, RouteContext } from '../../http/router.js';
import type { UserRecord } from '../../../storage/directory-store.js';
import { ContextTable, parseCookies, type Endpoint, type MapiContext } from './contexts.js';
import { InvalidRequestBody, ResponseCode } from './response-codes.js';
import { EmsmdbService, SessionLost, type EmsmdbSession } from '../emsmdb/emsmdb-service.js';

/** What the NSPI side offers the transport (protocols/mapi/nspi/nspi-service.ts). */
export interface NspiEndpoint<N> {
  bind(body: Uint8Array, caller: { userId: string; address: string }): { body: Uint8Array; session: N | null };
  handle(requestType: string, body: Uint8Array, session: N, caller: { userId: string; address: string }): Uint8Array;
  readonly types: ReadonlySet<string>;
}

export interface MapiRoutesOptions<N> {
  emsmdb: EmsmdbService;
  nspi: NspiEndpoint<N>;
  log: Logger;
  /** Idle session contexts expire after this long. */
  contextIdleMs: number;
  /** X-PendingPeriod: ms between PENDING keep-alives. */
  pendingPeriodMs: number;
  /** NotificationWait's longest wait. */
  notificationWaitMs: number;
  /** X-ServerApplication. */
  serverApplication: string;
  /** Most contexts per user and endpoint. */
  maxContextsPerUser: number;
}

/** How long an answer may be held before PROCESSING is sent. */
const HOLD_MS = 50;
const MAX_EXECUTE_BODY = 4 * 1024 * 1024;
const MAX_NSPI_BODY = 1024 * 1024;
const CONTEXT_COOKIE = 'MapiContext';
const SEQUENCE_COOKIE = 'MapiSequence';
const CONTENT_TYPE = 'application/mapi-http';

const ENC = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** One MAPI/HTTP answer: held head, meta-tags, additional headers, body. */
class Reply {
  private started = false;
  private hold: NodeJS.Timeout | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  private readonly startTime = new Date();
  private readonly t0 = process.hrtime.bigint();

  constructor(
    private readonly res: HttpResponse,
    private readonly headers: OutgoingHeaders,
    private readonly pendingMs: number,
  ) {}

  /** Starts the hold timer (or, for long waits, sends PROCESSING at once). */
  begin(immediately = false): void {
    if (immediately) this.start();
    else this.hold = setTimeout(() => this.start(), HOLD_MS);
    this.res.onClose(() => this.stopTimers());
  }

  private start(): void {
    if (this.started || this.res.ended) return;
    this.started = true;
    this.hold = null;
    this.res.writeHead(200, { ...this.headers, 'x-responsecode': '0' });
    this.res.write('PROCESSING\r\n');
    this.keepAlive = setInterval(() => {
      if (!this.res.ended) this.res.write('PENDING\r\n');
    }, this.pendingMs);
  }

  private stopTimers(): void {
    if (this.hold !== null) clearTimeout(this.hold);
    if (this.keepAlive !== null) clearInterval(this.keepAlive);
    this.hold = null;
    this.keepAlive = null;
  }

  /** The end: DONE, the additional headers (X-ResponseCode, X-ElapsedTime, X-StartTime), the body. */
  private finish(code: number, body: Uint8Array, extraHeaders: OutgoingHeaders, contentType?: string): void {
    this.stopTimers();
    if (this.res.ended) return;
    const elapsed = Number((process.hrtime.bigint() - this.t0) / 1_000_000n);
    const tail = `DONE\r\nX-ResponseCode: ${code}\r\nX-ElapsedTime: ${elapsed}\r\nX-StartTime: ${this.startTime.toUTCString()}\r\n\r\n`;
    if (!this.started) {
      // The whole answer is ready: one write, with Content-Length (3.2.5.2 allows forgoing chunks).
      this.started = true;
      const meta = ENC.encode(`PROCESSING\r\n${tail}`);
      const all = new Uint8Array(meta.byteLength + body.byteLength);
      all.set(meta, 0);
      all.set(body, meta.byteLength);
      const h = this.headers;
      for (const k in extraHeaders) h[k] = extraHeaders[k]!;
      h['x-responsecode'] = code === 0 ? '0' : String(code);
      h['content-length'] = all.byteLength;
      if (contentType !== undefined) h['content-type'] = contentType;
      this.res.writeHead(200, h);
      this.res.end(all);
      return;
    }
    this.res.write(tail);
    this.res.end(body);
  }

  done(body: Uint8Array, extraHeaders: OutgoingHeaders = {}): void {
    this.finish(0, body, extraHeaders);
  }

  /**
   * A transport failure (X-ResponseCode not 0, section 2.2.3.3.3): in the response headers when
   * they are still to be sent, and in the additional headers after DONE either way; the body is
   * a short text.
   */
  fail(code: number, text: string, extraHeaders: OutgoingHeaders = {}): void {
    this.finish(code, ENC.encode(`${text}\r\n`), extraHeaders, 'text/html');
  }
}

type Ctx<N> = MapiContext<{ kind: 'emsmdb'; session: EmsmdbSession } | { kind: 'nspi'; session: N }>;

export function mapiRoutes<N>(o: MapiRoutesOptions<N>): { routes: Route[]; contexts: ContextTable<Ctx<N>['state']>; close(): void } {
  const contexts = new ContextTable<Ctx<N>['state']>({
    idleMs: o.contextIdleMs,
    maxPerUser: o.maxContextsPerUser,
    onEnd: (c, why) => {
      if (c.state.kind === 'emsmdb') void o.emsmdb.end(c.state.session);
      if (why !== 'ended') o.log.info({ endpoint: c.endpoint, why }, 'MAPI session context ended');
    },
  });

  const cookieHeaders = (endpoint: Endpoint, ctx: Ctx<N>): OutgoingHeaders => ({
    'set-cookie': [`${CONTEXT_COOKIE}=${ctx.id}; path=/mapi/${endpoint}/; secure; HttpOnly`, `${SEQUENCE_COOKIE}=${ctx.sequence}; path=/mapi/${endpoint}/; secure; HttpOnly`],
  });

  const serve = async (c: RouteContext, endpoint: Endpoint): Promise<void> => {
    const { req, res } = c;
    const user = c.user as UserRecord;
    const requestType = header(req, 'x-requesttype');
    const requestId = header(req, 'x-requestid');
    const clientInfo = header(req, 'x-clientinfo');
    const headers: OutgoingHeaders = {
      'content-type': CONTENT_TYPE,
      'cache-control': 'private',
      'x-serverapplication': o.serverApplication,
      'x-pendingperiod': String(o.pendingPeriodMs),
      'x-expirationinfo': String(o.contextIdleMs),
    };
    if (requestType !== undefined) headers['x-requesttype'] = requestType;
    if (requestId !== undefined) headers['x-requestid'] = requestId;
    if (clientInfo !== undefined) headers['x-clientinfo'] = clientInfo;
    const reply = new Reply(res, headers, o.pendingPeriodMs);
    if (req.method !== 'POST') return reply.fail(ResponseCode.InvalidVerb, 'MAPI over HTTP takes POST requests');
    if (requestType === undefined || requestId === undefined || clientInfo === undefined) return reply.fail(ResponseCode.MissingHeader, 'X-RequestType, X-RequestId and X-ClientInfo are required');
    const ct = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (requestType !== 'PING' && ct !== CONTENT_TYPE && ct !== 'application/octet-stream') return reply.fail(ResponseCode.InvalidHeader, `Content-Type must be ${CONTENT_TYPE}`);
    const known = requestType === 'PING' || (endpoint === 'emsmdb' ? EmsmdbService.requestTypes.has(requestType) : o.nspi.types.has(requestType));
    if (!known) return reply.fail(ResponseCode.InvalidRequestType, `unknown X-RequestType ${requestType}`);
    const body = await c.readBody();
    if (body === null) return;
    const caller = { userId: user.id, address: user.address };
    const cookie = parseCookies(header(req, 'cookie')).get(CONTEXT_COOKIE);

    if (requestType === 'PING') {
      // PING (2.2.6) needs no context; one named must still be alive.
      if (cookie !== undefined && contexts.get(cookie, endpoint, user.id) === undefined) return reply.fail(ResponseCode.ContextNotFound, 'session context not found');
      return reply.done(EMPTY);
    }

    try {
      if (requestType === 'Connect' || requestType === 'Bind') {
        reply.begin();
        if (endpoint === 'emsmdb') {
          const r = o.emsmdb.connect(body, user, ContextTable.newId());
          if (r.session === null) return reply.done(r.body);
          const ctx = contexts.create('emsmdb', user.id, { kind: 'emsmdb', session: r.session }, r.session.id) as Ctx<N>;
          return reply.done(r.body, cookieHeaders(endpoint, ctx));
        }
        const r = o.nspi.bind(body, caller);
        if (r.session === null) return reply.done(r.body);
        const ctx = contexts.create('nspi', user.id, { kind: 'nspi', session: r.session }) as Ctx<N>;
        return reply.done(r.body, cookieHeaders(endpoint, ctx));
      }

      if (cookie === undefined) return reply.fail(ResponseCode.MissingCookie, 'the session context cookie is missing');
      const ctx = contexts.get(cookie, endpoint, user.id) as Ctx<N> | undefined;
      if (ctx === undefined || (ctx.state.kind === 'emsmdb' && ctx.state.session.lost)) {
        if (ctx !== undefined) contexts.end(ctx.id);
        return reply.fail(ResponseCode.ContextNotFound, 'session context not found');
      }
      ctx.sequence++;
      const extra = cookieHeaders(endpoint, ctx);

      if (ctx.state.kind === 'emsmdb') {
        const s = ctx.state.session;
        if (requestType === 'NotificationWait') {
          reply.begin(true);
          let wake: (() => void) | null = null;
          res.onClose(() => wake?.());
          const out = await o.emsmdb.notificationWait(body, s, o.notificationWaitMs, (fn) => (wake = fn));
          return reply.done(out, extra);
        }
        reply.begin();
        const out = await contexts.inOrder(ctx, () => (requestType === 'Execute' ? o.emsmdb.execute(body, s) : o.emsmdb.disconnect(body, s)));
        if (requestType === 'Disconnect') contexts.end(ctx.id);
        return reply.done(out, extra);
      }

      reply.begin();
      const st = ctx.state;
      const out = await contexts.inOrder(ctx, async () => o.nspi.handle(requestType, body, st.session, caller));
      if (requestType === 'Unbind') contexts.end(ctx.id);
      return reply.done(out, extra);
    } catch (err) {
      if (err instanceof InvalidRequestBody) return reply.fail(ResponseCode.InvalidRequestBody, `invalid request body: ${err.message}`);
      if (err instanceof SessionLost) {
        if (cookie !== undefined) contexts.end(cookie);
        return reply.fail(ResponseCode.ContextNotFound, 'session context lost');
      }
      c.log.error({ err, requestType }, 'MAPI request failed');
      return reply.fail(ResponseCode.UnknownFailure, 'the request failed');
    }
  };

  const route = (endpoint: Endpoint, maxBodyBytes: number): Route => ({
    name: `mapi-${endpoint}`,
    paths: [`/mapi/${endpoint}`, `/mapi/${endpoint}/`],
    methods: ['POST', 'GET'],
    auth: 'user',
    // NotificationWait lasts minutes, but PENDING keep-alives move bytes every X-PendingPeriod.
    limits: { maxBodyBytes, idleMs: Math.max(60_000, o.pendingPeriodMs * 4), maxDurationMs: 0 },
    handle: (c) => serve(c, endpoint),
  });

  return {
    routes: [route('emsmdb', MAX_EXECUTE_BODY), route('nspi', MAX_NSPI_BODY)],
    contexts,
    close: () => contexts.close(),
  };
}
