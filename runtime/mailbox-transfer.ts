/**
 * Mailbox import and export (admin CLI `mailbox import` / `mailbox export`), run by the server
 * as jobs the CLI polls for progress over the control socket. The server reads and writes the
 * files itself (the control socket is local and owner-only, so paths are the operator's own).
 *
 * Import: an mbox file (mboxo / mboxrd, "From " separated) or a folder of .eml files; each message
 * is converted (MS-OXCMAIL, in the CPU pool), keeps its original bytes (line ends made CRLF),
 * and is saved in the target folder (created when missing). Messages already in the folder (same
 * Message-ID) are skipped; unreadable ones are counted as failed with their reason.
 * Export: a folder to an mboxrd file, each message as its original MIME when kept, else as the
 * stable MIME made from its properties.
 */
import { createReadStream, createWriteStream, readdirSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ActorSystem } from './actor-system.js';
import { actorRef } from './actor.js';
import type { CpuPool } from './cpu-pool.js';
import type { DirectoryStore } from '../storage/directory-store.js';
import type { MailboxProtocol } from '../actors/mailbox/mailbox-actor.js';
import { mapiToWire } from '../actors/mailbox/wire-message.js';
import { localizeAddresses } from '../protocols/mail/localize.js';
import { fetchMessageMime } from '../protocols/mail/fetch-mime.js';
import { Tag } from '../storage/prop-tags.js';
import { MSGFLAG_READ } from '../storage/message-store.js';
import { parseMailDate } from '../protocols/mail/mime/header-values.js';
import { parseHeaderBlock } from '../protocols/mail/mime/headers.js';

/** Messages converted and saved at once during an import (the store commits them together). */
const IMPORT_WINDOW = 16;
/** Failures listed by name in a job's status (all are counted). */
const MAX_LISTED_FAILURES = 100;
/** Largest single message imported; larger ones fail with a reason. */
export const MAX_IMPORT_MESSAGE_BYTES = 256 * 1024 * 1024;
/** How long a finished job's status stays available. */
const JOB_KEEP_MS = 3_600_000;

export interface TransferStatus {
  job: string;
  kind: 'import' | 'export';
  state: 'running' | 'done' | 'failed';
  total: number;
  done: number;
  imported: number;
  exported: number;
  skipped: number;
  failed: number;
  failures: { item: string; reason: string }[];
  error?: string;
  folder?: string;
}

export interface TransferDeps {
  system: ActorSystem;
  dir: DirectoryStore;
  pool: CpuPool;
  hostname: string;
  log: Logger;
}

class TransferError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class MailboxTransfers {
  private readonly jobs = new Map<string, TransferStatus>();
  private next = 1;

  constructor(private readonly deps: TransferDeps) {}

  private newJob(kind: 'import' | 'export'): TransferStatus {
    const job: TransferStatus = { job: `${kind}-${this.next++}`, kind, state: 'running', total: 0, done: 0, imported: 0, exported: 0, skipped: 0, failed: 0, failures: [] };
    this.jobs.set(job.job, job);
    return job;
  }

  private mailbox(address: string) {
    const user = this.deps.dir.userByAddress(address);
    if (user === undefined) throw new TransferError('NOT_FOUND', `no user ${address}`);
    return { user, ref: actorRef<MailboxProtocol>('mailbox', user.address) };
  }

  status(job: string): TransferStatus {
    const s = this.jobs.get(job);
    if (s === undefined) throw new TransferError('NOT_FOUND', `no transfer job ${job}`);
    return s;
  }

  private finish(s: TransferStatus, err?: unknown): void {
    if (err !== undefined) {
      s.state = 'failed';
      s.error = (err as Error).message;
      this.deps.log.warn({ job: s.job, err }, 'mailbox transfer failed');
    } else s.state = 'done';
    setTimeout(() => this.jobs.delete(s.job), JOB_KEEP_MS).unref();
  }

  private fail(s: TransferStatus, item: string, reason: string): void {
    s.failed++;
    if (s.failures.length < MAX_LISTED_FAILURES) s.failures.push({ item, reason });
  }

