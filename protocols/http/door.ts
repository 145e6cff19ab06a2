/**
 * The HTTP door: one listener (HTTPS, and plain HTTP for redirects and autoconfig) carrying every
 * HTTP protocol through one router.
 *
 * Each accepted connection is classified by the method of its first request (request-line.ts):
 * a method Node's parser knows goes to an internal, never-listening `http.Server` (fast C parser,
 * keep-alive, pipelining, chunked both ways); any other (RPC over HTTP's RPC_IN_DATA /
 * RPC_OUT_DATA) goes to the door's own HTTP/1.1 handling (own-http.ts) for the whole connection.
 * Both hand the same HttpRequest / HttpResponse to the router.
 *
 * Node's `requestTimeout` is 0: limits are per route (body size, inactivity, total duration,
 * router.ts), so a MAPI NotificationWait or an ActiveSync Ping can stay open for minutes while a
 * stalled AutoDiscover POST is answered 408. The head of each request has its own deadline.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { classifyRequestStart } from './request-line.js';
import { OwnHttpConnection } from './own-http.js';
import { nodeRequest, NodeResponse, type ConnectionInfo } from './node-http.js';
import { plainAddress } from './address-allow.js';
import { header, sendText, type HttpRequest, type HttpResponse, type ListenerKind } from './exchange.js';
import { Router, type Route, type RouteContext, type RouteLimits } from './router.js';
import type { HttpAuth } from './http-auth.js';
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
  headTimer: NodeJS.Timeout | null;
  /** A pipelined request Node refused while earlier ones were being answered: said after them. */
  goodbye: { status: number; reason: string } | null;
}

export class HttpDoor {
  readonly router: Router;
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
    const state: ConnState = { listener, secure: listener === 'https', remoteAddress: plainAddress(socket.remoteAddress), inFlight: 0, headTimer: null, goodbye: null };
    this.conns.set(socket, state);
    this.armHeadDeadline(socket, state, this.opts.headerTimeoutMs);
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
        socket.unshift(buf);
        this.server.emit('connection', socket);
        socket.resume();
        return;
      }
      this.clearHeadDeadline(state);
      m.ownParserConnections++;
      new OwnHttpConnection(socket, buf, {
        listener,
        secure: state.secure,
        remoteAddress: state.remoteAddress,
        maxHeaderBytes: this.opts.maxHeaderBytes,
        headerTimeoutMs: this.opts.headerTimeoutMs,
        keepAliveMs: this.opts.keepAliveMs,
        dispatch: (req, res) => this.dispatch(req, res),
        onRefused: (status, reason) => this.refused(state, status, reason),
      });
      socket.resume();
    };
    socket.on('data', onData);
  }

  // ---------------------------------------------------------------- Node's parser

  private onNodeRequest(req: IncomingMessage, res: ServerResponse): void {
    const state = this.conns.get(req.socket);
    if (state === undefined) {
      res.destroy();
      return;
    }
    this.clearHeadDeadline(state);
    state.inFlight++;
    res.once('close', () => {
      state.inFlight--;
      if (state.inFlight === 0 && state.goodbye !== null) return this.goodbye(req.socket, state.goodbye.status, state.goodbye.reason);
      // The next request head must come within keep-alive + head time (Node closes idle sockets itself at keep-alive).
      if (state.inFlight === 0 && !req.socket.destroyed) this.armHeadDeadline(req.socket, state, this.opts.keepAliveMs + this.opts.headerTimeoutMs);
    });
    this.dispatch(nodeRequest(req, state), new NodeResponse(res));
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const state = this.conns.get(socket);
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_INVALID_METHOD' ? 501 : err.code === 'ECONNRESET' ? 0 : 400;
    if (status === 0 || !socket.writable) {
      socket.destroy();
      return;
    }
    // A later request on a Node-parsed connection with a non-standard method lands here (501):
    // such methods are served on connections that start with them (as RPC over HTTP's do).
    const reason = err.code === 'HPE_INVALID_METHOD' ? 'this method must be the first request of its connection' : (err.code ?? 'malformed request');
    if (state !== undefined) {
      this.refused(state, status, reason);
      if (state.inFlight > 0) {
        state.goodbye = { status, reason };
        return;
      }
    }
    this.goodbye(socket, status, reason);
  }

  private armHeadDeadline(socket: Socket, state: ConnState, ms: number): void {
    this.clearHeadDeadline(state);
    state.headTimer = setTimeout(() => {
      state.headTimer = null;
      if (state.inFlight === 0) socket.destroy();
    }, ms);
    state.headTimer.unref();
  }

  private clearHeadDeadline(state: ConnState): void {
    if (state.headTimer !== null) clearTimeout(state.headTimer);
    state.headTimer = null;
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
    let routeName = '-';
    let login: string | null = null;
    res.onClose(() => {
      m.inFlight--;
      const ms = performance.now() - t0;
      const status = res.ended ? res.statusCode : 0;
      m.answered(routeName, status, ms * 1000);
      if (this.opts.accessLog) {
        this.log.info(
          { remote: req.remoteAddress, listener: req.listener, parser: req.parser, method: req.method, path: req.path, route: routeName, status, ms: Math.round(ms * 10) / 10, user: login },
          'http request',
        );
      }
    });
    const match = this.router.match(req.path, req.method, req.secure || this.opts.allowPlaintext ? 'https' : 'http');
    switch (match.kind) {
      case 'none':
        return sendText(res, 404, `${req.path} is not served here.`);
      case 'method-not-allowed':
        return sendText(res, 405, `${req.method} is not allowed on ${req.path}.`, { allow: match.allow.join(', ') });
      case 'tls-only':
        routeName = 'to-https';
        if (req.method === 'GET' || req.method === 'HEAD') return sendText(res, 302, 'Use HTTPS.', { location: `${this.opts.httpsBase}${req.url}` });
        return sendText(res, 403, 'This is served over HTTPS only.');
      case 'route':
        break;
    }
    const route = match.route;
    routeName = route.name;
    const limits: RouteLimits = route.limits === undefined ? this.opts.defaults : { ...this.opts.defaults, ...route.limits };
    const declared = header(req, 'content-length');
    if (declared !== undefined && Number(declared) > limits.maxBodyBytes) {
      return sendText(res, 413, `The request body is larger than ${limits.maxBodyBytes} bytes.`, { connection: 'close' });
    }
    const expire = () => this.expire(res);
    res.setIdleTimeout(limits.idleMs, expire);
    if (limits.maxDurationMs > 0) {
      const t = setTimeout(expire, limits.maxDurationMs);
      res.onClose(() => clearTimeout(t));
    }
    if (route.auth === 'none') return this.run(route, req, res, limits, null);
    this.opts.auth.authenticate(req, res).then(
      (user) => {
        if (user === null) return;
        login = user.address;
        this.run(route, req, res, limits, user);
      },
      (err: unknown) => this.fail(res, route, err),
    );
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
