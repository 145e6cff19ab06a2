/**
 * What an LDAP entry means to the server: ready-made attribute maps for Active Directory (also
 * its global catalog), OpenLDAP (inetOrgPerson) and 389 Directory Server, every part of which a
 * configuration may override, and the mapping of one entry to a user or group.
 */
import { dnKey, guidFromBytes } from './ldap-filter.js';
import { normalizeProfile, PROFILE_FIELDS, type ProfileField, type UserProfile } from '../directory-store.js';

export const PRESET_NAMES = ['openldap', 'ad', 'ad-gc', '389ds'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * How a disabled account shows: `attr&mask` (AD's userAccountControl: ACCOUNTDISABLE is bit 2),
 * `attr=value` (any value equal, ignoring case: 389 DS's nsAccountLock=true), or `attr` (present:
 * OpenLDAP ppolicy's pwdAccountLockedTime).
 */
export type DisabledRule = { attr: string; kind: 'bits'; mask: number } | { attr: string; kind: 'equals'; value: string } | { attr: string; kind: 'present' };

export interface AttributeMap {
  /** Filter selecting user objects (ANDed with the configuration's user_filter). */
  userClass: string;
  /** Filter selecting groups (ANDed with group_filter). */
  groupClass: string;
  /** The immutable id: objectGUID, entryUUID, nsUniqueId. */
  id: string;
  /** objectGUID is 16 bytes, shown as a GUID; the others are text. */
  idBinary: boolean;
  /** Primary address. With `aliases` naming the same attribute, its first value. */
  mail: string;
  /** Further addresses ('' = none). */
  aliases: string;
  /** `proxy`: AD's proxyAddresses ("SMTP:primary", "smtp:alias", other types ignored); `plain`: bare addresses. */
  aliasSyntax: 'plain' | 'proxy';
  /** Display name: the first of these present. */
  displayName: string[];
  /** Attributes a login name is looked up in (besides the addresses). */
  logins: string[];
  /** Group member attributes (DNs). */
  member: string[];
  disabled: DisabledRule | null;
  /** Profile fields the address book shows: for each, the first of these attributes present. */
  profile: Partial<Record<ProfileField, string[]>>;
  /** How hiding from address lists shows (AD's msExchHideFromAddressLists=TRUE); null: never hidden. */
  hidden: DisabledRule | null;
  /** An attribute that changes with the password: a change voids cached logins at the next sync ('' = none). */
  passwordChanged: string;
  /** Nested groups: `in-chain` asks AD for transitive members (LDAP_MATCHING_RULE_IN_CHAIN); `client` walks the groups read. */
  nesting: 'client' | 'in-chain';
  /** Ports when a URI names none. */
  ports: { ldap: number; ldaps: number };
}

/** LDAP_MATCHING_RULE_IN_CHAIN (MS-ADTS 3.1.1.3.4.4.3): transitive membership, AD only. */
export const MATCHING_RULE_IN_CHAIN = '1.2.840.113556.1.4.1941';

/**
 * inetOrgPerson (RFC 2798) and its parents: no `department` (departmentNumber is often a code,
 * so the organizational unit comes first) and no `company` (the organization `o`).
 */
const INET_ORG_PERSON_PROFILE: AttributeMap['profile'] = {
  title: ['title'],
  department: ['ou', 'departmentNumber'],
  office: ['physicalDeliveryOfficeName', 'roomNumber'],
  phone: ['telephoneNumber'],
  mobile: ['mobile'],
  company: ['o'],
  givenName: ['givenName'],
  surname: ['sn'],
};

const AD: AttributeMap = {
  userClass: '(&(objectCategory=person)(objectClass=user))',
  groupClass: '(objectClass=group)',
  id: 'objectGUID',
  idBinary: true,
  mail: 'mail',
  aliases: 'proxyAddresses',
  aliasSyntax: 'proxy',
  displayName: ['displayName', 'cn'],
  logins: ['sAMAccountName', 'userPrincipalName'],
  member: ['member'],
  disabled: { attr: 'userAccountControl', kind: 'bits', mask: 2 },
  profile: {
    title: ['title'],
    department: ['department'],
    office: ['physicalDeliveryOfficeName'],
    phone: ['telephoneNumber'],
    mobile: ['mobile'],
    company: ['company'],
    givenName: ['givenName'],
    surname: ['sn'],
  },
  hidden: { attr: 'msExchHideFromAddressLists', kind: 'equals', value: 'true' },
  passwordChanged: 'pwdLastSet',
  nesting: 'in-chain',
  ports: { ldap: 389, ldaps: 636 },
};

export const PRESETS: Record<PresetName, AttributeMap> = {
  ad: AD,
  // The global catalog (3268 / 3269) answers for the whole forest with a partial attribute set,
  // which has everything above but pwdLastSet.
  'ad-gc': { ...AD, passwordChanged: '', ports: { ldap: 3268, ldaps: 3269 } },
  openldap: {
    userClass: '(objectClass=inetOrgPerson)',
    groupClass: '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))',
    id: 'entryUUID',
    idBinary: false,
    mail: 'mail',
    aliases: 'mail',
    aliasSyntax: 'plain',
    displayName: ['displayName', 'cn'],
    logins: ['uid'],
    member: ['member', 'uniqueMember'],
    disabled: { attr: 'pwdAccountLockedTime', kind: 'present' },
    profile: INET_ORG_PERSON_PROFILE,
    hidden: null,
    passwordChanged: 'pwdChangedTime',
    nesting: 'client',
    ports: { ldap: 389, ldaps: 636 },
  },
  '389ds': {
    userClass: '(objectClass=inetOrgPerson)',
    groupClass: '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))',
    id: 'nsUniqueId',
    idBinary: false,
    mail: 'mail',
    aliases: 'mailAlternateAddress',
    aliasSyntax: 'plain',
    displayName: ['displayName', 'cn'],
    logins: ['uid'],
    member: ['member', 'uniqueMember'],
    disabled: { attr: 'nsAccountLock', kind: 'equals', value: 'true' },
    profile: INET_ORG_PERSON_PROFILE,
    hidden: null,
    passwordChanged: 'pwdUpdateTime',
    nesting: 'client',
    ports: { ldap: 389, ldaps: 636 },
  },
};

/** Parses a disabled rule as written in config (`userAccountControl&2`, `nsAccountLock=true`, `pwdAccountLockedTime`, `none`). */
export function parseDisabledRule(text: string): DisabledRule | null {
  const t = text.trim();
  if (t === 'none') return null;
  let m = /^([A-Za-z][A-Za-z0-9-]*)&(\d+)$/.exec(t);
  if (m !== null) return { attr: m[1]!, kind: 'bits', mask: Number(m[2]) };
  m = /^([A-Za-z][A-Za-z0-9-]*)=(.+)$/.exec(t);
  if (m !== null) return { attr: m[1]!, kind: 'equals', value: m[2]!.toLowerCase() };
  m = /^([A-Za-z][A-Za-z0-9-]*)$/.exec(t);
  if (m !== null) return { attr: m[1]!, kind: 'present' };
  throw new Error(`expected attr&mask, attr=value, attr or none; got ${JSON.stringify(text)}`);
}

/** A map with a configuration's overrides applied (empty strings keep the preset's). */
export function attributeMap(preset: PresetName, o: Partial<Record<'id' | 'mail' | 'aliases' | 'displayName' | 'logins' | 'member' | 'disabled' | 'nesting', string>>): AttributeMap {
  const base = PRESETS[preset];
  const list = (v: string | undefined, d: string[]) => (v === undefined || v.trim() === '' ? d : v.split(',').map((x) => x.trim()).filter((x) => x !== ''));
  const one = (v: string | undefined, d: string) => (v === undefined || v.trim() === '' ? d : v.trim());
  const id = one(o.id, base.id);
  return {
    ...base,
    id,
    idBinary: id.toLowerCase() === 'objectguid',
    mail: one(o.mail, base.mail),
    aliases: o.aliases?.trim() === 'none' ? '' : one(o.aliases, base.aliases),
    aliasSyntax: one(o.aliases, base.aliases).toLowerCase() === 'proxyaddresses' ? 'proxy' : 'plain',
    displayName: list(o.displayName, base.displayName),
    logins: list(o.logins, base.logins),
    member: list(o.member, base.member),
    disabled: o.disabled === undefined || o.disabled.trim() === '' ? base.disabled : parseDisabledRule(o.disabled),
    nesting: o.nesting === 'client' || o.nesting === 'in-chain' ? o.nesting : base.nesting,
  };
}

/** Every attribute a user search asks for. */
export function userAttributes(m: AttributeMap): string[] {
  const a = [
    m.id,
    m.mail,
    ...(m.aliases !== '' ? [m.aliases] : []),
    ...m.displayName,
    ...m.logins,
    ...(m.disabled !== null ? [m.disabled.attr] : []),
    ...(m.passwordChanged !== '' ? [m.passwordChanged] : []),
    ...PROFILE_FIELDS.flatMap((f) => m.profile[f] ?? []),
    ...(m.hidden !== null ? [m.hidden.attr] : []),
  ];
  return [...new Set(a)];
}

export function groupAttributes(m: AttributeMap): string[] {
  return [...new Set([m.id, m.mail, ...(m.aliases !== '' ? [m.aliases] : []), ...m.displayName, 'cn', ...m.member])];
}

/** An LDAP search entry as ldapts gives it. */
export type RawEntry = { dn: string } & Record<string, string | string[] | Buffer | Buffer[]>;

/** The values of an attribute, whatever its letter case in the entry (servers answer in their own spelling). */
export function values(e: RawEntry, attr: string): string[] {
  const want = attr.toLowerCase();
  for (const [k, v] of Object.entries(e)) {
    if (k.toLowerCase() !== want || k === 'dn') continue;
    const list = Array.isArray(v) ? v : [v];
    return list.map((x) => (typeof x === 'string' ? x : Buffer.from(x).toString('utf8')));
  }
  return [];
}

function binaryValue(e: RawEntry, attr: string): Buffer | null {
  const want = attr.toLowerCase();
  for (const [k, v] of Object.entries(e)) {
    if (k.toLowerCase() !== want) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined) return null;
    return typeof first === 'string' ? Buffer.from(first, 'binary') : Buffer.from(first);
  }
  return null;
}

/** What the server keeps of an LDAP user. */
export interface LdapUser {
  /** The immutable id as text (a GUID for objectGUID). */
  id: string;
  dn: string;
  address: string;
  aliases: string[];
  displayName: string;
  disabled: boolean;
  /** The value of the map's passwordChanged attribute ('' when none). */
  passwordStamp: string;
  /** Profile fields found (trimmed, at most 256 characters); absent when none. */
  profile?: UserProfile;
  /** Hidden from address lists (the map's hidden rule). */
  hidden: boolean;
}

export interface LdapGroup {
  id: string;
  dn: string;
  /** null: a group without an address (only its members count, through nesting). */
  address: string | null;
  aliases: string[];
  displayName: string;
  /** Member DNs (after ranged retrieval). */
  members: string[];
}

export function entryId(e: RawEntry, m: AttributeMap): string | null {
  if (m.idBinary) {
    const b = binaryValue(e, m.id);
    return b === null || b.length !== 16 ? null : guidFromBytes(b);
  }
  const v = values(e, m.id)[0];
  return v === undefined || v.trim() === '' ? null : v.trim().toLowerCase();
}

const ADDRESS_RE = /^[^\s@<>()\\,;:"]+@[^\s@<>()\\,;:"]+$/;

/** Primary address and aliases of an entry, lower case, without duplicates; null when it has no address. */
export function entryAddresses(e: RawEntry, m: AttributeMap): { address: string; aliases: string[] } | null {
  const mail = values(e, m.mail).map((v) => v.trim().toLowerCase()).filter((v) => ADDRESS_RE.test(v));
  let primary: string | undefined;
  const more: string[] = [];
  if (m.aliases !== '' && m.aliasSyntax === 'proxy') {
    for (const v of values(e, m.aliases)) {
      const p = /^smtp:(.+)$/i.exec(v.trim());
      if (p === null) continue; // X500:, SIP: and other address types are not mail
      const a = p[1]!.toLowerCase();
      if (!ADDRESS_RE.test(a)) continue;
      if (v.startsWith('SMTP:') && primary === undefined) primary = a;
      else more.push(a);
    }
    primary ??= mail[0];
    more.push(...mail);
  } else {
    primary = mail[0];
    more.push(...mail.slice(1));
    if (m.aliases !== '' && m.aliases.toLowerCase() !== m.mail.toLowerCase()) more.push(...values(e, m.aliases).map((v) => v.trim().toLowerCase()).filter((v) => ADDRESS_RE.test(v)));
  }
  if (primary === undefined) return null;
  return { address: primary, aliases: [...new Set(more)].filter((a) => a !== primary) };
}

export function isDisabled(e: RawEntry, rule: DisabledRule | null): boolean {
  if (rule === null) return false;
  const v = values(e, rule.attr);
  switch (rule.kind) {
    case 'present':
      return v.length > 0;
    case 'equals':
      return v.some((x) => x.trim().toLowerCase() === rule.value);
    case 'bits':
      return v.some((x) => /^-?\d+$/.test(x.trim()) && (Number(x.trim()) & rule.mask) !== 0);
  }
}

/** The profile of an entry: for each field the first of its attributes with a non-empty value. */
export function profileOf(e: RawEntry, m: AttributeMap): UserProfile | undefined {
  const raw: Partial<Record<ProfileField, string>> = {};
  for (const f of PROFILE_FIELDS) {
    for (const a of m.profile[f] ?? []) {
      const v = values(e, a).find((x) => x.trim() !== '');
      if (v !== undefined) {
        raw[f] = v;
        break;
      }
    }
  }
  return normalizeProfile(raw, false);
}

function displayNameOf(e: RawEntry, m: AttributeMap, fallback: string): string {
  for (const a of m.displayName) {
    const v = values(e, a)[0]?.trim();
    if (v !== undefined && v !== '') return v.slice(0, 256);
  }
  return fallback;
}

/** A user entry, or why it is not one the server can use. */
export function mapUser(e: RawEntry, m: AttributeMap): LdapUser | { skip: 'no-id' | 'no-address' } {
  const id = entryId(e, m);
  if (id === null) return { skip: 'no-id' };
  const addr = entryAddresses(e, m);
  if (addr === null) return { skip: 'no-address' };
  const profile = profileOf(e, m);
  return {
    id,
    dn: e.dn,
    address: addr.address,
    aliases: addr.aliases,
    displayName: displayNameOf(e, m, addr.address.split('@')[0]!),
    disabled: isDisabled(e, m.disabled),
    passwordStamp: m.passwordChanged === '' ? '' : (values(e, m.passwordChanged)[0] ?? ''),
    ...(profile !== undefined ? { profile } : {}),
    hidden: isDisabled(e, m.hidden),
  };
}

/** A group entry; members are the DNs present in the entry (ranged retrieval completes them). */
export function mapGroup(e: RawEntry, m: AttributeMap, members: string[]): LdapGroup | null {
  const id = entryId(e, m);
  if (id === null) return null;
  const addr = entryAddresses(e, m);
  return {
    id,
    dn: e.dn,
    address: addr?.address ?? null,
    aliases: addr?.aliases ?? [],
    displayName: displayNameOf(e, m, addr?.address.split('@')[0] ?? values(e, 'cn')[0] ?? e.dn),
    members,
  };
}

/**
 * The ranged form of an attribute in an entry (AD answers `member;range=0-1499` instead of
 * `member` when a value list is long: MS-ADTS 3.1.1.3.1.3.3): its values and the next start, or
 * null when the range ends with `*`.
 */
export function rangedValues(e: RawEntry, attr: string): { values: string[]; next: number | null } | null {
  const re = new RegExp(`^${attr.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')};range=(\\d+)-(\\d+|\\*)$`, 'i');
  for (const k of Object.keys(e)) {
    const m = re.exec(k);
    if (m === null) continue;
    return { values: values(e, k), next: m[2] === '*' ? null : Number(m[2]) + 1 };
  }
  return null;
}

/** Resolves member DNs to addresses through the entries read; groups without an address are flattened (cycles ignored). */
export function resolveMembers(group: LdapGroup, byDn: Map<string, { address: string | null; members?: string[] }>): string[] {
  const out = new Set<string>();
  const seen = new Set<string>([dnKey(group.dn)]);
  const walk = (members: string[]) => {
    for (const dn of members) {
      const k = dnKey(dn);
      if (seen.has(k)) continue;
      seen.add(k);
      const hit = byDn.get(k);
      if (hit === undefined) continue;
      if (hit.address !== null) out.add(hit.address);
      else if (hit.members !== undefined) walk(hit.members);
    }
  };
  walk(group.members);
  return [...out];
}
