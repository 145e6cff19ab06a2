/**
 * The HTTP door: one listener (HTTPS, and plain HTTP for redirects and autoconfig) carrying every
 * HTTP protocol through one router.
 *
 * Each accepted connection is classified by the method of its first request (request-line.ts):
 * a method Node's parser knows goes to an internal, never-listening `http.Server` (fast C parser,
 * which reads the TLS stream natively, keep-alive, pipelining, chunked both ways); any other (RPC
 * over HTTP's RPC_IN_DATA / RPC_OUT_DATA) goes to the door's own HTTP/1.1 handling (own-http.ts)
 * for the whole connection. A later request Node refuses for its method (HPE_INVALID_METHOD) is
 * taken over the same way: once the requests before it are answered, the door detaches Node's
 * parser and serves the rest of the connection itself, starting at that request's first byte.
 * Both hand the same HttpRequest / HttpResponse to the router.
 *
 * The hot path (a keep-alive request with remembered credentials) runs synchronously from Node's
 * parser callback to the write of the answer: no promise, no timer created per request.
 *
 * Node's `requestTimeout` is 0: limits are per route (body size, inactivity, total duration,
 * router.ts), so a MAPI NotificationWait or an ActiveSync Ping can stay open for minutes while a
 * stalled AutoDiscover POST is answered 408. The head of each request has its own deadline.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { classifyRequestStart, requestStartAt } from './request-line.js';
import { OwnHttpConnection } from './own-http.js';
import { nodeRequest, NodeResponse, type ConnectionInfo } from './node-http.js';
import { plainAddress } from './address-allow.js';
import { sendText, type HttpRequest, type HttpResponse, type ListenerKind } from './exchange.js';
import { Router, type Route, type RouteContext, type RouteLimits } from './router.js';
import type { HttpAuth } from './http-auth.js';
import type { UserRecord } from '../../storage/directory-store.js';
import type { DoorMetrics } from './door-metrics.js';
import { GOODBYE_LINGER_MS } from './limits.js';

export interface HttpDoorOptions {
  log: Logger;
  routes: readonly Route[];
  auth: HttpAuth;
  metrics: DoorMetrics;
  /** A request head must arrive within this long of the connection (or the previous answer). */
  headerTimeoutMs: number;
  /** Idle time allowed between requests on a connection. */
  keepAliveMs: number;
  maxHeaderBytes: number;
  /** Limits of routes that declare none. */
  defaults: RouteLimits;
  /** Base URL of the HTTPS service (no trailing slash), for redirects from plain HTTP. */
  httpsBase: string;
  /** server.allow_plaintext_auth: every route is served on plain HTTP too. */
  allowPlaintext: boolean;
  /** One log line per request (info). */
  accessLog: boolean;
}

interface ConnState extends ConnectionInfo {
  /** Requests of this connection being answered (Node pipelines). */
  inFlight: number;
  /** Deadline of the first request head. */
  headTimer: NodeJS.Timeout | null;
  /** Deadline of each later head (keep-alive + head time), re-armed with refresh() after every answer. */
  nextHeadTimer: NodeJS.Timeout | null;
  /** Whether nextHeadTimer counts: no request since the last answer. */
  waitingForHead: boolean;
  /** A pipelined request Node refused while earlier ones were being answered: said after them. */
  goodbye: { status: number; reason: string } | null;
  /** Listeners Node's http.Server put on the socket (removed when the door takes the connection over). */
  nodeListeners: [string, ((...args: unknown[]) => void)[]][] | null;
  /** The last request Node parsed had a Content-Length body (what precedes the next one can be any byte). */
  lastHadBody: boolean;
  /** A refused method being taken over: its bytes and those read since, until Node's answers are out. */
  takeover: { chunks: Buffer[]; bytes: number; collect: (chunk: Buffer) => void } | null;
}

/** Events Node's http.Server listens to on each connection. */
const NODE_SOCKET_EVENTS = ['data', 'end', 'close', 'drain', 'error', 'timeout', 'resume', 'pause'];

