import test from 'ava';
import { mimeToMapi, PidNameKeywords } from '../../../protocols/mail/mime-to-mapi.js';
import { mapiToMime } from '../../../protocols/mail/mapi-to-mime.js';
import { parseMimeTree } from '../../../protocols/mail/mime/mime-tree.js';
import { readBodies } from '../../../protocols/mail/body.js';
import { localizeAddresses } from '../../../protocols/mail/localize.js';
import { AttachMethod, NativeBody, RecipientType, Tag } from '../../../storage/prop-tags.js';
import { filetimeToDate } from '../../../storage/prop-types.js';
import { parseAddressId } from '../../../storage/address-ids.js';
import type { MapiMessage } from '../../../protocols/mail/mapi-message.js';
import { allFixtures, appleMail, broken, crlf, dsn, legacy, nested, plain, smimeSigned, thunderbird, webmail } from '../../fixtures/mail/messages.js';

const s = (m: MapiMessage, tag: number) => m.props.get(tag);

test('Thunderbird: headers, recipients, both bodies, flowed text joined', (t) => {
  const { message: m, problems } = mimeToMapi(thunderbird);
  t.deepEqual(problems, []);
  t.is(s(m, Tag.PidTagSubject), 'Re: Grüße aus München');
  t.is(s(m, Tag.PidTagSubjectPrefix), 'Re: ');
  t.is(s(m, Tag.PidTagNormalizedSubject), 'Grüße aus München');
  t.is(s(m, Tag.PidTagConversationTopic), 'Grüße aus München');
  t.is(s(m, Tag.PidTagSentRepresentingName), 'Alice Example');
  t.is(s(m, Tag.PidTagSentRepresentingSmtpAddress), 'alice@example.org');
  t.is(s(m, Tag.PidTagSenderEmailAddress), 'alice@example.org');
  t.is(s(m, Tag.PidTagSenderAddressType), 'SMTP');
  t.deepEqual(Buffer.from(s(m, Tag.PidTagSenderSearchKey) as Uint8Array).toString('latin1'), 'SMTP:ALICE@EXAMPLE.ORG\0');
  const oneOff = parseAddressId(s(m, Tag.PidTagSenderEntryId) as Uint8Array);
  t.deepEqual(oneOff, { kind: 'one-off', displayName: 'Alice Example', addressType: 'SMTP', address: 'alice@example.org' });
  t.is(filetimeToDate(s(m, Tag.PidTagClientSubmitTime) as bigint).toISOString(), '2020-03-03T11:34:56.000Z');
  t.is(s(m, Tag.PidTagInternetMessageId), '<5e1b2c3d-0000-4000-8000-000000000001@example.org>');
  t.is(s(m, Tag.PidTagInReplyToId), '<a2@example.com>');
  t.is(s(m, Tag.PidTagInternetReferences), '<a1@example.com> <a2@example.com>');
  t.is(m.recipients.length, 3);
  t.deepEqual(
    m.recipients.map((r) => [r.get(Tag.PidTagRecipientType), r.get(Tag.PidTagDisplayName), r.get(Tag.PidTagSmtpAddress)]),
    [
      [RecipientType.To, 'Bob Example', 'bob@example.com'],
      [RecipientType.To, 'carol@example.net', 'carol@example.net'],
      [RecipientType.Cc, 'Jörg Maß', 'joerg@example.de'],
    ],
  );
  t.is(s(m, Tag.PidTagDisplayTo), 'Bob Example; carol@example.net');
  t.is(s(m, Tag.PidTagNativeBody), NativeBody.Html);
  t.regex(Buffer.from(s(m, Tag.PidTagHtml) as Uint8Array).toString('utf8'), /längerer Absatz/);
  t.regex(s(m, Tag.PidTagBody) as string, /wird und wieder zusammengefügt werden soll/);
  t.true((s(m, Tag.PidTagTransportMessageHeaders) as string).startsWith('Message-ID: <5e1b2c3d'));
  t.is((s(m, Tag.PidTagConversationIndex) as Uint8Array).byteLength, 22);
  t.is(m.attachments.length, 0);
});

