/**
 * Durable delivery rate over SMTP (and LMTP): 4 KiB and 100 KiB messages, 10 and 50 parallel
 * sessions, to 1 and to 100 mailboxes, with one load generator (perf/load/smtp-load.ts) for
 * every target in the same run:
 * - Stoa's inbound SMTP door (a 250 means the copy is on disk: LMDB commit flushed);
 * - Postfix's smtp-sink (accepts and discards: the ceiling of the transport alone);
 * - Dovecot's LMTP (dovecot-lmtpd) into Maildir with mail_fsync = always (durable like us).
 * Peers that are not installed are skipped (`apt-get install postfix dovecot-lmtpd`).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ActorSystem } from '../../runtime/actor-system.js';
import { actorRef } from '../../runtime/actor.js';
import { ACTOR_KINDS } from '../../actors/registry.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import { Authenticator } from '../../runtime/auth.js';
import { CpuPool } from '../../runtime/cpu-pool.js';
import { DirectoryStore } from '../../storage/directory-store.js';
import { LocalDelivery } from '../../protocols/smtp/local-delivery.js';
import { SmtpDoors } from '../../protocols/smtp/smtp-door.js';
import { runLoadInChild as runLoad } from '../load/smtp-load.js';
import { quiet, type Row } from './common.js';
import { freePort, hasCommand, waitPort } from '../load/peers.js';
import { startDovecot } from '../load/dovecot.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const MAILBOXES = 100;

function message(size: number, i = 0): Buffer {
  const head = `From: Load <load@example.org>\r\nTo: user@example.test\r\nSubject: load ${i}\r\nDate: Tue, 3 Mar 2020 12:00:00 +0000\r\nMessage-ID: <load${i}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
  let body = '';
  while (head.length + body.length < size) body += line;
  return Buffer.from(head + body, 'latin1');
}async function startSmtpSink(): Promise<{ port: number; stop: () => void } | null> {
  if (!hasCommand('smtp-sink')) return null;
  const port = await freePort();
  const p = spawn('smtp-sink', ['-u', process.getuid?.() === 0 ? 'nobody' : String(process.env.USER ?? 'nobody'), '-m', '1000', `127.0.0.1:${port}`, '1024'], { stdio: 'ignore' });
  await waitPort(port);
  return { port, stop: () => p.kill('SIGKILL') };
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'stoa-smtp-bench-'));
  chmodSync(dir, 0o755); // Dovecot delivers as an unprivileged user
  const sys = await ActorSystem.start({ workers: 1, kinds: ACTOR_KINDS, log: quiet, logLevel: 'silent', settings: { partitions: [join(dir, 'mailboxes')] } });
  const pool = new CpuPool({ threads: 1, minBytes: 64 * 1024 });
  const dirStore = DirectoryStore.open(join(dir, 'directory'));
  const servers: Server[] = [];
  const peers: { stop: () => void }[] = [];
  try {
    await dirStore.addDomain('example.test');
    for (let i = 0; i < MAILBOXES; i++) {
      const u = await dirStore.addUser({ address: `user${i}@example.test` });
      await sys.call(actorRef<MailboxProtocol>('mailbox', u.address), 'provision', { ownerName: u.displayName, legacyDn: u.legacyDn, serverShortname: 'mail' });
    }
    const auth = new Authenticator(dirStore, pool, await dirStore.secret(), { scrypt: { n: 1024, r: 8, p: 1 }, cacheMs: 60_000, storeNtHash: false });
    const doors = new SmtpDoors({
      hostname: 'mail.example.test',
      log: quiet,
      dir: dirStore,
      auth,
      delivery: new LocalDelivery({ system: sys, pool, dir: dirStore }),
      outbound: null,
      tls: { key: '', cert: '' },
      limits: { maxMessageBytes: 10 * 1024 * 1024, maxRecipients: 100, maxConnectionsPerIp: 1000, maxAuthFailures: 3, socketTimeoutMs: 60_000 },
      allowPlaintextAuth: false,
    });
    const listen = async (mode: 'inbound' | 'lmtp') => {
      const s = createServer(doors.handler(mode));
      servers.push(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return (s.address() as { port: number }).port;
    };
    const ours = await listen('inbound');
    const oursLmtp = await listen('lmtp');
    const sink = await startSmtpSink();
    const dovecot = await startDovecot({ dir, name: 'dovecot-lmtp', protocol: 'lmtp' });
    if (sink !== null) peers.push(sink);
    if (dovecot !== null) peers.push(dovecot);

    const seconds = Math.max(1, SECONDS);
    for (const size of [4 * 1024, 100 * 1024]) {
      const msg = message(size);
      for (const sessions of [10, 50]) {
        for (const boxes of [1, MAILBOXES]) {
          const recipients = Array.from({ length: boxes }, (_, i) => `user${i}@example.test`);
          const label = `${size / 1024} KiB, ${sessions} sessions, ${boxes} mailbox${boxes > 1 ? 'es' : ''}`;
          const base = { message: msg, from: 'load@example.org', recipients, sessions, seconds };
          const us = await runLoad({ ...base, port: ours, lmtp: false });
          if (us.failed > 0) process.stderr.write(`  smtp bench: ${us.failed} failed (${us.firstError})\n`);
          if (sink !== null) {
            const s = await runLoad({ ...base, port: sink.port, lmtp: false });
            rows.push({ bench: 'smtp', metric: `durable deliveries/s, ${label}`, value: us.perSecond, unit: 'msg/s', baseline: { name: 'smtp-sink (discards)', value: s.perSecond }, ratio: us.perSecond / s.perSecond });
          }
          if (dovecot !== null) {
            const usL = await runLoad({ ...base, port: oursLmtp, lmtp: true });
            const d = await runLoad({ ...base, port: dovecot.port, lmtp: true });
            rows.push({ bench: 'smtp', metric: `LMTP deliveries/s, ${label}`, value: usL.perSecond, unit: 'msg/s', baseline: { name: 'Dovecot LMTP (Maildir, fsync)', value: d.perSecond }, ratio: usL.perSecond / d.perSecond, ...(d.failed > 0 ? { note: `dovecot failures: ${d.firstError}` } : {}) });
          }
          if (sink === null && dovecot === null) rows.push({ bench: 'smtp', metric: `durable deliveries/s, ${label}`, value: us.perSecond, unit: 'msg/s', note: 'no peer installed' });
        }
      }
    }
    doors.close();
  } finally {
    for (const p of peers) p.stop();
    for (const s of servers) s.close();
    await sys.shutdown();
    await pool.close();
    await dirStore.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
