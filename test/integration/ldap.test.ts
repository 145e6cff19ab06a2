/**
 * The real server process with users from a real private slapd: `directory sync` from the CLI
 * (progress and summary), logins by SMTP AUTH (Python's smtplib after STARTTLS) and HTTP Basic
 * (AutoDiscover), wrong passwords, a disabled account, a partial integration's filter, injection
 * attempts, a first login creating the user, groups, a rename keeping the mail, a user removed
 * from LDAP (refused, mailbox kept until `--prune --yes`), and slapd stopped mid-run (temporary
 * failure, no crash, cached logins still served, recovery).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { freePortBase } from '../ports.js';
import { runCli, spawnServer, testEnv, waitStarted, type ServerProcess } from './server-process.js';
import { SERVICE_DN, SERVICE_PW, SUFFIX, Slapd, fixtureLdif, slapdMissing } from '../fixtures/ldap/slapd.js';

const missing = slapdMissing();
if (missing !== null) console.warn(`# ${missing}`);
const ltest = missing === null ? test.serial : test.serial.skip;

// These tests make many failed logins on purpose from one address: the per-address throttle is raised.
const env = testEnv({ STOA_AUTH_SCRYPT_N: '1024', STOA_SERVER_HOSTNAME: 'mail.example.test', STOA_AUTH_FAILURES_PER_ADDRESS: '100000', STOA_HTTP_AUTH_FAILURE_LIMIT: '100000' });
/** Extra users beyond the fixture's: more than two pages of 5. */
const PAGES = 12;

let slapd: Slapd;
let server: ServerProcess;
let base = 0;
let data: { path: string; remove: () => void };
let configFile = '';

test.before(async () => {
  if (missing !== null) return;
  slapd = await Slapd.create({ ldif: fixtureLdif(PAGES), extraConf: `limits dn.exact="${SERVICE_DN}" size.soft=10 size.hard=10 size.pr=5 size.prtotal=unlimited` });
  data = tempDir();
  configFile = join(data.path, 'stoa.toml');
  // The first URI is dead: failover to slapd. Only example.test comes from LDAP; the host's own
  // domain keeps its local admin.
  writeFileSync(
    configFile,
    `[ldap.corp]
preset = "openldap"
uris = "ldap://127.0.0.1:1, ${slapd.url}"
bind_dn = "${SERVICE_DN}"
bind_password = "${SERVICE_PW}"
base_dn = "${SUFFIX}"
domains = "example.test"
user_filter = "(!(employeeType=contractor))"
disabled_when = "employeeType=disabled"
page_size = 5
sync_interval_seconds = 0
connect_timeout_seconds = 1
retry_seconds = 1
`,
  );
  base = await freePortBase();
  server = spawnServer(['--config', configFile, '--data', data.path, '--port-base', String(base), '--workers', '1'], env);
  await waitStarted(server);
});

test.after.always(async () => {
  if (missing !== null) return;
  server?.proc.kill('SIGKILL');
  await server?.exited;
  await slapd?.destroy();
  data?.remove();
});

async function cli(t: { is(a: unknown, b: unknown, m?: string): void }, ...args: string[]): Promise<unknown> {
  const r = await runCli(['--config', configFile, '--data', data.path, ...args], env);
  t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout === '' ? null : (JSON.parse(r.stdout) as unknown);
}

function python(script: string): Promise<string> {
  return new Promise((resolve, reject) => execFile('python3', ['-c', script], { timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))));
}

/** SMTP AUTH on the submission port after STARTTLS, one connection per login; the reply code of each. */
async function smtpLogins(logins: [string, string][]): Promise<number[]> {
  const out = await python(`
import smtplib, ssl, json
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
codes = []
for user, pw in json.loads(${JSON.stringify(JSON.stringify(logins))}):
    s = smtplib.SMTP('127.0.0.1', ${base + 587}); s.ehlo(); s.starttls(context=ctx); s.ehlo()
    try:
        code, _ = s.login(user, pw); codes.append(code)
    except smtplib.SMTPAuthenticationError as e:
        codes.append(e.smtp_code)
    except smtplib.SMTPResponseException as e:
        codes.append(e.smtp_code)
    try: s.quit()
    except Exception: pass
print(json.dumps(codes))
`);
  return JSON.parse(out.trim()) as number[];
}

async function smtpSend(to: string, subject: string): Promise<string> {
  return python(`
import smtplib
s = smtplib.SMTP('127.0.0.1', ${base + 25}); s.ehlo('client.example.org')
print(s.sendmail('sender@example.org', ['${to}'], b'From: sender@example.org\\r\\nTo: ${to}\\r\\nSubject: ${subject}\\r\\n\\r\\nhello\\r\\n')); s.quit()
`);
}

async function popCount(user: string, pw: string): Promise<string> {
  return (
    await python(`
import poplib, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3('127.0.0.1', ${base + 110}); p.stls(ctx); p.user('${user}'); p.pass_('${pw}')
print(p.stat()[0]); p.quit()
`)
  ).trim();
}