test('Apple Mail: the related image is a hidden inline attachment with its content id', (t) => {
  const { message: m } = mimeToMapi(appleMail);
  t.is(s(m, Tag.PidTagNativeBody), NativeBody.Html);
  t.is(s(m, Tag.PidTagBody), 'Look at this:\r\n');
  t.is(m.attachments.length, 1);
  const a = m.attachments[0]!;
  t.is(a.props.get(Tag.PidTagAttachContentId), 'D1E2F3A4-B5C6-4D7E-8F90-A1B2C3D4E5F6@home');
  t.is(a.props.get(Tag.PidTagAttachmentHidden), true);
  t.is(a.props.get(Tag.PidTagAttachMethod), AttachMethod.ByValue);
  t.is(a.props.get(Tag.PidTagAttachLongFilename), 'dot.png');
  t.is(a.props.get(Tag.PidTagAttachMimeTag), 'image/png');
  t.is(a.data![0], 0x89);
  t.is(filetimeToDate(s(m, Tag.PidTagClientSubmitTime) as bigint).toISOString(), '2020-03-04T16:00:00.000Z');
});

test('webmail: RFC 2231 file name, importance, read receipt', (t) => {
  const { message: m } = mimeToMapi(webmail);
  t.is(m.attachments.length, 1);
  const a = m.attachments[0]!;
  t.is(a.props.get(Tag.PidTagAttachLongFilename), 'Rechnung März.pdf');
  t.is(a.props.get(Tag.PidTagAttachExtension), '.pdf');
  t.is(Buffer.from(a.data!).toString('latin1', 0, 8), '%PDF-1.4');
  t.is(s(m, Tag.PidTagImportance), 2);
  t.is(s(m, Tag.PidTagReadReceiptRequested), true);
  t.is(s(m, Tag.PidTagBody), 'Please find the invoice attached.\r\n');
});

test('legacy charsets: ISO-8859-1 body, ISO-2022-JP subject, KOI8-R name, 8-bit header, two-digit year', (t) => {
  const { message: m } = mimeToMapi(legacy);
  t.is(s(m, Tag.PidTagSubject), 'にほんご');
  t.is(s(m, Tag.PidTagSenderName), 'Привет');
  t.is(s(m, Tag.PidTagBody), 'Grüße, café crème.\r\n');
  t.is(s(m, Tag.PidTagNativeBody), NativeBody.PlainText);
  t.true((s(m, Tag.PidTagTransportMessageHeaders) as string).includes('X-Note: Café'));
  t.is(filetimeToDate(s(m, Tag.PidTagClientSubmitTime) as bigint).toISOString(), '2020-03-06T09:00:00.000Z');
});

test('embedded messages three levels deep', (t) => {
  const { message: m, problems } = mimeToMapi(nested(3));
  t.deepEqual(problems, []);
  let cur = m;
  for (let level = 0; level < 3; level++) {
    t.is(cur.props.get(Tag.PidTagSubject), `Level ${level}`);
    const a = cur.attachments.find((x) => x.embedded !== undefined)!;
    t.is(a.props.get(Tag.PidTagAttachMethod), AttachMethod.EmbeddedMessage);
    t.is(a.props.get(Tag.PidTagDisplayName), `Level ${level + 1}`);
    cur = a.embedded!;
  }
  t.is(cur.props.get(Tag.PidTagBody), 'Innermost text.\r\n');
});

test('S/MIME signed stays opaque with its class; DSN gets its report class', (t) => {
  const signed = mimeToMapi(smimeSigned).message;
  t.is(signed.props.get(Tag.PidTagMessageClass), 'IPM.Note.SMIME.MultipartSigned');
  t.is(signed.attachments.length, 1);
  t.is(signed.attachments[0]!.props.get(Tag.PidTagAttachMimeTag), 'multipart/signed');
  t.true(Buffer.from(signed.attachments[0]!.data!).toString('latin1').startsWith('Content-Type: multipart/signed'));
  t.is(signed.props.get(Tag.PidTagBody), 'This text is signed.');
  t.is(mimeToMapi(dsn).message.props.get(Tag.PidTagMessageClass), 'REPORT.IPM.Note.NDR');
});

test('plain RFC 822 text with keywords as a named property', (t) => {
  const { message: m } = mimeToMapi(plain);
  t.is(s(m, Tag.PidTagBody), 'Just text.\r\n.\r\nFrom the start of a line.\r\n');
  const kw = m.named.find((n) => 'name' in n.name && n.name.name === PidNameKeywords.name);
  t.deepEqual(kw?.value, ['Work', 'Important']);
});

test('broken input: converts what it can and records the rest', (t) => {
  const { message: m, problems } = mimeToMapi(broken);
  t.true(problems.some((p) => p.includes('closing delimiter')));
  t.true(problems.some((p) => p.includes('Date')));
  t.is(s(m, Tag.PidTagSentRepresentingName), 'Broken "Quote');
  t.is(s(m, Tag.PidTagBody), 'declared ascii but is UTF-8: ü€');
  t.is(m.recipients.length, 0);
  t.true(m.attachments.length >= 1);
  t.is(m.attachments[0]!.props.get(Tag.PidTagAttachMimeTag), 'image/gif');
});