  /** Finds a folder by path below the IPM subtree ("Inbox", "Archive/2019"; case-insensitive), creating missing ones when asked. */
  private async folderByPath(ref: ReturnType<MailboxTransfers['mailbox']>['ref'], path: string, create: boolean): Promise<number> {
    const { system } = this.deps;
    const info = await system.call(ref, 'logonInfo', null);
    const names = path.split('/').filter((x) => x !== '');
    if (names.length === 0) return info.special.inbox;
    let folder = info.special.ipmSubtree;
    for (const name of names) {
      const kids = await system.call(ref, 'listFolders', { parent: folder });
      const hit = kids.find((k) => k.name.toLowerCase() === name.toLowerCase());
      if (hit !== undefined) folder = hit.id;
      else if (create) folder = (await system.call(ref, 'createFolder', { parent: folder, name, containerClass: 'IPF.Note', openIfExists: true })).id;
      else throw new TransferError('NOT_FOUND', `no folder ${path}`);
    }
    return folder;
  }

  /** Starts an import; answers at once with the job to poll. */
  async startImport(address: string, source: string, folderPath: string | undefined): Promise<TransferStatus> {
    const { ref } = this.mailbox(address);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(source);
    } catch {
      throw new TransferError('NOT_FOUND', `cannot read ${source}`);
    }
    const folder = await this.folderByPath(ref, folderPath ?? 'Inbox', true);
    const job = this.newJob('import');
    job.folder = folderPath ?? 'Inbox';
    const existing = new Set(await this.deps.system.call(ref, 'folderInternetIds', { folder }));
    const run = async () => {
      if (st.isDirectory()) {
        const files = readdirSync(source)
          .filter((f) => f.toLowerCase().endsWith('.eml'))
          .sort();
        job.total = files.length;
        await this.importAll(job, ref, folder, existing, eachFile(source, files));
      } else {
        job.total = await countMbox(source);
        await this.importAll(job, ref, folder, existing, eachMboxMessage(source));
      }
    };
    run().then(
      () => this.finish(job),
      (err: unknown) => this.finish(job, err),
    );
    return job;
  }

  private async importAll(job: TransferStatus, ref: ReturnType<MailboxTransfers['mailbox']>['ref'], folder: number, existing: Set<string>, source: AsyncIterable<{ item: string; raw: Buffer; date: Date | null }>): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for await (const m of source) {
      const p = this.importOne(job, ref, folder, existing, m).finally(() => {
        inFlight.delete(p);
        job.done++;
      });
      inFlight.add(p);
      if (inFlight.size >= IMPORT_WINDOW) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  private async importOne(job: TransferStatus, ref: ReturnType<MailboxTransfers['mailbox']>['ref'], folder: number, existing: Set<string>, m: { item: string; raw: Buffer; date: Date | null }): Promise<void> {
    const { system, pool, dir } = this.deps;
    if (m.raw.length === 0 || m.raw.toString('latin1', 0, Math.min(m.raw.length, 4096)).trim() === '') {
      job.skipped++;
      return;
    }
    if (m.raw.length > MAX_IMPORT_MESSAGE_BYTES) {
      this.fail(job, m.item, `larger than ${MAX_IMPORT_MESSAGE_BYTES} bytes`);
      return;
    }
    const raw = toCrlf(m.raw);
    try {
      const conv = await pool.run('mimeToMapi', { raw, ...(m.date !== null ? { deliveryTime: m.date.getTime() } : {}) }, { bytes: raw.length });
      const msg = conv.message;
      const mid = msg.props.get(Tag.PidTagInternetMessageId);
      if (typeof mid === 'string') {
        if (existing.has(mid)) {
          job.skipped++;
          return;
        }
        existing.add(mid);
      }
      const status = mboxStatus(raw);
      msg.props.set(Tag.PidTagMessageFlags, status.read ? MSGFLAG_READ : 0);
      if (status.flagged) msg.props.set(Tag.PidTagFlagStatus, 2);
      if (status.answered) msg.props.set(Tag.PidTagLastVerbExecuted, 102);
      localizeAddresses(msg, (smtp) => {
        const u = dir.userByAddress(smtp);
        return u === undefined ? null : { legacyDn: u.legacyDn, displayName: u.displayName };
      });
      await system.call(ref, 'createMessage', { folder, ...mapiToWire(msg, raw) });
      job.imported++;
    } catch (err) {
      this.fail(job, m.item, (err as { detail?: string; message?: string }).detail ?? (err as Error).message);
    }
  }

  /** Starts an export of a folder to an mboxrd file. */
  async startExport(address: string, folderPath: string, file: string): Promise<TransferStatus> {
    const { ref } = this.mailbox(address);
    const folder = await this.folderByPath(ref, folderPath, false);
    const mids = await this.deps.system.call(ref, 'listContents', { folder });
    const job = this.newJob('export');
    job.folder = folderPath;
    job.total = mids.length;
    const out = createWriteStream(file, { mode: 0o600 });
    const run = async () => {
      await once(out, 'open');
      for (const mid of mids) {
        try {
          const mime = await this.messageMime(ref, mid);
          await write(out, mboxEntry(mime));
          job.exported++;
        } catch (err) {
          this.fail(job, `message ${mid}`, (err as { detail?: string; message?: string }).detail ?? (err as Error).message);
        }
        job.done++;
      }
      out.end();
      await once(out, 'finish');
    };
    run().then(
      () => this.finish(job),
      (err: unknown) => {
        out.destroy();
        this.finish(job, err);
      },
    );
    return job;
  }

  /** A message as Internet mail: its original MIME when kept, else made from its properties. */
  messageMime(ref: ReturnType<MailboxTransfers['mailbox']>['ref'], mid: number): Promise<Buffer> {
    return fetchMessageMime(this.deps.system, ref, mid, this.deps.dir, { hostname: this.deps.hostname });
  }
}

