/**
 * LDAP directories as sources of users, passwords and the address book.
 *
 * The doors read only the embedded directory (storage/directory-store.ts: microsecond LMDB reads
 * on the main thread). Users, aliases, display names and groups of each configured directory are
 * copied into it, marked with their source and keyed by the directory's immutable id (objectGUID,
 * entryUUID, nsUniqueId), by a sync that runs on a schedule, on demand (`directory sync`), and
 * for one user at a first login. So a slow or absent LDAP server never slows mail, Outlook or the
 * address book; only password checks that miss the credential cache go to LDAP, as binds.
 *
 * - A rename or move in LDAP (same id) updates the same user. Mailbox folders are named by the
 *   primary address (storage/partitions.ts), so a changed primary address moves the folder while
 *   the mailbox actors of both addresses are paused (`moveMailbox`), and the old address stays as
 *   an alias when `keep_old_addresses` is set. The mailbox's identity (legacy DN) derives from
 *   the user id, itself derived from the directory id: the same entry always gets the same one.
 * - A user gone from LDAP (deleted, out of the filter) is disabled and listed; nothing is deleted
 *   until an operator runs `directory sync --prune --yes`.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { attributeMap, resolveMembers, type LdapUser } from '../storage/ldap/attribute-maps.js';
import { LdapDirectory, type LdapSettings, type Skipped } from '../storage/ldap/ldap-directory.js';
import { dnKey, userIdFor } from '../storage/ldap/ldap-filter.js';
import { LdapPool, LdapUnavailable } from '../storage/ldap/ldap-pool.js';
import { effectiveEnabled, effectiveHidden, isHidden, PROFILE_FIELDS, type DirectoryStore, type SourcedUserInput, type UserRecord } from '../storage/directory-store.js';
import { locateMailbox, mailboxPath, parseMailboxAddress } from '../storage/partitions.js';
import type { AuthResult } from './auth.js';
import type { Config, LdapConfig } from './config.js';

/** What the sync needs of the server (or of the offline CLI). */
export interface SyncBackend {
  dir: DirectoryStore;
  /** Makes a new user's mailbox. */
  provisionMailbox(user: UserRecord): Promise<unknown>;
  /** True when a mailbox folder exists for this address. */
  mailboxExists(address: string): boolean;
  /**
   * Moves a mailbox folder to a new address and runs `commit` (the directory's rename) while
   * neither address's mailbox is open, so no call sees one without the other.
   */
  moveMailbox(from: string, to: string, commit: () => Promise<void>): Promise<void>;
  /** Deletes a mailbox (only for a confirmed prune). */
  removeMailbox(user: UserRecord): Promise<void>;
  /** Adds a domain (with its DKIM key) that a directory serves. */
  addDomain(name: string): Promise<void>;
  log: Logger;
}

export interface SyncOptions {
  /** Only this configuration (all when absent). */
  config?: string;
  /** List users gone from LDAP for removal; with `yes`, remove them and delete their mailboxes. */
  prune?: boolean;
  yes?: boolean;
  /** Apply even when more than max_gone_percent of the users would be gone. */
  force?: boolean;
}

export interface SyncProgress {
  config: string;
  phase: 'read' | 'users' | 'mailboxes' | 'groups' | 'prune' | 'done';
  /** Entries read so far. */
  read: number;
  /** Users to apply, and applied. */
  total: number;
  done: number;
}

export interface SyncSummary {
  config: string;
  ok: boolean;
  error?: string;
  ms: number;
  read: number;
  users: {
    created: number;
    updated: number;
    unchanged: number;
    renamed: { from: string; to: string }[];
    /** Users disabled in the directory (login refused). */
    disabled: number;
    /** Users no longer in the directory (disabled here; mailbox kept until a prune). */
    gone: string[];
    pruned: string[];
    conflicts: { dn: string; reason: string }[];
    skipped: Record<Skipped['reason'], number>;
    mailboxesCreated: number;
    mailboxFailures: { address: string; reason: string }[];
  };
  groups: { created: number; updated: number; removed: number; conflicts: { dn: string; reason: string }[] };
  /** With --prune and without --yes: what --yes would remove. */
  wouldPrune?: string[];
}

export interface SyncJob {
  job: string;
  state: 'running' | 'done' | 'failed';
  progress: SyncProgress | null;
  summaries: SyncSummary[];
  error?: string;
}

