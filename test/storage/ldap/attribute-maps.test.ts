/** The ready-made maps and AD's special paths, on constructed entries and recorded-shape answers. */
import test from 'ava';
import { attributeMap, entryAddresses, isDisabled, mapUser, parseDisabledRule, rangedValues, resolveMembers, userAttributes, type RawEntry } from '../../../storage/ldap/attribute-maps.js';
import { LdapDirectory, type LdapSettings } from '../../../storage/ldap/ldap-directory.js';
import type { LdapOps, LdapRunner } from '../../../storage/ldap/ldap-pool.js';

const GUID = Buffer.from('78563412bc9af0de0123456789abcdef', 'hex');

function adUser(extra: Record<string, string | string[] | Buffer> = {}): RawEntry {
  return {
    dn: 'CN=Alice Liddell,OU=Staff,DC=corp,DC=example',
    objectGUID: GUID,
    mail: 'Alice@Corp.Example',
    proxyAddresses: ['SMTP:alice@corp.example', 'smtp:a.liddell@corp.example', 'X500:/o=ExchangeLabs/ou=x', 'SIP:alice@corp.example'],
    displayName: 'Alice Liddell',
    sAMAccountName: 'alice',
    userAccountControl: '512',
    pwdLastSet: '133000000000000000',
    ...extra,
  };
}

test('AD: objectGUID, SMTP:/smtp: proxyAddresses (other types ignored), userAccountControl bit 2', (t) => {
  const m = attributeMap('ad', {});
  const u = mapUser(adUser(), m);
  if ('skip' in u) return t.fail();
  t.is(u.id, '12345678-9abc-def0-0123-456789abcdef');
  t.is(u.address, 'alice@corp.example');
  t.deepEqual(u.aliases, ['a.liddell@corp.example']);
  t.false(u.disabled);
  t.is(u.passwordStamp, '133000000000000000');
  const off = mapUser(adUser({ userAccountControl: '514' }), m);
  t.true(!('skip' in off) && off.disabled, '514 = NORMAL_ACCOUNT | ACCOUNTDISABLE');
  // Without an SMTP: value the mail attribute is primary.
  t.deepEqual(entryAddresses(adUser({ proxyAddresses: ['smtp:other@corp.example'] }), m), { address: 'alice@corp.example', aliases: ['other@corp.example'] });
  t.deepEqual(mapUser({ dn: 'CN=x', mail: 'x@y.z' }, m), { skip: 'no-id' });
  t.deepEqual(mapUser({ dn: 'CN=x', objectGUID: GUID }, m), { skip: 'no-address' });
});

test('OpenLDAP and 389 DS maps; overrides from config; disabled rules', (t) => {
  const o = attributeMap('openldap', {});
  t.deepEqual(entryAddresses({ dn: 'uid=a', mail: ['a@x.test', 'b@x.test'] }, o), { address: 'a@x.test', aliases: ['b@x.test'] });
  const ds = attributeMap('389ds', {});
  t.is(ds.id, 'nsUniqueId');
  t.deepEqual(entryAddresses({ dn: 'uid=a', mail: 'a@x.test', mailAlternateAddress: ['c@x.test'] }, ds), { address: 'a@x.test', aliases: ['c@x.test'] });
  t.true(isDisabled({ dn: 'x', nsAccountLock: 'TRUE' }, ds.disabled));
  t.true(isDisabled({ dn: 'x', pwdAccountLockedTime: '000001010000Z' }, o.disabled));
  const custom = attributeMap('openldap', { disabled: 'employeeType=disabled', logins: 'uid, employeeNumber', aliases: 'none' });
  t.deepEqual(custom.logins, ['uid', 'employeeNumber']);
  t.is(custom.aliases, '');
  t.true(isDisabled({ dn: 'x', employeeType: ['staff', 'Disabled'] }, custom.disabled));
  t.deepEqual(parseDisabledRule('userAccountControl&2'), { attr: 'userAccountControl', kind: 'bits', mask: 2 });
  t.is(parseDisabledRule('none'), null);
  t.throws(() => parseDisabledRule('a b'));
  t.is(attributeMap('ad-gc', {}).ports.ldap, 3268);
});

