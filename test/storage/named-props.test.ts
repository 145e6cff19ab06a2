import test from 'ava';
import { MailboxEnv } from '../../storage/mailbox-env.js';
import { guidFromString } from '../../storage/guid.js';
import { idsFromNames, namesFromIds, NamedIdsExhausted, PS_INTERNET_HEADERS, PS_MAPI, PS_PUBLIC_STRINGS } from '../../storage/named-props.js';
import { tempDir } from '../helpers.js';

const PSETID_Common = guidFromString('00062008-0000-0000-c000-000000000046');

test('names map to ids from 0x8000, stably, both ways; PS_MAPI maps straight through', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const env = await MailboxEnv.open(d.path);
  const { named, meta } = env.db;
  const names = [
    { guid: PSETID_Common, lid: 0x8501 }, // PidLidReminderDelta
    { guid: PS_PUBLIC_STRINGS, name: 'Keywords' },
    { guid: PS_INTERNET_HEADERS, name: 'X-Mailer' },
    { guid: PS_MAPI, lid: 0x0037 }, // PidTagSubject's id
  ];
  t.deepEqual(env.db.named.get(['i', 0x8000]), undefined);
  t.deepEqual(idsFromNames(named, meta, names, false), [0, 0, 0, 0x0037], 'unknown names answer 0 without create');
  const ids = await env.write(() => idsFromNames(named, meta, names, true));
  t.deepEqual(ids, [0x8000, 0x8001, 0x8002, 0x0037]);
  t.deepEqual(await env.write(() => idsFromNames(named, meta, names, true)), ids, 'stable');
  t.deepEqual(idsFromNames(named, meta, [{ guid: PS_INTERNET_HEADERS, name: 'x-mailer' }], false), [0x8002], 'header names ignore case');
  t.deepEqual(idsFromNames(named, meta, [{ guid: PS_PUBLIC_STRINGS, name: 'keywords' }], false), [0], 'other names do not');
  const back = namesFromIds(named, [0x8000, 0x8001, 0x8002, 0x0037, 0x9999]);
  t.deepEqual(back.map((n) => (n === null ? null : 'lid' in n ? n.lid : n.name)), [0x8501, 'Keywords', 'X-Mailer', 0x0037, null]);
  t.deepEqual([...back[0]!.guid], [...PSETID_Common]);
  t.deepEqual(idsFromNames(named, meta, [{ guid: new Uint8Array(3), lid: 1 }, { guid: PS_PUBLIC_STRINGS, name: '' }], false), [0, 0], 'invalid names answer 0');
  await env.close();
});

test('the id space ends at 0xFFFE with ecNPQuotaExceeded', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const env = await MailboxEnv.open(d.path);
  t.teardown(() => env.close());
  await env.write(() => env.db.meta.putSync('named.next', 0xfffe));
  t.deepEqual(await env.write(() => idsFromNames(env.db.named, env.db.meta, [{ guid: PS_PUBLIC_STRINGS, name: 'last' }], true)), [0xfffe]);
  const err = await t.throwsAsync(env.write(() => idsFromNames(env.db.named, env.db.meta, [{ guid: PS_PUBLIC_STRINGS, name: 'one too many' }], true)), { instanceOf: NamedIdsExhausted });
  t.is(err?.code, 'ecNPQuotaExceeded');
});
