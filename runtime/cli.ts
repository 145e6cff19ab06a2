/**
 * The admin CLI: `npm run cli -- [--config FILE] [--data DIR] <command> ...`
 *
 * Works whether or not the server is running: commands that act on a live server go through the
 * control socket in the data folder; commands on the data itself (users, domains, backups; they
 * come with the store) write through the server when it runs and open the data directly when not.
 * Exit codes: 0 done, 1 failed, 2 usage or configuration error, 3 no server running (for
 * commands that need one).
 */
import { runTransferCli, TRANSFER_USAGE } from './cli-transfer.js';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { hostname as osHostname } from 'node:os';
import { ConfigError, exampleConfig, loadConfig, partitions, type CliFlags, type Config } from './config.js';
import { ADMIN_USAGE, restoreChecked, runAdmin, type AdminBackend } from './admin.js';
import { resolve as resolvePath } from 'node:path';
import { MailboxStore } from '../storage/mailbox-store.js';
import { MessageStore } from '../storage/message-store.js';
import { backupEnv } from '../storage/backup.js';
import type { UserRecord } from '../storage/directory-store.js';
import { hashPassword } from './cpu-tasks.js';
import { DirectoryError, DirectoryStore } from '../storage/directory-store.js';
import { ntHash } from '../storage/nt-hash.js';
import { MailboxEnv } from '../storage/mailbox-env.js';
import { provisionEnv } from '../storage/provision.js';
import { choosePartition, locateMailbox, mailboxPath, parseMailboxAddress } from '../storage/partitions.js';
import { controlCall, ControlUnavailable } from './control-client.js';
import { OutboundQueueStore } from '../storage/outbound-queue.js';
import { offlineQueueAdmin } from '../protocols/smtp/outbound/outbound-service.js';
import type { ControlCommand } from './control-protocol.js';
import { DirectorySync, moveMailboxFolder } from './directory-sync.js';
import { runDirectoryCli } from './ldap-cli.js';
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import { makeDkimKey } from '../protocols/smtp/outbound/dkim.js';

const HELP = () => `usage: npm run cli -- [--config FILE] [--data DIR] <command>

commands:
  status                        workers, actors, listeners of the running server (JSON)
  metrics                       the runtime counters in Prometheus text format
  workers <N>                   change the number of actor workers live (1..256)
  placement <kind> <id> [W|auto] show which worker an actor is on; or pin it to worker W, or back to hashed placement
  reload                        re-read the config file (as SIGHUP does)
  shutdown                      stop the running server gracefully
  config check                  validate the configuration and print the effective values
  config example                print a documented config file with every default
  help                          this text
directory and mailboxes (through the running server, or directly when none runs):
${ADMIN_USAGE}
${TRANSFER_USAGE}
`;

class UsageError extends Error {}

const ADMIN_NOUNS = new Set(['domain', 'user', 'alias', 'group', 'member', 'mailbox', 'queue']);

/** Admin commands while no server runs: the directory and the mailboxes are opened directly. */
async function offlineAdmin(c: Config, argv: string[]): Promise<unknown> {
  const { backend, close } = await offlineBackend(c, argv);
  try {
    return await runAdmin(backend, argv);
  } finally {
    await close();
  }
}

/**
 * The LDAP directories without a running server: a sync in the CLI's own process, on the data
 * folder opened directly (the server must not run: the control socket answered nobody).
 */