test('profile attributes: AD, OpenLDAP and 389 DS; AD msExchHideFromAddressLists hides', (t) => {
  const ad = attributeMap('ad', {});
  const u = mapUser(
    adUser({
      title: 'Engineer',
      department: 'R&D',
      physicalDeliveryOfficeName: 'B 2.14',
      telephoneNumber: '+1 555 0100',
      mobile: '+1 555 0199',
      company: 'Corp',
      givenName: 'Alice',
      sn: '  Liddell ',
      o: 'not the company in AD',
      msExchHideFromAddressLists: 'TRUE',
    }),
    ad,
  );
  if ('skip' in u) return t.fail();
  t.deepEqual(u.profile, { title: 'Engineer', department: 'R&D', office: 'B 2.14', phone: '+1 555 0100', mobile: '+1 555 0199', company: 'Corp', givenName: 'Alice', surname: 'Liddell' });
  t.true(u.hidden);
  const shown = mapUser(adUser({ msExchHideFromAddressLists: 'FALSE' }), ad);
  t.true(!('skip' in shown) && !shown.hidden && shown.profile === undefined, 'FALSE, and no profile attributes: none');
  for (const a of ['title', 'department', 'physicalDeliveryOfficeName', 'telephoneNumber', 'mobile', 'company', 'givenName', 'sn', 'msExchHideFromAddressLists']) t.true(userAttributes(ad).includes(a), a);
  t.true(userAttributes(attributeMap('ad-gc', {})).includes('msExchHideFromAddressLists'));

  const o = attributeMap('openldap', {});
  const ou = mapUser({ dn: 'uid=a', entryUUID: 'ABC', mail: 'a@x.test', title: 'Engineer', ou: 'R&D', departmentNumber: '42', roomNumber: '214', telephoneNumber: ['+1 1', '+1 2'], o: 'Example', givenName: 'A', sn: 'B', description: 'x'.repeat(300) }, o);
  if ('skip' in ou) return t.fail();
  t.deepEqual(ou.profile, { title: 'Engineer', department: 'R&D', office: '214', phone: '+1 1', company: 'Example', givenName: 'A', surname: 'B' });
  t.false(ou.hidden, 'no hiding attribute outside AD');
  t.is(o.hidden, null);
  const dept = mapUser({ dn: 'uid=a', nsUniqueId: 'ABC', mail: 'a@x.test', departmentNumber: '42', title: 'x'.repeat(300) }, attributeMap('389ds', {}));
  t.true(!('skip' in dept) && dept.profile?.department === '42' && dept.profile.title?.length === 256, 'departmentNumber without ou; long values cut at 256');
  t.true(userAttributes(attributeMap('389ds', {})).includes('physicalDeliveryOfficeName'));
});

/** A runner whose connection answers from a script (the shapes AD sends). */
function fakeRunner(answer: (base: string, opts: Record<string, unknown>) => RawEntry[][], log: { base: string; opts: Record<string, unknown> }[] = []): LdapRunner {
  const ops = {
    search: async (base: string, opts: Record<string, unknown>) => {
      log.push({ base, opts });
      return { searchEntries: answer(base, opts).flat(), searchReferences: [] };
    },
    searchPaginated: async function* (base: string, opts: Record<string, unknown>) {
      log.push({ base, opts });
      for (const page of answer(base, opts)) yield { searchEntries: page, searchReferences: [] };
    },
    bind: async () => undefined,
  } as unknown as LdapOps;
  return { use: (fn) => fn(ops) };
}

function settings(preset: 'ad' | 'openldap', extra: Partial<LdapSettings> = {}): LdapSettings {
  return { name: 'corp', map: attributeMap(preset, {}), baseDn: 'DC=corp,DC=example', userFilter: '', groupFilter: '', groups: true, domains: ['corp.example'], pageSize: 1000, ...extra };
}

test('AD ranged retrieval: member;range=0-2 then 3-* until the range ends with *', async (t) => {
  const dn = 'CN=Big,OU=Groups,DC=corp,DC=example';
  const log: { base: string; opts: Record<string, unknown> }[] = [];
  const runner = fakeRunner((base, opts) => {
    const attrs = opts.attributes as string[];
    if (opts.scope === 'base' && attrs[0] === 'member;range=3-*') return [[{ dn, 'member;range=3-5': ['CN=u3', 'CN=u4', 'CN=u5'] }]];
    if (opts.scope === 'base' && attrs[0] === 'member;range=6-*') return [[{ dn, 'member;range=6-*': ['CN=u6'] }]];
    return [[{ dn, objectGUID: GUID, mail: 'big@corp.example', 'member;range=0-2': ['CN=u0', 'CN=u1', 'CN=u2'], member: [] }]];
  }, log);
  const d = new LdapDirectory(settings('ad', { map: { ...attributeMap('ad', {}), nesting: 'client' } }), runner, runner);
  const groups = await d.readGroups();
  t.deepEqual(groups[0]!.members, ['CN=u0', 'CN=u1', 'CN=u2', 'CN=u3', 'CN=u4', 'CN=u5', 'CN=u6']);
  t.deepEqual(log.filter((l) => l.opts.scope === 'base').map((l) => (l.opts.attributes as string[])[0]), ['member;range=3-*', 'member;range=6-*']);
  t.deepEqual(rangedValues({ dn, 'Member;Range=0-*': ['x'] }, 'member'), { values: ['x'], next: null });
  t.is(rangedValues({ dn, member: ['x'] }, 'member'), null);
});

