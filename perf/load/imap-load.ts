/**
 * An IMAP load generator, run in a child process (so it never shares the server's event loop),
 * used by perf/bench/imap.ts against our door and against Dovecot alike:
 *
 * - `mix`: `clients` connections, each repeating a mail client's session back to back (LOGIN,
 *   SELECT INBOX, UID FETCH 1:* (UID FLAGS), a header FETCH of the newest 20, two body FETCHes,
 *   UID SEARCH UNSEEN, SEARCH SUBJECT, UID STORE \Seen, APPEND of a 4 KiB message, STORE
 *   \Deleted + EXPUNGE of it (the mailbox keeps its size), LOGOUT). Each command is one
 *   operation; reports operations/s and per-command latency. With `rate`, sessions start
 *   open-loop at that rate (each on a fresh connection) instead of back to back.
 * - `populate`: APPENDs `messages` messages to each user's INBOX.
 * - `idle`: opens `clients` connections, logs each in, and holds them until stdin closes
 *   (the idle-connection memory figure).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface ImapLoadOptions {
  mode: 'mix' | 'populate' | 'idle';
  host?: string;
  port: number;
  tls?: boolean;
  users: string[];
  password: string;
  clients: number;
  seconds: number;
  /** Open loop: sessions started per second (mix only). */
  rate?: number;
  messages?: number;
}

export interface ImapLoadResult {
  ops: number;
  sessions: number;
  failed: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  firstError: string | null;
  /** idle mode: connections held. */
  held?: number;
  /** Mean latency per command verb, ms (where the time goes). */
  perCommand?: Record<string, number>;
}

const perVerb = new Map<string, { n: number; ms: number }>();

function message(n: number): Buffer {
  const head = `From: Load Sender <sender${n % 7}@example.org>\r\nTo: user@example.test\r\nSubject: load message ${n} ${n % 5 === 0 ? 'invoice' : 'hello'}\r\nDate: Tue, 3 Mar 2020 12:00:00 +0000\r\nMessage-ID: <load-${n}-${Math.random().toString(36).slice(2)}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n`;
  let body = '';
  while (head.length + body.length < 4096) body += 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
  return Buffer.from(head + body, 'latin1');
}

/** Reads IMAP responses, literals included; resolves a command at its tagged line. */
class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { tag: string; resolve: (s: string) => void; reject: (e: Error) => void; lines: string[] } | null = null;
  private cont: (() => void) | null = null;
  private n = 0;
  private literalLeft = 0;
  private pendingLine = '';
  closed = false;
  constructor(readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('connection closed')));
  }
  private fail(e: Error): void {
    this.closed = true;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(e);
  }
  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, this.buf.length);
        this.buf = this.buf.subarray(take);
        this.literalLeft -= take;
        if (this.literalLeft > 0) return;
      }
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0) return;
      const line = this.buf.toString('latin1', 0, nl + 1);
      this.buf = this.buf.subarray(nl + 1);
      const lit = /\{(\d+)\}\r\n$/.exec(line);
      if (lit !== null) {
        this.pendingLine += line;
        this.literalLeft = Number(lit[1]);
        continue;
      }
      const full = this.pendingLine + line;
      this.pendingLine = '';
      if (full.startsWith('+') && this.cont !== null) {
        const c = this.cont;
        this.cont = null;
        c();
        continue;
      }
      const w = this.waiting;
      if (w === null) continue;
      w.lines.push(full);
      if (full.startsWith(`${w.tag} `)) {
        this.waiting = null;
        if (/^\S+ OK/.test(full)) w.resolve(w.lines.join(''));
        else w.reject(new Error(full.trim()));
      }
    }
  }
  greeting(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const nl = this.buf.indexOf(0x0a);
        if (nl >= 0) {
          this.buf = this.buf.subarray(nl + 1);
          this.sock.off('data', check);
          resolve();
        }
      };
      this.sock.on('data', check);
      this.sock.once('error', reject);
      check();
    });
  }
  cmd(text: string, literal?: Buffer): Promise<string> {
    const tag = `L${++this.n}`;
    return new Promise((resolve, reject) => {
      this.waiting = { tag, resolve, reject, lines: [] };
      if (literal === undefined) this.sock.write(`${tag} ${text}\r\n`);
      else {
        this.cont = () => this.sock.write(Buffer.concat([literal, Buffer.from('\r\n')]));
        this.sock.write(`${tag} ${text} {${literal.length}}\r\n`);
      }
    });
  }
}

