import test from 'ava';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { simpleParser } from 'mailparser';
import { OutboundService, type OutboundOptions } from '../../../protocols/smtp/outbound/outbound-service.js';
import { makeDkimKey } from '../../../protocols/smtp/outbound/dkim.js';
import { SmtpDoors } from '../../../protocols/smtp/smtp-door.js';
import { runAdmin, type AdminBackend } from '../../../runtime/admin.js';
import { decodePropBag } from '../../../storage/prop-bag.js';
import { Tag } from '../../../storage/prop-tags.js';
import { OutboundQueueStore } from '../../../storage/outbound-queue.js';
import { quietLog, sleep } from '../../helpers.js';
import { startMailStack, type MailStack } from '../../fixtures/mail-stack.js';
import { startFakeMx, testResolver, verifyDkim, type FakeMx } from './outbound-fixtures.js';

const FAST = [150, 150, 150];

async function setup(t: { teardown(fn: () => unknown): void }, over: Partial<OutboundOptions> = {}, mxOpts: Parameters<typeof startFakeMx>[1] = {}) {
  const stack = await startMailStack(t);
  await stack.addUser('alice@example.test', 'alice password', 'Alice');
  const mx = await startFakeMx(t, mxOpts);
  const svc = new OutboundService({
    dataDir: stack.path,
    dir: stack.dir,
    delivery: stack.delivery,
    hostname: 'mail.example.test',
    log: quietLog,
    resolver: testResolver(),
    mxPort: mx.port,
    retrySchedule: FAST,
    timeouts: { connectMs: 5000, greetingMs: 5000, socketMs: 10_000 },
    ...over,
  });
  await svc.start();
  t.teardown(() => svc.stop());
  return { stack, mx, svc };
}

const message = (subject = 'Hello', extra = '') =>
  Buffer.from(`From: Alice <alice@example.test>\r\nTo: Bob <bob@remote.example>\r\nSubject: ${subject}\r\nDate: Mon, 6 Jan 2025 10:00:00 +0000\r\nMessage-ID: <m1.${subject.replace(/\W/g, '')}@example.test>\r\n${extra}\r\nHi Bob,  \r\n\tsee you\t at noon.\r\n\r\n\r\n`);

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function inbox(stack: MailStack, address: string): Promise<{ subject: string; mime: Buffer }[]> {
  const a = stack.mailbox(address);
  const info = await stack.sys.call(a, 'logonInfo', null);
  const mids = await stack.sys.call(a, 'listContents', { folder: info.special.inbox });
  return Promise.all(
    mids.map(async (mid) => {
      const p = decodePropBag(Buffer.from((await stack.sys.call(a, 'getMessage', { mid, tags: [Tag.PidTagSubject] })).props));
      return { subject: p.get(Tag.PidTagSubject) as string, mime: Buffer.from((await stack.sys.call(a, 'getOriginalMime', { mid }))!) };
    }),
  );
}

/** The fields of the message/delivery-status part: the per-message block and one per recipient. */
function deliveryStatus(dsn: Buffer): { message: Record<string, string>; recipients: Record<string, string>[] } {
  const s = dsn.toString('latin1');
  const m = /Content-Type: message\/delivery-status[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*?)\r\n--=_stoa_dsn_/.exec(s);
  if (m === null) throw new Error('no message/delivery-status part');
  const blocks = m[1]!.split(/\r\n\r\n/).map((b) => Object.fromEntries(b.split('\r\n').filter((l) => l !== '').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()])));
  return { message: blocks[0]!, recipients: blocks.slice(1) };
}