/** Users written to the directory per transaction. */
const APPLY_BATCH = 500;
/** Mailboxes made at once. */
const PROVISION_CONCURRENCY = 8;
/** A sync may call users gone without --force only below this count, or below max_gone_percent. */
const GONE_GUARD_MIN = 10;
/** Finished jobs are kept this long for the CLI to read. */
const JOB_KEEP_MS = 10 * 60_000;
const MAX_LISTED = 200;

interface Source {
  name: string;
  cfg: LdapConfig;
  ldap: LdapDirectory;
  searchPool: LdapPool;
  bindPool: LdapPool;
  running: Promise<SyncSummary> | null;
  timer: NodeJS.Timeout | null;
  last: SyncSummary | null;
  lastAt: number | null;
  nextAt: number | null;
}

/** The settings of one [ldap.<name>] table. */
export function ldapSettings(name: string, l: LdapConfig): LdapSettings {
  return {
    name,
    map: attributeMap(l.preset as 'openldap', {
      id: l.attr_id,
      mail: l.attr_mail,
      aliases: l.attr_aliases,
      displayName: l.attr_display_name,
      logins: l.attr_login,
      member: l.attr_member,
      disabled: l.disabled_when,
      nesting: l.group_nesting,
    }),
    baseDn: l.base_dn.trim(),
    userFilter: l.user_filter.trim(),
    groupFilter: l.group_filter.trim(),
    groups: l.groups,
    domains: l.domains.split(',').map((d) => d.trim().toLowerCase()).filter((d) => d !== ''),
    pageSize: l.page_size,
  };
}

/** The URIs of a table, with the preset's port where a URI names none (AD's global catalog: 3268 / 3269). */
export function ldapUris(l: LdapConfig): string[] {
  const ports = attributeMap(l.preset as 'openldap', {}).ports;
  return l.uris
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '')
    .map((u) => {
      const url = new URL(u);
      if (url.port !== '') return u;
      url.port = String(url.protocol === 'ldaps:' ? ports.ldaps : ports.ldap);
      return url.toString().replace(/\/$/, '');
    });
}

function makePool(l: LdapConfig, bind: boolean): LdapPool {
  return new LdapPool({
    uris: ldapUris(l),
    starttls: l.starttls,
    caFile: l.ca_file,
    verifyTls: l.verify_tls,
    connectTimeoutMs: l.connect_timeout_seconds * 1000,
    timeoutMs: l.timeout_seconds * 1000,
    retryMs: l.retry_seconds * 1000,
    max: l.pool_size,
    bind: bind && l.bind_dn !== '' ? { dn: l.bind_dn, password: l.bind_password } : null,
  });
}

function emptySummary(config: string): SyncSummary {
  return {
    config,
    ok: true,
    ms: 0,
    read: 0,
    users: { created: 0, updated: 0, unchanged: 0, renamed: [], disabled: 0, gone: [], pruned: [], conflicts: [], skipped: { 'no-id': 0, 'no-address': 0, 'other-domain': 0, 'bad-address': 0 }, mailboxesCreated: 0, mailboxFailures: [] },
    groups: { created: 0, updated: 0, removed: 0, conflicts: [] },
  };
}

function pushListed<T>(list: T[], item: T): void {
  if (list.length < MAX_LISTED) list.push(item);
}

export class DirectorySync {
  private readonly sources = new Map<string, Source>();
  private readonly jobs = new Map<string, SyncJob>();
  private readonly refreshing = new Map<string, Promise<UserRecord | null | 'unavailable'>>();
  private nextJob = 1;
  private stopped = false;
  /** Logins checked by binding, and how they ended (for metrics and the benchmark). */
  readonly counters = { binds: 0, bindFailures: 0, unavailable: 0, createdOnLogin: 0 };

  constructor(
    ldap: Config['ldap'],
    private readonly b: SyncBackend,
  ) {
    for (const [name, l] of Object.entries(ldap)) {
      const searchPool = makePool(l, true);
      const bindPool = makePool(l, false);
      this.sources.set(name, { name, cfg: l, ldap: new LdapDirectory(ldapSettings(name, l), searchPool, bindPool), searchPool, bindPool, running: null, timer: null, last: null, lastAt: null, nextAt: null });
    }
  }

