import test from 'ava';
import { allocGlobcnt, eidBytes, eidGlobcnt, eidReplid, eidToBytes, globcntBytes, makeEid, readEid, readGlobcnt, GLOBCNT_MAX } from '../../storage/ids.js';
import { MailboxEnv } from '../../storage/mailbox-env.js';
import { tempDir } from '../helpers.js';

test('ids are ReplicaId (LE) then GLOBCNT (BE) on the wire (MS-OXCDATA 2.2.1.1)', (t) => {
  const eid = makeEid(1, 0x0102030405);
  t.is(eidToBytes(eid).toString('hex'), '0100000102030405');
  t.is(eidBytes(1, 0x0102030405).toString('hex'), '0100000102030405');
  t.is(eidReplid(eid), 1);
  t.is(eidGlobcnt(eid), 0x0102030405);
  t.is(readEid(Buffer.from('00ff0100000102030405', 'hex'), 2), eid);
  t.is(eid, 0x0504030201000001n);
  t.is(globcntBytes(GLOBCNT_MAX).toString('hex'), 'ffffffffffff');
  t.is(readGlobcnt(globcntBytes(123456789012), 0), 123456789012);
  t.throws(() => makeEid(1, GLOBCNT_MAX + 1), { instanceOf: RangeError });
  t.throws(() => makeEid(0x10000, 1), { instanceOf: RangeError });
  // Byte order of GLOBCNTs is counter order.
  t.true(Buffer.compare(globcntBytes(255), globcntBytes(256)) < 0);
});

test('GLOBCNTs are handed out once: ranges never overlap, and a rolled-back allocation is not lost track of', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const env = await MailboxEnv.open(d.path);
  const a = await env.write(() => allocGlobcnt(env.db.meta, 10));
  const b = await env.write(() => allocGlobcnt(env.db.meta));
  t.is(a, 1);
  t.is(b, 11);
  // A failed op's allocation rolls back with its writes: nothing used it, so reuse is safe.
  await t.throwsAsync(env.write(() => {
    allocGlobcnt(env.db.meta, 5);
    throw new Error('op failed');
  }));
  t.is(await env.write(() => allocGlobcnt(env.db.meta)), 12);
  await env.close();
  const again = await MailboxEnv.open(d.path);
  t.is(await again.write(() => allocGlobcnt(again.db.meta)), 13, 'the high-water mark survives reopening');
  await again.close();
});
