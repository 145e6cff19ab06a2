/**
 * The embedded directory: domains, users, aliases and groups in one LMDB environment
 * (<data_dir>/directory). It implements the Directory interface an LDAP backend implements too.
 * Writes validate everything and answer clear errors (DirectoryError codes); reads are plain
 * LMDB lookups (microseconds), fine on the main thread.
 *
 * Keys: ['d', domain] → DomainRecord; ['u', userId] → UserRecord; ['g', groupId] → GroupRecord;
 * ['a', address] → { user } | { group } (primary addresses and aliases, lower case);
 * ['l', legacy DN lower case] → userId; ['m', name] → directory settings (secret, org);
 * ['f', `${mailboxUserId}:${granteeUserId}`] → GrantRecord (full access to another user's mailbox).
 */
import { open, type RootDatabase } from 'lmdb';
import { mkdirSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseMailboxAddress } from './partitions.js';

export class DirectoryError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'EXISTS' | 'INVALID' | 'IN_USE',
    message: string,
  ) {
    super(message);
    this.name = 'DirectoryError';
  }
}

export interface DomainRecord {
  name: string;
  created: number;
  /** The domain's DKIM signing key (domains added before DKIM get one on first need). */
  dkim?: DkimKey;
}

/** A DKIM key pair (RFC 6376): published at <selector>._domainkey.<domain>. */
export interface DkimKey {
  selector: string;
  /** PKCS#8 PEM; never shown by the admin commands. */
  privateKey: string;
  /** SubjectPublicKeyInfo DER, base64: the p= of the DNS record. */
  publicKey: string;
  created: number;
}

export interface UserRecord {
  id: string;
  /** Primary address, lower case; also the login. */
  address: string;
  displayName: string;
  aliases: string[];
  enabled: boolean;
  admin: boolean;
  /** Storage partition chosen at creation (null: the one with most free space). */
  partition: string | null;
  /** Mailbox quota in bytes (0 = none). */
  quotaBytes: number;
  legacyDn: string;
  created: number;
  passwordHash: string | null;
  /** NT hash (hex), when stored. */
  ntHash: string | null;
  /** Bumped on every password change or disable: cached credentials of an older generation are void. */
  credentialGeneration: number;
}

export interface GroupRecord {
  id: string;
  address: string;
  displayName: string;
  members: string[];
}

/**
 * A directory-level grant: `grantee` may open `mailbox` (another user's) as its owner would.
 * The minimal form of delegation before folder permissions (MS-OXCPERM) exist; those will add
 * finer rights next to 'full-access' rather than replace it.
 */
export interface GrantRecord {
  /** User id of the mailbox's owner. */
  mailbox: string;
  /** User id of who is granted. */
  grantee: string;
  rights: 'full-access'[];
  granted: number;
}

/** A grant as the admin commands show it (addresses instead of ids). */
export interface GrantView {
  mailbox: string;
  user: string;
  rights: string[];
  granted: number;
}

/** What the doors read of a user (never the hashes). */
export type UserView = Omit<UserRecord, 'passwordHash' | 'ntHash'> & { hasPassword: boolean };

export function userView(u: UserRecord): UserView {
  const { passwordHash, ntHash: _nt, ...rest } = u;
  return { ...rest, hasPassword: passwordHash !== null };
}

/** The legacy DN of a user, used identically by AutoDiscover, NSPI and RopLogon. */
export function legacyDnFor(org: string, userId: string): string {
  return `/o=${org}/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=${userId.replace(/-/g, '')}`;
}

const DEFAULT_ORG = 'Stoa';
const DISPLAY_NAME_MAX = 256;

type Key = [string, string];

export class DirectoryStore {
  private constructor(readonly db: RootDatabase<unknown, Key>) {}

  static open(path: string): DirectoryStore {
    mkdirSync(path, { recursive: true, mode: 0o750 });
    return new DirectoryStore(open<unknown, Key>({ path, noSubdir: false, compression: false }));
  }

  async close(): Promise<void> {
    await this.db.flushed;
    await this.db.close();
  }

  /** Runs writes in one transaction and waits until they are on disk. */
  private async write<T>(fn: () => T): Promise<T> {
    const v = await this.db.transaction(() => this.db.childTransaction(fn) as unknown as T);
    await this.db.flushed;
    return v;
  }