test('by MX: STARTTLS, the envelope with its DSN parameters, a trace field, and a DKIM signature that verifies (key made on first need)', async (t) => {
  const { stack, mx, svc } = await setup(t, {}, { tls: (await startMailStack(t)).tls });
  t.is(stack.dir.domain('example.test')!.dkim, undefined, 'a domain from before DKIM');
  const raw = message();
  const id = await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'bob@remote.example', notify: ['failure', 'DELAY'], orcpt: 'rfc822;bob@remote.example' }], raw, envid: 'env-1', ret: 'hdrs', fromDomain: 'example.test' });
  t.regex(id, /^[0-9a-z]{19}$/);
  await waitFor('delivery', () => mx.received.length === 1);
  const got = mx.received[0]!;
  t.is(got.from, 'alice@example.test');
  t.deepEqual(got.to, ['bob@remote.example']);
  t.true(got.secure, 'opportunistic STARTTLS (certificate not checked for MX hosts by default)');
  t.like(got.dsn, { ret: 'HDRS', envid: 'env-1' });
  t.like(got.rcptArgs[0], { NOTIFY: 'FAILURE,DELAY', ORCPT: 'rfc822;bob@remote.example' });
  const text = got.raw.toString('latin1');
  t.regex(text, /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.test;/);
  t.regex(text, new RegExp(`\\r\\nReceived: by mail\\.example\\.test \\(Stoa\\) id ${id};\\r\\n\\t\\w{3}, `));
  t.true(got.raw.subarray(got.raw.length - raw.length).equals(raw), 'the message itself unchanged');

  const key = stack.dir.domain('example.test')!.dkim!;
  t.regex(key.selector, /^stoa\d{8}$/);
  const check = verifyDkim(got.raw, key.publicKey);
  t.true(check.bodyHashOk, 'body hash (relaxed)');
  t.true(check.ok, 'signature verifies with the published key');
  t.is(check.tags.s, key.selector);
  t.true(['from', 'to', 'subject', 'date', 'message-id'].every((h) => check.signedHeaders.includes(h)));
  // A tampered message fails.
  t.false(verifyDkim(Buffer.from(text.replace('Subject: Hello', 'Subject: Hellp'), 'latin1'), key.publicKey).ok);

  // The admin command shows the same key's record.
  const shown = (await runAdmin({ dir: stack.dir } as AdminBackend, ['domain', 'dkim', 'example.test'])) as { dkim: { selector: string; dns: { name: string; value: string; zone: string } } };
  t.is(shown.dkim.dns.name, `${key.selector}._domainkey.example.test`);
  t.is(shown.dkim.dns.value, `v=DKIM1; k=rsa; p=${key.publicKey}`);
  t.regex(shown.dkim.dns.zone, /^stoa\d{8}\._domainkey\.example\.test\. IN TXT \( "v=DKIM1; k=rsa; p=[^"]{237}" "[^"]+" \)$/);
  await svc.idle();
  t.deepEqual(svc.list(), [], 'nothing left in the queue');
});

test('through a smarthost with STARTTLS required and AUTH; MX lookups are not made', async (t) => {
  const tls = (await startMailStack(t)).tls;
  const resolver = testResolver();
  const mx0 = await startFakeMx(t, { tls, auth: { user: 'relay', pass: 'relay secret' } });
  const { mx, svc } = await setup(t, { resolver, smarthost: { host: '127.0.0.1', port: mx0.port, tls: 'starttls', rejectUnauthorized: false, auth: { user: 'relay', pass: 'relay secret' } } });
  await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'x@one.example' }, { address: 'y@two.example' }], raw: message() });
  await waitFor('two deliveries', () => mx0.received.length === 2);
  t.is(mx.received.length, 0);
  t.deepEqual(mx0.received.map((r) => r.to[0]).sort(), ['x@one.example', 'y@two.example']);
  t.true(mx0.received.every((r) => r.secure && r.user === 'relay'));
  t.deepEqual(resolver.mxQueries, []);

  // Wrong credentials: the mail waits (4.7.0), it does not bounce.
  const { svc: svc2, mx: mx2 } = await setup(t, { smarthost: { host: '127.0.0.1', port: mx0.port, tls: 'starttls', rejectUnauthorized: false, auth: { user: 'relay', pass: 'wrong' } }, retrySchedule: [3_600_000] });
  await svc2.enqueue({ from: 'alice@example.test', recipients: [{ address: 'x@one.example' }], raw: message() });
  await svc2.idle();
  const [e] = svc2.list();
  t.is(e!.recipients[0]!.state, 'pending');
  t.regex(e!.recipients[0]!.lastError ?? '', /^451 4\.7\.0 /);
  t.is(mx2.received.length, 0);
});