async function offlineDirectory(c: Config, rest: string[]): Promise<{ out: unknown; code: number }> {
  const { backend, close } = await offlineBackend(c, ['directory']);
  const parts = partitions(c);
  const sync = new DirectorySync(c.ldap, {
    dir: backend.dir,
    log: pino({ level: process.env.STOA_LOG_LEVEL === 'debug' ? 'debug' : 'warn' }, process.stderr),
    provisionMailbox: (user) => backend.provisionMailbox(user),
    mailboxExists: (address) => locateMailbox(parts, parseMailboxAddress(address)) !== null,
    moveMailbox: async (from, to, commit) => {
      moveMailboxFolder(parts, from, to);
      await commit();
    },
    removeMailbox: async (user) => {
      const path = locateMailbox(parts, parseMailboxAddress(user.address));
      if (path !== null) rmSync(path, { recursive: true, force: true });
    },
    addDomain: async (name) => {
      if (backend.dir.domain(name) === undefined) await backend.dir.addDomain(name, { dkim: await makeDkimKey() });
    },
  });
  if (sync.configured) backend.directory = sync;
  try {
    return await runDirectoryCli(rest, (argv) => runAdmin(backend, argv));
  } finally {
    await sync.stop();
    await close();
  }
}

async function offlineBackend(c: Config, argv: string[]): Promise<{ backend: AdminBackend; close(): Promise<void> }> {
  const dir = DirectoryStore.open(join(c.server.data_dir, 'directory'));
  const parts = partitions(c);
  const host = c.server.hostname !== '' ? c.server.hostname : osHostname();
  const backend: AdminBackend = {
    dir,
    hash: async (password) => ({
      passwordHash: hashPassword({ password, params: { n: c.auth.scrypt_n, r: c.auth.scrypt_r, p: c.auth.scrypt_p } }),
      ntHash: c.auth.store_nt_hash ? ntHash(password).toString('hex') : null,
    }),
    provisionMailbox: async (user) => {
      const address = parseMailboxAddress(user.address);
      if (locateMailbox(parts, address) !== null) throw new DirectoryError('EXISTS', `a mailbox for ${user.address} exists already`);
      const path = mailboxPath(user.partition ?? choosePartition(parts), address);
      const env = await MailboxEnv.open(path);
      try {
        await provisionEnv(env, { ownerName: user.displayName, legacyDn: user.legacyDn, serverShortname: host.split('.')[0]! });
      } finally {
        await env.close();
      }
      return { path };
    },
    mailboxStats: (user) => withMailbox(c, user, async (env) => new MessageStore(new MailboxStore(env)).stats()),
    setMailboxQuota: (user, bytes) =>
      withMailbox(c, user, (env) => env.write(() => new MailboxStore(env).setQuota({ warnBytes: Math.floor(bytes * 0.9), sendBytes: bytes, receiveBytes: Math.floor(bytes * 1.1) }))),
    mailboxBackup: (user, file) => withMailbox(c, user, (env) => backupEnv(env, file)),
    mailboxRestore: (user, file) => {
      const path = locateMailbox(parts, parseMailboxAddress(user.address));
      if (path === null) throw new DirectoryError('NOT_FOUND', `no mailbox for ${user.address}`);
      return restoreChecked(user, file, path);
    },
  };
  // The outbound queue, opened directly: list and remove work; flush needs the server's sender.
  const queue = argv[0] === 'queue' ? await OutboundQueueStore.open(join(c.server.data_dir, 'queue')) : null;
  if (queue !== null) {
    backend.queue = {
      ...offlineQueueAdmin(queue),
      flush: () => Promise.reject(new ControlUnavailable('queue flush needs the running server (start it: due mail goes out at once)')),
    };
  }
  return {
    backend,
    close: async () => {
      await queue?.close();
      await dir.close();
    },
  };
}

/** Opens a user's mailbox environment directly (no server running), runs fn, closes it. */
async function withMailbox<T>(c: Config, user: UserRecord, fn: (env: MailboxEnv) => Promise<T>): Promise<T> {
  const path = locateMailbox(partitions(c), parseMailboxAddress(user.address));
  if (path === null) throw new DirectoryError('NOT_FOUND', `no mailbox for ${user.address}`);
  const env = await MailboxEnv.open(path);
  try {
    return await fn(env);
  } finally {
    await env.close();
  }
}

function controlPath(c: Config): string {
  return c.control.socket !== '' ? c.control.socket : join(c.server.data_dir, 'control.sock');
}

