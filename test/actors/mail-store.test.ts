import test from 'ava';
import { join } from 'node:path';
import { actorRef } from '../../runtime/actor.js';
import { ACTOR_KINDS } from '../../actors/registry.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import { mapiToWire, wireToMapi } from '../../actors/mailbox/wire-message.js';
import { mimeToMapi, PidNameKeywords } from '../../protocols/mail/mime-to-mapi.js';
import { mapiToMime } from '../../protocols/mail/mapi-to-mime.js';
import { decodePropBag, encodePropBag } from '../../storage/prop-bag.js';
import { Tag } from '../../storage/prop-tags.js';
import { startTestSystem, tempDir } from '../helpers.js';
import { appleMail, nested, plain, thunderbird } from '../fixtures/mail/messages.js';

const who = { ownerName: 'Alice', legacyDn: '/o=Stoa/cn=Recipients/cn=alice', serverShortname: 'mail' };

async function setup(t: { teardown(fn: () => unknown): void }) {
  const d = tempDir();
  const sys = await startTestSystem(1, { kinds: ACTOR_KINDS, settings: { partitions: [join(d.path, 'p')] } });
  t.teardown(async () => {
    await sys.shutdown();
    d.remove();
  });
  const a = actorRef<MailboxProtocol>('mailbox', 'alice@example.test');
  await sys.call(a, 'provision', who);
  return { sys, a };
}

test('delivered mail keeps its original MIME and its named properties (mapped per mailbox, read back by name)', async (t) => {
  const { sys, a } = await setup(t);
  const conv = mimeToMapi(plain).message;
  const d = await sys.call(a, 'deliver', mapiToWire(conv, plain));
  t.true(Buffer.from((await sys.call(a, 'getOriginalMime', { mid: d.mid }))!).equals(plain));
  const full = wireToMapi(await sys.call(a, 'getMessageFull', { mid: d.mid }));
  t.deepEqual(full.named.find((n) => 'name' in n.name && n.name.name === PidNameKeywords.name)?.value, ['Work', 'Important']);
  const [id] = await sys.call(a, 'idsFromNames', { names: [{ guid: '00020329-0000-0000-c000-000000000046', name: 'Keywords' }], create: false });
  t.true(id! >= 0x8000, 'the name got a mailbox id at delivery');
  const props = decodePropBag(Buffer.from((await sys.call(a, 'getMessage', { mid: d.mid, tags: [((id! << 16) | 0x101f) >>> 0] })).props));
  t.deepEqual(props.get(((id! << 16) | 0x101f) >>> 0), ['Work', 'Important']);

  // A flag-like change keeps the original; a content change drops it (it no longer says the same).
  await sys.call(a, 'setFlagProps', { mid: d.mid, set: encodePropBag([[Tag.PidTagFlagStatus, 2]]) });
  t.not(await sys.call(a, 'getOriginalMime', { mid: d.mid }), null);
  await sys.call(a, 'updateMessage', { mid: d.mid, set: encodePropBag([[Tag.PidTagSubject, 'Changed in Outlook']]) });
  t.is(await sys.call(a, 'getOriginalMime', { mid: d.mid }), null);
  const regenerated = mapiToMime(wireToMapi(await sys.call(a, 'getMessageFull', { mid: d.mid }))).toString('latin1');
  t.regex(regenerated, /^Subject: Changed in Outlook\r$/m);
  t.regex(regenerated, /^Keywords: Work, Important\r$/m);
});

test('body forms the message lacks are made on read from its native body (MS-OXBBODY)', async (t) => {
  const { sys, a } = await setup(t);
  const html = mimeToMapi(appleMail).message;
  html.props.delete(Tag.PidTagBody);
  const d = await sys.call(a, 'deliver', mapiToWire(html));
  const got = decodePropBag(Buffer.from((await sys.call(a, 'getMessage', { mid: d.mid, tags: [Tag.PidTagBody, Tag.PidTagHtml, Tag.PidTagRtfCompressed] })).props));
  t.is(got.get(Tag.PidTagBody), 'Look at this:\r\n[dot]');
  t.true(got.get(Tag.PidTagRtfCompressed) instanceof Uint8Array);
  // Stored: only what was delivered.
  const stored = decodePropBag(Buffer.from((await sys.call(a, 'getMessage', { mid: d.mid })).props));
  t.false(stored.has(Tag.PidTagBody));
  t.false(stored.has(Tag.PidTagRtfCompressed));
});

test('embedded messages three levels deep are stored and read back whole', async (t) => {
  const { sys, a } = await setup(t);
  const m = mimeToMapi(nested(3)).message;
  const d = await sys.call(a, 'deliver', mapiToWire(m));
  const back = wireToMapi(await sys.call(a, 'getMessageFull', { mid: d.mid }));
  let cur = back;
  for (let i = 0; i < 3; i++) cur = cur.attachments.find((x) => x.embedded !== undefined)!.embedded!;
  t.is(cur.props.get(Tag.PidTagSubject), 'Level 3');
  const again = mimeToMapi(mapiToMime(back)).message;
  t.is(again.attachments[0]!.embedded!.attachments[0]!.embedded!.props.get(Tag.PidTagSubject), 'Level 2');
  const mime1 = mapiToMime(wireToMapi(await sys.call(a, 'getMessageFull', { mid: d.mid })));
  const mime2 = mapiToMime(wireToMapi(await sys.call(a, 'getMessageFull', { mid: d.mid })));
  t.true(mime1.equals(mime2), 'the same stored object gives the same bytes');
  void thunderbird;
});