  get configured(): boolean {
    return this.sources.size > 0;
  }

  names(): string[] {
    return [...this.sources.keys()];
  }

  /** Schedules the periodic syncs (the first at once, in the background). */
  start(): void {
    for (const s of this.sources.values()) {
      if (s.cfg.sync_interval_seconds === 0) continue;
      const run = () => {
        s.timer = null;
        if (this.stopped) return;
        void this.syncOne(s, {}).finally(() => {
          if (this.stopped) return;
          s.nextAt = Date.now() + s.cfg.sync_interval_seconds * 1000;
          s.timer = setTimeout(run, s.cfg.sync_interval_seconds * 1000);
          s.timer.unref();
        });
      };
      s.nextAt = Date.now();
      s.timer = setTimeout(run, 0);
      s.timer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.sources.values()) if (s.timer !== null) clearTimeout(s.timer);
    await Promise.allSettled([...this.sources.values()].map((s) => s.running));
    await Promise.allSettled([...this.sources.values()].flatMap((s) => [s.searchPool.close(), s.bindPool.close()]));
  }

  // ---------------------------------------------------------------- authentication

  /**
   * The directory that answers for a login: the user's own (a synced user), or, for a login not
   * known here, the directory serving its domain (a login without a domain: the first directory
   * that looks logins up by uid / sAMAccountName and finds it). Null: a local matter.
   */
  private claimants(login: string, user: UserRecord | undefined): Source[] | null {
    if (user !== undefined) {
      if (user.source === undefined) return null;
      const s = this.sources.get(user.source.config);
      return s === undefined ? [] : [s];
    }
    const at = login.lastIndexOf('@');
    if (at >= 0) {
      const domain = login.slice(at + 1).toLowerCase();
      const explicit = [...this.sources.values()].filter((s) => s.ldap.settings.domains.includes(domain));
      if (explicit.length > 0) return explicit;
      const any = [...this.sources.values()].filter((s) => s.ldap.settings.domains.length === 0 && this.b.dir.domain(domain) !== undefined);
      return any.length > 0 ? any : null;
    }
    const byLogin = [...this.sources.values()].filter((s) => s.ldap.settings.map.logins.length > 0);
    return byLogin.length > 0 ? byLogin : null;
  }

  /**
   * Checks a password against LDAP when a directory answers for the login; null when none does
   * (the local password applies). The caller refused empty passwords already; `bind` refuses
   * them again (RFC 4513 5.1.2). Unknown logins, ambiguous ones, disabled accounts and wrong
   * passwords all answer bad-credentials after one bind each; an unreachable directory answers
   * temporarily-unavailable.
   */
  async verify(login: string, password: string, user: UserRecord | undefined): Promise<AuthResult | null> {
    const claim = this.claimants(login, user);
    if (claim === null) return null;
    if (claim.length === 0 || password === '') return { result: 'bad-credentials' };
    try {
      for (const s of claim) {
        const found = user?.source !== undefined ? await s.ldap.lookupById(user.source.id) : await s.ldap.lookup(login);
        if (found.kind !== 'found') {
          if (s !== claim[claim.length - 1]) continue;
          if (found.kind === 'ambiguous') this.b.log.warn({ ldap: s.name, login, entries: found.count }, 'a login matches more than one LDAP entry: refused');
          await s.ldap.dummyBind(password);
          this.counters.bindFailures++;
          return { result: 'bad-credentials' };
        }
        const entry = found.user;
        if (entry.disabled) {
          await s.ldap.dummyBind(password);
          this.counters.bindFailures++;
          return { result: 'bad-credentials' };
        }
        this.counters.binds++;
        if (!(await s.ldap.bind(entry.dn, password))) {
          this.counters.bindFailures++;
          return { result: 'bad-credentials' };
        }
        const local = await this.refreshOnLogin(s, entry);
        if (local === 'unavailable') return { result: 'temporarily-unavailable' };
        if (local === null || !local.enabled) return { result: 'bad-credentials' };
        return { result: 'ok', user: local };
      }
      return { result: 'bad-credentials' };
    } catch (err) {
      if (!(err instanceof LdapUnavailable)) this.b.log.error({ err, login }, 'LDAP login check failed');
      else this.b.log.warn({ err: err.message }, 'LDAP unavailable for a login');
      this.counters.unavailable++;
      return { result: 'temporarily-unavailable' };
    }
  }

