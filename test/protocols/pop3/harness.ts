/**
 * A real POP3 door for tests: an actor system with the mailbox actor on real LMDB in a temp
 * folder, a real directory and authenticator (scrypt N=1024 in a real CPU pool), a self-signed
 * certificate, and two listeners like the server's: plain (STLS) and implicit TLS.
 * Also a small line client that records every byte it receives.
 */
import { createServer as createTcpServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { actorRef, type ActorRef } from '../../../runtime/actor.js';
import { ACTOR_KINDS } from '../../../actors/registry.js';
import type { MailboxProtocol } from '../../../actors/mailbox/mailbox-actor.js';
import { mapiToWire } from '../../../actors/mailbox/wire-message.js';
import { mimeToMapi } from '../../../protocols/mail/mime-to-mapi.js';
import { Authenticator } from '../../../runtime/auth.js';
import { CpuPool } from '../../../runtime/cpu-pool.js';
import type { ActorSystem } from '../../../runtime/actor-system.js';
import { DirectoryStore } from '../../../storage/directory-store.js';
import { makePop3Door, type Pop3Door, type Pop3DoorContext } from '../../../protocols/pop3/pop3-door.js';
import { quietLog, startTestSystem, tempDir } from '../../helpers.js';

export const USER = 'alice@example.test';
export const PASSWORD = 'correct horse battery';
export const HOST = 'mail.example.test';

let certPromise: Promise<{ cert: string; key: string }> | null = null;
export function testCert(): Promise<{ cert: string; key: string }> {
  certPromise ??= generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' }).then((p) => ({ cert: p.cert, key: p.private }));
  return certPromise;
}

export interface Pop3Fixture {
  system: ActorSystem;
  dir: DirectoryStore;
  auth: Authenticator;
  door: Pop3Door;
  mailbox: ActorRef<MailboxProtocol>;
  /** Plain port (STLS) and implicit-TLS port. */
  port: number;
  tlsPort: number;
  /** Server-side sockets as the door received them, newest last. */
  serverSockets: (Socket | TLSSocket)[];
  inbox: number;
  deliver(mime: Buffer): Promise<number>;
}

export async function startPop3(t: { teardown(fn: () => unknown): void }, opts: Partial<Pick<Pop3DoorContext, 'allowPlaintextAuth' | 'limits' | 'sizeCacheEntries' | 'throttle'>> = {}): Promise<Pop3Fixture> {
  const d = tempDir('stoa-pop3-');
  const system = await startTestSystem(1, { kinds: ACTOR_KINDS, settings: { partitions: [join(d.path, 'p')] } });
  const dir = DirectoryStore.open(join(d.path, 'directory'));
  const pool = new CpuPool({ threads: 1, minBytes: 0 });
  const auth = new Authenticator(dir, pool, await dir.secret(), { scrypt: { n: 1024, r: 8, p: 1 }, cacheMs: 300_000, storeNtHash: false });
  await dir.addDomain('example.test');
  await dir.addUser({ address: USER, displayName: 'Alice', ...(await auth.hash(PASSWORD)) });
  const mailbox = actorRef<MailboxProtocol>('mailbox', USER);
  await system.call(mailbox, 'provision', { ownerName: 'Alice', legacyDn: '/o=Stoa/cn=Recipients/cn=alice', serverShortname: 'mail' });
  const inbox = (await system.call(mailbox, 'logonInfo', null)).special.inbox;
  const tls = await testCert();
  const door = makePop3Door({
    hostname: HOST,
    log: quietLog,
    auth,
    dir,
    system,
    tls,
    allowPlaintextAuth: opts.allowPlaintextAuth ?? false,
    limits: { failedLoginDelayMs: 10, ...opts.limits },
    sizeCacheEntries: opts.sizeCacheEntries,
    ...(opts.throttle !== undefined ? { throttle: opts.throttle } : {}),
  });
  const serverSockets: (Socket | TLSSocket)[] = [];
  const take = (s: Socket | TLSSocket) => {
    serverSockets.push(s);
    door(s);
  };
  const plain = createTcpServer(take);
  const secure = createTlsServer({ cert: tls.cert, key: tls.key }, take);
  const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
  const port = await listen(plain);
  const tlsPort = await listen(secure);
  t.teardown(async () => {
    for (const s of serverSockets) s.destroy();
    await new Promise((r) => plain.close(r));
    await new Promise((r) => secure.close(r));
    await system.shutdown();
    await pool.close();
    await dir.close();
    d.remove();
  });
  return {
    system,
    dir,
    auth,
    door,
    mailbox,
    port,
    tlsPort,
    serverSockets,
    inbox,
    // A copy: binary arguments of 16 KiB or more are moved to the worker (their buffer is detached).
    deliver: async (mime) => (await system.call(mailbox, 'deliver', mapiToWire(mimeToMapi(mime).message, Buffer.from(mime)))).mid,
  };
}

/** A POP3 line client that keeps every byte it received (`raw`). */
export class LineClient {
  raw = Buffer.alloc(0);
  private pos = 0;
  private waiter: (() => void) | null = null;
  closed = false;

  private constructor(public socket: Socket) {
    this.hook(socket);
  }

  private hook(socket: Socket): void {
    socket.on('data', (c: Buffer) => {
      this.raw = Buffer.concat([this.raw, c]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  static async connect(port: number, tls = false): Promise<LineClient> {
    const socket = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : tcpConnect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const c = new LineClient(socket);
    await c.line(); // greeting
    return c;
  }

  /** Upgrades the connection after "+OK" to STLS. */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = tlsConnect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.raw = Buffer.alloc(0);
    this.pos = 0;
    this.hook(secure);
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  private async waitFor(pred: () => number): Promise<number> {
    for (;;) {
      const at = pred();
      if (at >= 0) return at;
      if (this.closed) throw new Error(`connection closed; received: ${JSON.stringify(this.raw.subarray(this.pos).toString('latin1').slice(0, 200))}`);
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  async line(): Promise<string> {
    const at = await this.waitFor(() => this.raw.indexOf('\r\n', this.pos));
    const l = this.raw.subarray(this.pos, at).toString('utf8');
    this.pos = at + 2;
    return l;
  }

  /** A multi-line body after its status line: raw bytes up to and including ".\r\n". */
  async multiRaw(): Promise<Buffer> {
    const at = await this.waitFor(() => {
      if (this.raw.subarray(this.pos, this.pos + 3).toString('latin1') === '.\r\n') return this.pos;
      const k = this.raw.indexOf('\r\n.\r\n', this.pos);
      return k < 0 ? -1 : k + 2;
    });
    const body = this.raw.subarray(this.pos, at + 3);
    this.pos = at + 3;
    return body;
  }

  /** A multi-line answer: its status line and its lines (un-stuffed). */
  async multi(): Promise<{ status: string; lines: string[] }> {
    const status = await this.line();
    if (!status.startsWith('+OK')) return { status, lines: [] };
    const body = (await this.multiRaw()).toString('utf8');
    const lines = body.split('\r\n').slice(0, -2).map((l) => (l.startsWith('.') ? l.slice(1) : l));
    return { status, lines };
  }

  async cmd(line: string): Promise<string> {
    this.send(`${line}\r\n`);
    return this.line();
  }

  async login(user = USER, password = PASSWORD): Promise<string> {
    const u = await this.cmd(`USER ${user}`);
    if (!u.startsWith('+OK')) return u;
    return this.cmd(`PASS ${password}`);
  }

  /** Resolves when the server has closed the connection. */
  async ended(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((r) => this.socket.once('close', () => r()));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Un-stuffs a RETR body as received (without its ".\r\n") to the message bytes. */
export function unstuff(body: Buffer): Buffer {
  const text = body.subarray(0, body.length - 3).toString('latin1');
  return Buffer.from(text.replace(/(^|\r\n)\./g, '$1'), 'latin1');
}
