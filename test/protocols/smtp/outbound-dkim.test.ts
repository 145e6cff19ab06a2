import test from 'ava';
import { dkimSelector, dkimSign, makeDkimKey } from '../../../protocols/smtp/outbound/dkim.js';
import { runAdmin, type AdminBackend } from '../../../runtime/admin.js';
import { DirectoryStore } from '../../../storage/directory-store.js';
import { tempDir } from '../../helpers.js';
import { verifyDkim } from './outbound-fixtures.js';

type Shown = { name: string; created: number; dkim: { selector: string; created: string; dns: { name: string; type: string; value: string; zone: string } } | null; note?: string };

test('domain add makes a DKIM key and prints the record; list never shows the private key; domain dkim shows it again or, with --new, replaces it', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const dir = DirectoryStore.open(d.path);
  t.teardown(() => dir.close());
  const b = { dir } as AdminBackend;
  const added = (await runAdmin(b, ['domain', 'add', 'Example.TEST'])) as Shown;
  t.is(added.name, 'example.test');
  const sel = dkimSelector(new Date());
  t.is(added.dkim!.selector, sel);
  t.like(added.dkim!.dns, { name: `${sel}._domainkey.example.test`, type: 'TXT' });
  t.regex(added.dkim!.dns.value, /^v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA[A-Za-z0-9+/]+=*$/, 'RSA 2048 SubjectPublicKeyInfo');
  t.is(dir.domain('example.test')!.dkim!.publicKey, added.dkim!.dns.value.slice('v=DKIM1; k=rsa; p='.length));
  await t.throwsAsync(runAdmin(b, ['domain', 'add', 'example.test']), { message: /exists already/ });

  const list = await runAdmin(b, ['domain', 'list']);
  t.deepEqual(list, [{ name: 'example.test', created: added.created, dkim: { selector: sel, dnsName: `${sel}._domainkey.example.test` } }], 'no keys in the listing');

  t.deepEqual(await runAdmin(b, ['domain', 'dkim', 'example.test']), added, 'shown again, unchanged');
  const renewed = (await runAdmin(b, ['domain', 'dkim', 'example.test', '--new'])) as Shown;
  t.is(renewed.dkim!.selector, `${sel}-2`, 'a new selector: the old record can stay published meanwhile');
  t.not(renewed.dkim!.dns.value, added.dkim!.dns.value);
  t.regex(renewed.note!, /keep the old record/);
  await t.throwsAsync(runAdmin(b, ['domain', 'dkim', 'nowhere.test']), { message: 'no domain nowhere.test' });

  // A domain from before DKIM gets its key from `domain dkim`.
  await dir.addDomain('old.test');
  t.is(((await runAdmin(b, ['domain', 'list'])) as Shown[]).find((x) => x.name === 'old.test')!.dkim, null);
  t.truthy(((await runAdmin(b, ['domain', 'dkim', 'old.test'])) as Shown).dkim);
});

test('selectors: stoa + the UTC date, numbered when one is taken that day', (t) => {
  const day = new Date('2025-03-04T23:59:00Z');
  t.is(dkimSelector(day), 'stoa20250304');
  t.is(dkimSelector(day, 'stoa20250101'), 'stoa20250304');
  t.is(dkimSelector(day, 'stoa20250304'), 'stoa20250304-2');
  t.is(dkimSelector(day, 'stoa20250304-2'), 'stoa20250304-3');
});

test('signatures verify over folded and repeated header fields and odd whitespace in the body', async (t) => {
  const key = await makeDkimKey();
  const raw = Buffer.from(
    'Received: from a\r\nFrom: "A" <a@example.test>\r\nTo: b@x.example,\r\n\tc@x.example\r\nSubject:  Two   spaces \r\nSubject: second\r\nDate: Mon, 6 Jan 2025 10:00:00 +0000\r\n\r\nline  with   spaces \t\r\n\r\nlast\r\n\r\n\r\n',
  );
  const signed = await dkimSign(raw, 'example.test', key);
  t.true(signed.subarray(signed.length - raw.length).equals(raw));
  const v = verifyDkim(signed, key.publicKey);
  t.true(v.bodyHashOk);
  t.true(v.ok);
  t.is(v.tags.d, 'example.test');
  t.false(v.signedHeaders.includes('received'), 'trace fields are not signed');
  const other = await makeDkimKey();
  t.false(verifyDkim(signed, other.publicKey).ok, 'another key does not verify it');
});