  /** The server secret keying the credential cache's HMAC (made once, kept). */
  async secret(): Promise<Buffer> {
    const have = this.db.get(['m', 'secret']) as Uint8Array | undefined;
    if (have !== undefined) return Buffer.from(have);
    return this.write(() => {
      const again = this.db.get(['m', 'secret']) as Uint8Array | undefined;
      if (again !== undefined) return Buffer.from(again);
      const s = randomBytes(32);
      this.db.putSync(['m', 'secret'], s);
      return s;
    });
  }

  org(): string {
    return (this.db.get(['m', 'org']) as string | undefined) ?? DEFAULT_ORG;
  }

  // ---------------------------------------------------------------- domains

  domains(): DomainRecord[] {
    return [...this.db.getRange({ start: ['d', ''], end: ['d', '\uffff'] })].map((e) => e.value as DomainRecord);
  }

  domain(name: string): DomainRecord | undefined {
    return this.db.get(['d', name.toLowerCase()]) as DomainRecord | undefined;
  }

  async addDomain(name: string, opts: { dkim?: DkimKey } = {}): Promise<DomainRecord> {
    const n = name.toLowerCase();
    try {
      parseMailboxAddress(`postmaster@${n}`);
    } catch {
      throw new DirectoryError('INVALID', `not a domain name: ${JSON.stringify(name)}`);
    }
    return this.write(() => {
      if (this.domain(n) !== undefined) throw new DirectoryError('EXISTS', `domain ${n} exists already`);
      const rec: DomainRecord = { name: n, created: Date.now(), ...(opts.dkim !== undefined ? { dkim: opts.dkim } : {}) };
      this.db.putSync(['d', n], rec);
      return rec;
    });
  }

  /**
   * Sets a domain's DKIM key. With `onlyIfNone`, a key already there is kept (two callers making
   * one on first need at once end with the same key); answers the domain as stored.
   */
  setDkim(name: string, key: DkimKey, opts: { onlyIfNone?: boolean } = {}): Promise<DomainRecord> {
    const n = name.toLowerCase();
    return this.write(() => {
      const d = this.domain(n);
      if (d === undefined) throw new DirectoryError('NOT_FOUND', `no domain ${n}`);
      if (opts.onlyIfNone === true && d.dkim !== undefined) return d;
      const rec: DomainRecord = { ...d, dkim: key };
      this.db.putSync(['d', n], rec);
      return rec;
    });
  }

  async removeDomain(name: string): Promise<void> {
    const n = name.toLowerCase();
    return this.write(() => {
      if (this.domain(n) === undefined) throw new DirectoryError('NOT_FOUND', `no domain ${n}`);
      const users = this.users().filter((u) => u.address.endsWith(`@${n}`));
      if (users.length > 0) throw new DirectoryError('IN_USE', `domain ${n} still has ${users.length} user(s); remove them first`);
      this.db.removeSync(['d', n]);
    });
  }

  // ---------------------------------------------------------------- users

  users(): UserRecord[] {
    return [...this.db.getRange({ start: ['u', ''], end: ['u', '\uffff'] })].map((e) => e.value as UserRecord);
  }

  /** The user with this address or alias (any letter case). */
  userByAddress(address: string): UserRecord | undefined {
    const hit = this.db.get(['a', address.toLowerCase()]) as { user?: string } | undefined;
    return hit?.user === undefined ? undefined : (this.db.get(['u', hit.user]) as UserRecord | undefined);
  }

  userByLegacyDn(dn: string): UserRecord | undefined {
    const id = this.db.get(['l', dn.toLowerCase()]) as string | undefined;
    return id === undefined ? undefined : (this.db.get(['u', id]) as UserRecord | undefined);
  }

  private checkAddress(address: string): string {
    let a: { localpart: string; domain: string };
    try {
      a = parseMailboxAddress(address);
    } catch {
      throw new DirectoryError('INVALID', `not a usable e-mail address: ${JSON.stringify(address)}`);
    }
    if (this.domain(a.domain) === undefined) throw new DirectoryError('NOT_FOUND', `domain ${a.domain} is not served here (add it first: domain add ${a.domain})`);
    const full = `${a.localpart}@${a.domain}`;
    if (this.db.get(['a', full]) !== undefined) throw new DirectoryError('EXISTS', `${full} is already in use`);
    return full;
  }