/** What Node's parser leaves on a socket (node:_http_server, undocumented but stable since Node 0.x). */
interface NodeParsedSocket extends Socket {
  parser?: { _consumed?: boolean; unconsume?(): void; remove?(): void; close?(): void; socket?: unknown } | null;
}

/** One request being answered, for its counters and access log line. */
interface Exchange {
  req: HttpRequest;
  res: HttpResponse;
  t0: number;
  routeName: string;
  login: string | null;
}

export class HttpDoor {
  readonly router: Router;
  private readonly limits = new WeakMap<Route, RouteLimits>();
  private readonly server: Server;
  private readonly conns = new WeakMap<Socket, ConnState>();
  private readonly log: Logger;

  constructor(private readonly opts: HttpDoorOptions) {
    this.router = new Router(opts.routes);
    this.log = opts.log.child({ door: 'http' });
    this.server = createServer(
      // requestTimeout 0: per-route limits instead (see the file comment).
      { requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: opts.keepAliveMs, maxHeaderSize: opts.maxHeaderBytes },
      (req, res) => this.onNodeRequest(req, res),
    );
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
    this.server.on('connect', (_req: IncomingMessage, socket: Socket) => this.goodbye(socket, 405, 'CONNECT is not served here'));
  }

  /** Takes an accepted connection (TLS already terminated on the https listener). */
  handleConnection(socket: Socket, listener: ListenerKind): void {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    const m = this.opts.metrics;
    m.opened(listener);
    socket.once('close', () => m.closed(listener));
    const state: ConnState = {
      listener,
      secure: listener === 'https',
      remoteAddress: plainAddress(socket.remoteAddress),
      inFlight: 0,
      headTimer: null,
      nextHeadTimer: null,
      waitingForHead: false,
      goodbye: null,
      nodeListeners: null,
      lastHadBody: false,
      takeover: null,
    };
    this.conns.set(socket, state);
    state.headTimer = setTimeout(() => {
      state.headTimer = null;
      if (state.inFlight === 0) socket.destroy();
    }, this.opts.headerTimeoutMs).unref();
    socket.once('close', () => this.clearHeadDeadline(state));
    let buf: Buffer | null = null;
    const onData = (chunk: Buffer) => {
      buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
      const start = classifyRequestStart(buf);
      if (start.kind === 'need-more') return;
      socket.off('data', onData);
      socket.pause();
      if (start.kind === 'invalid') return this.goodbye(socket, 400, start.reason);
      if (start.standard) {
        // Node's parser reads the connection from its first byte: give the peeked bytes back.
        // (It still consumes the stream natively from the next read on: measured, no cost per request.)
        socket.unshift(buf);
        const before = NODE_SOCKET_EVENTS.map((e) => socket.listenerCount(e));
        this.server.emit('connection', socket);
        state.nodeListeners = [];
        NODE_SOCKET_EVENTS.forEach((e, i) => {
          const added = socket.listeners(e).slice(before[i]) as ((...args: unknown[]) => void)[];
          if (added.length > 0) state.nodeListeners!.push([e, added]);
        });
        socket.resume();
        return;
      }
      this.startOwn(socket, state, buf);
      socket.resume();
    };
    socket.on('data', onData);
  }

  /** The door's own HTTP/1.1 handling serves the connection from `buf` (its bytes not yet parsed) on. */
  private startOwn(socket: Socket, state: ConnState, buf: Buffer): void {
    this.clearHeadDeadline(state);
    this.opts.metrics.ownParserConnections++;
    new OwnHttpConnection(socket, buf, {
      listener: state.listener,
      secure: state.secure,
      remoteAddress: state.remoteAddress,
      maxHeaderBytes: this.opts.maxHeaderBytes,
      headerTimeoutMs: this.opts.headerTimeoutMs,
      keepAliveMs: this.opts.keepAliveMs,
      dispatch: (req, res) => this.dispatch(req, res),
      onRefused: (status, reason) => this.refused(state, status, reason),
    });
  }