test('the MIME tree keeps byte offsets and IMAP section paths', (t) => {
  const tree = parseMimeTree(webmail);
  t.is(tree.root.children.length, 2);
  t.is(tree.root.children[0]!.path, '1');
  t.is(tree.root.children[0]!.children[1]!.path, '1.2');
  const pdf = tree.root.children[1]!;
  t.is(pdf.path, '2');
  t.is(tree.buf.toString('latin1', pdf.bodyStart, pdf.bodyStart + 8), 'JVBERi0x');
  t.is(tree.buf.toString('latin1', pdf.end - 4, pdf.end), 'T0YK');
});

test('MIME → MAPI → MIME keeps the meaning', (t) => {
  for (const [name, raw] of Object.entries(allFixtures)) {
    const first = mimeToMapi(raw).message;
    const out = mapiToMime(first, { includeBcc: true });
    t.true(/^[\x00-\x7f]*$/.test(out.toString('latin1')), `${name}: 7-bit output`);
    const second = mimeToMapi(out).message;
    // A message without a Message-ID gets a stable one on export.
    if (first.props.get(Tag.PidTagInternetMessageId) === undefined) t.regex(String(second.props.get(Tag.PidTagInternetMessageId)), /^<[0-9a-f]{32}@stoa\.invalid>$/);
    for (const tag of [Tag.PidTagSubject, Tag.PidTagSentRepresentingSmtpAddress, Tag.PidTagSentRepresentingName, ...(first.props.has(Tag.PidTagInternetMessageId) ? [Tag.PidTagInternetMessageId] : []), Tag.PidTagInReplyToId, Tag.PidTagImportance, Tag.PidTagClientSubmitTime, Tag.PidTagMessageClass]) {
      // A value the first message lacks may be made on export (a Date from the delivery time).
      if (first.props.has(tag)) t.deepEqual(second.props.get(tag), first.props.get(tag), `${name}: ${tag.toString(16)}`);
    }
    t.deepEqual(readBodies(second.props).text?.trimEnd(), readBodies(first.props).text?.trimEnd(), `${name}: text`);
    t.deepEqual(
      second.recipients.map((r) => [r.get(Tag.PidTagRecipientType), r.get(Tag.PidTagSmtpAddress), r.get(Tag.PidTagDisplayName)]),
      first.recipients.map((r) => [r.get(Tag.PidTagRecipientType), r.get(Tag.PidTagSmtpAddress), r.get(Tag.PidTagDisplayName)]),
      `${name}: recipients`,
    );
    t.is(second.attachments.length, first.attachments.length, `${name}: attachments`);
    second.attachments.forEach((a, i) => {
      const b = first.attachments[i]!;
      t.is(a.props.get(Tag.PidTagAttachLongFilename), b.props.get(Tag.PidTagAttachLongFilename), `${name}: attachment ${i} name`);
      if (b.data !== undefined) t.true(Buffer.from(a.data!).equals(Buffer.from(b.data)), `${name}: attachment ${i} data`);
    });
  }
});

test('MAPI → MIME is stable: the same message gives the same bytes', (t) => {
  const m = mimeToMapi(webmail).message;
  const a = mapiToMime(m);
  const b = mapiToMime(mimeToMapi(webmail).message);
  t.true(a.equals(b));
  t.regex(a.toString('latin1'), /filename\*0?\*?=utf-8''Rechnung%20M%C3%A4rz\.pdf|filename\*=utf-8''Rechnung%20M%C3%A4rz\.pdf/i);
});