  /**
   * After a successful bind: the local copy of the entry, brought up to date (a user not synced
   * yet is created with its mailbox when create_on_login is set). 'unavailable' when the mailbox
   * could not be made (the next login tries again).
   */
  private refreshOnLogin(s: Source, entry: LdapUser): Promise<UserRecord | null | 'unavailable'> {
    // Two first logins of one user at once (a phone and a laptop) share one creation.
    const key = `${s.name}\0${entry.id}`;
    const running = this.refreshing.get(key);
    if (running !== undefined) return running;
    const p = this.refreshEntry(s, entry).finally(() => this.refreshing.delete(key));
    this.refreshing.set(key, p);
    return p;
  }

  private async refreshEntry(s: Source, entry: LdapUser): Promise<UserRecord | null | 'unavailable'> {
    const dir = this.b.dir;
    const have = dir.bySource(s.name, entry.id).user;
    if (have === undefined && !s.cfg.create_on_login) return null;
    if (have !== undefined && sameAsEntry(have, entry) && have.source!.provisioned) return have;
    const domain = entry.address.split('@')[1]!;
    if (dir.domain(domain) === undefined) {
      if (!s.ldap.settings.domains.includes(domain)) return null;
      await this.b.addDomain(domain);
    }
    const [r] = await dir.applySourcedUsers([inputOf(s.name, entry)]);
    if (r === undefined || r.kind === 'conflict') {
      this.b.log.warn({ ldap: s.name, dn: entry.dn, reason: r?.kind === 'conflict' ? r.reason : 'none' }, 'LDAP user not taken at login');
      return null;
    }
    let user = r.user;
    if (r.kind === 'created') this.counters.createdOnLogin++;
    if (r.kind === 'rename') user = (await this.rename(s, user, r.to)) ?? user;
    if (!user.source!.provisioned) {
      const ok = await this.provision(user);
      if (ok !== true) {
        this.b.log.error({ user: user.address, reason: ok }, 'could not make the mailbox of an LDAP user at login');
        return 'unavailable';
      }
    }
    return dir.userById(user.id) ?? null;
  }

