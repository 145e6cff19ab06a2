import test from 'ava';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import nodemailer from 'nodemailer';
import { SmtpDoors, type OutboundQueue, type SmtpDoorContext } from '../../../protocols/smtp/smtp-door.js';
import { decodePropBag } from '../../../storage/prop-bag.js';
import { Tag } from '../../../storage/prop-tags.js';
import { quietLog } from '../../helpers.js';
import { startMailStack, type MailStack } from '../../fixtures/mail-stack.js';
import { webmail } from '../../fixtures/mail/messages.js';

const LIMITS = { maxMessageBytes: 8 * 1024 * 1024, maxRecipients: 5, maxConnectionsPerIp: 20, maxAuthFailures: 3, socketTimeoutMs: 30_000 };

async function setup(t: { teardown(fn: () => unknown): void }, over: Partial<SmtpDoorContext> = {}) {
  const stack = await startMailStack(t);
  const alice = await stack.addUser('alice@example.test', 'alice password', 'Alice');
  await stack.dir.addAlias('alice@example.test', 'a.liddell@example.test');
  await stack.addUser('bob@example.test', 'bob password', 'Bob');
  await stack.dir.addGroup('team@example.test', 'Team');
  await stack.dir.setGroupMember('team@example.test', 'alice@example.test', true);
  await stack.dir.setGroupMember('team@example.test', 'bob@example.test', true);
  const queued: Parameters<OutboundQueue['enqueue']>[0][] = [];
  const outbound: OutboundQueue = {
    async enqueue(m) {
      queued.push(m);
      return `q${queued.length}`;
    },
  };
  const doors = new SmtpDoors({ hostname: 'mail.example.test', log: quietLog, dir: stack.dir, auth: stack.auth, delivery: stack.delivery, outbound, tls: stack.tls, limits: LIMITS, allowPlaintextAuth: false, ...over });
  t.teardown(() => doors.close());
  const ports = {
    smtp: await stack.listen(doors.handler('inbound')),
    submission: await stack.listen(doors.handler('submission')),
    submissions: await stack.listen(doors.handler('submissions'), { tls: true }),
    lmtp: await stack.listen(doors.handler('lmtp')),
  };
  return { stack, alice, doors, ports, queued };
}

async function inbox(stack: MailStack, address: string): Promise<{ mid: number; subject: string; mime: string }[]> {
  const a = stack.mailbox(address);
  const info = await stack.sys.call(a, 'logonInfo', null);
  const mids = await stack.sys.call(a, 'listContents', { folder: info.special.inbox });
  return Promise.all(
    mids.map(async (mid) => {
      const p = decodePropBag(Buffer.from((await stack.sys.call(a, 'getMessage', { mid, tags: [Tag.PidTagSubject] })).props));
      const mime = Buffer.from((await stack.sys.call(a, 'getOriginalMime', { mid }))!).toString('latin1');
      return { mid, subject: p.get(Tag.PidTagSubject) as string, mime };
    }),
  );
}

/** Talks raw SMTP: sends each line after the previous reply, returns every reply line. */
function dialogue(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    let i = 0;
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      out += d;
      // A reply is complete at a line "NNN text" (not "NNN-").
      if (/(^|\n)\d{3} [^\n]*\r\n$/.test(out) && i < lines.length) s.write(lines[i++]! + '\r\n');
      else if (i >= lines.length && /(^|\n)221 /.test(out)) s.end();
    });
    s.on('end', () => resolve(out));
    s.on('error', reject);
    setTimeout(() => {
      s.destroy();
      resolve(out);
    }, 10_000).unref();
  });
}

test('inbound: local users, aliases and groups get the message (trace headers added, original kept); unknown users 550 5.1.1; relaying refused 5.7.1', async (t) => {
  const { stack, ports } = await setup(t);
  const tx = nodemailer.createTransport({ host: '127.0.0.1', port: ports.smtp, secure: false, ignoreTLS: true, name: 'client.example.org' });
  const info = await tx.sendMail({ envelope: { from: 'erin@gmail.example', to: ['a.liddell@example.test', 'team@example.test'] }, raw: webmail });
  t.deepEqual(info.accepted.sort(), ['a.liddell@example.test', 'team@example.test']);
  const a = await inbox(stack, 'alice@example.test');
  const b = await inbox(stack, 'bob@example.test');
  t.is(a.length, 1, 'alice once, although both her alias and her group were recipients');
  t.is(b.length, 1);
  t.is(a[0]!.subject, 'Invoice');
  t.regex(a[0]!.mime, /^Return-Path: <erin@gmail\.example>\r\nReceived: from client\.example\.org \(\[127\.0\.0\.1\]\)\r\n\tby mail\.example\.test \(Stoa\) with ESMTP id \S+;\r\n/);
  t.true(a[0]!.mime.endsWith(webmail.toString('latin1')), 'the original bytes follow the trace headers unchanged');

  const err = await tx.sendMail({ envelope: { from: 'x@gmail.example', to: ['nobody@example.test'] }, raw: webmail }).catch((e: Error & { response?: string }) => e);
  t.regex((err as { response?: string }).response ?? '', /^550 5\.1\.1 <nobody@example\.test>: no such user here/);
  const relay = await tx.sendMail({ envelope: { from: 'x@gmail.example', to: ['someone@elsewhere.example'] }, raw: webmail }).catch((e: Error & { response?: string }) => e);
  t.regex((relay as { response?: string }).response ?? '', /^550 5\.7\.1 relaying denied/);
});

