/**
 * The door's own HTTP/1.1 handling (RFC 9112), for connections whose first request uses a method
 * Node's parser rejects (RPC over HTTP's RPC_IN_DATA / RPC_OUT_DATA), and for the rest of a
 * connection Node's parser served until such a method came (door.ts takes it over). It serves
 * every request on such a connection, one at a time (pipelined requests wait in the buffer), with any method:
 * request line and header fields with limits, Content-Length and chunked bodies streamed with
 * back-pressure, `Expect: 100-continue`, responses framed by Content-Length, chunked (HTTP/1.1)
 * or close, keep-alive. Framing errors answer 400 / 413 / 431 / 501 / 505 and close.
 *
 * Not a hot path for AutoDiscover or MAPI (Node's parser serves those); RPC over HTTP holds
 * two long connections per client, so this costs per byte, not per request.
 */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { ChunkedDecoder, chunkHeader } from './chunked.js';
import { TCHAR } from './request-line.js';
import { GOODBYE_LINGER_MS, MAX_DRAIN_BYTES, MAX_HEADER_FIELDS, MAX_TARGET_BYTES } from './limits.js';
import type { HttpRequest, HttpResponse, ListenerKind, OutgoingHeaders } from './exchange.js';

export interface OwnHttpOptions {
  listener: ListenerKind;
  secure: boolean;
  remoteAddress: string;
  /** Largest request head (request line + fields), bytes. */
  maxHeaderBytes: number;
  /** A request head must be complete this long after its first byte (or after the connection opened). */
  headerTimeoutMs: number;
  /** Idle time allowed between requests. */
  keepAliveMs: number;
  dispatch(req: HttpRequest, res: HttpResponse): void;
  /** A request the door refused before any route saw it (for counters and logs). */
  onRefused(status: number, reason: string): void;
}

/** 2^53 - 1: larger Content-Length values are refused. */
const MAX_CONTENT_LENGTH = Number.MAX_SAFE_INTEGER;

let cachedDate = '';
let cachedDateAt = 0;
function httpDate(): string {
  const now = Date.now();
  if (now - cachedDateAt >= 1000) {
    cachedDate = new Date(now).toUTCString();
    cachedDateAt = now - (now % 1000);
  }
  return cachedDate;
}

type Framing = { kind: 'none' } | { kind: 'length'; remaining: number } | { kind: 'chunked'; decoder: ChunkedDecoder };