function write(out: WriteStream, chunk: Buffer): Promise<void> {
  if (out.write(chunk)) return Promise.resolve();
  return once(out, 'drain').then(() => undefined);
}

/** Bare LF (and lone CR) line ends made CRLF, as RFC 5322 and IMAP want. */
export function toCrlf(b: Buffer): Buffer {
  let bare = false;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a && (i === 0 || b[i - 1] !== 0x0d)) {
      bare = true;
      break;
    }
  }
  if (!bare) return b;
  return Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/** Flags an mbox writer left in Status / X-Status (R read, A answered, F flagged). */
function mboxStatus(raw: Buffer): { read: boolean; answered: boolean; flagged: boolean } {
  const { headers } = parseHeaderBlock(raw, 0, Math.min(raw.length, 256 * 1024));
  let flags = '';
  for (const h of headers) if (h.name === 'status' || h.name === 'x-status') flags += h.value.toString('latin1');
  return { read: flags.includes('R'), answered: flags.includes('A'), flagged: flags.includes('F') };
}

async function* eachFile(dir: string, files: string[]): AsyncGenerator<{ item: string; raw: Buffer; date: Date | null }> {
  for (const f of files) {
    let raw: Buffer;
    try {
      raw = await readFile(join(dir, f));
    } catch {
      raw = Buffer.alloc(0);
    }
    yield { item: f, raw, date: null };
  }
}

const FROM_ = Buffer.from('\nFrom ', 'latin1');

/** Counts the messages of an mbox file (its "From " lines) in one streaming pass. */
async function countMbox(path: string): Promise<number> {
  let n = 0;
  let first = true;
  let tail: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(path)) {
    const b = Buffer.concat([tail, chunk as Buffer]);
    if (first) {
      if (b.length >= 5 && b.toString('latin1', 0, 5) === 'From ') n++;
      first = false;
    }
    let at = b.indexOf(FROM_);
    while (at >= 0) {
      n++;
      at = b.indexOf(FROM_, at + 1);
    }
    tail = b.subarray(Math.max(0, b.length - 5));
  }
  return n;
}

/**
 * The messages of an mbox file, streamed (memory bounded by the largest message): split at
 * "From " lines, ">From " unescaped one level (mboxrd; harmless for mboxo).
 */
async function* eachMboxMessage(path: string): AsyncGenerator<{ item: string; raw: Buffer; date: Date | null }> {
  let buf: Buffer = Buffer.alloc(0);
  let index = 0;
  let fromLine: string | null = null;
  const emit = (body: Buffer) => {
    index++;
    const date = fromLine === null ? null : asctimeDate(fromLine);
    return { item: `message ${index}`, raw: unescapeFrom(body), date };
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    buf = buf.length === 0 ? (chunk as Buffer) : Buffer.concat([buf, chunk as Buffer]);
    for (;;) {
      if (fromLine === null) {
        // Expecting a "From " line at the start.
        const nl = buf.indexOf(0x0a);
        if (nl < 0) break;
        const line = buf.toString('latin1', 0, nl).replace(/\r$/, '');
        if (line.startsWith('From ')) {
          fromLine = line;
          buf = buf.subarray(nl + 1);
        } else {
          // Not an mbox "From " line: take the file as starting with a message.
          fromLine = '';
        }
        continue;
      }
      const at = buf.indexOf(FROM_);
      if (at < 0) break;
      const body = buf.subarray(0, at + 1);
      const nl = buf.indexOf(0x0a, at + 1);
      if (nl < 0) break;
      const next = buf.toString('latin1', at + 1, nl).replace(/\r$/, '');
      yield emit(trimSeparator(body));
      fromLine = next;
      buf = buf.subarray(nl + 1);
    }
    if (buf.length > MAX_IMPORT_MESSAGE_BYTES + (1 << 20)) {
      // One message larger than anything imported: hand it on (it fails with its reason).
      yield emit(buf);
      buf = Buffer.alloc(0);
      fromLine = null;
    }
  }
  if (fromLine !== null && buf.length > 0) yield emit(trimSeparator(buf));
}

