/**
 * The embedded directory: domains, users, aliases and groups in one LMDB environment
 * (<data_dir>/directory). It implements the Directory interface an LDAP backend implements too.
 * Writes validate everything and answer clear errors (DirectoryError codes); reads are plain
 * LMDB lookups (microseconds), fine on the main thread.
 *
 * Keys: ['d', domain] → DomainRecord; ['u', userId] → UserRecord; ['g', groupId] → GroupRecord;
 * ['a', address] → { user } | { group } (primary addresses and aliases, lower case);
 * ['l', legacy DN lower case] → userId; ['m', name] → directory settings (secret, org);
 * ['f', `${mailboxUserId}:${granteeUserId}`] → GrantRecord (full access to another user's mailbox);
 * ['s', `${config}\0${sourceId}`] → { user } | { group } (records synced from an LDAP directory,
 * by the directory's immutable id: see runtime/directory-sync.ts).
 *
 * Users and groups from LDAP are a cached copy marked with their `source`: the doors read them
 * here like local ones (microseconds, whatever LDAP is doing); the sync writes them.
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
  /** Set for a user synced from a directory (its password lives there; passwordHash is null). */
  source?: UserSource;
  /** What the address book shows of the user (title, department, phones, ...); absent: nothing. */
  profile?: UserProfile;
  /**
   * Hidden from address lists (the GAL, its containers, name resolution); mail still arrives.
   * Absent (records made before it existed) reads as false. For a synced user it is the effective
   * state: source.hidden || source.localHidden.
   */
  hidden?: boolean;
}

/** The profile fields a user may carry, in the order they are stored and shown. */
export const PROFILE_FIELDS = ['title', 'department', 'office', 'phone', 'mobile', 'company', 'givenName', 'surname'] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];
/** Profile values, trimmed and non-empty (1 to 256 characters); a field not set is absent. */
export type UserProfile = Partial<Record<ProfileField, string>>;
const PROFILE_VALUE_MAX = 256;

/** True when the user is left out of address lists. */
export function isHidden(u: UserRecord): boolean {
  return u.hidden === true;
}

/**
 * Where a synced user comes from, and the state the sync keeps for it. `enabled` on the user is
 * the effective state: !disabled && goneSince === null && !localDisabled.
 */
export interface UserSource {
  kind: 'ldap';
  /** The LDAP configuration's name ([ldap.<name>]). */
  config: string;
  /** The directory's immutable id (objectGUID as a GUID, entryUUID, nsUniqueId): the key; the DN may change. */
  id: string;
  dn: string;
  /** Disabled in the directory (AD userAccountControl, nsAccountLock, ...). */
  disabled: boolean;
  /** When a sync first missed the entry (deleted, moved out of scope, filtered out); null while present. */
  goneSince: number | null;
  /** Disabled here by an operator (`user disable`), whatever the directory says. */
  localDisabled: boolean;
  /** Former primary addresses kept as aliases after a rename, so mail to them still arrives. */
  keptAddresses: string[];
  /** The directory's password-change stamp seen last (pwdLastSet, pwdChangedTime): a change voids cached logins. */
  passwordStamp: string;
  /** The mailbox has been made. */
  provisioned: boolean;
  /** When a sync last changed the record. */
  syncedAt: number;
  /** Hidden from address lists in the directory (AD msExchHideFromAddressLists); absent: no. */
  hidden?: boolean;
  /** Hidden here by an operator (`user set --hidden yes`), whatever the directory says; absent: no. */
  localHidden?: boolean;
}

export interface GroupSource {
  kind: 'ldap';
  config: string;
  id: string;
  dn: string;
  syncedAt: number;
}

/** A user as a directory sync gives it (addresses lower case). */
export interface SourcedUserInput {
  config: string;
  sourceId: string;
  /** The user id to use when the user is created (derived from the source id). */
  userId: string;
  dn: string;
  address: string;
  aliases: string[];
  displayName: string;
  disabled: boolean;
  passwordStamp: string;
  /** The profile the directory gives (fields it lacks are absent); replaces the stored one. */
  profile?: UserProfile;
  /** Hidden from address lists in the directory. */
  hidden?: boolean;
}