test('EHLO advertises the extensions; AUTH is refused before TLS on submission; limits answer clearly', async (t) => {
  const { ports } = await setup(t);
  const ehlo = await dialogue(ports.submission, ['EHLO me', 'AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABhbGljZSBwYXNzd29yZA==', 'MAIL FROM:<alice@example.test>', 'QUIT']);
  for (const ext of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'DSN', 'STARTTLS', 'SIZE 8388608']) t.regex(ehlo, new RegExp(`250[- ]${ext}\\r\\n`));
  t.notRegex(ehlo, /250[- ]AUTH/, 'no AUTH offered before TLS');
  t.regex(ehlo, /\n5\d\d [^\n]*\r\n530 5\.7\.0 /, 'AUTH refused, then MAIL needs authentication');
  const inbound = await dialogue(ports.smtp, ['EHLO me', 'MAIL FROM:<x@y.example>', ...Array.from({ length: 6 }, (_, i) => `RCPT TO:<team${i}@example.test>`), 'RSET', 'MAIL FROM:<x@y.example> SIZE=999999999', 'QUIT']);
  t.regex(inbound, /550 5\.1\.1 <team0@example\.test>/);
  t.regex(inbound, /552 5\.3\.4 [^\n]*size/i);
});

test('submission: AUTH after STARTTLS, send as own address or alias only, Date and Message-ID added, remote mail queued', async (t) => {
  const { stack, ports, queued } = await setup(t);
  const tx = nodemailer.createTransport({ host: '127.0.0.1', port: ports.submission, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice@example.test', pass: 'alice password' } });
  const raw = Buffer.from('From: Alice <a.liddell@example.test>\r\nTo: bob@example.test, friend@elsewhere.example\r\nSubject: Lunch\r\n\r\nAt noon?\r\n');
  const info = await tx.sendMail({ envelope: { from: 'a.liddell@example.test', to: ['bob@example.test', 'friend@elsewhere.example'] }, raw });
  t.deepEqual(info.accepted.sort(), ['bob@example.test', 'friend@elsewhere.example']);
  const got = (await inbox(stack, 'bob@example.test'))[0]!;
  t.regex(got.mime, /\r\nDate: \w{3}, \d+ \w{3} \d{4} /);
  t.regex(got.mime, /\r\nMessage-ID: <[0-9a-f]{24}\.[^@]+@mail\.example\.test>\r\n/);
  t.regex(got.mime, /with ESMTPSA id/);
  t.is(queued.length, 1);
  t.deepEqual(queued[0]!.recipients.map((r) => r.address), ['friend@elsewhere.example']);
  t.is(queued[0]!.from, 'a.liddell@example.test');
  t.false(queued[0]!.raw.toString('latin1').includes('Received:'), 'the queue gets the message; its sender adds its own trace');

  const spoof = await tx.sendMail({ envelope: { from: 'bob@example.test', to: ['bob@example.test'] }, raw }).catch((e: { response?: string }) => e);
  t.regex((spoof as { response?: string }).response ?? '', /^553 5\.7\.1 alice@example\.test may not send as <bob@example\.test>/);
  const bad = nodemailer.createTransport({ host: '127.0.0.1', port: ports.submissions, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice@example.test', pass: 'wrong' } });
  const e = await bad.sendMail({ envelope: { from: 'alice@example.test', to: ['bob@example.test'] }, raw }).catch((x: { response?: string }) => x);
  t.regex((e as { response?: string }).response ?? '', /^535 5\.7\.8/);
  const implicit = nodemailer.createTransport({ host: '127.0.0.1', port: ports.submissions, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice@example.test', pass: 'alice password' } });
  t.deepEqual((await implicit.sendMail({ envelope: { from: 'alice@example.test', to: ['bob@example.test'] }, raw })).accepted, ['bob@example.test']);
  t.is((await inbox(stack, 'bob@example.test')).length, 2);
});

test("LMTP with Python's smtplib: one reply per recipient", async (t) => {
  const { stack, ports } = await setup(t);
  // Bob over his receive quota: his RCPT is refused at once, the rest are delivered.
  await stack.delivery.deliver(webmail, [stack.dir.userByAddress('bob@example.test')!]);
  await stack.sys.call(stack.mailbox('bob@example.test'), 'setQuota', { bytes: 1 });
  const script = `
import smtplib, sys
c = smtplib.LMTP('127.0.0.1', ${ports.lmtp})
c.ehlo('mta.example.test')
msg = b'From: x@y.example\\r\\nSubject: via lmtp\\r\\n\\r\\nhello\\r\\n'
try:
    refused = c.sendmail('x@y.example', ['alice@example.test', 'bob@example.test', 'nobody@example.test'], msg)
    print('refused', sorted(refused.items()))
except smtplib.SMTPRecipientsRefused as e:
    print('all refused', e.recipients)
c.quit()
`;
  const out = await new Promise<string>((resolve, reject) => execFile('python3', ['-c', script], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))));
  t.regex(out, /refused \[\('bob@example\.test', \(452, b'4\.2\.2 mailbox of bob@example\.test is full'\)\), \('nobody@example\.test', \(550, b'5\.1\.1 <nobody@example\.test>: no such user here'\)\)\]/);
  t.is((await inbox(stack, 'alice@example.test'))[0]!.subject, 'via lmtp');
});

test('store failures map to retryable replies; nothing is acknowledged that is not on disk', async (t) => {
  const { replyForError } = await import('../../../protocols/smtp/local-delivery.js');
  const { actorError } = await import('../../../runtime/errors.js');
  t.deepEqual(replyForError(actorError('UNAVAILABLE', 'worker restarted')), { code: 451, status: '4.3.0', text: 'temporary failure, try again later' });
  t.deepEqual(replyForError(actorError('ecDiskError', 'MDB_MAP_FULL')), { code: 452, status: '4.3.1', text: 'insufficient system storage, try again later' });
  t.deepEqual(replyForError(actorError('ecQuotaExceeded', 'full')), { code: 552, status: '5.2.2', text: 'mailbox full' });
  t.is(replyForError(new Error('anything else')).code, 451);
  // A mailbox that cannot take the write answers 451 at DATA, and the client keeps the message.
  const { stack, ports } = await setup(t);
  await stack.dir.addUser({ address: 'ghost@example.test' }); // in the directory, no mailbox on disk
  const tx = nodemailer.createTransport({ host: '127.0.0.1', port: ports.smtp, secure: false, ignoreTLS: true });
  const e = await tx.sendMail({ envelope: { from: 'x@y.example', to: ['ghost@example.test'] }, raw: webmail }).catch((x: { response?: string }) => x);
  t.regex((e as { response?: string }).response ?? '', /^451 4\.2\.1 mailbox not available/);
});

test('a large message to a group reaches every member whole (buffers moved to a worker are not shared)', async (t) => {
  const { stack, ports } = await setup(t);
  const big = Buffer.from(`From: x@y.example\r\nSubject: big\r\n\r\n${'0123456789abcdef'.repeat(8192)}\r\n`);
  const tx = nodemailer.createTransport({ host: '127.0.0.1', port: ports.smtp, secure: false, ignoreTLS: true });
  await tx.sendMail({ envelope: { from: 'x@y.example', to: ['team@example.test'] }, raw: big });
  for (const who of ['alice@example.test', 'bob@example.test']) {
    const got = await inbox(stack, who);
    t.is(got.length, 1, who);
    t.true(got[0]!.mime.endsWith(big.toString('latin1')), `${who} got all ${big.length} bytes`);
  }
});

test('a message with a 3 MiB attachment is delivered to a group (nested binaries move by transfer, not through the ring)', async (t) => {
  const { stack, ports } = await setup(t);
  const att = Buffer.alloc(3 * 1024 * 1024, 0x41).toString('base64').replace(/.{76}/g, '$&\r\n');
  const big = Buffer.from(`From: x@y.example\r\nSubject: att\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/octet-stream; name=f.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n${att}\r\n--b--\r\n`);
  const tx = nodemailer.createTransport({ host: '127.0.0.1', port: ports.smtp, secure: false, ignoreTLS: true });
  await tx.sendMail({ envelope: { from: 'x@y.example', to: ['team@example.test'] }, raw: big });
  for (const who of ['alice@example.test', 'bob@example.test']) {
    const a = stack.mailbox(who);
    const [mid] = await inbox(stack, who).then((l) => l.map((m) => m.mid));
    const data = await stack.sys.call(a, 'getAttachmentData', { mid: mid!, num: 0 });
    t.is(data?.byteLength, 3 * 1024 * 1024, who);
  }
});

test('failed AUTH from one address across connections: 421 until the window ends, even with the right password', async (t) => {
  const { FailureThrottle } = await import('../../../protocols/shared/failure-throttle.js');
  const { ports } = await setup(t, { throttle: new FailureThrottle(2, 60_000) });
  const send = (pass: string) =>
    nodemailer
      .createTransport({ host: '127.0.0.1', port: ports.submissions, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'alice@example.test', pass } })
      .sendMail({ envelope: { from: 'alice@example.test', to: ['bob@example.test'] }, raw: 'Subject: x\r\n\r\nx\r\n' })
      .then(() => '250', (e: { response?: string }) => e.response ?? String(e));
  t.regex(await send('wrong'), /^535 5\.7\.8/);
  t.regex(await send('wrong again'), /^535 5\.7\.8/);
  t.regex(await send('alice password'), /^421 4\.7\.0 too many failed logins from your address/);
});
