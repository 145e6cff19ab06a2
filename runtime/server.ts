/**
 * Starts and stops the whole server: data folder, TLS identity, actor workers, CPU pool,
 * listeners with their doors, and the control socket. main.ts wraps this with flags and signals;
 * tests may start it in-process.
 */
import { mkdirSync, accessSync, constants, writeFileSync, rmSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ActorSystem } from './actor-system.js';
import { CpuPool } from './cpu-pool.js';
import { ControlServer, assertNoOtherServer } from './control-server.js';
import { cpuPoolThreads, loadConfig, partitions, workerCount, type CliFlags, type Config, type LoadedConfig } from './config.js';
import { directorySamples, renderPrometheus, runtimeSamples } from './metrics.js';
import { actorRef } from './actor.js';
import { ACTOR_KINDS } from '../actors/registry.js';
import { Listeners } from '../protocols/shared/listeners.js';
import { loadTlsIdentity, type TlsIdentity } from '../protocols/shared/tls.js';
import { makeDoors } from '../protocols/doors.js';
import type { HealthProtocol } from '../actors/health/health-actor.js';
import type { ControlCommand } from './control-protocol.js';
import { DirectoryStore, type UserRecord } from '../storage/directory-store.js';
import { Authenticator } from './auth.js';
import { generatePassword, runAdmin, type AdminBackend } from './admin.js';
import type { MailboxProtocol } from '../actors/mailbox/mailbox-actor.js';
import { locateMailbox, parseMailboxAddress } from '../storage/partitions.js';
import { restoreChecked } from './admin.js';
import { MailboxTransfers, runTransfer } from './mailbox-transfer.js';
import { LocalDelivery } from '../protocols/smtp/local-delivery.js';
import { SmtpDoors } from '../protocols/smtp/smtp-door.js';
import { makePop3Door } from '../protocols/pop3/pop3-door.js';
import { makeImapDoor } from '../protocols/imap/imap-door.js';
import { FailureThrottle } from '../protocols/shared/failure-throttle.js';
import { OutboundService } from '../protocols/smtp/outbound/outbound-service.js';
import type { Smarthost, TlsMode } from '../protocols/smtp/outbound/route.js';
import { actorError } from './errors.js';
import { deploymentIdFrom } from '../protocols/autodiscover/routes.js';
import { DirectorySync, moveMailboxFolder } from './directory-sync.js';

export interface RunningServer {
  config: Config;
  hostname: string;
  tls: TlsIdentity;
  system: ActorSystem;
  pool: CpuPool;
  listeners: Listeners;
  control: ControlServer;
  dir: DirectoryStore;
  auth: Authenticator;
  /** The LDAP directories ([ldap.<name>]); configured false when there are none. */
  directorySync: DirectorySync;
  /** Set when this start created the first admin account. */
  firstAdmin: { address: string; password: string; file: string } | null;
  /** Re-reads the config file and applies what can change live (workers, log level). */
  reload(): Promise<string[]>;
  stop(): Promise<void>;
  /** Resolves once stop() has finished (from a signal, the control socket or a call). */
  stopped: Promise<void>;
}