export class OwnHttpConnection {
  private buf: Buffer | null;
  /** Where the head search resumes (bytes of buf already known to hold no head end). */
  private scanned = 0;
  private phase: 'head' | 'exchange' | 'closed' = 'head';
  private current: OwnExchange | null = null;
  /** Deadline for the request head being read (armed when its first byte is buffered). */
  private headTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly socket: Socket,
    initial: Buffer,
    private readonly opts: OwnHttpOptions,
  ) {
    this.buf = initial.length > 0 ? initial : null;
    this.armHeadTimer();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.onSocketClose());
    socket.on('error', () => undefined);
    socket.on('timeout', () => this.onSocketTimeout());
    socket.setTimeout(0);
    if (this.buf !== null) this.parseHeads();
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'exchange' && this.current !== null && !this.current.bodyDone) {
      const used = this.current.feedBody(chunk);
      if (used < 0 || used === chunk.length) return;
      chunk = chunk.subarray(used);
    }
    if (this.buf === null && this.phase === 'head') this.armHeadTimer();
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.phase === 'head') this.parseHeads();
    // A pipelined request waiting for the current response: hold the bytes, but not without bound.
    else if (this.buf.length > this.opts.maxHeaderBytes) this.socket.pause();
  }

  /** Parses the next request head from the buffer, if complete, and dispatches it. */
  private parseHeads(): void {
    while (this.phase === 'head' && this.buf !== null) {
      const buf = this.buf;
      const end = findHeadEnd(buf, this.scanned);
      if (end === null) {
        if (buf.length > this.opts.maxHeaderBytes) return this.refuse(431, 'request header fields too large');
        this.scanned = Math.max(0, buf.length - 3);
        return;
      }
      if (end.bodyStart > this.opts.maxHeaderBytes) return this.refuse(431, 'request header fields too large');
      this.scanned = 0;
      const head = parseHead(buf.subarray(0, end.headEnd));
      const rest = buf.subarray(end.bodyStart);
      this.buf = rest.length > 0 ? rest : null;
      if ('error' in head) return this.refuse(head.status, head.error);
      this.startExchange(head);
    }
  }

  private armHeadTimer(): void {
    this.clearHeadTimer();
    this.headTimer = setTimeout(() => this.headTimeout(), this.opts.headerTimeoutMs);
    this.headTimer.unref();
  }

  private clearHeadTimer(): void {
    if (this.headTimer !== null) clearTimeout(this.headTimer);
    this.headTimer = null;
  }

  private startExchange(head: ParsedHead): void {
    this.clearHeadTimer();
    this.socket.setTimeout(0);
    this.phase = 'exchange';
    const ex = new OwnExchange(this, head, this.opts);
    this.current = ex;
    // Body bytes already buffered behind the head.
    if (this.buf !== null && !ex.bodyDone) {
      const pending = this.buf;
      this.buf = null;
      const used = ex.feedBody(pending);
      if (used >= 0 && used < pending.length) this.buf = pending.subarray(used);
    }
    this.opts.dispatch(ex.req, ex);
  }

  /** Called by the exchange when its response is written and its body consumed (or drained). */
  exchangeDone(keepAlive: boolean): void {
    this.current = null;
    if (!keepAlive || this.phase === 'closed') return this.close();
    this.phase = 'head';
    this.socket.setTimeout(this.opts.keepAliveMs);
    this.socket.resume();
    if (this.buf !== null) {
      this.armHeadTimer();
      this.parseHeads();
    }
  }

  /** Refuses a request the door cannot parse: a short answer, then close. */
  refuse(status: number, reason: string): void {
    this.opts.onRefused(status, reason);
    this.phase = 'closed';
    this.clearHeadTimer();
    const body = `${status} ${STATUS_CODES[status] ?? ''}: ${reason}\n`;
    this.socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nDate: ${httpDate()}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    setTimeout(() => this.socket.destroy(), GOODBYE_LINGER_MS).unref();
  }

  close(): void {
    if (this.phase === 'closed' && this.socket.destroyed) return;
    this.phase = 'closed';
    this.clearHeadTimer();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), GOODBYE_LINGER_MS).unref();
  }

  private headTimeout(): void {
    if (this.phase !== 'head') return;
    if (this.buf === null) return this.close(); // idle between requests: just close
    this.refuse(408, 'the request head did not arrive in time');
  }

  private onSocketTimeout(): void {
    if (this.phase === 'head') {
      if (this.buf === null) this.close();
      return;
    }
    this.current?.idle();
  }

  private onSocketClose(): void {
    this.phase = 'closed';
    this.clearHeadTimer();
    this.current?.socketClosed();
    this.current = null;
  }
}

// ---------------------------------------------------------------- one exchange

class OwnExchange implements HttpResponse {
  readonly req: HttpRequest;
  private readonly body: Readable;
  private readonly framing: Framing;
  bodyDone: boolean;
  private bodyBytes = 0;
  private draining = false;
  private drained = 0;
  private continueSent = false;
  statusCode = 0;
  headersSent = false;
  ended = false;
  private closed = false;
  private keepAlive: boolean;
  private out: { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'close' } | { kind: 'none' } = { kind: 'none' };
  private readonly closeFns: (() => void)[] = [];
  private onIdle: (() => void) | null = null;
  private pendingHead: string | null = null;