/** HTTP Basic on a route that needs it (AutoDiscover POST); the status. */
function basic(login: string, password: string, who = 'alice@example.test'): Promise<number> {
  const body = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${who}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: base + 443,
        path: '/autodiscover/autodiscover.xml',
        method: 'POST',
        rejectUnauthorized: false,
        agent: false,
        headers: { 'content-type': 'text/xml', authorization: `Basic ${Buffer.from(`${login}:${password}`, 'utf8').toString('base64')}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Summary {
  ok: boolean;
  read: number;
  users: { created: number; renamed: { from: string; to: string }[]; gone: string[]; pruned: string[]; disabled: number; mailboxesCreated: number; conflicts: unknown[] };
  groups: { created: number };
  wouldPrune?: string[];
}

async function sync(t: { is(a: unknown, b: unknown, m?: string): void }, ...flags: string[]): Promise<{ summary: Summary; stderr: string }> {
  const r = await runCli(['--config', configFile, '--data', data.path, 'directory', 'sync', ...flags], env);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { state: string; summaries: Summary[] };
  return { summary: out.summaries[0]!, stderr: r.stderr };
}

ltest('directory sync through the running server: progress, summary, users, mailboxes, nested groups', async (t) => {
  const { summary, stderr } = await sync(t);
  t.true(summary.ok);
  t.is(summary.users.created, 4 + PAGES, 'alice, bob, carol, star*user and the paged ones');
  t.is(summary.users.mailboxesCreated, 4 + PAGES);
  t.is(summary.users.disabled, 1);
  t.deepEqual(summary.users.conflicts, []);
  t.is(summary.groups.created, 2, 'staff and devs (team has no address)');
  t.regex(stderr, /^corp: /m, 'progress lines');
  t.regex(stderr, /corp: ok; read 18, created 16, .*disabled in LDAP 1, gone 0, .*mailboxes made 16, groups \+2/);
  const users = (await cli(t, 'user', 'list')) as { address: string; enabled: boolean; aliases: string[]; source?: { ldap: string; dn: string } }[];
  const alice = users.find((u) => u.address === 'alice@example.test')!;
  t.deepEqual(alice.aliases, ['a.liddell@example.test']);
  t.is(alice.source?.ldap, 'corp');
  t.false(users.find((u) => u.address === 'carol@example.test')!.enabled);
  t.false(users.some((u) => u.address === 'frank@example.test'), 'contractors filtered out');
  t.true(users.some((u) => u.address.startsWith('admin@mail.example.test') && u.source === undefined), 'the local admin beside');
  const groups = (await cli(t, 'group', 'list')) as { address: string; members: string[] }[];
  t.deepEqual([...groups.find((g) => g.address === 'staff@example.test')!.members].sort(), ['alice@example.test', 'bob@example.test', 'devs@example.test']);
  const status = (await cli(t, 'directory', 'status')) as { config: string; users: number; searchPool: { uri: string } }[];
  t.is(status[0]!.users, 4 + PAGES);
  t.is(status[0]!.searchPool.uri, slapd.url, 'failed over from the dead first URI');
  t.regex(await smtpSend('staff@example.test', 'to the group'), /\{\}/, 'a group address takes mail');
});

ltest('logins by SMTP AUTH and HTTP Basic: LDAP binds, refusals that reveal nothing, injection escaped, local users beside', async (t) => {
  const adminPw = /password: (\S+)/.exec(readFileSync(join(data.path, 'initial-admin.txt'), 'utf8'))![1]!;
  const codes = await smtpLogins([
    ['alice@example.test', 'alice-pw'],
    ['alice', 'alice-pw'],
    ['a.liddell@example.test', 'alice-pw'],
    ['alice@example.test', 'wrong'],
    ['carol@example.test', 'carol-pw'],
    ['frank@example.test', 'frank-pw'],
    ['nobody@example.test', 'x'],
    ['*', 'alice-pw'],
    ['al*', 'alice-pw'],
    ['alice)(uid=*', 'alice-pw'],
    ['*)(|(uid=*', 'alice-pw'],
    ['star*user', 'star-pw'],
    ['admin@mail.example.test', adminPw],
  ]);
  t.deepEqual(codes, [235, 235, 235, 535, 535, 535, 535, 535, 535, 535, 535, 235, 235]);
  t.is(await basic('alice@example.test', 'alice-pw'), 200);
  t.is(await basic('alice', 'alice-pw'), 200);
  t.is(await basic('alice@example.test', 'wrong'), 401);
  t.is(await basic('alice\0', 'alice-pw'), 401, 'NUL in a login');
  t.is(await basic('alice@example.test', ''), 401, 'an empty password never reaches a bind');
});

ltest('a user added to LDAP after the sync logs in at once: created with a mailbox at first login', async (t) => {
  const admin = await slapd.admin();
  t.teardown(() => admin.unbind());
  await admin.add(`uid=zoe,ou=people,${SUFFIX}`, { objectClass: 'inetOrgPerson', uid: 'zoe', cn: 'Zoe New', sn: 'New', mail: 'zoe@example.test', userPassword: 'zoe-pw' });
  t.deepEqual(await smtpLogins([['zoe@example.test', 'zoe-pw']]), [235]);
  const stats = (await cli(t, 'mailbox', 'stats', 'zoe@example.test')) as Record<string, unknown>;
  t.truthy(stats);
  t.is(await popCount('zoe@example.test', 'zoe-pw'), '0');
});

ltest('a rename in LDAP keeps the user and its mail; the old address stays an alias', async (t) => {
  const before = Number(await popCount('alice@example.test', 'alice-pw')); // the mail to staff@ reached her too
  t.regex(await smtpSend('alice@example.test', 'before the rename'), /\{\}/);
  const admin = await slapd.admin();
  t.teardown(() => admin.unbind());
  const { Change, Attribute } = await import('ldapts');
  await admin.modify(`uid=alice,ou=people,${SUFFIX}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['alice.l@example.test', 'a.liddell@example.test'] }) }));
  const { summary } = await sync(t);
  t.deepEqual(summary.users.renamed, [{ from: 'alice@example.test', to: 'alice.l@example.test' }]);
  t.is(await popCount('alice.l@example.test', 'alice-pw'), String(before + 1), 'the mail followed');
  t.regex(await smtpSend('alice@example.test', 'to the old address'), /\{\}/);
  t.is(await popCount('alice.l@example.test', 'alice-pw'), String(before + 2));
  t.true(existsSync(join(data.path, 'mailboxes', 'example.test', 'alice.l')));
  t.false(existsSync(join(data.path, 'mailboxes', 'example.test', 'alice')));
});

