/**
 * An SMTP / LMTP load generator: `sessions` connections, each sending messages back to back
 * (EHLO or LHLO once, then MAIL, RCPT, DATA, the message, "." per message; the envelope
 * commands pipelined), recipients taken round-robin from a list. Used by perf/bench/smtp.ts
 * against our server and against peers (smtp-sink, Dovecot's LMTP) alike, so the ratio is fair.
 */
import { connect, type Socket } from 'node:net';

export interface LoadOptions {
  host?: string;
  port: number;
  lmtp: boolean;
  sessions: number;
  seconds: number;
  message: Buffer;
  from: string;
  recipients: string[];
}

export interface LoadResult {
  delivered: number;
  failed: number;
  perSecond: number;
  /** The first failure reply seen (for the report). */
  firstError: string | null;
}

class Replies {
  private buf = '';
  private waiters: { n: number; resolve: (lines: string[]) => void }[] = [];
  private lines: string[] = [];
  constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl + 1);
        this.buf = this.buf.slice(nl + 1);
        // Only final lines of multi-line replies count ("250 ", not "250-").
        if (line[3] === '-') continue;
        this.lines.push(line.trimEnd());
        this.flush();
      }
    });
  }
  private flush(): void {
    while (this.waiters.length > 0 && this.lines.length >= this.waiters[0]!.n) {
      const w = this.waiters.shift()!;
      w.resolve(this.lines.splice(0, w.n));
    }
  }
  next(n: number): Promise<string[]> {
    return new Promise((resolve) => {
      this.waiters.push({ n, resolve });
      this.flush();
    });
  }
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  let delivered = 0;
  let failed = 0;
  let firstError: string | null = null;
  let rr = 0;
  const end = Date.now() + o.seconds * 1000;
  const dotted = Buffer.from(o.message.toString('latin1').replace(/\r\n\./g, '\r\n..'), 'latin1');
  const body = Buffer.concat([dotted, Buffer.from(dotted.subarray(-2).toString('latin1') === '\r\n' ? '.\r\n' : '\r\n.\r\n', 'latin1')]);
  const t0 = Date.now();
  const session = async () => {
    const s = connect(o.port, o.host ?? '127.0.0.1');
    s.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    const r = new Replies(s);
    await r.next(1); // greeting
    s.write(`${o.lmtp ? 'LHLO' : 'EHLO'} load.example\r\n`);
    await r.next(1);
    while (Date.now() < end) {
      const to = o.recipients[rr++ % o.recipients.length]!;
      s.write(`MAIL FROM:<${o.from}>\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
      const env = await r.next(3);
      if (!env[2]!.startsWith('354')) {
        failed++;
        firstError ??= env.join(' | ');
        s.write('RSET\r\n');
        await r.next(1);
        continue;
      }
      s.write(body);
      const [done] = await r.next(1);
      if (done!.startsWith('250')) delivered++;
      else {
        failed++;
        firstError ??= done!;
      }
    }
    s.write('QUIT\r\n');
    await r.next(1).catch(() => undefined);
    s.destroy();
  };
  await Promise.all(Array.from({ length: o.sessions }, () => session().catch((err: Error) => {
    failed++;
    firstError ??= err.message;
  })));
  return { delivered, failed, perSecond: delivered / ((Date.now() - t0) / 1000), firstError };
}

/** Runs the load in a child process (so the generator never shares the server's event loop). */
export async function runLoadInChild(o: LoadOptions): Promise<LoadResult> {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const script = fileURLToPath(import.meta.url);
  const arg = JSON.stringify({ ...o, message: o.message.toString('base64') });
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, '--stdin'], { stdio: ['pipe', 'pipe', 'inherit'] });
    p.stdin.end(arg);
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`load generator exited ${code}`));
      else resolve(JSON.parse(out) as LoadResult);
    });
  });
}

if (process.argv[2] === '--stdin' && process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  let text = '';
  for await (const c of process.stdin) text += String(c);
  const o = JSON.parse(text) as Omit<LoadOptions, 'message'> & { message: string };
  const r = await runLoad({ ...o, message: Buffer.from(o.message, 'base64') });
  process.stdout.write(JSON.stringify(r));
}