/** The blank line an mbox writer puts before the next "From " line is not part of the message. */
function trimSeparator(b: Buffer): Buffer {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0x0a) end--;
  if (end > 0 && b[end - 1] === 0x0d) end--;
  return b.subarray(0, end);
}

function unescapeFrom(b: Buffer): Buffer {
  if (b.indexOf('>From ') < 0) return b;
  return Buffer.from(b.toString('latin1').replace(/^>(>*From )/gm, '$1'), 'latin1');
}

/** The date of an mbox "From addr Www Mmm dd hh:mm:ss yyyy" line. */
function asctimeDate(line: string): Date | null {
  const m = /([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{1,2}:\d{2}(?::\d{2})?)\s+(?:[A-Z]{3,4}\s+)?(\d{4})/.exec(line);
  if (m === null) return null;
  return parseMailDate(`${m[2]} ${m[1]} ${m[4]} ${m[3]} +0000`);
}

/** One mboxrd entry: a "From " line, the message with LF line ends and "From " lines escaped, a blank line. */
export function mboxEntry(mime: Buffer): Buffer {
  const text = mime.toString('latin1').replace(/\r\n/g, '\n');
  const { headers } = parseHeaderBlock(mime, 0, Math.min(mime.length, 256 * 1024));
  const from = headers.find((h) => h.name === 'return-path' || h.name === 'from');
  const addr = from === undefined ? null : /[^\s<>"]+@[^\s<>"]+/.exec(from.value.toString('latin1'));
  const dateH = headers.find((h) => h.name === 'date');
  const date = (dateH === undefined ? null : parseMailDate(dateH.value.toString('latin1'))) ?? new Date(0);
  const escaped = text.replace(/^(>*From )/gm, '>$1');
  const body = escaped.endsWith('\n') ? escaped : `${escaped}\n`;
  return Buffer.from(`From ${addr?.[0] ?? 'MAILER-DAEMON'} ${asctime(date)}\n${body}\n`, 'latin1');
}

function asctime(d: Date): string {
  const s = d.toUTCString(); // "Tue, 03 Mar 2020 12:00:00 GMT"
  const m = /^(\w{3}), (\d{2}) (\w{3}) (\d{4}) (\d{2}:\d{2}:\d{2})/.exec(s);
  if (m === null) return 'Thu Jan  1 00:00:00 1970';
  return `${m[1]} ${m[3]} ${String(Number(m[2])).padStart(2, ' ')} ${m[5]} ${m[4]}`;
}

export { TransferError };

/** The control socket's `transfer` command: start an import or export, or read a job's status. */
export async function runTransfer(t: MailboxTransfers, args: Record<string, unknown>): Promise<TransferStatus> {
  const s = (k: string) => (typeof args[k] === 'string' ? (args[k] as string) : undefined);
  switch (args.action) {
    case 'import': {
      const user = s('user');
      const source = s('source');
      if (user === undefined || source === undefined) throw new TransferError('USAGE', 'import needs a user and a source');
      return t.startImport(user, source, s('folder'));
    }
    case 'export': {
      const user = s('user');
      const folder = s('folder');
      const file = s('file');
      if (user === undefined || folder === undefined || file === undefined) throw new TransferError('USAGE', 'export needs a user, a folder and a file');
      return t.startExport(user, folder, file);
    }
    case 'status': {
      const job = s('job');
      if (job === undefined) throw new TransferError('USAGE', 'status needs a job');
      return t.status(job);
    }
    default:
      throw new TransferError('USAGE', `unknown transfer action ${JSON.stringify(args.action)}`);
  }
}