async function live(c: Config, cmd: ControlCommand, args: Record<string, unknown> = {}): Promise<unknown> {
  return controlCall(controlPath(c), cmd, args);
}

function print(v: unknown): void {
  process.stdout.write(typeof v === 'string' ? v : JSON.stringify(v, null, 2) + '\n');
}

async function main(argv: string[]): Promise<number> {
  // Global options come before the command; everything from the command on is the command's own.
  let split = 0;
  while (split < argv.length && argv[split]!.startsWith('-')) split += argv[split] === '--config' || argv[split] === '--data' ? 2 : 1;
  const { values } = parseArgs({
    args: argv.slice(0, split),
    options: { config: { type: 'string' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  const [cmd, ...rest] = argv.slice(split);
  if (values.help === true || cmd === undefined || cmd === 'help') {
    process.stdout.write(HELP());
    return cmd === undefined && values.help !== true ? 2 : 0;
  }
  const flags: CliFlags = { config: values.config, data: values.data };
  if (cmd === 'config' && rest[0] === 'example') {
    process.stdout.write(exampleConfig());
    return 0;
  }
  const { config, file } = loadConfig(flags);
  if (cmd === 'mailbox' && (rest[0] === 'import' || rest[0] === 'export')) {
    const { summary, code } = await runTransferCli(controlPath(config), rest);
    print(summary);
    return code;
  }
  if (cmd === 'directory') {
    let r: { out: unknown; code: number };
    try {
      r = await runDirectoryCli(rest, (argv) => live(config, 'admin', { argv }));
    } catch (err) {
      if (!(err instanceof ControlUnavailable)) throw err;
      r = await offlineDirectory(config, rest);
    }
    print(r.out);
    return r.code;
  }
  if (ADMIN_NOUNS.has(cmd)) {
    const argv = [cmd, ...rest];
    // Backup files are named relative to where the CLI runs, not where the server does.
    if (cmd === 'mailbox' && (rest[0] === 'backup' || rest[0] === 'restore') && rest[2] !== undefined) argv[3] = resolvePath(rest[2]);
    try {
      print(await live(config, 'admin', { argv }));
    } catch (err) {
      if (!(err instanceof ControlUnavailable)) throw err;
      print(await offlineAdmin(config, argv));
    }
    return 0;
  }
  switch (cmd) {
    case 'config':
      if (rest[0] !== 'check') throw new UsageError(`unknown config subcommand ${JSON.stringify(rest[0] ?? '')}`);
      print({ file, config });
      return 0;
    case 'status':
    case 'metrics':
    case 'reload':
    case 'shutdown':
      print(await live(config, cmd));
      return 0;
    case 'workers': {
      const n = Number(rest[0]);
      if (rest.length !== 1 || !Number.isInteger(n) || n < 1 || n > 256) throw new UsageError('workers takes one whole number from 1 to 256');
      print(await live(config, 'workers', { count: n }));
      return 0;
    }
    case 'placement': {
      const [kind, id, w] = rest;
      if (kind === undefined || id === undefined || rest.length > 3) throw new UsageError('placement takes <kind> <id> [worker|auto]');
      if (w === undefined) {
        print(await live(config, 'placement', { kind, id }));
        return 0;
      }
      const worker = w === 'auto' ? null : Number(w);
      if (worker !== null && (!Number.isInteger(worker) || worker < 0)) throw new UsageError('the worker is a whole number from 0, or auto');
      print(await live(config, 'placement', { kind, id, worker }));
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)} (try: npm run cli -- help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(2);
    }
    if (err instanceof UsageError || ['ERR_PARSE_ARGS_UNKNOWN_OPTION', 'USAGE'].includes((err as { code?: string }).code ?? '')) {
      process.stderr.write(`stoa cli: ${(err as Error).message}\n`);
      process.exit(2);
    }
    if (err instanceof ControlUnavailable) {
      process.stderr.write(`stoa cli: ${err.message}\n`);
      process.exit(3);
    }
    process.stderr.write(`stoa cli: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
