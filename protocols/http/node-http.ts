/** Adapts Node's parsed requests (standard methods) to the door's HttpRequest / HttpResponse. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { HttpRequest, HttpResponse, ListenerKind, OutgoingHeaders } from './exchange.js';

export interface ConnectionInfo {
  listener: ListenerKind;
  secure: boolean;
  remoteAddress: string;
}

export function nodeRequest(req: IncomingMessage, conn: ConnectionInfo): HttpRequest {
  let url = req.url ?? '/';
  // absolute-form (RFC 9112 §3.2.2): keep path and query.
  if (url.charCodeAt(0) !== 0x2f && /^https?:\/\//i.test(url)) {
    const slash = url.indexOf('/', url.indexOf('//') + 2);
    url = slash < 0 ? '/' : url.slice(slash);
  }
  const q = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    url,
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    headers: req.headers,
    httpVersion: req.httpVersion,
    remoteAddress: conn.remoteAddress,
    listener: conn.listener,
    secure: conn.secure,
    parser: 'node',
    body: req,
  };
}

export class NodeResponse implements HttpResponse {
  private onIdle: (() => void) | null = null;
  private timeoutHooked = false;
  /** Runs on the response's 'close' (one listener for all of them). */
  private closeFns: (() => void)[] | null = null;

  constructor(readonly res: ServerResponse) {}

  get headersSent(): boolean {
    return this.res.headersSent;
  }
  get statusCode(): number {
    return this.res.headersSent ? this.res.statusCode : 0;
  }
  get ended(): boolean {
    return this.res.writableEnded;
  }
  writeHead(status: number, headers?: OutgoingHeaders): void {
    this.res.writeHead(status, headers as OutgoingHttpHeaders | undefined);
  }
  write(chunk: string | Uint8Array): boolean {
    return this.res.write(chunk);
  }
  end(chunk?: string | Uint8Array): void {
    if (chunk === undefined) this.res.end();
    else this.res.end(chunk);
  }
  onDrain(fn: () => void): void {
    this.res.once('drain', fn);
  }
  onClose(fn: () => void): void {
    if (this.res.closed) return fn();
    if (this.closeFns !== null) return void this.closeFns.push(fn);
    this.closeFns = [fn];
    this.res.once('close', () => {
      for (const f of this.closeFns!) f();
    });
  }
  setIdleTimeout(ms: number, onIdle: () => void): void {
    this.onIdle = ms > 0 ? onIdle : null;
    if (!this.timeoutHooked && ms > 0) {
      this.timeoutHooked = true;
      // While a listener is on the response, Node leaves the socket to us at a timeout.
      this.res.on('timeout', () => (this.onIdle !== null ? this.onIdle() : this.res.destroy()));
    }
    this.res.setTimeout(ms);
  }
  destroy(): void {
    this.res.destroy();
  }
}
