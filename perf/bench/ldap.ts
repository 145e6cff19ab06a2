/**
 * The LDAP backend against a private slapd on loopback (test/fixtures/ldap/slapd.ts) holding
 * 10,000 users, in the same run:
 *  - password checks per second as the authenticator makes them on a credential-cache miss
 *    (find the entry by login, then bind as it), through the pools (a search pool bound as the
 *    service account, a bind pool) against a new connection per login (connect, service bind,
 *    search, user bind, unbind), 8 checks in flight, alternating slices;
 *  - the address-book refresh: a sync of 10,000 entries into the embedded directory, first (every
 *    user created; mailboxes not made here: provisioning is the mailbox store's cost) and again
 *    (nothing changed: what the periodic sync costs).
 * Skipped (one row saying why) when slapd is not installed.
 */
import { Client } from 'ldapts';
import { pino } from 'pino';
import { attributeMap } from '../../storage/ldap/attribute-maps.js';
import { LdapDirectory, type LdapSettings } from '../../storage/ldap/ldap-directory.js';
import { eq, and } from '../../storage/ldap/ldap-filter.js';
import { LdapPool, type LdapPoolOptions } from '../../storage/ldap/ldap-pool.js';
import { DirectoryStore } from '../../storage/directory-store.js';
import { DirectorySync } from '../../runtime/directory-sync.js';
import { LDAP_SCHEMA, type LdapConfig } from '../../runtime/config.js';
import { SERVICE_DN, SERVICE_PW, SUFFIX, Slapd, fixtureLdif, slapdMissing } from '../../test/fixtures/ldap/slapd.js';
import { tempDir } from '../../test/helpers.js';
import { saturate, type Row } from './common.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ENTRIES = 10_000;
const IN_FLIGHT = 8;
const login = (i: number) => `page${String((i % ENTRIES) + 1).padStart(5, '0')}`;

export async function run(): Promise<Row[]> {
  const missing = slapdMissing();
  if (missing !== null) return [{ bench: 'ldap', metric: 'skipped', value: 0, unit: '', note: missing }];
  const slapd = await Slapd.create({ ldif: fixtureLdif(ENTRIES), extraConf: `limits dn.exact="${SERVICE_DN}" size=unlimited` });
  try {
    return [...(await logins(slapd)), ...(await refresh(slapd))];
  } finally {
    await slapd.destroy();
  }
}

async function logins(slapd: Slapd): Promise<Row[]> {
  const poolOpts: LdapPoolOptions = { uris: [slapd.url], starttls: false, caFile: '', verifyTls: true, connectTimeoutMs: 5000, timeoutMs: 10_000, retryMs: 1000, max: IN_FLIGHT, bind: { dn: SERVICE_DN, password: SERVICE_PW } };
  const searches = new LdapPool(poolOpts);
  const binds = new LdapPool({ ...poolOpts, bind: null });
  const settings: LdapSettings = { name: 'bench', map: attributeMap('openldap', {}), baseDn: SUFFIX, userFilter: '', groupFilter: '', groups: false, domains: ['example.test'], pageSize: 500 };
  const d = new LdapDirectory(settings, searches, binds);
  let n = 0;
  const pooled = async () => {
    const u = login(n++);
    const r = await d.lookup(u);
    if (r.kind !== 'found' || !(await d.bind(r.user.dn, `${u}-pw`))) throw new Error(`pooled login ${u} failed`);
  };
  const fresh = async () => {
    const u = login(n++);
    const c = new Client({ url: slapd.url, timeout: 10_000 });
    try {
      await c.bind(SERVICE_DN, SERVICE_PW);
      const res = await c.search(SUFFIX, { scope: 'sub', filter: and(settings.map.userClass, eq('uid', u)), attributes: ['entryUUID', 'mail'] });
      const dn = res.searchEntries[0]?.dn;
      if (dn === undefined) throw new Error(`no ${u}`);
      await c.bind(dn, `${u}-pw`);
    } finally {
      await c.unbind();
    }
  };
  await saturate(IN_FLIGHT, 0.5, pooled); // warm-up: connections made, slapd's caches warm
  await saturate(IN_FLIGHT, 0.5, fresh);
  const slice = SECONDS / 2;
  let a = 0;
  let b = 0;
  for (let i = 0; i < 2; i++) {
    a += await saturate(IN_FLIGHT, slice, pooled);
    b += await saturate(IN_FLIGHT, slice, fresh);
  }
  const made = searches.created + binds.created;
  await Promise.all([searches.close(), binds.close()]);
  return [
    {
      bench: 'ldap',
      metric: 'password checks/s (lookup + bind), pooled',
      value: a / 2,
      unit: 'checks/s',
      baseline: { name: 'new connection per check', value: b / 2 },
      ratio: a / b,
      note: `${IN_FLIGHT} in flight; ${made} pooled connections in all; a credential-cache hit costs no LDAP at all`,
    },
  ];
}

async function refresh(slapd: Slapd): Promise<Row[]> {
  const tmp = tempDir();
  const dir = DirectoryStore.open(tmp.path);
  const defaults = Object.fromEntries(Object.entries(LDAP_SCHEMA).map(([k, f]) => [k, f.default])) as unknown as LdapConfig;
  const cfg: LdapConfig = { ...defaults, uris: slapd.url, bind_dn: SERVICE_DN, bind_password: SERVICE_PW, base_dn: SUFFIX, domains: 'example.test', page_size: 1000, groups: false };
  const sync = new DirectorySync(
    { bench: cfg },
    {
      dir,
      log: pino({ level: 'silent' }),
      provisionMailbox: async () => undefined,
      mailboxExists: () => false,
      moveMailbox: async (_f, _t, commit) => commit(),
      removeMailbox: async () => undefined,
      addDomain: async (name) => void (await dir.addDomain(name)),
    },
  );
  try {
    const t0 = performance.now();
    const [first] = await sync.sync();
    const firstMs = performance.now() - t0;
    const t1 = performance.now();
    let readMs = 0;
    const [again] = await sync.sync({}, (p) => {
      if (p.phase === 'users' && readMs === 0) readMs = performance.now() - t1;
    });
    const againMs = performance.now() - t1;
    if (!first!.ok || !again!.ok) throw new Error(first!.error ?? again!.error);
    return [
      { bench: 'ldap', metric: `address-book refresh, ${ENTRIES.toLocaleString('en-US')} entries, unchanged`, value: againMs, unit: 'ms', note: `${again!.users.unchanged} unchanged; ${Math.round(readMs)} ms of it reading LDAP (pages of 1,000)` },
      { bench: 'ldap', metric: `first sync, ${ENTRIES.toLocaleString('en-US')} entries created`, value: firstMs, unit: 'ms', note: `${first!.users.created} users written in batches of 500 (mailboxes not made here)` },
    ];
  } finally {
    await sync.stop();
    await dir.close();
    tmp.remove();
  }
}