test('a temporary failure is retried on the schedule until it succeeds', async (t) => {
  const { mx, svc } = await setup(t);
  mx.rcpt = (a, n) => (a === 'bob@remote.example' && n < 3 ? '451 4.7.1 greylisted, try again later' : null);
  await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'bob@remote.example' }], raw: message() });
  await waitFor('first attempt', () => svc.list()[0]?.attempts === 1);
  const l = svc.list()[0]!;
  t.is(l.recipients[0]!.state, 'pending');
  t.is(l.recipients[0]!.lastError, '451 4.7.1 greylisted, try again later');
  t.true(Date.parse(l.nextAttempt) > Date.parse(l.created));
  await waitFor('delivery', () => mx.received.length === 1);
  t.is(mx.attempts.get('bob@remote.example'), 3);
  await svc.idle();
  t.deepEqual(svc.list(), []);
});

test('a permanent failure returns a DSN to the local sender: multipart/report with message/delivery-status and the original', async (t) => {
  const { stack, mx, svc } = await setup(t);
  mx.rcpt = (a) => (a === 'nobody@remote.example' ? '550 5.1.1 <nobody@remote.example>: no such user' : null);
  const raw = message('Party');
  await svc.enqueue({
    from: 'alice@example.test',
    recipients: [{ address: 'bob@remote.example' }, { address: 'nobody@remote.example', orcpt: 'rfc822;nobody@remote.example' }, { address: 'x@nullmx.example' }, { address: 'y@nx.example' }],
    raw,
    envid: 'party-1',
  });
  await waitFor('the DSN in the Inbox', async () => (await inbox(stack, 'alice@example.test')).length === 1);
  t.deepEqual(mx.received.map((r) => r.to), [['bob@remote.example']]);
  const [dsn] = await inbox(stack, 'alice@example.test');
  t.is(dsn!.subject, 'Undelivered Mail Returned to Sender');
  const text = dsn!.mime.toString('latin1');
  t.regex(text, /^Return-Path: <>\r\nReceived: by mail\.example\.test \(Stoa\) id /);
  t.regex(text, /\r\nFrom: Mail Delivery System <MAILER-DAEMON@mail\.example\.test>\r\n/);
  t.regex(text, /\r\nIn-Reply-To: <m1\.Party@example\.test>\r\n/);
  t.regex(text, /\r\nAuto-Submitted: auto-replied\r\n/);
  t.regex(text, /\r\nContent-Type: multipart\/report; report-type=delivery-status;\r\n\tboundary="=_stoa_dsn_[0-9a-f]{24}"\r\n/);
  const parsed = await simpleParser(dsn!.mime);
  t.regex(parsed.text ?? '', /could not be delivered to some recipients/);
  t.regex(parsed.text ?? '', /<nobody@remote\.example>: 550 5\.1\.1 <nobody@remote\.example>: no such user \(from mx\.remote\.example\)/);

  const ds = deliveryStatus(dsn!.mime);
  t.like(ds.message, { 'Reporting-MTA': 'dns; mail.example.test', 'Original-Envelope-Id': 'party-1' });
  t.regex(ds.message['Arrival-Date']!, /^\w{3}, \d+ \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/);
  const byRcpt = Object.fromEntries(ds.recipients.map((r) => [r['Final-Recipient'], r]));
  t.deepEqual(Object.keys(byRcpt).sort(), ['rfc822; nobody@remote.example', 'rfc822; x@nullmx.example', 'rfc822; y@nx.example'], 'only the failed ones');
  t.like(byRcpt['rfc822; nobody@remote.example'], {
    'Original-Recipient': 'rfc822; nobody@remote.example',
    Action: 'failed',
    Status: '5.1.1',
    'Remote-MTA': 'dns; mx.remote.example',
    'Diagnostic-Code': 'smtp; 550 5.1.1 <nobody@remote.example>: no such user',
  });
  t.regex(byRcpt['rfc822; nobody@remote.example']!['Last-Attempt-Date']!, /\+0000$/);
  t.like(byRcpt['rfc822; x@nullmx.example'], { Action: 'failed', Status: '5.1.10' });
  t.regex(byRcpt['rfc822; x@nullmx.example']!['Diagnostic-Code']!, /^X-Stoa; 556 5\.1\.10 nullmx\.example does not accept mail \(null MX\)/);
  t.like(byRcpt['rfc822; y@nx.example'], { Action: 'failed', Status: '5.1.2' });
  // No RET, a small message: it comes back whole.
  t.regex(text, /\r\nContent-Type: message\/rfc822\r\n/);
  t.true(text.includes(raw.toString('latin1')));
  await svc.idle();
  t.deepEqual(svc.list(), []);
});

