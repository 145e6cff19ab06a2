/**
 * An IMAP door on a real mail stack (actor system, LMDB mailboxes, directory, CPU pool, local
 * delivery) for door tests, and a raw client that speaks one command at a time.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { makeImapDoor, type ImapDoorContext } from '../../../protocols/imap/imap-door.js';
import { quietLog } from '../../helpers.js';
import { startMailStack, type MailStack } from '../../fixtures/mail-stack.js';

export const ALICE = 'alice@example.test';
export const BOB = 'bob@example.test';
export const PASSWORD = 'alice password';

export interface ImapSetup {
  stack: MailStack;
  port: number;
  tlsPort: number;
  door: ReturnType<typeof makeImapDoor>;
}

export async function startImap(t: { teardown(fn: () => unknown): void }, over: Partial<ImapDoorContext> = {}): Promise<ImapSetup> {
  const stack = await startMailStack(t);
  await stack.addUser(ALICE, PASSWORD, 'Alice');
  await stack.addUser(BOB, 'bob password', 'Bob');
  const base = { hostname: 'mail.example.test', log: quietLog, auth: stack.auth, dir: stack.dir, system: stack.sys, pool: stack.pool, tls: stack.tls, allowPlaintextAuth: true, ...over };
  const door = makeImapDoor({ ...base, implicitTls: false });
  const tlsDoor = makeImapDoor({ ...base, implicitTls: true });
  // Every connection ends with the test (open sockets would keep the test process alive).
  const sockets = new Set<Socket>();
  const track = (d: (s: Socket) => void) => (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    d(s);
  };
  t.teardown(() => {
    for (const s of sockets) s.destroy();
  });
  const port = await stack.listen(track(door));
  const tlsPort = await stack.listen(track(tlsDoor), { tls: true });
  return { stack, port, tlsPort, door };
}

/** A raw IMAP client: `send` a tagged command, get every line up to its tagged response. */
export class RawClient {
  private buf = '';
  private waiters: (() => void)[] = [];
  private n = 0;
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, tls = false): Promise<{ client: RawClient; greeting: string }> {
    const s = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1');
    const c = new RawClient(s);
    s.unref();
    const greeting = await c.readUntil((b) => b.includes('\r\n'));
    return { client: c, greeting };
  }

  /** Waits until the buffer satisfies `done`, then takes it all. */
  async readUntil(done: (buf: string) => boolean, ms = 10_000): Promise<string> {
    const end = Date.now() + ms;
    while (!done(this.buf)) {
      if (this.closed || Date.now() > end) break;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100).unref();
      });
    }
    const out = this.buf;
    this.buf = '';
    return out;
  }

  /** Sends raw bytes. */
  write(s: string | Buffer): void {
    this.socket.write(s);
  }

  /** Sends "tN command" and returns all lines through the tagged response. */
  async cmd(command: string): Promise<string> {
    const tag = `t${++this.n}`;
    this.socket.write(`${tag} ${command}\r\n`);
    return this.readUntil((b) => new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n$`).test(b));
  }

  /** Reads through the response tagged `tag`. */
  async until(tag: string): Promise<string> {
    return this.readUntil((b) => new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n$`).test(b));
  }

  close(): void {
    this.socket.destroy();
  }
}

export function sampleMessage(i: number, extra = ''): string {
  return `From: Sender ${i} <sender${i}@example.org>\r\nTo: Alice <alice@example.test>\r\nSubject: message ${i}\r\nDate: Tue, 3 Mar 2020 12:0${i % 10}:00 +0000\r\nMessage-ID: <m${i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n${extra}\r\nHello number ${i}.\r\nSecond line.\r\n`;
}