test('AD nested groups: one search with LDAP_MATCHING_RULE_IN_CHAIN, the group DN escaped', async (t) => {
  const log: { base: string; opts: Record<string, unknown> }[] = [];
  const runner = fakeRunner(() => [[{ dn: 'CN=a', objectGUID: GUID }], [{ dn: 'CN=b', objectGUID: Buffer.alloc(16, 1) }]], log);
  const d = new LdapDirectory(settings('ad'), runner, runner);
  const ids = await d.inChainMemberIds('CN=R&D (EU),OU=Groups,DC=corp,DC=example');
  t.deepEqual(ids, ['12345678-9abc-def0-0123-456789abcdef', '01010101-0101-0101-0101-010101010101']);
  t.is(log[0]!.opts.filter, '(&(&(objectCategory=person)(objectClass=user))(memberOf:1.2.840.113556.1.4.1941:=CN=R&D \\28EU\\29,OU=Groups,DC=corp,DC=example))');
  t.deepEqual(log[0]!.opts.paged, { pageSize: 1000 });
  t.deepEqual(log[0]!.opts.explicitBufferAttributes, ['objectGUID'], 'objectGUID is asked for as bytes');
});

test('AD logins: DOMAIN\\user looks up sAMAccountName, addresses look up mail and smtp: proxyAddresses', (t) => {
  const d = new LdapDirectory(settings('ad'), fakeRunner(() => []), fakeRunner(() => []));
  t.is(d.loginFilter('CORP\\alice'), '(&(&(objectCategory=person)(objectClass=user))(|(sAMAccountName=alice)(userPrincipalName=CORP\\5calice)))');
  t.is(
    d.loginFilter('alice@corp.example'),
    '(&(&(objectCategory=person)(objectClass=user))(|(sAMAccountName=alice@corp.example)(userPrincipalName=alice@corp.example)(mail=alice@corp.example)(proxyAddresses=smtp:alice@corp.example)))',
  );
  t.is(d.loginFilter('x@other.example'), null, 'a domain the directory does not serve is not looked up');
  t.true(d.loginFilter('*)(objectClass=*')!.includes('(sAMAccountName=\\2a\\29\\28objectClass=\\2a)'));
});

test('paged reads go through every page; entries of other domains and without address are skipped', async (t) => {
  const page = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ dn: `uid=u${from + i}`, entryUUID: `00000000-0000-0000-0000-${String(from + i).padStart(12, '0')}`, mail: `u${from + i}@corp.example` }));
  const runner = fakeRunner(() => [page(0, 3), page(3, 3), [...page(6, 1), { dn: 'uid=x', entryUUID: '00000000-0000-0000-0000-0000000000ff', mail: 'x@else.example' }, { dn: 'uid=y', entryUUID: '00000000-0000-0000-0000-0000000000fe' }]]);
  const d = new LdapDirectory(settings('openldap', { pageSize: 3 }), runner, runner);
  const seen: number[] = [];
  const r = await d.readUsers((n) => seen.push(n));
  t.is(r.users.length, 7);
  t.deepEqual(seen, [3, 6, 9]);
  t.deepEqual(r.skipped.map((s) => s.reason).sort(), ['no-address', 'other-domain']);
});

test('group members resolve through groups without an address, cycles ignored', (t) => {
  const byDn = new Map<string, { address: string | null; members?: string[] }>([
    ['uid=a', { address: 'a@x' }],
    ['uid=b', { address: 'b@x' }],
    ['cn=inner', { address: null, members: ['uid=b', 'cn=outer', 'cn=devs'] }],
    ['cn=devs', { address: 'devs@x', members: ['uid=a'] }],
  ]);
  t.deepEqual(resolveMembers({ id: '1', dn: 'cn=outer', address: 'outer@x', aliases: [], displayName: 'o', members: ['uid=a', 'cn=inner', 'uid=unknown'] }, byDn).sort(), ['a@x', 'b@x', 'devs@x']);
});
