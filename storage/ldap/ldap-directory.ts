/**
 * One LDAP directory as the server uses it: paged reads of users and groups (with AD's ranged
 * retrieval and transitive membership), the lookup of a login name, and the bind that checks a
 * password. Every operation goes through a pool (`LdapRunner`); the sync and the authenticator
 * (runtime/directory-sync.ts) decide what to do with the answers.
 */
import { InvalidCredentialsError } from 'ldapts';
import {
  MATCHING_RULE_IN_CHAIN,
  entryId,
  groupAttributes,
  mapGroup,
  mapUser,
  rangedValues,
  userAttributes,
  values,
  type AttributeMap,
  type LdapGroup,
  type LdapUser,
  type RawEntry,
} from './attribute-maps.js';
import { and, eq, escapeFilterValue, guidFilterValue, or } from './ldap-filter.js';
import { isLdapAnswer, type LdapRunner } from './ldap-pool.js';

export interface LdapSettings {
  /** The configuration's name ([ldap.<name>]). */
  name: string;
  map: AttributeMap;
  baseDn: string;
  /** Extra filters of a partial integration ('' = none). */
  userFilter: string;
  groupFilter: string;
  groups: boolean;
  /** Domains whose addresses come from this directory, lower case; empty = any domain served here. */
  domains: string[];
  pageSize: number;
}

/** Why an entry read was not made a user. */
export interface Skipped {
  dn: string;
  reason: 'no-id' | 'no-address' | 'other-domain' | 'bad-address';
}

export type LookupResult = { kind: 'found'; user: LdapUser } | { kind: 'none' } | { kind: 'ambiguous'; count: number };

/** A ranged attribute longer than this many rounds is cut (a guard against a server that never says `*`). */
const MAX_RANGE_ROUNDS = 10_000;

export class LdapDirectory {
  constructor(
    readonly settings: LdapSettings,
    /** Connections bound as the service account: searches. */
    private readonly searches: LdapRunner,
    /** Connections for user binds only. */
    private readonly binds: LdapRunner,
  ) {}

  get name(): string {
    return this.settings.name;
  }

  /** True when addresses of this domain come from this directory. */
  servesDomain(domain: string): boolean {
    return this.settings.domains.length === 0 || this.settings.domains.includes(domain.toLowerCase());
  }

  userFilter(): string {
    return and(this.settings.map.userClass, this.settings.userFilter);
  }

  private binaryAttrs(): string[] {
    return this.settings.map.idBinary ? [this.settings.map.id] : [];
  }

  /**
   * Every user of the directory (paged: `page_size` entries a round trip, AD's limit being 1,000),
   * with the entries that could not be used. `onProgress` sees the count read so far.
   */
  async readUsers(onProgress?: (read: number) => void): Promise<{ users: LdapUser[]; skipped: Skipped[] }> {
    const m = this.settings.map;
    return this.searches.use(async (c) => {
      // A retry after a broken connection starts over: nothing from the first try is kept.
      const users: LdapUser[] = [];
      const skipped: Skipped[] = [];
      let read = 0;
      const pages = c.searchPaginated(this.settings.baseDn, {
        scope: 'sub',
        filter: this.userFilter(),
        attributes: userAttributes(m),
        explicitBufferAttributes: this.binaryAttrs(),
        paged: { pageSize: this.settings.pageSize },
      });
      for await (const page of pages) {
        for (const e of page.searchEntries as RawEntry[]) {
          read++;
          const u = mapUser(e, m);
          if ('skip' in u) skipped.push({ dn: e.dn, reason: u.skip });
          else if (!this.servesDomain(u.address.split('@')[1]!)) skipped.push({ dn: e.dn, reason: 'other-domain' });
          else users.push({ ...u, aliases: u.aliases.filter((a) => this.servesDomain(a.split('@')[1]!)) });
        }
        onProgress?.(read);
      }
      return { users, skipped };
    });
  }

  /** Every group with its member DNs complete (ranged retrieval followed to the end). */
  async readGroups(): Promise<LdapGroup[]> {
    if (!this.settings.groups) return [];
    const m = this.settings.map;
    const entries = await this.searches.use(async (c) => {
      const out: RawEntry[] = [];
      const pages = c.searchPaginated(this.settings.baseDn, {
        scope: 'sub',
        filter: and(m.groupClass, this.settings.groupFilter),
        attributes: groupAttributes(m),
        explicitBufferAttributes: this.binaryAttrs(),
        paged: { pageSize: this.settings.pageSize },
      });
      for await (const page of pages) out.push(...(page.searchEntries as RawEntry[]));
      return out;
    });
    const groups: LdapGroup[] = [];
    for (const e of entries) {
      const members: string[] = [];
      for (const attr of m.member) members.push(...(await this.memberValues(e, attr)));
      const g = mapGroup(e, m, members);
      if (g !== null) groups.push(g);
    }
    return groups;
  }

  /**
   * The values of a member attribute. When AD answers with `member;range=0-1499` (more values
   * than MaxValRange), ask for `member;range=1500-*` and so on until a range ends with `*`.
   */
  async memberValues(e: RawEntry, attr: string): Promise<string[]> {
    let ranged = rangedValues(e, attr);
    if (ranged === null) return values(e, attr);
    const out = [...ranged.values];
    for (let round = 0; ranged.next !== null && round < MAX_RANGE_ROUNDS; round++) {
      const want = `${attr};range=${ranged.next}-*`;
      const res = await this.searches.use((c) => c.search(e.dn, { scope: 'base', filter: '(objectClass=*)', attributes: [want] }));
      const next = res.searchEntries[0] as RawEntry | undefined;
      ranged = next === undefined ? null : rangedValues(next, attr);
      if (ranged === null) break;
      out.push(...ranged.values);
    }
    return out;
  }

