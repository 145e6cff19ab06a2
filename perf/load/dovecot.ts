/**
 * Dovecot (Debian's dovecot-core plus -imapd, -pop3d or -lmtpd) as the peer of the IMAP, POP3
 * and LMTP benchmarks, configured fairly: Maildir with mail_fsync = always (durable like us),
 * users in a passwd-file with SHA512-CRYPT hashes and its auth cache (or none, for the cold
 * figures), login and mail processes reused (its fast configuration), mail processes
 * unprivileged (uid 65534: the caller's temp folder must be 0755), plain TCP on 127.0.0.1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, hasCommand, waitPort } from './peers.js';

export interface DovecotOptions {
  dir: string;
  name: string;
  protocol: 'imap' | 'pop3' | 'lmtp';
  /** Users and their one password (IMAP and POP3 log in; LMTP needs none). */
  users?: readonly string[];
  password?: string;
  /** Dovecot's auth cache on (default) or off. */
  authCache?: boolean;
}

export interface Dovecot {
  port: number;
  /** Where user u's Maildir is: <mailRoot>/<local part of u>. */
  mailRoot: string;
  stop(): void;
}

function service(protocol: DovecotOptions['protocol'], port: number): string {
  const listener = `address = 127.0.0.1\n    port = ${port}`;
  switch (protocol) {
    case 'lmtp':
      return `lmtp_save_to_detail_mailbox = no\nservice lmtp {\n  inet_listener lmtp {\n    ${listener}\n  }\n  user = root\n}\n`;
    case 'imap':
      return `service imap-login {\n  inet_listener imap {\n    ${listener}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n  service_count = 0\n  process_min_avail = 2\n  chroot =\n}\nservice imap {\n  service_count = 1000\n  process_min_avail = 4\n}\n`;
    case 'pop3':
      return `pop3_uidl_format = %08Xu%08Xv\nservice pop3-login {\n  inet_listener pop3 {\n    ${listener}\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n  service_count = 0\n  process_min_avail = 2\n  chroot =\n}\nservice pop3 {\n  service_count = 1000\n  process_min_avail = 4\n}\n`;
  }
}

/** Starts Dovecot for one protocol; null when that part of Dovecot is not installed or does not start. */
export async function startDovecot(o: DovecotOptions): Promise<Dovecot | null> {
  if (!hasCommand('dovecot') || !hasCommand('doveadm') || spawnSync('sh', ['-c', `test -x /usr/lib/dovecot/${o.protocol}`]).status !== 0) return null;
  const port = await freePort();
  const base = join(o.dir, o.name);
  for (const d of ['run', 'state']) mkdirSync(join(base, d), { recursive: true });
  const mailRoot = join(base, 'mail');
  mkdirSync(mailRoot, { recursive: true, mode: 0o777 });
  chmodSync(base, 0o755);
  chmodSync(mailRoot, 0o777);
  let passdb = 'passdb {\n  driver = static\n  args = nopassword=y\n}\n';
  if (o.protocol !== 'lmtp') {
    const hash = spawnSync('doveadm', ['pw', '-s', 'SHA512-CRYPT', '-p', o.password ?? ''], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(base, 'passwd'), (o.users ?? []).map((u) => `${u}:${hash}`).join('\n') + '\n', { mode: 0o644 });
    passdb = `passdb {\n  driver = passwd-file\n  args = scheme=SHA512-CRYPT ${base}/passwd\n}\n`;
  }
  const conf = join(base, 'dovecot.conf');
  writeFileSync(
    conf,
    `base_dir = ${base}/run
state_dir = ${base}/state
log_path = ${base}/dovecot.log
info_log_path = /dev/null
protocols = ${o.protocol}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
default_internal_user = root
default_login_user = nobody
default_internal_group = root
default_process_limit = 1000
default_client_limit = 20000
mail_location = maildir:${mailRoot}/%n
mail_fsync = always
auth_cache_size = ${o.authCache === false ? '0' : '10M'}
auth_cache_ttl = 1 hour
${passdb}userdb {
  driver = static
  args = uid=65534 gid=65534 home=${mailRoot}/%n
}
${service(o.protocol, port)}service anvil {
  chroot =
}
`,
  );
  const p = spawn('dovecot', ['-F', '-c', conf], { stdio: 'ignore' });
  try {
    await waitPort(port);
  } catch {
    p.kill('SIGKILL');
    return null;
  }
  return { port, mailRoot, stop: () => p.kill('SIGKILL') };
}