async function open(o: ImapLoadOptions): Promise<Conn> {
  const sock = o.tls === true ? tlsConnect({ port: o.port, host: o.host ?? '127.0.0.1', rejectUnauthorized: false }) : tcpConnect({ port: o.port, host: o.host ?? '127.0.0.1' });
  const c = new Conn(sock);
  // The greeting is consumed by the line reader; an empty waiter swallows it.
  await new Promise<void>((resolve, reject) => {
    sock.once(o.tls === true ? 'secureConnect' : 'connect', () => resolve());
    sock.once('error', reject);
  });
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  return c;
}

/** Latency samples in µs, kept in a fixed array of buckets (log scale) for percentiles. */
class Lat {
  private readonly buckets = new Float64Array(400);
  count = 0;
  add(ms: number): void {
    const i = Math.min(399, Math.max(0, Math.floor(Math.log10(Math.max(ms, 0.001) * 1000) * 50)));
    this.buckets[i]!++;
    this.count++;
  }
  pct(q: number): number {
    let seen = 0;
    for (let i = 0; i < 400; i++) {
      seen += this.buckets[i]!;
      if (seen >= q * this.count) return 10 ** (i / 50) / 1000;
    }
    return 0;
  }
}

async function session(o: ImapLoadOptions, user: string, lat: Lat, seq: { n: number }): Promise<number> {
  const c = await open(o);
  let ops = 0;
  const op = async (text: string, literal?: Buffer) => {
    const t0 = performance.now();
    const r = await c.cmd(text, literal);
    const ms = performance.now() - t0;
    lat.add(ms);
    const verb = text.split(' ').slice(0, text.startsWith('UID') ? 2 : 1).join(' ') + (text.includes('BODY.PEEK[]') ? ' body' : text.includes('HEADER.FIELDS') ? ' headers' : '');
    const v = perVerb.get(verb) ?? { n: 0, ms: 0 };
    v.n++;
    v.ms += ms;
    perVerb.set(verb, v);
    ops++;
    return r;
  };
  try {
    await op(`LOGIN "${user}" "${o.password}"`);
    const sel = await op('SELECT INBOX');
    const exists = Number(/\* (\d+) EXISTS/.exec(sel)?.[1] ?? '0');
    await op('UID FETCH 1:* (UID FLAGS)');
    const from = Math.max(1, exists - 19);
    if (exists > 0) {
      await op(`FETCH ${from}:${exists} (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])`);
      for (let k = 0; k < 2; k++) await op(`FETCH ${1 + Math.floor(Math.random() * exists)} (BODY.PEEK[])`);
    }
    await op('UID SEARCH UNSEEN');
    await op('SEARCH SUBJECT invoice');
    if (exists > 0) await op(`STORE ${1 + Math.floor(Math.random() * exists)} +FLAGS (\\Seen)`);
    const app = await op('APPEND INBOX (\\Seen)', message(seq.n++));
    const uid = /APPENDUID \d+ (\d+)/.exec(app)?.[1];
    if (uid !== undefined) await op(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
    else await op(`STORE ${exists + 1} +FLAGS.SILENT (\\Deleted)`);
    await op('EXPUNGE');
    await op('LOGOUT').catch(() => undefined);
  } finally {
    c.sock.destroy();
  }
  return ops;
}

export async function runImapLoad(o: ImapLoadOptions): Promise<ImapLoadResult> {
  const lat = new Lat();
  let ops = 0;
  let sessions = 0;
  let failed = 0;
  let firstError: string | null = null;
  const seq = { n: Math.floor(Math.random() * 1e6) };
  const t0 = performance.now();
  const end = Date.now() + o.seconds * 1000;
  if (o.mode === 'populate') {
    await Promise.all(
      o.users.map(async (user) => {
        const c = await open(o);
        await c.cmd(`LOGIN "${user}" "${o.password}"`);
        for (let i = 0; i < (o.messages ?? 50); i++) await c.cmd('APPEND INBOX', message(i));
        await c.cmd('LOGOUT').catch(() => undefined);
        c.sock.destroy();
      }),
    );
    return { ops: 0, sessions: 0, failed: 0, perSecond: 0, p50ms: 0, p99ms: 0, firstError: null };
  }
  if (o.mode === 'idle') {
    const conns: Conn[] = [];
    let next = 0;
    const worker = async () => {
      while (next < o.clients) {
        const i = next++;
        try {
          const c = await open(o);
          await c.cmd(`LOGIN "${o.users[i % o.users.length]}" "${o.password}"`);
          conns.push(c);
        } catch (e) {
          failed++;
          firstError ??= (e as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    process.stdout.write(`HELD ${conns.length}\n`);
    // Held until the parent closes our stdin.
    await stdinEnded;
    for (const c of conns) c.sock.destroy();
    return { ops: 0, sessions: 0, failed, perSecond: 0, p50ms: 0, p99ms: 0, firstError, held: conns.length };
  }
  const runOne = async (i: number) => {
    try {
      const n = await session(o, o.users[i % o.users.length]!, lat, seq);
      ops += n;
      sessions++;
    } catch (e) {
      failed++;
      firstError ??= (e as Error).message;
    }
  };
  if (o.rate !== undefined) {
    const inFlight = new Set<Promise<void>>();
    const interval = 1000 / o.rate;
    let i = 0;
    const start = performance.now();
    while (Date.now() < end) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const p = runOne(i++).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } else {
    await Promise.all(
      Array.from({ length: o.clients }, async (_, k) => {
        while (Date.now() < end) await runOne(k);
      }),
    );
  }
  const secs = (performance.now() - t0) / 1000;
  const perCommand = Object.fromEntries([...perVerb].map(([k, v]) => [k, Math.round((v.ms / v.n) * 100) / 100]));
  return { ops, sessions, failed, perSecond: ops / secs, p50ms: lat.pct(0.5), p99ms: lat.pct(0.99), firstError, perCommand };
}

/** Runs the load in a child process; `onLine` sees its progress lines (idle mode: "HELD n"). */
export async function runImapLoadInChild(o: ImapLoadOptions, onLine?: (line: string, stdin: NodeJS.WritableStream) => void): Promise<ImapLoadResult> {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, '--imap-load'], { stdio: ['pipe', 'pipe', 'inherit'] });
    p.stdin.write(`${JSON.stringify(o)}\n`);
    if (o.mode !== 'idle') p.stdin.end();
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      out += d;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith('{')) {
          try {
            resolve(JSON.parse(line) as ImapLoadResult);
          } catch (e) {
            reject(e as Error);
          }
        } else onLine?.(line, p.stdin);
      }
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`imap load generator exited ${code}`));
    });
  });
}

/** Resolves when the parent closes our stdin (idle mode holds its connections until then). */
let stdinEnded: Promise<void> = Promise.resolve();

if (process.argv[2] === '--imap-load') {
  stdinEnded = new Promise<void>((resolve) => process.stdin.once('end', () => resolve()));
  const text = await new Promise<string>((resolve) => {
    let acc = '';
    const on = (c: Buffer) => {
      acc += c.toString();
      if (acc.includes('\n')) {
        process.stdin.off('data', on);
        resolve(acc);
        process.stdin.on('data', () => undefined);
      }
    };
    process.stdin.on('data', on);
  });
  const o = JSON.parse(text.slice(0, text.indexOf('\n'))) as ImapLoadOptions;
  const r = await runImapLoad(o);
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}
