import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { MailboxEnv, SchemaError } from '../../storage/mailbox-env.js';
import { SCHEMA_VERSION } from '../../storage/schema.js';
import { tempDir } from '../helpers.js';

test('a new environment gets the current schema version; data survives reopening', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const env = await MailboxEnv.open(join(d.path, 'example.test', 'alice'));
  t.is(env.schemaVersion, SCHEMA_VERSION);
  await env.write(() => env.db.meta.putSync('x', { a: 1 }));
  await env.close();
  const again = await MailboxEnv.open(join(d.path, 'example.test', 'alice'));
  t.deepEqual(again.db.meta.get('x'), { a: 1 });
  await again.close();
});

test('no write is acknowledged before its flush resolves', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  let release!: () => void;
  let flushes = 0;
  const env = await MailboxEnv.open(d.path);
  env.setFlushHook(async (root) => {
    flushes++;
    await root.flushed;
    await new Promise<void>((r) => (release = r));
  });
  let acked = false;
  const w = env.write(() => env.db.meta.putSync('k', 1)).then(() => (acked = true));
  await new Promise((r) => setTimeout(r, 100));
  t.is(flushes, 1);
  t.false(acked, 'committed but not flushed: no acknowledgement yet');
  t.is(env.db.meta.get('k'), 1, 'the commit itself is visible');
  const grouped = env.enqueue(() => env.db.meta.putSync('j', 2)).then(async (c) => {
    await c.durable;
    acked = true;
  });
  release();
  await w;
  t.true(acked);
  acked = false;
  await new Promise((r) => setTimeout(r, 50));
  t.false(acked, 'a group-committed write also waits for its flush');
  release();
  await grouped;
  t.true(acked);
  await env.close();
});

test('a write that throws leaves nothing behind (lmdb-js would commit it without the child transaction)', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const env = await MailboxEnv.open(d.path);
  t.teardown(() => env.close());
  const m = env.db.meta;
  await t.throwsAsync(env.write(() => {
    m.putSync('z', 1);
    throw new Error('nope');
  }), { message: 'nope' });
  t.is(m.get('z'), undefined);
});

test('forward migrations run in order; a newer schema is refused', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const v1 = await MailboxEnv.open(d.path, { schemaVersion: 1, migrations: [] });
  await v1.write(() => v1.db.meta.putSync('name', 'alice'));
  await v1.close();
  const ran: number[] = [];
  const env = await MailboxEnv.open(d.path, {
    schemaVersion: 3,
    migrations: [
      { from: 2, describe: 'add a suffix', run: (db) => (ran.push(2), db.meta.putSync('name', `${db.meta.get('name') as string}!`)) },
      { from: 1, describe: 'upper-case', run: (db) => (ran.push(1), db.meta.putSync('name', (db.meta.get('name') as string).toUpperCase())) },
    ],
  });
  t.deepEqual(ran, [1, 2]);
  t.is(env.db.meta.get('name'), 'ALICE!');
  t.is(env.schemaVersion, 3);
  await env.close();
  await t.throwsAsync(MailboxEnv.open(d.path, { schemaVersion: 2, migrations: [] }), { instanceOf: SchemaError, message: /schema version 3 is newer than this server's 2/ });
  await t.throwsAsync(MailboxEnv.open(d.path, { schemaVersion: 4, migrations: [] }), { instanceOf: SchemaError, message: /no migration from schema version 3/ });
});

test('SIGKILL between writes: the environment opens consistent with every acknowledged write', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const writer = fileURLToPath(new URL('../fixtures/durable-writer.js', import.meta.url));
  const child = spawn(process.execPath, [writer, d.path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let lastAck = -1;
  let buf = '';
  await new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      const m = buf.match(/ack (\d+)\n/g);
      if (m !== null) lastAck = Number(/\d+/.exec(m[m.length - 1]!)![0]);
      if (lastAck >= 150) {
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  await new Promise((r) => child.once('exit', r));
  const env = await MailboxEnv.open(d.path);
  t.teardown(() => env.close());
  for (let i = 0; i <= lastAck; i++) {
    const v = env.db.meta.get(`k${i}`) as { i: number } | undefined;
    if (v?.i !== i) {
      t.fail(`acknowledged write ${i} is missing after SIGKILL`);
      return;
    }
  }
  t.pass();
});

test('group commit: queued writes share a transaction, fail alone, and are durable only after the flush', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const env = await MailboxEnv.open(d.path);
  t.teardown(() => env.close());
  const m = env.db.meta;
  let release!: () => void;
  env.setFlushHook(async (root) => {
    await root.flushed;
    await new Promise<void>((r) => (release = r));
  });
  const commitsBefore = env.groupCommits;
  const ops = [
    env.enqueue(() => (m.putSync('a', 1), 'a')),
    env.enqueue(() => {
      m.putSync('b', 1);
      throw new Error('this one fails');
    }),
    env.enqueue(() => (m.putSync('c', m.get('a')), 'c')),
  ];
  const [a, b, c] = await Promise.allSettled(ops);
  t.is(a.status === 'fulfilled' ? a.value.value : null, 'a');
  t.is(b.status === 'rejected' ? (b.reason as Error).message : null, 'this one fails');
  t.is(c.status === 'fulfilled' ? c.value.value : null, 'c');
  t.is(env.groupCommits - commitsBefore, 1, 'one transaction for the queued writes');
  t.is(env.groupedWrites, 3);
  t.deepEqual([m.get('a'), m.get('b'), m.get('c')], [1, undefined, 1]);
  let durable = false;
  void (a.status === 'fulfilled' ? a.value.durable : Promise.reject()).then(() => (durable = true));
  await new Promise((r) => setTimeout(r, 50));
  t.false(durable, 'committed, not yet flushed');
  release();
  await new Promise((r) => setTimeout(r, 10));
  t.true(durable);
  await env.idle();
});

test('a full disk or I/O failure becomes ecDiskError (retryable, plain words); other errors pass through', async (t) => {
  const { storageError } = await import('../../storage/mailbox-env.js');
  const { ActorError } = await import('../../runtime/errors.js');
  for (const e of [Object.assign(new Error('write failed'), { code: 'ENOSPC' }), new Error('MDB_MAP_FULL: Environment mapsize limit reached'), Object.assign(new Error('x'), { code: 'EDQUOT' })]) {
    const out = storageError(e);
    t.true(out instanceof ActorError);
    t.is((out as InstanceType<typeof ActorError>).code, 'ecDiskError');
    t.true((out as InstanceType<typeof ActorError>).retryable);
    t.regex((out as Error).message, /partition is full; nothing was written/);
  }
  t.is((storageError(Object.assign(new Error('bad sector'), { code: 'EIO' })) as InstanceType<typeof ActorError>).code, 'ecDiskError');
  const other = new TypeError('a bug');
  t.is(storageError(other), other);
});
