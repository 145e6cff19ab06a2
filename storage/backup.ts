/**
 * Backup and restore of one mailbox environment. A backup is LMDB's own consistent copy
 * (mdb_env_copy with compaction), safe while writes go on, written to one file. A restore checks
 * the file is a mailbox environment this server can open, then replaces the mailbox's data file;
 * the caller makes sure the mailbox is not open meanwhile (the actor is passivated and held).
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { actorError } from '../runtime/errors.js';
import { MailboxEnv } from './mailbox-env.js';
import { MailboxStore, type Identity } from './mailbox-store.js';
import { GLOBCNT_NEXT_KEY } from './ids.js';

export async function backupEnv(env: MailboxEnv, file: string): Promise<{ file: string; bytes: number }> {
  if (existsSync(file)) throw actorError('ecDuplicateName', `${file} exists already`);
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    await env.root.backup(tmp, true);
    renameSync(join(tmp, 'data.mdb'), file);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { file, bytes: statSync(file).size };
}

/** Opens a backup file on its own to check it; returns its identity. */
export async function inspectBackup(file: string): Promise<Identity> {
  if (!existsSync(file)) throw actorError('ecNotFound', `no backup file ${file}`);
  const dir = `${file}.check-${process.pid}-${Date.now()}`;
  mkdirSync(dir, { recursive: true });
  try {
    copyFileSync(file, join(dir, 'data.mdb'));
    const env = await MailboxEnv.open(dir);
    try {
      const id = new MailboxStore(env).identity();
      if (id === undefined) throw actorError('ecInvalidParam', `${file} holds no provisioned mailbox`);
      return id;
    } finally {
      await env.close();
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'ecInvalidParam' || (err as { code?: string }).code === 'ecNotFound') throw err;
    throw actorError('ecInvalidParam', `${file} is not a mailbox backup: ${(err as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Replaces a (closed) mailbox environment's data with a backup file. The id counter is then set
 * past everything the replaced environment had handed out, so no GLOBCNT is ever used twice
 * (clients keep ids and sync states).
 */
export async function restoreEnv(file: string, mailboxDir: string): Promise<Identity> {
  const id = await inspectBackup(file);
  let highWater = 0;
  if (existsSync(join(mailboxDir, 'data.mdb'))) {
    const old = await MailboxEnv.open(mailboxDir);
    highWater = (old.db.meta.get(GLOBCNT_NEXT_KEY) as number | undefined) ?? 0;
    await old.close();
  }
  mkdirSync(mailboxDir, { recursive: true, mode: 0o750 });
  const staged = join(mailboxDir, `data.mdb.restore-${process.pid}`);
  copyFileSync(file, staged);
  rmSync(join(mailboxDir, 'lock.mdb'), { force: true });
  renameSync(staged, join(mailboxDir, 'data.mdb'));
  const env = await MailboxEnv.open(mailboxDir);
  try {
    const next = (env.db.meta.get(GLOBCNT_NEXT_KEY) as number | undefined) ?? 0;
    if (highWater > next) await env.write(() => env.db.meta.putSync(GLOBCNT_NEXT_KEY, highWater));
  } finally {
    await env.close();
  }
  return id;
}
