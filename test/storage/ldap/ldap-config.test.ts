/** [ldap.<name>] tables in the config file: defaults, environment overrides, clear errors. */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, exampleConfig, loadConfig } from '../../../runtime/config.js';
import { ldapSettings, ldapUris } from '../../../runtime/directory-sync.js';
import { tempDir } from '../../helpers.js';

function withFile(text: string): { path: string; done: () => void } {
  const d = tempDir();
  const path = join(d.path, 'stoa.toml');
  writeFileSync(path, text);
  return { path, done: d.remove };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof ConfigError ? err.message : String(err);
  }
}

const CORP = `[ldap.corp]
preset = "ad"
uris = "ldaps://dc1.corp.example, ldaps://dc2.corp.example:1636"
bind_dn = "CN=svc-mail,OU=Service,DC=corp,DC=example"
bind_password = "from file"
base_dn = "DC=corp,DC=example"
domains = "corp.example, corp-mail.example"
user_filter = "memberOf=CN=Mail Users,OU=Groups,DC=corp,DC=example"

[ldap.lab]
uris = "ldap://ldap.lab.example"
starttls = true
base_dn = "dc=lab,dc=example"
domains = "lab.example"
attr_login = "uid, employeeNumber"
`;

test('several directories, one table each, with defaults for every key not given', (t) => {
  const f = withFile(CORP);
  t.teardown(f.done);
  const { config } = loadConfig({ config: f.path }, {}, '/x');
  t.deepEqual(Object.keys(config.ldap), ['corp', 'lab']);
  t.is(config.ldap.corp!.preset, 'ad');
  t.is(config.ldap.corp!.page_size, 500);
  t.is(config.ldap.lab!.preset, 'openldap');
  t.deepEqual(ldapUris(config.ldap.corp!), ['ldaps://dc1.corp.example:636', 'ldaps://dc2.corp.example:1636']);
  const s = ldapSettings('lab', config.ldap.lab!);
  t.deepEqual(s.map.logins, ['uid', 'employeeNumber']);
  t.deepEqual(s.domains, ['lab.example']);
  const gc = loadConfig({ config: f.path }, { STOA_LDAP_CORP_PRESET: 'ad-gc', STOA_LDAP_CORP_BIND_PASSWORD: 'from env' }, '/x').config;
  t.is(gc.ldap.corp!.bind_password, 'from env');
  t.deepEqual(ldapUris(gc.ldap.corp!), ['ldaps://dc1.corp.example:3269', 'ldaps://dc2.corp.example:1636'], 'the global catalog port');
  t.deepEqual(loadConfig({}, {}, '/x').config.ldap, {}, 'none by default');
});

test('bad LDAP tables fail at start with the key named', (t) => {
  const cases: [string, RegExp][] = [
    ['[ldap.x]\nbase_dn = "dc=x"\n', /ldap\.x\.uris: at least one/],
    ['[ldap.x]\nuris = "http://x"\nbase_dn = "dc=x"\n', /ldap\.x\.uris: "http:\/\/x" is not ldap/],
    ['[ldap.x]\nuris = "ldaps://x"\nstarttls = true\nbase_dn = "dc=x"\n', /ldap\.x\.starttls/],
    ['[ldap.x]\nuris = "ldap://x"\n', /ldap\.x\.base_dn: required/],
    ['[ldap.x]\nuris = "ldap://x"\nbase_dn = "dc=x"\nuser_filter = "(&(a=b)"\n', /ldap\.x\.user_filter: not an LDAP filter/],
    ['[ldap.x]\nuris = "ldap://x"\nbase_dn = "dc=x"\ndisabled_when = "a b"\n', /ldap\.x\.disabled_when/],
    ['[ldap.x]\nuris = "ldap://x"\nbase_dn = "dc=x"\nbind_dn = "cn=a"\n', /ldap\.x\.bind_password: required with bind_dn \(set STOA_LDAP_X_BIND_PASSWORD\)/],
    ['[ldap.x]\nuris = "ldap://x"\nbase_dn = "dc=x"\npreset = "novell"\n', /ldap\.x\.preset .*must be one of openldap, ad, ad-gc, 389ds/],
    ['[ldap.x]\nuris = "ldap://x"\nbase_dn = "dc=x"\nnope = 1\n', /ldap\.x\.nope .*unknown key/],
    ['[ldap.X-Y]\nuris = "ldap://x"\n', /ldap\.X-Y .*lower-case letters/],
    ['[ldap.a]\nuris = "ldap://a"\nbase_dn = "dc=a"\ndomains = "d.example"\n[ldap.b]\nuris = "ldap://b"\nbase_dn = "dc=b"\ndomains = "d.example"\n', /d\.example is also served by ldap\.a/],
    ['[ldap.x]\nuris = "ldap://x"\nbase_dn = "dc=x"\nca_file = "missing.pem"\n', /ldap\.x\.ca_file: no such file: .*missing\.pem/],
  ];
  for (const [text, re] of cases) {
    const f = withFile(text);
    t.regex(errorOf(() => loadConfig({ config: f.path }, {}, '/x')), re, text);
    f.done();
  }
});

test('the example file documents every LDAP key, commented out', (t) => {
  const text = exampleConfig();
  t.regex(text, /^# \[ldap\.corp\]$/m);
  t.regex(text, /^# uris = ""$/m);
  t.regex(text, /^# page_size = 500$/m);
});