  constructor(
    private readonly conn: OwnHttpConnection,
    private readonly head: ParsedHead,
    opts: OwnHttpOptions,
  ) {
    this.framing = head.framing;
    this.bodyDone = head.framing.kind === 'none';
    this.keepAlive = head.keepAlive;
    this.body = new Readable({ read: () => this.bodyWanted() });
    if (this.bodyDone) this.body.push(null);
    const q = head.target.indexOf('?');
    this.req = {
      method: head.method,
      url: head.target,
      path: q < 0 ? head.target : head.target.slice(0, q),
      query: q < 0 ? '' : head.target.slice(q + 1),
      headers: head.headers,
      httpVersion: head.version,
      remoteAddress: opts.remoteAddress,
      listener: opts.listener,
      secure: opts.secure,
      parser: 'own',
      body: this.body,
    };
  }

  /** Feeds body bytes; returns how many were used (the rest belongs to the next request), or -1 after an error. */
  feedBody(chunk: Buffer): number {
    if (this.framing.kind === 'length') {
      const n = Math.min(chunk.length, this.framing.remaining);
      this.framing.remaining -= n;
      this.deliver(chunk.subarray(0, n));
      if (this.framing.remaining === 0) this.finishBody();
      return n;
    }
    if (this.framing.kind === 'chunked') {
      const r = this.framing.decoder.feed(chunk, (data) => this.deliver(data));
      if (r.error !== undefined) {
        this.bodyError(r.error);
        return -1;
      }
      if (r.done) this.finishBody();
      return r.used;
    }
    return 0;
  }

  private deliver(data: Uint8Array): void {
    if (data.length === 0) return;
    this.bodyBytes += data.length;
    if (this.draining) {
      this.drained += data.length;
      if (this.drained > MAX_DRAIN_BYTES) {
        this.keepAlive = false;
        this.conn.close();
      }
      return;
    }
    if (!this.body.push(data)) this.conn.socket.pause();
  }

  private finishBody(): void {
    this.bodyDone = true;
    if (!this.draining) this.body.push(null);
    this.maybeDone();
  }

  private bodyError(reason: string): void {
    this.body.destroy(new Error(`bad request body: ${reason}`));
    if (!this.headersSent) {
      this.keepAlive = false;
      const text = `400 Bad Request: ${reason}\n`;
      this.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' });
      this.end(text);
    } else this.destroy();
  }