ltest('a user removed from LDAP: refused after the sync, mailbox kept, removed only by --prune --yes', async (t) => {
  const admin = await slapd.admin();
  t.teardown(() => admin.unbind());
  await admin.del(`uid=bob,ou=people,${SUFFIX}`);
  const { summary } = await sync(t);
  t.deepEqual(summary.users.gone, ['bob@example.test']);
  t.deepEqual(await smtpLogins([['bob@example.test', 'bob-pw']]), [535]);
  const folder = join(data.path, 'mailboxes', 'example.test', 'bob');
  t.true(existsSync(join(folder, 'data.mdb')), 'the mailbox stays');
  const dry = await sync(t, '--prune');
  t.deepEqual(dry.summary.wouldPrune, ['bob@example.test']);
  t.true(existsSync(folder));
  const r = await runCli(['--config', configFile, '--data', data.path, 'directory', 'sync', '--yes'], env);
  t.is(r.code, 2, '--yes alone is a usage error');
  const done = await sync(t, '--prune', '--yes');
  t.deepEqual(done.summary.users.pruned, ['bob@example.test']);
  t.false(existsSync(folder));
});

ltest('slapd stopped mid-run: temporary failures, cached logins still served, no crash, recovery', async (t) => {
  await slapd.stop();
  try {
    // alice's credentials are in the cache from the earlier logins; page00003 never logged in.
    t.deepEqual(await smtpLogins([['alice.l@example.test', 'alice-pw'], ['page00003@example.test', 'page00003-pw']]), [235, 454]);
    t.is(await basic('page00004@example.test', 'page00004-pw', 'page00004@example.test'), 503);
    const r = await runCli(['--config', configFile, '--data', data.path, 'directory', 'sync'], env);
    t.is(r.code, 1, 'a sync without LDAP fails and says so');
    t.regex(r.stderr, /corp: FAILED \((no LDAP server answered|LDAP unreachable)/);
    t.is((await cli(t, 'status')) !== null, true, 'the server is alive');
  } finally {
    await slapd.start();
  }
  await new Promise((r) => setTimeout(r, 1200)); // retry_seconds = 1
  t.deepEqual(await smtpLogins([['page00003@example.test', 'page00003-pw']]), [235]);
  t.is(await basic('page00004@example.test', 'page00004-pw', 'page00004@example.test'), 200);
  t.is(server.proc.exitCode, null);
});

ltest('without a running server, directory sync runs in the CLI on the data folder', async (t) => {
  server.proc.kill('SIGTERM');
  t.is(await server.exited, 0);
  const { summary, stderr } = await sync(t);
  t.true(summary.ok);
  t.regex(stderr, /corp: ok; read \d+, created 0, updated 0, unchanged \d+/);
  const status = (await cli(t, 'directory', 'status')) as { config: string; users: number }[];
  t.is(status[0]!.config, 'corp');
  const found = (await cli(t, 'directory', 'lookup', 'star*user')) as { source: string; results: { found?: { address: string } }[] };
  t.is(found.results[0]!.found?.address, 'star@example.test');
  const none = (await cli(t, 'directory', 'lookup', '*')) as { results: { kind?: string }[] };
  t.is(none.results[0]!.kind, 'none');
});