  addUser(opts: { address: string; displayName?: string; passwordHash?: string | null; ntHash?: string | null; admin?: boolean; partition?: string | null; quotaBytes?: number }): Promise<UserRecord> {
    return this.write(() => {
      const address = this.checkAddress(opts.address);
      const displayName = (opts.displayName ?? address.split('@')[0]!).trim();
      if (displayName.length === 0 || displayName.length > DISPLAY_NAME_MAX) throw new DirectoryError('INVALID', 'a display name has 1 to 256 characters');
      const id = randomUUID();
      const rec: UserRecord = {
        id,
        address,
        displayName,
        aliases: [],
        enabled: true,
        admin: opts.admin ?? false,
        partition: opts.partition ?? null,
        quotaBytes: opts.quotaBytes ?? 0,
        legacyDn: legacyDnFor(this.org(), id),
        created: Date.now(),
        passwordHash: opts.passwordHash ?? null,
        ntHash: opts.ntHash ?? null,
        credentialGeneration: 1,
      };
      this.db.putSync(['u', id], rec);
      this.db.putSync(['a', address], { user: id });
      this.db.putSync(['l', rec.legacyDn.toLowerCase()], id);
      return rec;
    });
  }

  private mustUser(address: string): UserRecord {
    const u = this.userByAddress(address);
    if (u === undefined) throw new DirectoryError('NOT_FOUND', `no user ${address}`);
    return u;
  }

  private update(address: string, change: (u: UserRecord) => void): Promise<UserRecord> {
    return this.write(() => {
      const u = this.mustUser(address);
      change(u);
      this.db.putSync(['u', u.id], u);
      return u;
    });
  }

  setPassword(address: string, passwordHash: string, ntHash: string | null): Promise<UserRecord> {
    return this.update(address, (u) => {
      u.passwordHash = passwordHash;
      u.ntHash = ntHash;
      u.credentialGeneration++;
    });
  }

  setEnabled(address: string, enabled: boolean): Promise<UserRecord> {
    return this.update(address, (u) => {
      u.enabled = enabled;
      u.credentialGeneration++;
    });
  }

  setQuota(address: string, quotaBytes: number): Promise<UserRecord> {
    if (!Number.isSafeInteger(quotaBytes) || quotaBytes < 0) return Promise.reject(new DirectoryError('INVALID', 'a quota is a whole number of bytes (0 = none)'));
    return this.update(address, (u) => void (u.quotaBytes = quotaBytes));
  }

  removeUser(address: string): Promise<UserRecord> {
    return this.write(() => {
      const u = this.mustUser(address);
      // Grants on the user's mailbox and grants to the user go with it.
      const grants = [...this.db.getRange({ start: ['f', ''], end: ['f', '\uffff'] })].filter((e) => {
        const g = e.value as GrantRecord;
        return g.mailbox === u.id || g.grantee === u.id;
      });
      for (const e of grants) this.db.removeSync(e.key);
      for (const a of [u.address, ...u.aliases]) this.db.removeSync(['a', a]);
      this.db.removeSync(['l', u.legacyDn.toLowerCase()]);
      this.db.removeSync(['u', u.id]);
      return u;
    });
  }

  addAlias(address: string, alias: string): Promise<UserRecord> {
    return this.write(() => {
      const u = this.mustUser(address);
      const a = this.checkAddress(alias);
      u.aliases.push(a);
      this.db.putSync(['a', a], { user: u.id });
      this.db.putSync(['u', u.id], u);
      return u;
    });
  }

  removeAlias(address: string, alias: string): Promise<UserRecord> {
    return this.write(() => {
      const u = this.mustUser(address);
      const a = alias.toLowerCase();
      if (!u.aliases.includes(a)) throw new DirectoryError('NOT_FOUND', `${a} is not an alias of ${u.address}`);
      u.aliases = u.aliases.filter((x) => x !== a);
      this.db.removeSync(['a', a]);
      this.db.putSync(['u', u.id], u);
      return u;
    });
  }

  // ---------------------------------------------------------------- mailbox grants

  /** True when `userId` may open the mailbox of `mailboxUserId`: its owner, or granted full access. */
  hasFullAccess(userId: string, mailboxUserId: string): boolean {
    if (userId === mailboxUserId) return true;
    const g = this.db.get(['f', `${mailboxUserId}:${userId}`]) as GrantRecord | undefined;
    return g !== undefined && g.rights.includes('full-access');
  }