  private bodyWanted(): void {
    if (!this.continueSent && !this.headersSent && /100-continue/i.test(String(this.head.headers.expect ?? ''))) {
      this.continueSent = true;
      this.conn.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
    this.conn.socket.resume();
  }

  // ---- HttpResponse

  writeHead(status: number, headers: OutgoingHeaders = {}): void {
    if (this.headersSent) throw new Error('headers already sent');
    this.statusCode = status;
    this.headersSent = true;
    let lines = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\nDate: ${httpDate()}\r\n`;
    let length: number | null = null;
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') length = Number(value);
      if (lower === 'connection') {
        if (/\bclose\b/i.test(String(value))) this.keepAlive = false;
        continue;
      }
      if (lower === 'transfer-encoding' || lower === 'date' || lower === 'keep-alive') continue;
      for (const v of Array.isArray(value) ? value : [value]) {
        const s = String(v);
        if (/[\r\n\0]/.test(s)) throw new Error(`bad header value for ${name}`);
        lines += `${name}: ${s}\r\n`;
      }
    }
    const noBody = this.req.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (noBody) this.out = { kind: 'none' };
    else if (length !== null) this.out = { kind: 'length', remaining: length };
    else if (this.head.version === '1.1') {
      this.out = { kind: 'chunked' };
      lines += 'Transfer-Encoding: chunked\r\n';
    } else {
      this.out = { kind: 'close' };
      this.keepAlive = false;
    }
    lines += this.keepAlive ? 'Connection: keep-alive\r\n' : 'Connection: close\r\n';
    // Held until the first body bytes (or the end), so head and body leave in one write.
    this.pendingHead = lines + '\r\n';
  }

  private flushHead(): void {
    if (this.pendingHead === null) return;
    this.conn.socket.write(this.pendingHead, 'latin1');
    this.pendingHead = null;
  }

  write(chunk: string | Uint8Array): boolean {
    if (!this.headersSent) this.writeHead(200);
    if (this.ended) throw new Error('write after end');
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (data.length === 0) return true;
    const s = this.conn.socket;
    s.cork();
    process.nextTick(() => s.uncork());
    this.flushHead();
    switch (this.out.kind) {
      case 'none':
        return true;
      case 'length':
        if (data.length > this.out.remaining) {
          this.destroy();
          throw new Error('response body longer than its Content-Length');
        }
        this.out.remaining -= data.length;
        return s.write(data);
      case 'chunked': {
        s.cork();
        s.write(chunkHeader(data.length));
        s.write(data);
        const ok = s.write('\r\n');
        s.uncork();
        return ok;
      }
      case 'close':
        return s.write(data);
    }
  }

  end(chunk?: string | Uint8Array): void {
    if (this.ended) return;
    if (chunk !== undefined) this.write(chunk);
    else if (!this.headersSent) this.writeHead(200, { 'content-length': 0 });
    this.ended = true;
    this.flushHead();
    if (this.out.kind === 'chunked') this.conn.socket.write('0\r\n\r\n');
    if (this.out.kind === 'length' && this.out.remaining > 0) this.keepAlive = false; // short body: the framing is broken
    this.conn.socket.setTimeout(0);
    if (!this.bodyDone) {
      // The route did not read the whole body: discard a little of it to keep the connection, or close.
      const left = this.framing.kind === 'length' ? this.framing.remaining : 0;
      if (left > MAX_DRAIN_BYTES) this.keepAlive = false;
      else {
        this.draining = true;
        this.body.destroy();
        this.conn.socket.resume();
      }
    }
    this.maybeDone();
  }

  private maybeDone(): void {
    if (!this.ended || this.closed) return;
    if (!this.bodyDone && this.keepAlive) return; // still draining
    this.closed = true;
    for (const fn of this.closeFns.splice(0)) fn();
    this.conn.exchangeDone(this.keepAlive && this.out.kind !== 'close');
  }

  onDrain(fn: () => void): void {
    this.conn.socket.once('drain', fn);
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeFns.push(fn);
  }

  setIdleTimeout(ms: number, onIdle: () => void): void {
    this.onIdle = ms > 0 ? onIdle : null;
    this.conn.socket.setTimeout(ms);
  }

  idle(): void {
    const fn = this.onIdle;
    this.onIdle = null;
    if (fn !== null) fn();
    else this.destroy();
  }

  destroy(): void {
    this.keepAlive = false;
    this.conn.socket.destroy();
  }

  socketClosed(): void {
    if (!this.bodyDone) this.body.destroy(new Error('connection closed'));
    if (this.closed) return;
    this.closed = true;
    for (const fn of this.closeFns.splice(0)) fn();
  }
}

// ---------------------------------------------------------------- head parsing (pure)

interface ParsedHead {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  headers: IncomingHttpHeaders;
  framing: Framing;
  keepAlive: boolean;
}

/** Index of the end of the head (the empty line) in buf, searching from `from`; -1 if absent. */
export function findHeadEnd(buf: Buffer, from: number): { headEnd: number; bodyStart: number } | null {
  let i = buf.indexOf(0x0a, from);
  while (i >= 0) {
    // LF CR LF, or LF LF (bare LF line ends, RFC 9112 §2.2)
    if (buf[i + 1] === 0x0a) return { headEnd: i + 1, bodyStart: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { headEnd: i + 1, bodyStart: i + 3 };
    i = buf.indexOf(0x0a, i + 1);
  }
  return null;
}

/**
 *   request-line = method SP request-target SP HTTP-version
 *   field-line   = field-name ":" OWS field-value OWS
 * (RFC 9112 §3, §5). Whitespace before the colon and obsolete line folding are rejected (§5.1, §5.2).
 */
export function parseHead(raw: Buffer): ParsedHead | { status: number; error: string } {
  const text = raw.toString('latin1');
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  let first = 0;
  while (first < lines.length && lines[first] === '') first++;
  const line = lines[first] ?? '';
  const sp1 = line.indexOf(' ');
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) return { status: 400, error: 'malformed request line' };
  const method = line.slice(0, sp1);
  for (let i = 0; i < method.length; i++) if (TCHAR[method.charCodeAt(i)] !== 1) return { status: 400, error: 'the method is not a token' };
  let target = line.slice(sp1 + 1, sp2);
  const versionText = line.slice(sp2 + 1);
  if (target.length === 0 || target.length > MAX_TARGET_BYTES) return { status: target.length === 0 ? 400 : 414, error: 'bad request-target length' };
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return { status: 400, error: 'bad byte in the request-target' };
  }
  const vm = /^HTTP\/(\d)\.(\d)$/.exec(versionText);
  if (vm === null) return { status: 400, error: 'malformed HTTP version' };
  if (vm[1] !== '1') return { status: 505, error: 'only HTTP/1.x is served on this connection' };
  const version: '1.0' | '1.1' = vm[2] === '0' ? '1.0' : '1.1';
  // absolute-form (RFC 9112 §3.2.2): keep the path and query.
  if (/^https?:\/\//i.test(target)) {
    const slash = target.indexOf('/', target.indexOf('//') + 2);
    target = slash < 0 ? '/' : target.slice(slash);
  } else if (target !== '*' && target[0] !== '/') return { status: 400, error: 'unsupported request-target form' };

  const headers: IncomingHttpHeaders = {};
  let fields = 0;
  for (let i = first + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') break;
    if (++fields > MAX_HEADER_FIELDS) return { status: 431, error: 'too many header fields' };
    if (l[0] === ' ' || l[0] === '\t') return { status: 400, error: 'obsolete line folding' };
    const colon = l.indexOf(':');
    if (colon <= 0) return { status: 400, error: 'malformed header field' };
    const name = l.slice(0, colon).toLowerCase();
    for (let k = 0; k < name.length; k++) if (TCHAR[name.charCodeAt(k)] !== 1) return { status: 400, error: 'bad header field name' };
    const value = l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    for (let k = 0; k < value.length; k++) {
      const c = value.charCodeAt(k);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return { status: 400, error: 'control byte in a header field' };
    }
    const had = headers[name];
    if (had === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (name === 'host') return { status: 400, error: 'more than one Host' };
    else if (name === 'content-length') {
      if (had !== value) return { status: 400, error: 'conflicting Content-Length' };
    } else if (Array.isArray(had)) had.push(value);
    else headers[name] = `${had}, ${value}`;
  }
  if (version === '1.1' && headers.host === undefined) return { status: 400, error: 'HTTP/1.1 request without Host' };

  // Message body length (RFC 9112 §6.3).
  let framing: Framing = { kind: 'none' };
  const te = headers['transfer-encoding'] as string | undefined;
  const cl = headers['content-length'] as string | undefined;
  if (te !== undefined) {
    if (cl !== undefined) return { status: 400, error: 'both Transfer-Encoding and Content-Length' };
    if (version === '1.0') return { status: 400, error: 'Transfer-Encoding in an HTTP/1.0 request' };
    const codings = te.split(',').map((c) => c.trim().toLowerCase());
    if (codings[codings.length - 1] !== 'chunked') return { status: 400, error: 'the final transfer coding is not chunked' };
    if (codings.length > 1) return { status: 501, error: `transfer coding ${codings[0]} is not supported` };
    framing = { kind: 'chunked', decoder: new ChunkedDecoder() };
  } else if (cl !== undefined) {
    if (!/^\d{1,16}$/.test(cl) || Number(cl) > MAX_CONTENT_LENGTH) return { status: 400, error: 'bad Content-Length' };
    const n = Number(cl);
    if (n > 0) framing = { kind: 'length', remaining: n };
  }
  const conn = String(headers.connection ?? '').toLowerCase();
  const keepAlive = version === '1.1' ? !/\bclose\b/.test(conn) : /\bkeep-alive\b/.test(conn);
  return { method, target, version, headers, framing, keepAlive };
}
