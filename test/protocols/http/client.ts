/** Test clients for the HTTP door: raw bytes over TCP / TLS, and a small HTTP/1.1 response reader. */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ChunkedDecoder } from '../../../protocols/http/chunked.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function open(port: number, tls: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s)) : tcpConnect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads HTTP/1.1 responses off a socket as they complete (HEAD answers: pass their count in `headless`). */
export class ResponseReader {
  private buf = Buffer.alloc(0);
  private readonly got: RawResponse[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.parse();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private parse(): void {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0]!.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
      }
      let rest = this.buf.subarray(end + 4);
      if (status === 100) {
        this.buf = rest;
        continue;
      }
      let body: Buffer;
      if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        if (rest.length < n) return;
        body = rest.subarray(0, n);
        rest = rest.subarray(n);
      } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        const parts: Buffer[] = [];
        const d = new ChunkedDecoder();
        const r = d.feed(rest, (x) => parts.push(Buffer.from(x)));
        if (r.error !== undefined) throw new Error(r.error);
        if (!r.done) return;
        body = Buffer.concat(parts);
        rest = rest.subarray(r.used);
      } else {
        body = Buffer.alloc(0);
      }
      this.buf = rest;
      this.got.push({ status, headers, body });
      this.wake();
    }
  }

  /** Waits for the n-th response (1-based) or the socket's close. */
  async responses(n: number, timeoutMs = 10_000): Promise<RawResponse[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.got.length < n && !this.closed) {
      if (Date.now() > deadline) throw new Error(`only ${this.got.length} of ${n} responses`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.got.slice(0, n);
  }

  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }
}

export function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`, 'utf8').toString('base64')}`;
}

/** One request on its own connection; resolves with the (first) response. */
export async function once(port: number, tls: boolean, raw: string | Buffer): Promise<RawResponse & { closed: boolean }> {
  const s = await open(port, tls);
  const r = new ResponseReader(s);
  s.write(raw);
  const [res] = await r.responses(1);
  const closed = await r.closedWithin(50);
  s.destroy();
  if (res === undefined) throw new Error('no response before the connection closed');
  return { ...res, closed };
}