  /** Makes (or finds) a synced user's mailbox; true, or why not. */
  private async provision(user: UserRecord): Promise<true | string> {
    try {
      if (!this.b.mailboxExists(user.address)) await this.b.provisionMailbox(user);
      await this.b.dir.setProvisioned(user.id);
      return true;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** Moves the mailbox and renames the user; null when the new address is taken (reported by the caller). */
  private async rename(s: Source, user: UserRecord, to: string): Promise<UserRecord | null> {
    const from = user.address;
    let out: UserRecord | null = null;
    const commit = async () => {
      out = await this.b.dir.renameUser(user.id, to, s.cfg.keep_old_addresses);
    };
    try {
      if (user.source?.provisioned === true || this.b.mailboxExists(from)) {
        if (this.b.mailboxExists(to)) throw new Error(`a mailbox folder for ${to} exists already`);
        await this.b.moveMailbox(from, to, commit);
      } else await commit();
      this.b.log.info({ ldap: s.name, from, to }, 'LDAP user renamed; mailbox moved');
      return out;
    } catch (err) {
      this.b.log.warn({ ldap: s.name, from, to, err: (err as Error).message }, 'LDAP rename not applied');
      return null;
    }
  }

  // ---------------------------------------------------------------- sync

  /** Runs a sync of every configuration (or one) now; a sync already running is joined. */
  async sync(opts: SyncOptions = {}, onProgress?: (p: SyncProgress) => void): Promise<SyncSummary[]> {
    const list = opts.config !== undefined ? [this.mustSource(opts.config)] : [...this.sources.values()];
    const out: SyncSummary[] = [];
    for (const s of list) out.push(await this.syncOne(s, opts, onProgress));
    return out;
  }

  private mustSource(name: string): Source {
    const s = this.sources.get(name);
    if (s === undefined) throw Object.assign(new Error(`no LDAP configuration ${JSON.stringify(name)} (configured: ${this.names().join(', ') || 'none'})`), { code: 'NOT_FOUND' });
    return s;
  }

  private syncOne(s: Source, opts: SyncOptions, onProgress?: (p: SyncProgress) => void): Promise<SyncSummary> {
    if (s.running !== null && opts.prune !== true && opts.force !== true) return s.running;
    const run = (s.running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.runSync(s, opts, onProgress))
      .finally(() => {
        if (s.running === run) s.running = null;
      });
    s.running = run;
    return run;
  }

  private async runSync(s: Source, opts: SyncOptions, onProgress?: (p: SyncProgress) => void): Promise<SyncSummary> {
    const t0 = Date.now();
    const sum = emptySummary(s.name);
    const progress: SyncProgress = { config: s.name, phase: 'read', read: 0, total: 0, done: 0 };
    const report = () => onProgress?.({ ...progress });
    const dir = this.b.dir;
    try {
      for (const d of s.ldap.settings.domains) if (dir.domain(d) === undefined) await this.b.addDomain(d);
      report();
      const { users, skipped } = await s.ldap.readUsers((read) => {
        progress.read = read;
        report();
      });
      for (const k of skipped) sum.users.skipped[k.reason]++;
      // With no domain list, entries of domains not served here are skipped, not conflicts.
      const usable = users.filter((u) => {
        if (dir.domain(u.address.split('@')[1]!) !== undefined) return true;
        sum.users.skipped['other-domain']++;
        return false;
      });
      sum.read = progress.read;
      // The guard: a filter or rights mistake must not disable everyone.
      const seen = new Set(usable.map((u) => u.id));
      const synced = dir.sourcedUsers(s.name);
      const gone = synced.filter((u) => !seen.has(u.source!.id));
      const newlyGone = gone.filter((u) => u.source!.goneSince === null);
      const present = synced.length - gone.length + newlyGone.length;
      if (opts.force !== true && newlyGone.length > GONE_GUARD_MIN && (newlyGone.length * 100) / Math.max(1, present) > s.cfg.max_gone_percent) {
        throw new Error(
          `refusing: ${newlyGone.length} of ${present} users would be gone from LDAP (more than max_gone_percent ${s.cfg.max_gone_percent}%); check uris, base_dn, user_filter and the service account's rights, or run directory sync --force`,
        );
      }
      progress.phase = 'users';
      progress.total = usable.length;
      report();
      // Entries the local copy already matches cost a read each and no write (the common case
      // of a periodic refresh).
      const changed = usable.filter((u) => {
        const have = dir.bySource(s.name, u.id).user;
        if (have === undefined || !sameAsEntry(have, u)) return true;
        sum.users.unchanged++;
        if (u.disabled) sum.users.disabled++;
        return false;
      });
      progress.done = usable.length - changed.length;
      report();
      const renames: { user: UserRecord; to: string }[] = [];
      for (let i = 0; i < changed.length; i += APPLY_BATCH) {
        const batch = changed.slice(i, i + APPLY_BATCH);
        const results = await dir.applySourcedUsers(batch.map((u) => inputOf(s.name, u)));
        results.forEach((r, k) => {
          const entry = batch[k]!;
          if (entry.disabled) sum.users.disabled++;
          switch (r.kind) {
            case 'conflict':
              pushListed(sum.users.conflicts, { dn: entry.dn, reason: r.reason });
              return;
            case 'rename':
              renames.push({ user: r.user, to: r.to });
              break;
            default:
              sum.users[r.kind]++;
          }
          for (const a of r.droppedAliases) pushListed(sum.users.conflicts, { dn: entry.dn, reason: `alias ${a} is used by another entry or not served here` });
        });
        progress.done += batch.length;
        report();
      }
      for (const { user, to } of renames) {
        const from = user.address;
        if ((await this.rename(s, user, to)) !== null) sum.users.renamed.push({ from, to });
        else pushListed(sum.users.conflicts, { dn: user.source!.dn, reason: `cannot rename ${from} to ${to}: the address or its mailbox folder is in use` });
      }
      for (const u of await dir.markGone(newlyGone.map((u) => u.id))) this.b.log.warn({ ldap: s.name, user: u.address, dn: u.source!.dn }, 'user gone from LDAP: disabled, mailbox kept');
      sum.users.gone = gone.map((u) => u.address);
      // Mailboxes of new users (and of any whose creation failed before).
      progress.phase = 'mailboxes';
      const toMake = dir.sourcedUsers(s.name).filter((u) => !u.source!.provisioned && u.source!.goneSince === null);
      progress.total = toMake.length;
      progress.done = 0;
      report();
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(PROVISION_CONCURRENCY, toMake.length) }, async () => {
          while (next < toMake.length) {
            const u = toMake[next++]!;
            const ok = await this.provision(u);
            if (ok === true) sum.users.mailboxesCreated++;
            else pushListed(sum.users.mailboxFailures, { address: u.address, reason: ok });
            progress.done++;
            if (progress.done % 50 === 0) report();
          }
        }),
      );
      progress.phase = 'groups';
      report();
      if (s.ldap.settings.groups) sum.groups = await this.syncGroups(s, usable);
      if (opts.prune === true) {
        progress.phase = 'prune';
        report();
        const candidates = dir.sourcedUsers(s.name).filter((u) => u.source!.goneSince !== null);
        if (opts.yes !== true) sum.wouldPrune = candidates.map((u) => u.address);
        else {
          for (const u of candidates) {
            if (u.source!.provisioned || this.b.mailboxExists(u.address)) await this.b.removeMailbox(u);
            await dir.removeUser(u.address);
            sum.users.pruned.push(u.address);
            this.b.log.warn({ ldap: s.name, user: u.address }, 'pruned: user gone from LDAP removed with its mailbox');
          }
          sum.users.gone = sum.users.gone.filter((a) => !sum.users.pruned.includes(a));
        }
      }
    } catch (err) {
      sum.ok = false;
      sum.error = (err as Error).message;
      this.b.log.warn({ ldap: s.name, err: sum.error }, 'LDAP sync failed; the local copy is unchanged where not applied');
    }
    sum.ms = Date.now() - t0;
    progress.phase = 'done';
    report();
    s.last = sum;
    s.lastAt = Date.now();
    if (sum.ok) this.b.log.info({ ldap: s.name, ms: sum.ms, read: sum.read, created: sum.users.created, updated: sum.users.updated, gone: sum.users.gone.length, conflicts: sum.users.conflicts.length }, 'LDAP sync done');
    return sum;
  }

  private async syncGroups(s: Source, users: LdapUser[]): Promise<SyncSummary['groups']> {
    const groups = await s.ldap.readGroups();
    const byDn = new Map<string, { address: string | null; members?: string[] }>();
    const byId = new Map<string, string>();
    for (const u of users) {
      const local = this.b.dir.bySource(s.name, u.id).user;
      if (local === undefined) continue;
      byDn.set(dnKey(u.dn), { address: local.address });
      byId.set(u.id, local.address);
    }
    const served = (a: string | null) => a !== null && this.b.dir.domain(a.split('@')[1]!) !== undefined && s.ldap.servesDomain(a.split('@')[1]!);
    for (const g of groups) byDn.set(dnKey(g.dn), { address: served(g.address) ? g.address : null, members: g.members });
    const inputs = [];
    for (const g of groups) {
      if (!served(g.address)) continue;
      const members =
        s.ldap.settings.map.nesting === 'in-chain'
          ? (await s.ldap.inChainMemberIds(g.dn)).map((id) => byId.get(id)).filter((a): a is string => a !== undefined)
          : resolveMembers(g, byDn);
      inputs.push({ config: s.name, sourceId: g.id, dn: g.dn, address: g.address!, aliases: g.aliases.filter((a) => served(a)), displayName: g.displayName, members });
    }
    return this.b.dir.applySourcedGroups(s.name, inputs);
  }

  // ---------------------------------------------------------------- admin

  /** Starts a sync in the background; the CLI polls `job` for its progress bar. */
  startJob(opts: SyncOptions): SyncJob {
    if (opts.config !== undefined) this.mustSource(opts.config);
    if (this.sources.size === 0) throw Object.assign(new Error('no LDAP directory is configured ([ldap.<name>] in the config file)'), { code: 'NOT_FOUND' });
    const job: SyncJob = { job: `sync-${this.nextJob++}`, state: 'running', progress: null, summaries: [] };
    this.jobs.set(job.job, job);
    void this.sync(opts, (p) => (job.progress = p)).then(
      (sums) => {
        job.summaries = sums;
        job.state = sums.every((x) => x.ok) ? 'done' : 'failed';
        if (job.state === 'failed') job.error = sums.filter((x) => !x.ok).map((x) => `${x.config}: ${x.error}`).join('; ');
      },
      (err: unknown) => {
        job.state = 'failed';
        job.error = (err as Error).message;
      },
    ).finally(() => setTimeout(() => this.jobs.delete(job.job), JOB_KEEP_MS).unref());
    return job;
  }

  job(id: string): SyncJob {
    const j = this.jobs.get(id);
    if (j === undefined) throw Object.assign(new Error(`no sync job ${id}`), { code: 'NOT_FOUND' });
    return j;
  }

  status(): unknown[] {
    return [...this.sources.values()].map((s) => {
      const users = this.b.dir.sourcedUsers(s.name);
      return {
        config: s.name,
        preset: s.cfg.preset,
        uris: ldapUris(s.cfg),
        domains: s.ldap.settings.domains,
        baseDn: s.ldap.settings.baseDn,
        searchPool: s.searchPool.stats(),
        bindPool: s.bindPool.stats(),
        users: users.length,
        disabled: users.filter((u) => !u.enabled).length,
        gone: users.filter((u) => u.source!.goneSince !== null).map((u) => ({ address: u.address, since: new Date(u.source!.goneSince!).toISOString() })),
        groups: this.b.dir.sourcedGroups(s.name).length,
        syncing: s.running !== null,
        lastSync: s.lastAt === null ? null : { at: new Date(s.lastAt).toISOString(), ok: s.last!.ok, ms: s.last!.ms, error: s.last!.error ?? null },
        nextSync: s.nextAt === null || s.cfg.sync_interval_seconds === 0 ? null : new Date(s.nextAt).toISOString(),
      };
    });
  }

  /** What a login resolves to in the directories (no password involved): for operators checking a configuration. */
  async lookup(login: string): Promise<unknown> {
    const user = this.b.dir.userByAddress(login);
    const claim = this.claimants(login, user);
    if (claim === null) return { login, source: 'local', user: user?.address ?? null };
    const out = [];
    for (const s of claim) {
      try {
        const r = user?.source !== undefined ? await s.ldap.lookupById(user.source.id) : await s.ldap.lookup(login);
        out.push({ config: s.name, ...(r.kind === 'found' ? { found: r.user, local: this.b.dir.bySource(s.name, r.user.id).user?.address ?? null } : r) });
      } catch (err) {
        out.push({ config: s.name, error: (err as Error).message });
      }
    }
    return { login, source: 'ldap', results: out };
  }
}