test('expiry: a recipient still failing temporarily is returned with 4.4.7 (RET=HDRS: headers only); a DELAY notice comes first when asked', async (t) => {
  // Generous times: these tests share two cores, and an attempt may take a second under load.
  const { stack, mx, svc } = await setup(t, { expiryMs: 4000, delayNoticeMs: 300, retrySchedule: [300] });
  await stack.dir.setDkim('example.test', await makeDkimKey());
  mx.rcpt = () => '451 4.3.0 mailbox busy';
  await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'bob@remote.example', notify: ['FAILURE', 'DELAY'] }], raw: message('Late'), ret: 'HDRS' });
  await waitFor('two notices', async () => (await inbox(stack, 'alice@example.test')).length === 2);
  const notices = await inbox(stack, 'alice@example.test');
  const delayed = notices.find((n) => n.subject.startsWith('Delayed'))!;
  const failed = notices.find((n) => n.subject.startsWith('Undelivered'))!;
  t.like(deliveryStatus(delayed.mime).recipients[0], { Action: 'delayed', Status: '4.3.0' });
  t.truthy(deliveryStatus(delayed.mime).recipients[0]!['Will-Retry-Until']);
  const r = deliveryStatus(failed.mime).recipients[0]!;
  t.like(r, { 'Final-Recipient': 'rfc822; bob@remote.example', Action: 'failed', Status: '4.4.7' });
  t.regex(r['Diagnostic-Code']!, /message expired after 0 day\(s\) in the queue; last error: 451 4\.3\.0 mailbox busy/);
  const text = failed.mime.toString('latin1');
  t.regex(text, /\r\nContent-Type: text\/rfc822-headers\r\n/);
  t.true(text.includes('Subject: Late'));
  t.false(text.includes('see you'), 'no body with RET=HDRS');
  t.true((mx.attempts.get('bob@remote.example') ?? 0) >= 2);
  await svc.idle();
  t.deepEqual(svc.list(), []);
});

test('no notice for the null sender, nor for NOTIFY=NEVER; a remote sender gets its notice from <>', async (t) => {
  const { stack, mx, svc } = await setup(t);
  mx.rcpt = (a) => (a.startsWith('nobody') ? '550 5.1.1 no such user' : null);
  await svc.enqueue({ from: '', recipients: [{ address: 'nobody@remote.example' }], raw: message('Bounce of a bounce') });
  await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'nobody@remote.example', notify: ['NEVER'] }], raw: message('Never') });
  await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'nobody2@remote.example', notify: ['SUCCESS'] }], raw: message('Success only') });
  await waitFor('three attempts', () => svc.stats.attempts >= 3);
  await svc.idle();
  t.is(svc.stats.failed, 3);
  t.is(svc.stats.notices, 0);
  t.deepEqual(await inbox(stack, 'alice@example.test'), []);
  t.deepEqual(svc.list(), []);

  // A remote sender: the notice is queued from <> and sent to its MX.
  await svc.enqueue({ from: 'carol@remote.example', recipients: [{ address: 'nobody@remote.example' }], raw: message('Remote') });
  await waitFor('the notice at the MX', () => mx.received.some((r) => r.from === ''));
  const notice = mx.received.find((r) => r.from === '')!;
  t.deepEqual(notice.to, ['carol@remote.example']);
  t.regex(notice.raw.toString('latin1'), /report-type=delivery-status/);
  t.regex(notice.raw.toString('latin1'), /^DKIM-Signature: [^\r\n]*d=example\.test;/, 'signed for the domain under our host name');
});

