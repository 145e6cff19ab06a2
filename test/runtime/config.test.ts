import test from 'ava';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { ConfigError, exampleConfig, loadConfig, workerCount, cpuPoolThreads } from '../../runtime/config.js';
import { tempDir } from '../helpers.js';

function withFile(text: string): { path: string; done: () => void } {
  const d = tempDir();
  const path = join(d.path, 'stoa.toml');
  writeFileSync(path, text);
  return { path, done: d.remove };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '(no error)';
}

test('every key has a default; no file is needed', (t) => {
  const { config, file } = loadConfig({}, {}, '/srv');
  t.is(file, null);
  t.is(config.server.data_dir, '/srv/data');
  t.is(config.server.port_base, 0);
  t.is(config.listeners.imap.port, 143);
  t.is(config.listeners.https.port, 443);
  t.true(config.listeners.smtp.enabled);
  t.is(config.runtime.max_active_actors, 2000);
  t.is(config.runtime.drain_seconds, 60);
  t.is(config.runtime.uv_threadpool_size, 8);
  t.is(config.log.level, 'info');
  t.is(workerCount(config), Math.max(1, availableParallelism() - 1));
  t.is(cpuPoolThreads(config), availableParallelism() <= 2 ? 1 : Math.floor(availableParallelism() / 2));
});

test('the file, then the environment, then flags override defaults', (t) => {
  const f = withFile('[runtime]\nworkers = 3\nspin_us = 0\n[listeners.imap]\nport = 1143\n[server]\ndata_dir = "store"\n');
  t.teardown(f.done);
  const env = { STOA_RUNTIME_WORKERS: '4', STOA_LOG_LEVEL: 'debug', STOA_LISTENERS_POP3_ENABLED: 'false' };
  const a = loadConfig({ config: f.path }, env, '/x').config;
  t.is(a.runtime.workers, 4, 'env beats file');
  t.is(a.runtime.spin_us, 0);
  t.is(a.listeners.imap.port, 1143);
  t.false(a.listeners.pop3.enabled);
  t.is(a.log.level, 'debug');
  t.is(a.server.data_dir, join(f.path, '..', 'store'), "the file's relative paths resolve against its folder");
  const b = loadConfig({ config: f.path, workers: '2', portBase: '10000', data: 'elsewhere', logLevel: 'warn' }, env, '/x').config;
  t.is(b.runtime.workers, 2, 'flag beats env');
  t.is(b.server.port_base, 10000);
  t.is(b.server.data_dir, '/x/elsewhere');
  t.is(b.log.level, 'warn');
  t.is(loadConfig({}, { STOA_CONFIG: f.path }, '/x').config.listeners.imap.port, 1143, 'STOA_CONFIG names the file');
});

test('bad configuration names the key, the source and what is wrong', (t) => {
  const cases: [string, RegExp][] = [
    ['[runtime]\nworkers = "many"\n', /runtime\.workers \(from .*stoa\.toml\): must be a whole number from 0 to 256, got "many"/],
    ['[runtime]\nworkers = 1000\n', /runtime\.workers .*: must be a whole number from 0 to 256, got 1000/],
    ['[runtime]\nwrokers = 2\n', /runtime\.wrokers \(from .*\): unknown key/],
    ['[log]\nlevel = "loud"\n', /log\.level .*: must be one of fatal, error, warn, info, debug, trace, silent/],
    ['[listeners.imap]\nenabled = "yes"\n', /listeners\.imap\.enabled .*: must be true or false/],
    ['runtime = 5\n', /runtime \(from .*\): must be a table/],
    ['[runtime\n', /is not valid TOML/],
    ['[runtime]\nring_kib = 100\n', /runtime\.ring_kib: must be a power of two/],
    ['[tls]\ncert = "/a.pem"\n', /tls\.cert and tls\.key: set both or neither/],
    ['[listeners.imap]\nport = 110\n', /listeners\.pop3\.port: 110 is also listeners\.imap\.port/],
    ['[runtime]\nqueue_soft_limit = 50\nqueue_hard_limit = 10\n', /queue_soft_limit \(50\) must not exceed runtime\.queue_hard_limit \(10\)/],
  ];
  for (const [text, re] of cases) {
    const f = withFile(text);
    t.regex(errorOf(() => loadConfig({ config: f.path }, {}, '/x')), re, text);
    f.done();
  }
  t.regex(errorOf(() => loadConfig({}, { STOA_RUNTIME_WORKERS: 'two' }, '/x')), /runtime\.workers \(from environment STOA_RUNTIME_WORKERS\)/);
  t.regex(errorOf(() => loadConfig({ portBase: '70000' }, {}, '/x')), /server\.port_base \(from flag --port-base\): must be a whole number from 0 to 60000/);
  const high = withFile('[listeners.imap]\nport = 10000\n');
  t.regex(errorOf(() => loadConfig({ config: high.path, portBase: '60000' }, {}, '/x')), /listeners\.imap\.port: 10000 \+ server\.port_base 60000 is above 65535/);
  high.done();
  t.regex(errorOf(() => loadConfig({ config: '/nonexistent/stoa.toml' }, {}, '/x')), /cannot read config file \/nonexistent\/stoa\.toml: ENOENT/);
});

test('the documented example file holds every default and stays in sync (docs/stoa.example.toml)', (t) => {
  const text = exampleConfig();
  const f = withFile(text);
  t.teardown(f.done);
  const fromExample = loadConfig({ config: f.path }, {}, '/x').config;
  const defaults = loadConfig({}, {}, '/x').config;
  fromExample.server.data_dir = defaults.server.data_dir; // the file's relative path resolves elsewhere
  t.deepEqual(fromExample, defaults);
  const committed = readFileSync(new URL('../../../docs/stoa.example.toml', import.meta.url), 'utf8');
  t.is(committed, text, 'regenerate with: npm run --silent cli -- config example > docs/stoa.example.toml');
  t.regex(text, /# .*Env: STOA_RUNTIME_WORKERS\./);
});