  /** Grants `user` full access to the mailbox of `mailbox` (both users; idempotent). */
  grantFullAccess(mailbox: string, user: string): Promise<GrantView> {
    return this.write(() => {
      const m = this.mustUser(mailbox);
      const u = this.mustUser(user);
      if (m.id === u.id) throw new DirectoryError('INVALID', `${u.address} owns that mailbox already`);
      const key: Key = ['f', `${m.id}:${u.id}`];
      const had = this.db.get(key) as GrantRecord | undefined;
      const g: GrantRecord = had ?? { mailbox: m.id, grantee: u.id, rights: ['full-access'], granted: Date.now() };
      if (had === undefined) this.db.putSync(key, g);
      return this.grantView(g)!;
    });
  }

  revokeFullAccess(mailbox: string, user: string): Promise<void> {
    return this.write(() => {
      const m = this.mustUser(mailbox);
      const u = this.mustUser(user);
      const key: Key = ['f', `${m.id}:${u.id}`];
      if (this.db.get(key) === undefined) throw new DirectoryError('NOT_FOUND', `${u.address} has no grant on the mailbox of ${m.address}`);
      this.db.removeSync(key);
    });
  }

  /** Grants on one user's mailbox, or every grant. */
  grants(mailbox?: string): GrantView[] {
    const range =
      mailbox === undefined
        ? { start: ['f', ''] as Key, end: ['f', '\uffff'] as Key }
        : (() => {
            const m = this.mustUser(mailbox);
            return { start: ['f', `${m.id}:`] as Key, end: ['f', `${m.id};`] as Key };
          })();
    return [...this.db.getRange(range)].map((e) => this.grantView(e.value as GrantRecord)).filter((g): g is GrantView => g !== null);
  }

  private grantView(g: GrantRecord): GrantView | null {
    const m = this.db.get(['u', g.mailbox]) as UserRecord | undefined;
    const u = this.db.get(['u', g.grantee]) as UserRecord | undefined;
    return m === undefined || u === undefined ? null : { mailbox: m.address, user: u.address, rights: [...g.rights], granted: g.granted };
  }

  // ---------------------------------------------------------------- groups

  groups(): GroupRecord[] {
    return [...this.db.getRange({ start: ['g', ''], end: ['g', '\uffff'] })].map((e) => e.value as GroupRecord);
  }

  groupByAddress(address: string): GroupRecord | undefined {
    const hit = this.db.get(['a', address.toLowerCase()]) as { group?: string } | undefined;
    return hit?.group === undefined ? undefined : (this.db.get(['g', hit.group]) as GroupRecord | undefined);
  }

  addGroup(address: string, displayName?: string): Promise<GroupRecord> {
    return this.write(() => {
      const a = this.checkAddress(address);
      const g: GroupRecord = { id: randomUUID(), address: a, displayName: displayName ?? a.split('@')[0]!, members: [] };
      this.db.putSync(['g', g.id], g);
      this.db.putSync(['a', a], { group: g.id });
      return g;
    });
  }

  setGroupMember(group: string, member: string, present: boolean): Promise<GroupRecord> {
    return this.write(() => {
      const g = this.groupByAddress(group);
      if (g === undefined) throw new DirectoryError('NOT_FOUND', `no group ${group}`);
      const m = member.toLowerCase();
      if (present) {
        if (this.db.get(['a', m]) === undefined) throw new DirectoryError('NOT_FOUND', `no user or group ${m}`);
        if (m === g.address) throw new DirectoryError('INVALID', 'a group cannot contain itself');
        if (!g.members.includes(m)) g.members.push(m);
      } else {
        if (!g.members.includes(m)) throw new DirectoryError('NOT_FOUND', `${m} is not a member of ${g.address}`);
        g.members = g.members.filter((x) => x !== m);
      }
      this.db.putSync(['g', g.id], g);
      return g;
    });
  }

  /** The users a recipient address stands for: a user, or a group expanded (nested, cycles ignored). */
  expand(address: string): UserRecord[] {
    const seen = new Set<string>();
    const out = new Map<string, UserRecord>();
    const walk = (a: string) => {
      const key = a.toLowerCase();
      if (seen.has(key)) return;
      seen.add(key);
      const u = this.userByAddress(key);
      if (u !== undefined) {
        out.set(u.id, u);
        return;
      }
      const g = this.groupByAddress(key);
      if (g !== undefined) for (const m of g.members) walk(m);
    };
    walk(address);
    return [...out.values()];
  }
}