  /**
   * Ids of the users in a group and every group nested in it, asked of AD in one search with
   * LDAP_MATCHING_RULE_IN_CHAIN on memberOf (AD only: other servers do not know the rule).
   */
  async inChainMemberIds(groupDn: string): Promise<string[]> {
    const m = this.settings.map;
    return this.searches.use(async (c) => {
      const ids: string[] = [];
      const pages = c.searchPaginated(this.settings.baseDn, {
        scope: 'sub',
        filter: and(this.userFilter(), `(memberOf:${MATCHING_RULE_IN_CHAIN}:=${escapeFilterValue(groupDn)})`),
        attributes: [m.id],
        explicitBufferAttributes: this.binaryAttrs(),
        paged: { pageSize: this.settings.pageSize },
      });
      for await (const page of pages) {
        for (const e of page.searchEntries as RawEntry[]) {
          const id = entryId(e, m);
          if (id !== null) ids.push(id);
        }
      }
      return ids;
    });
  }

  /**
   * The filter finding a login: an address (primary or alias) or a login attribute value (uid,
   * sAMAccountName, userPrincipalName); AD's `DOMAIN\user` form looks up sAMAccountName. Every
   * value is escaped (RFC 4515), so `*`, `(`, `)`, `\` and NUL in a login match only themselves.
   */
  loginFilter(login: string): string | null {
    const m = this.settings.map;
    const alts: string[] = [];
    const isAddress = /^[^@\s]+@[^@\s]+$/.test(login);
    for (const attr of m.logins) {
      if (attr.toLowerCase() === 'samaccountname') {
        const down = /^[^\\@]+\\([^\\@]+)$/.exec(login);
        alts.push(eq(attr, down !== null ? down[1]! : login));
      } else alts.push(eq(attr, login));
    }
    if (isAddress) {
      if (!this.servesDomain(login.split('@')[1]!)) return null;
      alts.push(eq(m.mail, login));
      if (m.aliases !== '' && m.aliases.toLowerCase() !== m.mail.toLowerCase()) alts.push(eq(m.aliases, m.aliasSyntax === 'proxy' ? `smtp:${login}` : login));
    }
    const uniq = [...new Set(alts)];
    return uniq.length === 0 ? null : and(this.userFilter(), or(...uniq));
  }

  /** Finds the one user a login names (none, or more than one, are both "no such login" to the caller). */
  lookup(login: string): Promise<LookupResult> {
    const filter = this.loginFilter(login);
    return filter === null ? Promise.resolve({ kind: 'none' }) : this.findOne(filter);
  }

  /**
   * Finds a known user again by its immutable id: whatever its DN and addresses became (a rename,
   * a move to another OU), and whichever of its addresses, current or kept, the login used.
   */
  lookupById(id: string): Promise<LookupResult> {
    const m = this.settings.map;
    const value = m.idBinary ? guidFilterValue(id) : escapeFilterValue(id);
    return this.findOne(and(this.userFilter(), `(${m.id}=${value})`));
  }

  private async findOne(filter: string): Promise<LookupResult> {
    const m = this.settings.map;
    const res = await this.searches.use((c) =>
      c.search(this.settings.baseDn, { scope: 'sub', filter, attributes: userAttributes(m), explicitBufferAttributes: this.binaryAttrs(), sizeLimit: 2 }).catch((err: unknown) => {
        // Two entries or more: the server stops at the size limit with code 4.
        if (isLdapAnswer(err) && err.code === 4) return { searchEntries: [{ dn: '' }, { dn: '' }], searchReferences: [] };
        throw err;
      }),
    );
    if (res.searchEntries.length > 1) return { kind: 'ambiguous', count: res.searchEntries.length };
    const e = res.searchEntries[0] as RawEntry | undefined;
    if (e === undefined) return { kind: 'none' };
    const u = mapUser(e, m);
    if ('skip' in u || !this.servesDomain(u.address.split('@')[1]!)) return { kind: 'none' };
    return { kind: 'found', user: { ...u, aliases: u.aliases.filter((a) => this.servesDomain(a.split('@')[1]!)) } };
  }

  /**
   * Checks a password by binding as the user. True: bound; false: the directory said no (49
   * invalid credentials, or another refusal such as a locked account). An empty password is
   * refused here before any bind: LDAP takes a simple bind with a DN and no password as an
   * unauthenticated bind that succeeds (RFC 4513 5.1.2), which AD accepts. Outages throw
   * LdapUnavailable.
   */
  async bind(dn: string, password: string): Promise<boolean> {
    if (password === '' || dn === '') return false;
    try {
      await this.binds.use((c) => c.bind(dn, password));
      return true;
    } catch (err) {
      if (err instanceof InvalidCredentialsError || isLdapAnswer(err)) return false;
      throw err;
    }
  }

  /**
   * A bind that must fail, made when a login names nobody (or a disabled account), so that such
   * an answer costs the same round trip as a wrong password. The DN names no entry, so no real
   * account collects a failed attempt (AD lockout counts per account).
   */
  async dummyBind(password: string): Promise<void> {
    if (password === '') return;
    const dn = `cn=stoa-no-such-user-${Math.random().toString(36).slice(2)},${this.settings.baseDn}`;
    await this.bind(dn, password);
  }
}
