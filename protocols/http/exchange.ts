/**
 * One HTTP request and its response as every route sees them, whichever parser read the request
 * (Node's for standard methods, the door's own HTTP/1.1 handling for the rest, see
 * request-line.ts). Routes never touch Node's IncomingMessage / ServerResponse directly, so RPC
 * over HTTP, ActiveSync, DAV and the admin API plug into the same router either way.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export type ListenerKind = 'http' | 'https';

export type OutgoingHeaders = Record<string, string | number | readonly string[]>;

export interface HttpRequest {
  readonly method: string;
  /** The request-target as sent (origin-form: path and query). */
  readonly url: string;
  /** The path of the target, before any '?', as sent (not percent-decoded). */
  readonly path: string;
  /** The query of the target without the '?', as sent ('' when none). */
  readonly query: string;
  /** Header fields, names in lower case (Node's shape: repeated fields joined or listed). */
  readonly headers: IncomingHttpHeaders;
  /** '1.0' or '1.1'. */
  readonly httpVersion: string;
  readonly remoteAddress: string;
  readonly listener: ListenerKind;
  /** True on the TLS listener. */
  readonly secure: boolean;
  /** Which parser read the request: Node's, or the door's own (non-standard methods). */
  readonly parser: 'node' | 'own';
  /** The request body (empty when there is none). Consume it or leave it: the door drains or closes. */
  readonly body: Readable;
}

export interface HttpResponse {
  readonly headersSent: boolean;
  /** The status written (0 before writeHead). */
  readonly statusCode: number;
  /** True once end() was called. */
  readonly ended: boolean;
  writeHead(status: number, headers?: OutgoingHeaders): void;
  /** Writes body bytes; false means the socket is full: wait for onDrain. */
  write(chunk: string | Uint8Array): boolean;
  end(chunk?: string | Uint8Array): void;
  onDrain(fn: () => void): void;
  /** Runs once when the exchange is over: response finished, or the connection closed first. */
  onClose(fn: () => void): void;
  /**
   * Arms (or re-arms) the exchange's inactivity limit: when no byte moves either way for `ms`,
   * `onIdle` runs (the door answers 408 if nothing was sent yet, else closes). 0 disarms.
   */
  setIdleTimeout(ms: number, onIdle: () => void): void;
  /** Closes the connection at once (after a protocol error or a timeout mid-response). */
  destroy(): void;
}

/**
 * Answers with a complete body (text, XML, JSON: the usual case). A string body stays a string:
 * Node then writes head and body as one buffer, so TLS seals one record per answer instead of two
 * (measured: the per-answer TLS write was a third of the door's CPU before).
 */
export function send(res: HttpResponse, status: number, headers: OutgoingHeaders, body: string | Uint8Array, head = false): void {
  res.writeHead(status, { ...headers, 'content-length': typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength });
  res.end(head ? undefined : body);
}

/** A short plain-text answer, for errors and refusals. */
export function sendText(res: HttpResponse, status: number, text: string, headers?: OutgoingHeaders): void {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  const h: OutgoingHeaders = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };
  if (headers !== undefined) Object.assign(h, headers);
  h['content-length'] = Buffer.byteLength(body, 'utf8');
  res.writeHead(status, h);
  res.end(body);
}

/** The first value of a header (Node lists some repeated fields). */
export function header(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