test('MAPI → MIME → MAPI keeps the properties MIME can carry', (t) => {
  const m = mimeToMapi(thunderbird).message;
  m.props.set(Tag.PidTagSensitivity, 2);
  m.props.set(Tag.PidTagImportance, 0);
  m.named.push({ name: PidNameKeywords, type: 0x101f, value: ['Blue category', 'Ärger'] });
  m.recipients.push(new Map<number, import('../../../storage/prop-types.js').PropValue>([
    [Tag.PidTagRecipientType, RecipientType.Bcc],
    [Tag.PidTagDisplayName, 'Hidden Person'],
    [Tag.PidTagAddressType, 'SMTP'],
    [Tag.PidTagEmailAddress, 'hidden@example.com'],
  ]));
  const back = mimeToMapi(mapiToMime(m, { includeBcc: true })).message;
  t.is(back.props.get(Tag.PidTagSensitivity), 2);
  t.is(back.props.get(Tag.PidTagImportance), 0);
  t.deepEqual(back.named.find((n) => 'name' in n.name && n.name.name === 'Keywords')?.value, ['Blue category', 'Ärger']);
  t.deepEqual(back.props.get(Tag.PidTagConversationIndex), m.props.get(Tag.PidTagConversationIndex));
  const bcc = back.recipients.find((r) => r.get(Tag.PidTagRecipientType) === RecipientType.Bcc);
  t.is(bcc?.get(Tag.PidTagSmtpAddress), 'hidden@example.com');
  // Without includeBcc (transport), Bcc is never written.
  t.false(mapiToMime(m).toString('latin1').includes('hidden@example.com'));
});

test('EX senders and recipients map to SMTP through the directory; local ones localize to EX', (t) => {
  const m = mimeToMapi(thunderbird).message;
  const dn = '/o=Stoa/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice';
  localizeAddresses(m, (smtp) => (smtp === 'alice@example.org' ? { legacyDn: dn, displayName: 'Alice Example' } : null));
  t.is(m.props.get(Tag.PidTagSenderAddressType), 'EX');
  t.is(m.props.get(Tag.PidTagSenderEmailAddress), dn);
  t.deepEqual(parseAddressId(m.props.get(Tag.PidTagSenderEntryId) as Uint8Array), { kind: 'address-book', x500dn: dn, type: 0 });
  m.props.delete(Tag.PidTagSenderSmtpAddress);
  m.props.delete(Tag.PidTagSentRepresentingSmtpAddress);
  const out = mapiToMime(m, { resolveEx: (x) => (x === dn ? { address: 'alice@example.org' } : null) }).toString('latin1');
  t.regex(out, /^From: Alice Example <alice@example\.org>\r$/m);
  const unresolved = mapiToMime(m).toString('latin1');
  t.regex(unresolved, /^From: Alice Example: ;\r$/m);
});

test('header injection through properties is impossible', (t) => {
  const m = mimeToMapi(plain).message;
  m.props.set(Tag.PidTagSubject, 'hi\r\nBcc: evil@example.com');
  const out = mapiToMime(m).toString('latin1');
  t.false(/^Bcc:/m.test(out));
});

test('fuzz: random mutations of every fixture never throw and stay bounded', (t) => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const fixtures = Object.values(allFixtures);
  const start = Date.now();
  let cases = 0;
  for (let i = 0; i < 1500; i++) {
    const base = Buffer.from(fixtures[i % fixtures.length]!);
    const m = Buffer.from(base);
    const edits = 1 + rnd(8);
    let buf = m;
    for (let e = 0; e < edits; e++) {
      const op = rnd(4);
      const pos = rnd(buf.length);
      if (op === 0) buf[pos] = rnd(256);
      else if (op === 1) buf = Buffer.concat([buf.subarray(0, pos), buf.subarray(Math.min(buf.length, pos + rnd(40)))]);
      else if (op === 2) buf = Buffer.concat([buf.subarray(0, pos), Buffer.from(['--', '\r\n', '=?utf-8?B?', 'boundary=', ':', '\r\n\r\n', '=\r\n', 'Content-Type: message/rfc822\r\n'][rnd(8)]!), buf.subarray(pos)]);
      else buf = buf.subarray(0, pos);
    }
    const r = mimeToMapi(buf);
    t.truthy(r.message.props.get(Tag.PidTagMessageClass));
    const out = mapiToMime(r.message);
    t.true(out.length < 10 * (buf.length + 4096));
    cases++;
  }
  t.is(cases, 1500);
  t.true(Date.now() - start < 60_000);
});

test('deep nesting and huge headers are bounded', (t) => {
  let body = 'x';
  for (let i = 0; i < 200; i++) body = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${body}\r\n--b${i}--\r\n`;
  const r = mimeToMapi(Buffer.from(`Subject: deep\r\n${body}`));
  t.true(r.problems.some((p) => p.includes('too deep')));
  const huge = Buffer.concat([Buffer.from('Subject: big\r\n'), Buffer.from(`X-Big: ${'a'.repeat(1_000_000)}\r\n`), crlf('\nbody\n')]);
  const h = mimeToMapi(huge);
  t.true(h.problems.some((p) => p.includes('header block longer')));
  t.is(h.message.props.get(Tag.PidTagSubject), 'big');
});