test('NOTIFY=SUCCESS to a server without DSN: no DSN parameters sent, and a "relayed" notice to the sender', async (t) => {
  const { stack, mx, svc } = await setup(t, {}, { dsn: false });
  await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'bob@remote.example', notify: ['SUCCESS', 'FAILURE'] }, { address: 'carl@remote.example' }], raw: message('Relay') });
  await waitFor('the notice', async () => (await inbox(stack, 'alice@example.test')).length === 1);
  t.deepEqual(mx.received.flatMap((r) => r.rcptArgs), [{}, {}], 'no DSN parameters to a server without DSN');
  const [n] = await inbox(stack, 'alice@example.test');
  t.is(n!.subject, 'Successful Mail Delivery Report');
  const ds = deliveryStatus(n!.mime);
  t.is(ds.recipients.length, 1, 'only the recipient that asked');
  t.like(ds.recipients[0], { 'Final-Recipient': 'rfc822; bob@remote.example', Action: 'relayed', Status: '2.6.0', 'Remote-MTA': 'dns; mx.remote.example' }, "the peer's own status");
  t.regex(n!.mime.toString('latin1'), /\r\nContent-Type: text\/rfc822-headers\r\n/, 'headers only for a success');
});

test('the queue survives a restart: an entry acknowledged before a stop is delivered after it', async (t) => {
  const { stack, mx } = await setup(t);
  // Its own data folder (the setup's service has <data>/queue).
  const dataDir = join(stack.path, 'other');
  const base = { dataDir, dir: stack.dir, delivery: stack.delivery, hostname: 'mail.example.test', log: quietLog, mxPort: mx.port, retrySchedule: [300] };
  const a = new OutboundService({ ...base, resolver: testResolver({ resolveMx: () => Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })) }) });
  await a.start();
  const id = await a.enqueue({ from: 'alice@example.test', recipients: [{ address: 'bob@remote.example' }], raw: message('Restart') });
  await a.idle();
  t.is(a.list()[0]!.recipients[0]!.state, 'pending');
  t.regex(a.list()[0]!.recipients[0]!.lastError!, /DNS lookup of remote\.example failed \(ETIMEOUT\)/);
  await a.stop();
  await t.throwsAsync(a.enqueue({ from: 'alice@example.test', recipients: [{ address: 'bob@remote.example' }], raw: message() }), { message: /not running/ });

  const b = new OutboundService({ ...base, resolver: testResolver() });
  await b.start();
  t.teardown(() => b.stop());
  await waitFor('delivery after the restart', () => mx.received.length === 1);
  t.regex(mx.received[0]!.raw.toString('latin1'), new RegExp(`Received: by mail\\.example\\.test \\(Stoa\\) id ${id};`));
  await b.idle();
  t.deepEqual(b.list(), []);
});

test('queue list, flush and remove through runAdmin; offline list and remove on the store', async (t) => {
  const { stack, mx, svc } = await setup(t, { retrySchedule: [3_600_000] });
  let refuse = true;
  mx.rcpt = () => (refuse ? '452 4.2.2 mailbox full' : null);
  const backend = { dir: stack.dir, queue: svc } as unknown as AdminBackend;
  const id1 = await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'bob@remote.example' }], raw: message('One') });
  const id2 = await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'eve@remote.example' }], raw: message('Two') });
  await svc.idle();
  const list = (await runAdmin(backend, ['queue', 'list'])) as { id: string; from: string; attempts: number; nextAttempt: string; recipients: { address: string; state: string; attempts: number; lastError: string }[] }[];
  t.deepEqual(list.map((e) => e.id), [id1, id2]);
  t.like(list[0], { from: 'alice@example.test', attempts: 1 });
  t.deepEqual(list[0]!.recipients, [{ address: 'bob@remote.example', state: 'pending', attempts: 1, lastError: '452 4.2.2 mailbox full' }]);
  t.true(Date.parse(list[0]!.nextAttempt) > Date.now() + 3_000_000, 'next attempt in an hour');

  t.deepEqual(await runAdmin(backend, ['queue', 'remove', id2]), { removed: id2 });
  await t.throwsAsync(runAdmin(backend, ['queue', 'remove', id2]), { message: `no queue entry ${id2}` });
  refuse = false;
  t.deepEqual(await runAdmin(backend, ['queue', 'flush']), { flushed: 1 });
  await waitFor('delivery after flush', () => mx.received.length === 1);
  t.deepEqual(mx.received[0]!.to, ['bob@remote.example']);
  await svc.idle();
  t.deepEqual(await runAdmin(backend, ['queue', 'list']), []);
  await t.throwsAsync(runAdmin({ dir: stack.dir } as AdminBackend, ['queue', 'list']), { message: /no outbound queue/ });

  // Offline (no server): the store opened directly.
  const { offlineQueueAdmin } = await import('../../../protocols/smtp/outbound/outbound-service.js');
  refuse = true;
  const id3 = await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'bob@remote.example' }], raw: message('Three') });
  await svc.idle();
  await svc.stop();
  const store = await OutboundQueueStore.open(join(stack.path, 'queue'));
  const off = { dir: stack.dir, queue: offlineQueueAdmin(store) } as unknown as AdminBackend;
  t.deepEqual(((await runAdmin(off, ['queue', 'list'])) as { id: string }[]).map((e) => e.id), [id3]);
  await t.throwsAsync(runAdmin(off, ['queue', 'flush']), { message: /needs the running server/ });
  t.deepEqual(await runAdmin(off, ['queue', 'remove', id3]), { removed: id3 });
  t.deepEqual(await runAdmin(off, ['queue', 'list']), []);
  await store.close();
});