  // ---------------------------------------------------------------- Node's parser

  private onNodeRequest(req: IncomingMessage, res: ServerResponse): void {
    const state = this.conns.get(req.socket);
    if (state === undefined) {
      res.destroy();
      return;
    }
    if (state.headTimer !== null) this.clearHeadDeadline(state);
    state.waitingForHead = false;
    state.inFlight++;
    const length = req.headers['content-length'];
    state.lastHadBody = length !== undefined && req.headers['transfer-encoding'] === undefined && Number(length) > 0;
    const response = new NodeResponse(res);
    response.onClose(() => this.nodeAnswered(req.socket, state));
    this.dispatch(nodeRequest(req, state), response);
  }

  /** One of Node's exchanges on the connection is over. */
  private nodeAnswered(socket: Socket, state: ConnState): void {
    if (--state.inFlight > 0) return;
    if (state.takeover !== null) return this.completeTakeover(socket, state);
    if (state.goodbye !== null) return this.goodbye(socket, state.goodbye.status, state.goodbye.reason);
    if (socket.destroyed) return;
    // The next request head must come within keep-alive + head time (Node closes idle sockets
    // itself at keep-alive, but a head trickling in keeps it open): one timer per connection.
    state.waitingForHead = true;
    if (state.nextHeadTimer !== null) state.nextHeadTimer.refresh();
    else {
      state.nextHeadTimer = setTimeout(() => {
        if (state.waitingForHead && state.inFlight === 0) socket.destroy();
      }, this.opts.keepAliveMs + this.opts.headerTimeoutMs).unref();
    }
  }