export async function startServer(loaded: LoadedConfig, flags: CliFlags, log: Logger): Promise<RunningServer> {
  const config = loaded.config;
  const dataDir = config.server.data_dir;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o750 });
    accessSync(dataDir, constants.W_OK);
  } catch (err) {
    throw new Error(`server.data_dir: cannot use ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const controlPath = config.control.socket !== '' ? config.control.socket : join(dataDir, 'control.sock');
  // First of all: a second server on the same data folder would corrupt it. Refuse before
  // touching anything (and before any port could fail for another reason).
  await assertNoOtherServer(controlPath);
  const hostname = config.server.hostname !== '' ? config.server.hostname : osHostname();
  const tls = await loadTlsIdentity(config, hostname);
  if (tls.source === 'generated') log.info({ cert: tls.certPath, sha256: tls.fingerprint256 }, 'generated a self-signed TLS certificate');

  const system = await ActorSystem.start({
    workers: workerCount(config),
    kinds: ACTOR_KINDS,
    log,
    logLevel: config.log.level,
    callTimeoutMs: config.runtime.call_timeout_ms,
    ringBytes: config.runtime.ring_kib * 1024,
    mainSpinMicros: config.runtime.main_spin_us,
    settings: { partitions: partitions(config), tombstoneMs: config.storage.tombstone_days * 86_400_000 },
    limits: {
      idleMs: config.runtime.idle_seconds * 1000,
      maxActiveActors: config.runtime.max_active_actors,
      queueSoft: config.runtime.queue_soft_limit,
      queueHard: config.runtime.queue_hard_limit,
      drainMs: config.runtime.drain_seconds * 1000,
      spinMicros: config.runtime.spin_us,
    },
  });
  const pool = new CpuPool({ threads: cpuPoolThreads(config), minBytes: config.cpu_pool.min_bytes });
  const dir = DirectoryStore.open(join(dataDir, 'directory'));
  const secret = await dir.secret();
  const auth = new Authenticator(dir, pool, secret, {
    scrypt: { n: config.auth.scrypt_n, r: config.auth.scrypt_r, p: config.auth.scrypt_p },
    cacheMs: config.auth.cache_seconds * 1000,
    storeNtHash: config.auth.store_nt_hash,
  });
  const serverShortname = hostname.split('.')[0]!;
  const admin: AdminBackend = {
    dir,
    hash: (password) => auth.hash(password),
    provisionMailbox: (user: UserRecord) =>
      system.call(actorRef<MailboxProtocol>('mailbox', user.address), 'provision', {
        ownerName: user.displayName,
        legacyDn: user.legacyDn,
        serverShortname,
        ...(user.partition !== null ? { partition: user.partition } : {}),
      }),
    mailboxStats: (user) => system.call(actorRef<MailboxProtocol>('mailbox', user.address), 'stats', null),
    setMailboxQuota: async (user, bytes) => {
      await system.call(actorRef<MailboxProtocol>('mailbox', user.address), 'setQuota', { bytes });
    },
    mailboxBackup: (user, file) => system.call(actorRef<MailboxProtocol>('mailbox', user.address), 'backup', { file }, { timeoutMs: 3_600_000 }),
    mailboxRestore: (user, file) => {
      const path = locateMailbox(partitions(config), parseMailboxAddress(user.address));
      if (path === null) throw actorError('ecNotFound', `no mailbox for ${user.address}`);
      return system.withPassivated('mailbox', user.address, () => restoreChecked(user, file, path));
    },
  };
  const firstAdmin = await createFirstAdmin(dir, admin, hostname, dataDir, log);
  // LDAP directories: users synced into `dir` (the doors' only read path), passwords checked by bind.
  const parts = partitions(config);
  const directorySync = new DirectorySync(config.ldap, {
    dir,
    log: log.child({ component: 'ldap' }),
    provisionMailbox: (user) => admin.provisionMailbox(user),
    mailboxExists: (address) => locateMailbox(parts, parseMailboxAddress(address)) !== null,
    // Both mailboxes stay closed (their calls held) while the folder moves and the directory follows.
    moveMailbox: (from, to, commit) =>
      system.withPassivated('mailbox', from, () =>
        system.withPassivated('mailbox', to, async () => {
          moveMailboxFolder(parts, from, to);
          await commit();
        }),
      ),
    removeMailbox: (user) =>
      system.withPassivated('mailbox', user.address, async () => {
        const path = locateMailbox(parts, parseMailboxAddress(user.address));
        if (path !== null) rmSync(path, { recursive: true, force: true });
      }),
    addDomain: async (name) => {
      if (dir.domain(name) === undefined) await runAdmin(admin, ['domain', 'add', name]);
    },
  });
  if (directorySync.configured) {
    auth.useExternal(directorySync);
    admin.directory = directorySync;
  }
  const transfers = new MailboxTransfers({ system, dir, pool, hostname, log });
  const delivery = new LocalDelivery({ system, pool, dir });
  /** Failed SMTP AUTH and POP3 logins per client address, across connections. */
  const mailThrottle = new FailureThrottle(config.auth.failures_per_address, config.auth.failure_window_seconds * 1000);
  const outbound = new OutboundService({
    dataDir,
    dir,
    delivery,
    hostname,
    log: log.child({ component: 'outbound' }),
    smarthost: smarthostOf(config),
    expiryMs: config.outbound.expiry_hours * 3_600_000,
    delayNoticeMs: config.outbound.delay_notice_hours * 3_600_000,
    concurrency: { global: config.outbound.max_connections, perDomain: config.outbound.max_connections_per_domain },
    tls: { rejectUnauthorized: config.outbound.verify_mx_tls },
    timeouts: { connectMs: config.outbound.connect_timeout_seconds * 1000 },
    signer: async (raw, domain, key) => {
      const signed = await pool.run('dkimSign', { raw, domain, selector: key.selector, privateKey: key.privateKey }, { route: 'pool' });
      return Buffer.from(signed.buffer, signed.byteOffset, signed.byteLength);
    },
  });
  await outbound.start();
  admin.queue = outbound;
  const smtp = new SmtpDoors({
    hostname,
    log: log.child({ door: 'smtp' }),
    dir,
    auth,
    delivery,
    outbound,
    tls,
    limits: {
      maxMessageBytes: config.smtp.max_message_kib * 1024,
      maxRecipients: config.smtp.max_recipients,
      maxConnectionsPerIp: config.smtp.max_connections_per_ip,
      maxAuthFailures: config.smtp.max_auth_failures,
      socketTimeoutMs: config.smtp.idle_timeout_seconds * 1000,
    },
    allowPlaintextAuth: config.auth.plaintext_without_tls,
    throttle: mailThrottle,
  });

  const health = async () => {
    const stats = await system.stats();
    const up = stats.workers.every((w) => w.state === 'up');
    const probe = await system.call(actorRef<HealthProtocol>('health', 'probe'), 'ping', null, { timeoutMs: 2000 }).then(
      () => true,
      () => false,
    );
    return { ok: up && probe, detail: { workers: stats.workers.map((w) => ({ index: w.index, state: w.state })), probe } };
  };

  let listeners: Listeners;
  try {
    const doors = makeDoors({
      config,
      hostname,
      log,
      health,
      smtp,
      imap: makeImapDoor({
        hostname,
        log: log.child({ door: 'imap' }),
        auth,
        dir,
        system,
        pool,
        tls,
        implicitTls: false,
        allowPlaintextAuth: config.auth.plaintext_without_tls,
      }),
      pop3: makePop3Door({
        hostname,
        log: log.child({ door: 'pop3' }),
        auth,
        dir,
        system,
        tls,
        allowPlaintextAuth: config.auth.plaintext_without_tls,
        limits: { idleMs: config.pop3.idle_timeout_seconds * 1000 },
        throttle: mailThrottle,
      }),
      dir,
      auth,
      system,
      outbound,
      pool,
      samples: async () => [...runtimeSamples(await system.stats()), ...directorySamples(dir, auth)],
      deploymentId: deploymentIdFrom(secret),
      fetchMailboxGuid: async (address) => (await system.call(actorRef<MailboxProtocol>('mailbox', address), 'logonInfo', null)).mailboxGuid,
    });
    listeners = await Listeners.bind(config, tls, doors, log);
  } catch (err) {
    await Promise.allSettled([outbound.stop(), system.shutdown(), pool.close()]);
    await dir.close();
    throw err;
  }

  let stopping: Promise<void> | null = null;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let current = config;

  const reload = async (): Promise<string[]> => {
    const next = loadConfig(flags).config;
    const applied: string[] = [];
    if (workerCount(next) !== system.workerCount) {
      await system.setWorkerCount(workerCount(next));
      applied.push(`runtime.workers=${workerCount(next)}`);
    }
    if (next.log.level !== current.log.level) {
      log.level = next.log.level;
      applied.push(`log.level=${next.log.level}`);
    }
    current = next;
    log.info({ applied }, 'configuration reloaded');
    return applied;
  };

  const stop = (): Promise<void> => {
    if (stopping !== null) return stopping;
    stopping = (async () => {
      log.info('stopping: closing listeners, draining calls');
      await listeners.close();
      await directorySync.stop();
      smtp.close();
      await outbound.stop();
      await control.close();
      await system.shutdown();
      await pool.close();
      await dir.close();
      log.info('stopped');
      resolveStopped();
    })();
    return stopping;
  };

  const onControl = async (cmd: ControlCommand, args: Record<string, unknown>): Promise<unknown> => {
    switch (cmd) {
      case 'ping':
        return { pong: true, pid: process.pid };
      case 'status':
        return { hostname, pid: process.pid, listeners: listeners.bound, runtime: await system.stats(), cpuPool: pool.stats() };
      case 'metrics':
        return renderPrometheus([...runtimeSamples(await system.stats()), ...directorySamples(dir, auth)]);
      case 'workers': {
        const n = Number(args.count);
        await system.setWorkerCount(n);
        return { workers: system.workerCount };
      }
      case 'placement': {
        if ('worker' in args) {
          const w = args.worker === null || args.worker === 'auto' ? null : Number(args.worker);
          await system.setPlacement(String(args.kind), String(args.id), w);
        }
        return { kind: args.kind, id: args.id, worker: system.whereIs(String(args.kind), String(args.id)) };
      }
      case 'reload':
        return { applied: await reload() };
      case 'shutdown':
        setImmediate(() => void stop());
        return { stopping: true };
      case 'admin': {
        const argv = Array.isArray(args.argv) ? args.argv.map(String) : [];
        return runAdmin(admin, argv);
      }
      case 'transfer':
        return runTransfer(transfers, args);
    }
  };
  let control: ControlServer;
  try {
    control = await ControlServer.listen(controlPath, onControl, log);
  } catch (err) {
    await Promise.allSettled([listeners.close(), outbound.stop(), system.shutdown(), pool.close()]);
    await dir.close();
    throw err;
  }

  directorySync.start();
  return { config, hostname, tls, system, pool, listeners, control, dir, auth, directorySync, firstAdmin, reload, stop, stopped };
}

/**
 * On the very first start (an empty directory) create a domain named after the host and an
 * admin account with a generated password, written once to <data>/initial-admin.txt (mode 0600)
 * and shown in the start banner.
 */
async function createFirstAdmin(dir: DirectoryStore, admin: AdminBackend, hostname: string, dataDir: string, log: Logger): Promise<RunningServer['firstAdmin']> {
  if (dir.users().length > 0 || dir.domains().length > 0) return null;
  const domain = /^[a-z0-9.-]+$/i.test(hostname) ? hostname.toLowerCase() : 'localdomain';
  const password = generatePassword();
  await runAdmin(admin, ['domain', 'add', domain]);
  await runAdmin(admin, ['user', 'add', `admin@${domain}`, '--admin', '--name', 'Administrator', '--password', password]);
  const file = join(dataDir, 'initial-admin.txt');
  writeFileSync(file, `login: admin@${domain}\npassword: ${password}\nChange it with: npm run cli -- user passwd admin@${domain}\n`, { mode: 0o600 });
  log.info({ admin: `admin@${domain}`, file }, 'created the first admin account');
  return { address: `admin@${domain}`, password, file };
}

/** The smarthost of outbound.smarthost ("host:port"), or null for MX delivery. */
function smarthostOf(config: Config): Smarthost | null {
  const o = config.outbound;
  if (o.smarthost === '') return null;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(o.smarthost.trim());
  if (m === null) throw new Error(`outbound.smarthost: expected host:port, got ${JSON.stringify(o.smarthost)}`);
  const tls = o.smarthost_tls as TlsMode;
  return {
    host: m[1]!.replace(/^\[|\]$/g, ''),
    port: m[2] !== undefined ? Number(m[2]) : tls === 'implicit' ? 465 : 587,
    tls,
    rejectUnauthorized: o.smarthost_verify_tls,
    auth: o.smarthost_user !== '' ? { user: o.smarthost_user, pass: o.smarthost_password } : null,
  };
}