test('a message over 1 MiB goes out whole and signed', async (t) => {
  const { stack, mx, svc } = await setup(t);
  const line = 'All work and no play makes Jack a dull boy. 0123456789 abcdefghijklmnopqrstuvwxyz\r\n';
  const body = line.repeat(Math.ceil((3 * 1024 * 1024) / line.length));
  const raw = Buffer.concat([message('Big').subarray(0, message('Big').indexOf('\r\n\r\n') + 4), Buffer.from(body)]);
  t.true(raw.length > 3 * 1024 * 1024);
  await svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'bob@remote.example' }], raw });
  await waitFor('delivery', () => mx.received.length === 1, 30_000);
  const got = mx.received[0]!.raw;
  t.true(got.subarray(got.length - raw.length).equals(raw));
  t.true(verifyDkim(got, stack.dir.domain('example.test')!.dkim!.publicKey).ok);
});

test('the SMTP door: copies that fail for good after DATA are reported to the sender; the others are accepted', async (t) => {
  const { stack, mx, svc } = await setup(t);
  await stack.addUser('bob@example.test', 'bob password', 'Bob');
  await stack.dir.addGroup('team@example.test', 'Team');
  await stack.dir.setGroupMember('team@example.test', 'alice@example.test', true);
  await stack.dir.setGroupMember('team@example.test', 'bob@example.test', true);
  // Bob over quota: as a group member his RCPT is accepted and his copy fails with 552 5.2.2.
  await stack.delivery.deliver(message('Filler'), [stack.dir.userByAddress('bob@example.test')!]);
  await stack.sys.call(stack.mailbox('bob@example.test'), 'setQuota', { bytes: 1 });
  const doors = new SmtpDoors({
    hostname: 'mail.example.test',
    log: quietLog,
    dir: stack.dir,
    auth: stack.auth,
    delivery: stack.delivery,
    outbound: svc,
    tls: stack.tls,
    limits: { maxMessageBytes: 1 << 20, maxRecipients: 10, maxConnectionsPerIp: 10, maxAuthFailures: 3, socketTimeoutMs: 30_000 },
    allowPlaintextAuth: false,
  });
  t.teardown(() => doors.close());
  const port = await stack.listen(doors.handler('inbound'));
  const tx = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  const info = await tx.sendMail({ envelope: { from: 'carol@remote.example', to: ['alice@example.test', 'team@example.test'] }, raw: message('Team news') });
  t.regex(info.response, /^250 /);
  await waitFor('the notice at the sender\'s MX', () => mx.received.length === 1);
  const n = mx.received[0]!;
  t.is(n.from, '');
  t.deepEqual(n.to, ['carol@remote.example']);
  t.like(deliveryStatus(n.raw).recipients[0], { 'Final-Recipient': 'rfc822; team@example.test', Action: 'failed', Status: '5.2.2' });
  t.is((await inbox(stack, 'alice@example.test')).length, 1, 'alice got her copy');
});