  private onClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number }, socket: Socket): void {
    const state = this.conns.get(socket);
    if (state?.takeover != null) {
      // Bytes Node's parser still saw after the refusal (it answers them with the same error).
      if (Buffer.isBuffer(err.rawPacket)) state.takeover.collect(err.rawPacket);
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'ECONNRESET' ? 0 : 400;
    if (status === 0 || !socket.writable) {
      socket.destroy();
      return;
    }
    let reason = err.code ?? 'malformed request';
    if (err.code === 'HPE_INVALID_METHOD' && state !== undefined && Buffer.isBuffer(err.rawPacket)) {
      // A method Node's parser does not know (RPC_IN_DATA...) after requests it served: the door
      // serves the rest of the connection, from that request's first byte.
      const start = requestStartAt(err.rawPacket, err.bytesParsed ?? -1, state.lastHadBody);
      if (start !== null) return this.beginTakeover(socket as NodeParsedSocket, state, err.rawPacket.subarray(start));
      reason = 'cannot tell where the request starts';
    }
    if (state !== undefined) {
      this.refused(state, status, reason);
      if (state.inFlight > 0) {
        state.goodbye = { status, reason };
        return;
      }
    }
    this.goodbye(socket, status, reason);
  }

  private clearHeadDeadline(state: ConnState): void {
    if (state.headTimer !== null) clearTimeout(state.headTimer);
    if (state.nextHeadTimer !== null) clearTimeout(state.nextHeadTimer);
    state.headTimer = state.nextHeadTimer = null;
    state.waitingForHead = false;
  }

  // ---------------------------------------------------------------- taking a connection over from Node

  /**
   * Node's parser refused a request for its method; `rest` holds that request's bytes and what
   * followed in the same read. From now on the connection's bytes are the door's: Node's parser
   * stops reading the stream, and once Node's answers to the earlier requests are out, the door's
   * own HTTP/1.1 handling serves the rest of the connection.
   */
  private beginTakeover(socket: NodeParsedSocket, state: ConnState, rest: Buffer): void {
    const t: NonNullable<ConnState['takeover']> = {
      chunks: [rest],
      bytes: rest.length,
      collect: (chunk: Buffer) => {
        t.chunks.push(chunk);
        t.bytes += chunk.length;
        // Pipelined bytes waiting for Node's answers: held, but not without bound.
        if (t.bytes > this.opts.maxHeaderBytes) socket.pause();
      },
    };
    state.takeover = t;
    this.clearHeadDeadline(state);
    // Node's listeners that read: the stream's bytes now come to the door ('data' is added through
    // Node's own wrapper, which stops its parser consuming the stream natively).
    for (const [event, fns] of state.nodeListeners ?? []) {
      if (event === 'data' || event === 'end' || event === 'timeout') for (const fn of fns) socket.removeListener(event, fn);
    }
    socket.on('data', t.collect);
    if (socket.parser?._consumed === true) {
      socket.parser.unconsume?.();
      socket.parser._consumed = false;
    }
    if (state.inFlight === 0) this.completeTakeover(socket, state);
  }

  /** Node's answers are out: detach its parser and hand the connection to the door's own handling. */
  private completeTakeover(socket: NodeParsedSocket, state: ConnState): void {
    const t = state.takeover!;
    socket.removeListener('data', t.collect);
    if (socket.destroyed || !socket.writable) {
      // An earlier request asked to close (Node is ending the connection): nothing more is served.
      socket.destroy();
      return;
    }
    for (const [event, fns] of state.nodeListeners ?? []) for (const fn of fns) socket.removeListener(event, fn);
    state.nodeListeners = null;
    // Node's per-connection overrides of the socket's methods (instance properties over the prototype's).
    const own = socket as unknown as Record<string, unknown>;
    for (const name of ['on', 'addListener', 'prependListener', 'setEncoding']) delete own[name];
    const parser = socket.parser;
    socket.parser = null;
    if (parser != null) {
      parser.socket = null;
      parser.remove?.();
      // Not from inside the parser's own callback (this may run in it).
      setImmediate(() => parser.close?.());
    }
    socket.setTimeout(0);
    this.startOwn(socket, state, t.chunks.length === 1 ? t.chunks[0]! : Buffer.concat(t.chunks, t.bytes));
    socket.resume();
  }

  private refused(state: ConnectionInfo, status: number, reason: string): void {
    this.opts.metrics.refuse(status);
    this.log.debug({ remote: state.remoteAddress, listener: state.listener, status, reason }, 'http request refused');
  }

  /** A short answer outside any exchange, then close. */
  private goodbye(socket: Socket, status: number, reason: string): void {
    const body = `${status} ${STATUS_CODES[status] ?? ''}: ${reason}\n`;
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    setTimeout(() => socket.destroy(), GOODBYE_LINGER_MS).unref();
  }

  // ---------------------------------------------------------------- routing

  dispatch(req: HttpRequest, res: HttpResponse): void {
    const t0 = performance.now();
    const m = this.opts.metrics;
    m.inFlight++;
    const ex: Exchange = { req, res, t0, routeName: '-', login: null };
    res.onClose(() => this.exchangeDone(ex));
    const match = this.router.match(req.path, req.method, req.secure || this.opts.allowPlaintext ? 'https' : 'http');
    switch (match.kind) {
      case 'none':
        return sendText(res, 404, `${req.path} is not served here.`);
      case 'method-not-allowed':
        return sendText(res, 405, `${req.method} is not allowed on ${req.path}.`, { allow: match.allow.join(', ') });
      case 'tls-only':
        ex.routeName = 'to-https';
        if (req.method === 'GET' || req.method === 'HEAD') return sendText(res, 302, 'Use HTTPS.', { location: `${this.opts.httpsBase}${req.url}` });
        return sendText(res, 403, 'This is served over HTTPS only.');
      case 'route':
        break;
    }
    const route = match.route;
    ex.routeName = route.name;
    const limits = this.limitsOf(route);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limits.maxBodyBytes) {
      return sendText(res, 413, `The request body is larger than ${limits.maxBodyBytes} bytes.`, { connection: 'close' });
    }
    let who: UserRecord | null | Promise<UserRecord | null> = null;
    if (route.auth !== 'none') {
      try {
        who = this.opts.auth.authenticate(req, res);
      } catch (err) {
        return this.fail(res, route, err);
      }
      if (who === null) return;
    }
    if (!(who instanceof Promise)) {
      // No password to check (remembered credentials, or none needed): the route runs now,
      // inside Node's parser callback, and an answer given at once needs no timer.
      if (who !== null) ex.login = who.address;
      this.run(route, req, res, limits, who);
      if (!res.ended) this.armLimits(res, limits);
      return;
    }
    this.armLimits(res, limits);
    who.then(
      (user) => {
        if (user === null) return;
        ex.login = user.address;
        this.run(route, req, res, limits, user);
      },
      (err: unknown) => this.fail(res, route, err),
    );
  }

  /** The route's inactivity and duration limits, from now. */
  private armLimits(res: HttpResponse, limits: RouteLimits): void {
    res.setIdleTimeout(limits.idleMs, () => this.expire(res));
    if (limits.maxDurationMs > 0) {
      const t = setTimeout(() => this.expire(res), limits.maxDurationMs);
      res.onClose(() => clearTimeout(t));
    }
  }

  /** A route's limits over the door's defaults (computed once per route). */
  private limitsOf(route: Route): RouteLimits {
    let l = this.limits.get(route);
    if (l === undefined) this.limits.set(route, (l = route.limits === undefined ? this.opts.defaults : { ...this.opts.defaults, ...route.limits }));
    return l;
  }

  /** Counters and the access log line of one exchange, when it is over. */
  private exchangeDone(ex: Exchange): void {
    const m = this.opts.metrics;
    m.inFlight--;
    const ms = performance.now() - ex.t0;
    const status = ex.res.ended ? ex.res.statusCode : 0;
    m.answered(ex.routeName, status, ms * 1000);
    if (this.opts.accessLog) {
      const req = ex.req;
      this.log.info(
        { remote: req.remoteAddress, listener: req.listener, parser: req.parser, method: req.method, path: req.path, route: ex.routeName, status, ms: Math.round(ms * 10) / 10, user: ex.login },
        'http request',
      );
    }
  }

  private run(route: Route, req: HttpRequest, res: HttpResponse, limits: RouteLimits, user: RouteContext['user']): void {
    const ctx: RouteContext = { req, res, route, user, limits, log: this.log, readBody: () => readBody(req, res, limits.maxBodyBytes) };
    try {
      const p = route.handle(ctx);
      if (p !== undefined) p.catch((err: unknown) => this.fail(res, route, err));
    } catch (err) {
      this.fail(res, route, err);
    }
  }

  /** A route's inactivity or duration limit passed. */
  private expire(res: HttpResponse): void {
    if (res.ended) return;
    if (!res.headersSent) sendText(res, 408, 'The request took too long.', { connection: 'close' });
    else res.destroy();
  }

  private fail(res: HttpResponse, route: Route, err: unknown): void {
    this.log.error({ err, route: route.name }, 'http route failed');
    if (!res.headersSent) sendText(res, 500, 'Internal error; the server log has the details.', { connection: 'close' });
    else res.destroy();
  }
}

/** Reads a whole request body up to `max` bytes; past it answers 413 (and closes) and gives null. */
export function readBody(req: HttpRequest, res: HttpResponse, max: number): Promise<Buffer | null> {
  // Events rather than for-await: leaving a for-await destroys the stream, and destroying Node's
  // IncomingMessage destroys the socket before the 413 could be written.
  return new Promise((resolve) => {
    const body = req.body;
    const chunks: Buffer[] = [];
    let n = 0;
    let done = false;
    const finish = (v: Buffer | null) => {
      if (done) return;
      done = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onGone);
      body.off('close', onGone);
      resolve(v);
    };
    const onData = (chunk: Buffer) => {
      n += chunk.length;
      if (n > max) {
        body.pause();
        if (!res.headersSent) sendText(res, 413, `The request body is larger than ${max} bytes.`, { connection: 'close' });
        return finish(null);
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n));
    // The client went away mid-body, or sent a malformed chunked body (answered by the parser).
    const onGone = () => finish(null);
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onGone);
    body.on('close', onGone);
  });
}