function inputOf(config: string, u: LdapUser): SourcedUserInput {
  return { config, sourceId: u.id, userId: userIdFor(config, u.id), dn: u.dn, address: u.address, aliases: u.aliases, displayName: u.displayName, disabled: u.disabled, passwordStamp: u.passwordStamp, ...(u.profile !== undefined ? { profile: u.profile } : {}), hidden: u.hidden };
}

/** True when the local copy already says what the entry says (a login then writes nothing). */
function sameAsEntry(u: UserRecord, e: LdapUser): boolean {
  const s = u.source!;
  if (u.address !== e.address || u.displayName !== e.displayName || s.dn !== e.dn || s.disabled !== e.disabled || s.passwordStamp !== e.passwordStamp || s.goneSince !== null) return false;
  if ((s.hidden === true) !== e.hidden || isHidden(u) !== effectiveHidden(s) || !PROFILE_FIELDS.every((f) => u.profile?.[f] === e.profile?.[f])) return false;
  const want = new Set([...e.aliases, ...s.keptAddresses]);
  return u.aliases.length === want.size && u.aliases.every((a) => want.has(a)) && u.enabled === effectiveEnabled(s);
}

/** Folder moves for the offline CLI and the server: <partition>/<domain>/<local> to the new address, same partition. */
export function moveMailboxFolder(partitions: readonly string[], from: string, to: string): void {
  const src = locateMailbox(partitions, parseMailboxAddress(from));
  if (src === null) return;
  const partition = partitions.find((p) => src === mailboxPath(p, parseMailboxAddress(from)))!;
  const dst = mailboxPath(partition, parseMailboxAddress(to));
  if (existsSync(dst)) throw new Error(`a mailbox folder for ${to} exists already (${dst})`);
  mkdirSync(dirname(dst), { recursive: true, mode: 0o750 });
  renameSync(src, dst);
}
