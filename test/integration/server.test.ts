import test from 'ava';
import { connect as tcpConnect, createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { freePortBase } from '../ports.js';
import { runCli, spawnServer, testEnv, waitStarted } from './server-process.js';

function firstLine(port: number, tls: boolean): Promise<{ line: string; cert?: string }> {
  return new Promise((resolve, reject) => {
    const s = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : tcpConnect({ port, host: '127.0.0.1' });
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\r\n');
      if (nl >= 0) {
        const cert = tls ? (s as ReturnType<typeof tlsConnect>).getPeerX509Certificate()?.fingerprint256 : undefined;
        s.destroy();
        resolve({ line: buf.slice(0, nl), cert });
      }
    });
    s.on('error', reject);
    setTimeout(() => reject(new Error(`no greeting on ${port}`)), 10_000).unref();
  });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https') ? httpsRequest : httpRequest)(url, { rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the server starts on a port base, serves every listener (TLS with its self-signed certificate), answers the CLI, rescales live, and stops cleanly on SIGINT', async (t) => {
  const data = tempDir();
  t.teardown(data.remove);
  const base = await freePortBase();
  const cfg = join(data.path, 'stoa.toml');
  writeFileSync(cfg, '[runtime]\nworkers = 2\n');
  const s = spawnServer(['--config', cfg, '--data', data.path, '--port-base', String(base)]);
  t.teardown(() => s.proc.kill('SIGKILL'));
  await waitStarted(s);
  const err = s.stderr();
  for (const [name, port] of Object.entries({ imap: 143, imaps: 993, pop3: 110, pop3s: 995, smtp: 25, submission: 587, submissions: 465, lmtp: 24, http: 80, https: 443 })) {
    t.regex(err, new RegExp(`listening\\s+${name}\\s+127\\.0\\.0\\.1:${base + port}\\b`), name);
  }
  t.regex(err, /2 actor worker\(s\)/);
  t.regex(err, /\(generated\)/);
  // stdout and stderr are separate pipes: the JSON log line may trail the banner a little.
  for (let i = 0; i < 100 && !s.stdout().includes('"msg":"server started"'); i++) await new Promise((r) => setTimeout(r, 20));
  t.regex(s.stdout(), /"msg":"server started"/, 'structured start log on stdout');

  const certPem = readFileSync(join(data.path, 'tls', 'cert.pem'), 'utf8');
  const fingerprint = new X509Certificate(certPem).fingerprint256;
  t.is(statSync(join(data.path, 'tls', 'key.pem')).mode & 0o777, 0o600, 'the private key is readable by its owner only');
  t.true(new X509Certificate(certPem).checkHost('localhost') !== undefined);

  const imap = await firstLine(base + 143, false);
  t.regex(imap.line, /^\* OK \[CAPABILITY [^\]]*STARTTLS[^\]]*\] /);
  const imaps = await firstLine(base + 993, true);
  t.regex(imaps.line, /^\* OK /);
  t.notRegex(imaps.line, /STARTTLS/);
  t.is(imaps.cert, fingerprint, 'TLS listeners present the generated certificate');
  t.regex((await firstLine(base + 110, false)).line, /^\+OK /);
  t.regex((await firstLine(base + 995, true)).line, /^\+OK /);
  for (const p of [25, 587]) t.regex((await firstLine(base + p, false)).line, /^220 \S+ ESMTP /);
  t.regex((await firstLine(base + 24, false)).line, /^220 \S+ LMTP /);
  t.regex((await firstLine(base + 465, true)).line, /^220 \S+ ESMTP /);

  const health = await get(`https://127.0.0.1:${base + 443}/healthz`);
  t.is(health.status, 200);
  const h = JSON.parse(health.body) as { status: string; workers: unknown[]; probe: boolean };
  t.is(h.status, 'ok');
  t.is(h.workers.length, 2);
  t.true(h.probe);
  t.is((await get(`http://127.0.0.1:${base + 80}/healthz`)).status, 200);
  // MAPI over HTTP is served (it asks for credentials); protocols still to come answer 503.
  t.is((await get(`https://127.0.0.1:${base + 443}/mapi/emsmdb/`)).status, 401);
  t.is((await get(`https://127.0.0.1:${base + 443}/Microsoft-Server-ActiveSync`)).status, 503);

  const status = await runCli(['--data', data.path, 'status']);
  t.is(status.code, 0, status.stderr);
  const st = JSON.parse(status.stdout) as { runtime: { workers: { index: number; state: string }[] }; listeners: unknown[] };
  t.is(st.runtime.workers.length, 2);
  t.is(st.listeners.length, 10);

  // Placement: ask where an actor is, pin it to the other worker, and back to hashed placement.
  const where = JSON.parse((await runCli(['--data', data.path, 'placement', 'health', 'probe'])).stdout) as { worker: number };
  t.true(where.worker === 0 || where.worker === 1);
  const pinned = await runCli(['--data', data.path, 'placement', 'health', 'probe', String(1 - where.worker)]);
  t.is(pinned.code, 0, pinned.stderr);
  t.is((JSON.parse(pinned.stdout) as { worker: number }).worker, 1 - where.worker);
  const st2 = JSON.parse((await runCli(['--data', data.path, 'status'])).stdout) as { runtime: { overrides: { key: string; worker: number }[] } };
  t.deepEqual(st2.runtime.overrides, [{ key: 'health/probe', worker: 1 - where.worker }], 'the placement shows in stats');
  t.is((await get(`https://127.0.0.1:${base + 443}/healthz`)).status, 200, 'the probe answers from its new worker');
  t.is((await runCli(['--data', data.path, 'placement', 'health', 'probe', 'auto'])).code, 0);

  const scaled = await runCli(['--data', data.path, 'workers', '1']);
  t.is(scaled.code, 0, scaled.stderr);
  t.deepEqual(JSON.parse(scaled.stdout), { workers: 1 });
  const metrics = await runCli(['--data', data.path, 'metrics']);
  t.regex(metrics.stdout, /^stoa_workers 1$/m);
  t.regex(metrics.stdout, /^# TYPE stoa_actor_calls_total counter$/m);

  // SIGHUP re-reads the config file and applies the worker count.
  writeFileSync(cfg, '[runtime]\nworkers = 3\n');
  s.proc.kill('SIGHUP');
  let workers = 0;
  for (let i = 0; i < 100 && workers !== 3; i++) {
    await new Promise((r) => setTimeout(r, 100));
    workers = (JSON.parse((await runCli(['--data', data.path, 'status'])).stdout) as typeof st).runtime.workers.length;
  }
  t.is(workers, 3, 'SIGHUP applied runtime.workers = 3');

  const bad = await runCli(['--data', data.path, 'workers', 'lots']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /workers takes one whole number/);

  s.proc.kill('SIGINT');
  t.is(await s.exited, 0);
  t.regex(s.stderr(), /stopped cleanly/);
  t.false(existsSync(join(data.path, 'control.sock')), 'the control socket is removed on stop');

  // A second start reuses the same certificate.
  const again = spawnServer(['--data', data.path, '--port-base', String(base), '--workers', '1']);
  t.teardown(() => again.proc.kill('SIGKILL'));
  await waitStarted(again);
  t.regex(again.stderr(), /self-signed \(existing\)/);
  t.is((await firstLine(base + 993, true)).cert, fingerprint);
  // ...and the control socket shuts it down too.
  const down = await runCli(['--data', data.path, 'shutdown']);
  t.is(down.code, 0);
  t.is(await again.exited, 0);
});