export type SourcedUserResult =
  | { kind: 'created' | 'updated' | 'unchanged'; user: UserRecord; droppedAliases: string[] }
  /** The primary address changed: everything else is applied; the address waits for renameUser (which moves the mailbox). */
  | { kind: 'rename'; user: UserRecord; to: string; droppedAliases: string[] }
  | { kind: 'conflict'; reason: string };

export interface SourcedGroupInput {
  config: string;
  sourceId: string;
  dn: string;
  address: string;
  aliases: string[];
  displayName: string;
  members: string[];
}

export interface GroupRecord {
  id: string;
  address: string;
  displayName: string;
  members: string[];
  /** Further addresses of a synced group (local groups have none). */
  aliases?: string[];
  source?: GroupSource;
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

/** What the doors read of a user (never the hashes); `hidden` always present. */
export type UserView = Omit<UserRecord, 'passwordHash' | 'ntHash' | 'hidden'> & { hasPassword: boolean; hidden: boolean };

export function userView(u: UserRecord): UserView {
  const { passwordHash, ntHash: _nt, ...rest } = u;
  return { ...rest, hidden: isHidden(u), hasPassword: passwordHash !== null };
}

/**
 * A profile as stored: fields in PROFILE_FIELDS order, values trimmed, empty ones dropped;
 * undefined when nothing is left. Longer values are refused (`strict`) or cut (a directory's).
 */
export function normalizeProfile(p: Readonly<Record<string, unknown>> | undefined, strict: boolean): UserProfile | undefined {
  if (p === undefined) return undefined;
  const out: UserProfile = {};
  for (const f of PROFILE_FIELDS) {
    const v = p[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new DirectoryError('INVALID', `${f} is text`);
    let t = v.trim();
    if (t === '') continue;
    if (/[\x00-\x1f\x7f]/.test(t)) {
      if (strict) throw new DirectoryError('INVALID', `${f} has control characters`);
      t = t.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
    }
    if (t.length > PROFILE_VALUE_MAX) {
      if (strict) throw new DirectoryError('INVALID', `${f} has 1 to ${PROFILE_VALUE_MAX} characters`);
      t = t.slice(0, PROFILE_VALUE_MAX);
    }
    out[f] = t;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function sameProfile(a: UserProfile | undefined, b: UserProfile | undefined): boolean {
  return PROFILE_FIELDS.every((f) => a?.[f] === b?.[f]);
}

/** Sets or clears an optional field without leaving `undefined` keys in the stored record. */
function setOptional<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void {
  if (v === undefined) delete o[k];
  else o[k] = v;
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

  userById(id: string): UserRecord | undefined {
    return this.db.get(['u', id]) as UserRecord | undefined;
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
      mustBeLocal(u, 'its password is checked by binding to the directory');
      u.passwordHash = passwordHash;
      u.ntHash = ntHash;
      u.credentialGeneration++;
    });
  }

  setEnabled(address: string, enabled: boolean): Promise<UserRecord> {
    return this.update(address, (u) => {
      if (u.source !== undefined) {
        // An operator's disable holds whatever the directory says; an enable lifts only that.
        u.source.localDisabled = !enabled;
        u.enabled = effectiveEnabled(u.source);
      } else u.enabled = enabled;
      u.credentialGeneration++;
    });
  }

  setQuota(address: string, quotaBytes: number): Promise<UserRecord> {
    if (!Number.isSafeInteger(quotaBytes) || quotaBytes < 0) return Promise.reject(new DirectoryError('INVALID', 'a quota is a whole number of bytes (0 = none)'));
    return this.update(address, (u) => void (u.quotaBytes = quotaBytes));
  }

  /**
   * Changes profile fields: a string sets the field (trimmed; '' clears it), an absent key keeps
   * it. Refused for a synced user, whose profile comes from the directory at every sync.
   */
  setProfile(address: string, change: Readonly<Partial<Record<ProfileField, string>>>): Promise<UserRecord> {
    for (const k of Object.keys(change)) {
      if (!(PROFILE_FIELDS as readonly string[]).includes(k)) return Promise.reject(new DirectoryError('INVALID', `no profile field ${k}`));
    }
    let checked: UserProfile | undefined;
    try {
      // Validates the new values (cleared ones included) before the write.
      checked = normalizeProfile(change, true);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.update(address, (u) => {
      mustBeLocal(u, 'its profile comes from the directory');
      const next: Record<string, string | undefined> = { ...u.profile };
      for (const f of PROFILE_FIELDS) if (change[f] !== undefined) next[f] = checked?.[f];
      setOptional(u, 'profile', normalizeProfile(next, true));
    });
  }

  /**
   * Hides a user from address lists, or shows it again. For a synced user this is the operator's
   * choice, kept whatever the directory says: showing it lifts only that (a user the directory
   * hides stays hidden).
   */
  setHidden(address: string, hidden: boolean): Promise<UserRecord> {
    return this.update(address, (u) => {
      if (u.source !== undefined) {
        setOptional(u.source, 'localHidden', hidden ? true : undefined);
        setOptional(u, 'hidden', effectiveHidden(u.source) ? true : undefined);
      } else setOptional(u, 'hidden', hidden ? true : undefined);
    });
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
      if (u.source !== undefined) this.db.removeSync(sourceKey(u.source.config, u.source.id));
      this.db.removeSync(['u', u.id]);
      return u;
    });
  }

  addAlias(address: string, alias: string): Promise<UserRecord> {
    return this.write(() => {
      const u = this.mustUser(address);
      mustBeLocal(u, 'its addresses come from the directory');
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
      mustBeLocal(u, 'its addresses come from the directory');
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
      if (g.source !== undefined) throw new DirectoryError('INVALID', `${g.address} comes from LDAP configuration ${g.source.config}: change its members there`);
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

  // ---------------------------------------------------------------- directory sync (LDAP)

  /** The user or group synced from (config, directory id). */
  bySource(config: string, sourceId: string): { user?: UserRecord; group?: GroupRecord } {
    const hit = this.db.get(sourceKey(config, sourceId)) as { user?: string; group?: string } | undefined;
    if (hit?.user !== undefined) return { user: this.db.get(['u', hit.user]) as UserRecord | undefined };
    if (hit?.group !== undefined) return { group: this.db.get(['g', hit.group]) as GroupRecord | undefined };
    return {};
  }

  /** Users synced from one configuration (every configuration when absent). */
  sourcedUsers(config?: string): UserRecord[] {
    return this.users().filter((u) => u.source !== undefined && (config === undefined || u.source.config === config));
  }

  sourcedGroups(config?: string): GroupRecord[] {
    return this.groups().filter((g) => g.source !== undefined && (config === undefined || g.source.config === config));
  }

  /**
   * Makes `address` usable by record `owner` inside a write: free, already the owner's, or a
   * former address another synced user keeps (the directory's current owner wins over a kept
   * one). False when someone else uses it.
   */
  private claim(address: string, owner: { user?: string; group?: string }): boolean {
    const hit = this.db.get(['a', address]) as { user?: string; group?: string } | undefined;
    if (hit === undefined) return true;
    if ((owner.user !== undefined && hit.user === owner.user) || (owner.group !== undefined && hit.group === owner.group)) return true;
    if (hit.user === undefined) return false;
    const other = this.db.get(['u', hit.user]) as UserRecord | undefined;
    if (other?.source === undefined || !other.source.keptAddresses.includes(address)) return false;
    other.source.keptAddresses = other.source.keptAddresses.filter((a) => a !== address);
    other.aliases = other.aliases.filter((a) => a !== address);
    this.db.putSync(['u', other.id], other);
    this.db.removeSync(['a', address]);
    return true;
  }

  /**
   * Applies users read from a directory in one transaction (each in its own child transaction:
   * a conflict skips that user alone). New users are created with their mailbox still to make
   * (`source.provisioned` false); a changed primary address is answered `rename` and left to
   * renameUser, which the sync calls with the mailbox moved.
   */
  async applySourcedUsers(items: readonly SourcedUserInput[], now = Date.now()): Promise<SourcedUserResult[]> {
    const out = await this.db.transaction(() =>
      items.map((it) => {
        try {
          return this.db.childTransaction(() => this.applySourcedUser(it, now)) as unknown as SourcedUserResult;
        } catch (err) {
          if (err instanceof DirectoryError) return { kind: 'conflict', reason: err.message } as SourcedUserResult;
          throw err;
        }
      }),
    );
    await this.db.flushed;
    return out;
  }

  private applySourcedUser(it: SourcedUserInput, now: number): SourcedUserResult {
    const key = sourceKey(it.config, it.sourceId);
    const linked = this.db.get(key) as { user?: string } | undefined;
    let u = linked?.user !== undefined ? (this.db.get(['u', linked.user]) as UserRecord | undefined) : undefined;
    const droppedAliases: string[] = [];
    if (u === undefined) {
      let a: { localpart: string; domain: string };
      try {
        a = parseMailboxAddress(it.address);
      } catch {
        throw new DirectoryError('INVALID', `${it.dn}: not a usable address ${JSON.stringify(it.address)}`);
      }
      if (this.domain(a.domain) === undefined) throw new DirectoryError('NOT_FOUND', `${it.dn}: domain ${a.domain} is not served here`);
      const address = `${a.localpart}@${a.domain}`;
      if (!this.claim(address, {})) {
        const hit = this.db.get(['a', address]) as { user?: string } | undefined;
        const other = hit?.user !== undefined ? (this.db.get(['u', hit.user]) as UserRecord | undefined) : undefined;
        const whose = other === undefined ? 'a group' : other.source === undefined ? 'a local user' : `another directory entry (${other.source.dn}${other.source.goneSince !== null ? ', gone from the directory: prune it first' : ''})`;
        throw new DirectoryError('EXISTS', `${it.dn}: ${address} is already used by ${whose}`);
      }
      if (this.db.get(['u', it.userId]) !== undefined) throw new DirectoryError('EXISTS', `${it.dn}: user id ${it.userId} is taken (the same entry in two configurations?)`);
      const rec: UserRecord = {
        id: it.userId,
        address,
        displayName: it.displayName,
        aliases: [],
        enabled: !it.disabled,
        admin: false,
        partition: null,
        quotaBytes: 0,
        legacyDn: legacyDnFor(this.org(), it.userId),
        created: now,
        passwordHash: null,
        ntHash: null,
        credentialGeneration: 1,
        source: { kind: 'ldap', config: it.config, id: it.sourceId, dn: it.dn, disabled: it.disabled, goneSince: null, localDisabled: false, keptAddresses: [], passwordStamp: it.passwordStamp, provisioned: false, syncedAt: now },
      };
      setOptional(rec, 'profile', normalizeProfile(it.profile, false));
      if (it.hidden === true) {
        rec.source!.hidden = true;
        rec.hidden = true;
      }
      for (const al of it.aliases) {
        if (al === address || rec.aliases.includes(al)) continue;
        if (this.domainOf(al) && this.claim(al, { user: rec.id })) {
          rec.aliases.push(al);
          this.db.putSync(['a', al], { user: rec.id });
        } else droppedAliases.push(al);
      }
      this.db.putSync(['u', rec.id], rec);
      this.db.putSync(['a', address], { user: rec.id });
      this.db.putSync(['l', rec.legacyDn.toLowerCase()], rec.id);
      this.db.putSync(key, { user: rec.id });
      return { kind: 'created', user: rec, droppedAliases };
    }
    u = structuredClone(u);
    const src = u.source!;
    const before = JSON.stringify(u);
    src.dn = it.dn;
    src.disabled = it.disabled;
    src.goneSince = null;
    if (src.passwordStamp !== it.passwordStamp) {
      src.passwordStamp = it.passwordStamp;
      u.credentialGeneration++;
    }
    u.displayName = it.displayName;
    // Optional fields change only when their value does, so an unchanged entry stays byte-equal
    // (records made before these fields existed are not rewritten by the first sync).
    const profile = normalizeProfile(it.profile, false);
    if (!sameProfile(u.profile, profile)) setOptional(u, 'profile', profile);
    if ((src.hidden === true) !== (it.hidden === true)) setOptional(src, 'hidden', it.hidden === true ? true : undefined);
    if (isHidden(u) !== effectiveHidden(src)) setOptional(u, 'hidden', effectiveHidden(src) ? true : undefined);
    const enabled = effectiveEnabled(src);
    if (enabled !== u.enabled) {
      u.enabled = enabled;
      u.credentialGeneration++;
    }
    // Aliases: the directory's, plus former primary addresses kept after a rename. A new primary
    // address is taken as an alias at once (mail to it arrives in the mailbox where it is now)
    // until renameUser makes it the primary one with the mailbox moved.
    const renameTo = it.address !== u.address ? it.address : null;
    const want = new Set([...it.aliases, ...(renameTo !== null ? [renameTo] : []), ...src.keptAddresses].filter((a) => a !== u!.address));
    for (const al of u.aliases) {
      if (!want.has(al)) this.db.removeSync(['a', al]);
    }
    const aliases: string[] = [];
    for (const al of want) {
      if (u.aliases.includes(al) || (this.domainOf(al) && this.claim(al, { user: u.id }))) {
        aliases.push(al);
        this.db.putSync(['a', al], { user: u.id });
      } else droppedAliases.push(al);
    }
    u.aliases = aliases;
    src.keptAddresses = src.keptAddresses.filter((k) => aliases.includes(k));
    if (JSON.stringify(u) === before) return { kind: renameTo !== null ? 'rename' : 'unchanged', user: u, droppedAliases, ...(renameTo !== null ? { to: renameTo } : {}) } as SourcedUserResult;
    src.syncedAt = now;
    this.db.putSync(['u', u.id], u);
    if (renameTo !== null) return { kind: 'rename', user: u, to: renameTo, droppedAliases };
    return { kind: 'updated', user: u, droppedAliases };
  }

  private domainOf(address: string): boolean {
    try {
      return this.domain(parseMailboxAddress(address).domain) !== undefined;
    } catch {
      return false;
    }
  }

  /**
   * Changes a user's primary address (the mailbox folder, which is named by the address, must
   * have moved already or move in the same pause: runtime/directory-sync.ts). With `keepOld`,
   * the former address stays as an alias (and is dropped again when another entry claims it).
   * Local groups naming the old address follow.
   */
  renameUser(userId: string, to: string, keepOld: boolean): Promise<UserRecord> {
    return this.write(() => {
      const u = this.db.get(['u', userId]) as UserRecord | undefined;
      if (u === undefined) throw new DirectoryError('NOT_FOUND', `no user ${userId}`);
      const a = parseMailboxAddress(to);
      if (this.domain(a.domain) === undefined) throw new DirectoryError('NOT_FOUND', `domain ${a.domain} is not served here`);
      const address = `${a.localpart}@${a.domain}`;
      if (address === u.address) return u;
      if (!this.claim(address, { user: u.id })) throw new DirectoryError('EXISTS', `${address} is already in use`);
      const old = u.address;
      u.aliases = u.aliases.filter((x) => x !== address);
      if (u.source !== undefined) u.source.keptAddresses = u.source.keptAddresses.filter((x) => x !== address);
      if (keepOld) {
        u.aliases.push(old);
        u.source?.keptAddresses.push(old);
      } else this.db.removeSync(['a', old]);
      u.address = address;
      this.db.putSync(['a', address], { user: u.id });
      this.db.putSync(['u', u.id], u);
      for (const g of this.groups()) {
        if (g.source !== undefined || !g.members.includes(old)) continue;
        g.members = g.members.map((m) => (m === old ? address : m));
        this.db.putSync(['g', g.id], g);
      }
      return u;
    });
  }

  /** Marks synced users the directory no longer has: login refused, mailbox kept until a prune. */
  markGone(userIds: readonly string[], now = Date.now()): Promise<UserRecord[]> {
    return this.write(() =>
      userIds.flatMap((id) => {
        const u = this.db.get(['u', id]) as UserRecord | undefined;
        if (u?.source === undefined || u.source.goneSince !== null) return [];
        u.source.goneSince = now;
        u.enabled = false;
        u.credentialGeneration++;
        this.db.putSync(['u', u.id], u);
        return [u];
      }),
    );
  }

  /** Records that a synced user's mailbox exists. */
  setProvisioned(userId: string): Promise<void> {
    return this.write(() => {
      const u = this.db.get(['u', userId]) as UserRecord | undefined;
      if (u?.source === undefined || u.source.provisioned) return;
      u.source.provisioned = true;
      this.db.putSync(['u', u.id], u);
    });
  }

  /**
   * Applies the groups read from a directory: creates and updates by directory id, members as
   * addresses (members not served here are dropped), and removes the configuration's groups not
   * in `items` (a group holds no mail, so nothing is lost). Answers conflicts by DN.
   */
  async applySourcedGroups(config: string, items: readonly SourcedGroupInput[], now = Date.now()): Promise<{ created: number; updated: number; removed: number; conflicts: { dn: string; reason: string }[] }> {
    const r = { created: 0, updated: 0, removed: 0, conflicts: [] as { dn: string; reason: string }[] };
    await this.db.transaction(() => {
      const seen = new Set<string>();
      const prev = new Map<string, string | null>();
      for (const it of items) {
        try {
          this.db.childTransaction(() => {
            const key = sourceKey(config, it.sourceId);
            const linked = this.db.get(key) as { group?: string } | undefined;
            const had = linked?.group !== undefined ? (this.db.get(['g', linked.group]) as GroupRecord | undefined) : undefined;
            const id = had?.id ?? randomUUID();
            const owner = { group: id };
            if (!this.domainOf(it.address)) throw new DirectoryError('NOT_FOUND', `domain of ${it.address} is not served here`);
            if (!this.claim(it.address, owner)) throw new DirectoryError('EXISTS', `${it.address} is already in use`);
            const aliases = it.aliases.filter((a) => a !== it.address && this.domainOf(a) && this.claim(a, owner));
            for (const a of [had?.address, ...(had?.aliases ?? [])]) if (a !== undefined && a !== it.address && !aliases.includes(a)) this.db.removeSync(['a', a]);
            const members = [...new Set(it.members)].filter((m) => m !== it.address);
            const g: GroupRecord = { id, address: it.address, displayName: it.displayName, members, aliases, source: { kind: 'ldap', config, id: it.sourceId, dn: it.dn, syncedAt: now } };
            for (const a of [it.address, ...aliases]) this.db.putSync(['a', a], { group: id });
            this.db.putSync(['g', id], g);
            this.db.putSync(key, { group: id });
            seen.add(id);
            prev.set(id, had === undefined ? null : JSON.stringify({ ...had, source: null }));
          });
        } catch (err) {
          if (!(err instanceof DirectoryError)) throw err;
          r.conflicts.push({ dn: it.dn, reason: err.message });
        }
      }
      // Members are addresses served here: known once every group of the batch is in.
      for (const id of seen) {
        const g = this.db.get(['g', id]) as GroupRecord;
        const members = g.members.filter((m) => this.db.get(['a', m]) !== undefined);
        if (members.length !== g.members.length) this.db.putSync(['g', id], { ...g, members });
        const was = prev.get(id);
        if (was === null) r.created++;
        else if (was !== JSON.stringify({ ...g, members, source: null })) r.updated++;
      }
      for (const g of this.sourcedGroups(config)) {
        if (seen.has(g.id)) continue;
        for (const a of [g.address, ...(g.aliases ?? [])]) this.db.removeSync(['a', a]);
        this.db.removeSync(sourceKey(config, g.source!.id));
        this.db.removeSync(['g', g.id]);
        r.removed++;
      }
    });
    await this.db.flushed;
    return r;
  }
}

function sourceKey(config: string, sourceId: string): Key {
  return ['s', `${config}\0${sourceId}`];
}

/** A synced user may log in when the directory has it, enabled, and no operator disabled it here. */
export function effectiveEnabled(s: UserSource): boolean {
  return !s.disabled && s.goneSince === null && !s.localDisabled;
}

/** A synced user is hidden when the directory or an operator here hides it. */
export function effectiveHidden(s: UserSource): boolean {
  return s.hidden === true || s.localHidden === true;
}

function mustBeLocal(u: UserRecord, why: string): void {
  if (u.source !== undefined) throw new DirectoryError('INVALID', `${u.address} comes from LDAP configuration ${u.source.config}: ${why}`);
}