test('a port that cannot be bound stops the start, naming the listener and suggesting --port-base', async (t) => {
  const data = tempDir();
  t.teardown(data.remove);
  const base = await freePortBase();
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen({ port: base + 587, host: '127.0.0.1' }, () => r()));
  t.teardown(() => blocker.close());
  const s = spawnServer(['--data', data.path, '--port-base', String(base)]);
  t.is(await s.exited, 1);
  t.regex(s.stderr(), new RegExp(`cannot listen on port ${base + 587} for submission: the port is already in use\\. Try --port-base 10000`));
  // Nothing was left bound: the other ports are free again.
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ port: base + 143, host: '127.0.0.1' }, () => probe.close(() => resolve()));
  });
  t.pass();
});

test('bad flags and bad configuration exit with status 2 and a message naming the problem', async (t) => {
  const data = tempDir();
  t.teardown(data.remove);
  const a = spawnServer(['--data', data.path, '--workers', 'many']);
  t.is(await a.exited, 2);
  t.regex(a.stderr(), /runtime\.workers \(from flag --workers\): must be a whole number from 0 to 256, got "many"/);
  const b = spawnServer(['--bogus']);
  t.is(await b.exited, 2);
  t.regex(b.stderr(), /Unknown option '--bogus'[\s\S]*usage: npm start --/);
  const c = spawnServer(['--data', data.path], testEnv({ STOA_LISTENERS_IMAP_PORT: '99999' }));
  t.is(await c.exited, 2);
  t.regex(c.stderr(), /listeners\.imap\.port \(from environment STOA_LISTENERS_IMAP_PORT\): must be a whole number from 0 to 65535/);
});

test('the CLI says plainly when no server is running; a second server on the same data folder is refused', async (t) => {
  const data = tempDir();
  t.teardown(data.remove);
  const none = await runCli(['--data', data.path, 'status']);
  t.is(none.code, 3);
  t.regex(none.stderr, /no server is running/);
  const base = await freePortBase();
  const first = spawnServer(['--data', data.path, '--port-base', String(base), '--workers', '1']);
  t.teardown(() => first.proc.kill('SIGKILL'));
  await waitStarted(first);
  const base2 = await freePortBase();
  const second = spawnServer(['--data', data.path, '--port-base', String(base2), '--workers', '1']);
  t.is(await second.exited, 1);
  t.regex(second.stderr(), /another server is running with this data folder/);
  first.proc.kill('SIGTERM');
  t.is(await first.exited, 0);
});

test('npm start -- … is the documented entry point', async (t) => {
  const data = tempDir();
  t.teardown(data.remove);
  const base = await freePortBase();
  const s = spawnServer(['--data', data.path, '--port-base', String(base), '--workers', '1'], testEnv(), ['npm', 'start', '--silent', '--']);
  t.teardown(() => s.proc.kill('SIGKILL'));
  await waitStarted(s, 120_000);
  t.regex(s.stderr(), new RegExp(`listening\\s+https\\s+127\\.0\\.0\\.1:${base + 443}`));
  const down = await runCli(['--data', data.path, 'shutdown']);
  t.is(down.code, 0);
  t.is(await s.exited, 0);
});
