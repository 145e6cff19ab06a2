import test from 'ava';
import { resolveRoute, type MxResolver, type RouteOptions } from '../../../protocols/smtp/outbound/route.js';
import { replyFromResponse, sendToHosts } from '../../../protocols/smtp/outbound/smtp-client.js';
import { buildDsn, headerBlock, wantsNotice } from '../../../protocols/smtp/outbound/dsn.js';
import { startFakeMx } from './outbound-fixtures.js';
import { loadTlsIdentity } from '../../../protocols/shared/tls.js';
import { loadConfig } from '../../../runtime/config.js';
import { tempDir } from '../../helpers.js';

const err = (code: string) => Promise.reject(Object.assign(new Error(code), { code }));

function opts(resolver: Partial<MxResolver>, over: Partial<RouteOptions> = {}): RouteOptions {
  return { resolver: { resolveMx: () => err('ENODATA'), resolveHost: () => err('ENOTFOUND'), ...resolver }, smarthost: null, mxPort: 25, mxRejectUnauthorized: false, ...over };
}

test('MX routes: preference order, the implicit MX, null MX, missing domains, DNS trouble, address literals, the smarthost', async (t) => {
  const hosts = { 'mx1.a.example': ['192.0.2.1', '192.0.2.2', '192.0.2.3'], 'mx2.a.example': ['192.0.2.9'], 'b.example': ['192.0.2.5'] } as Record<string, string[]>;
  const resolveHost = (h: string) => (hosts[h] !== undefined ? Promise.resolve(hosts[h]) : err('ENOTFOUND'));
  const r = await resolveRoute('a.example', opts({ resolveMx: () => Promise.resolve([{ exchange: 'MX2.a.example.', priority: 20 }, { exchange: 'mx1.a.example', priority: 10 }]), resolveHost }));
  t.true(r.ok);
  if (r.ok) {
    t.deepEqual(r.hosts.map((h) => h.name), ['mx1.a.example', 'mx2.a.example']);
    t.deepEqual(r.hosts[0]!.addresses, ['192.0.2.1', '192.0.2.2'], 'two addresses per host');
    t.like(r.hosts[0], { port: 25, tls: 'opportunistic', rejectUnauthorized: false, auth: null });
  }
  // RFC 5321 5.1: no MX records → the domain's own address.
  const implicit = await resolveRoute('b.example', opts({ resolveHost }));
  t.deepEqual(implicit.ok ? implicit.hosts.map((h) => [h.name, h.addresses]) : implicit, [['b.example', ['192.0.2.5']]]);
  t.like(await resolveRoute('c.example', opts({ resolveHost: () => err('ENODATA') })), { ok: false, reply: { code: 550, status: '5.1.2' } }, 'no MX and no address');
  t.like(await resolveRoute('n.example', opts({ resolveMx: () => Promise.resolve([{ exchange: '', priority: 0 }]) })), { ok: false, reply: { code: 556, status: '5.1.10' } }, 'RFC 7505 null MX');
  t.like(await resolveRoute('gone.example', opts({ resolveMx: () => err('ENOTFOUND') })), { ok: false, reply: { code: 550, status: '5.1.2' } });
  t.like(await resolveRoute('slow.example', opts({ resolveMx: () => err('ETIMEOUT') })), { ok: false, reply: { code: 451, status: '4.4.3' } }, 'DNS trouble is temporary');
  t.like(await resolveRoute('d.example', opts({ resolveMx: () => Promise.resolve([{ exchange: 'nowhere.example', priority: 1 }]) })), { ok: false, reply: { code: 451 } }, 'MX hosts without addresses: temporary');
  const lit = await resolveRoute('[192.0.2.7]', opts({}));
  t.deepEqual(lit.ok ? lit.hosts[0]!.addresses : lit, ['192.0.2.7']);
  const smart = await resolveRoute('anything.example', opts({ resolveMx: () => t.fail() as never }, { smarthost: { host: '192.0.2.8', port: 587, tls: 'starttls', auth: { user: 'u', pass: 'p' } } }));
  t.like(smart, { ok: true, hosts: [{ name: '192.0.2.8', addresses: ['192.0.2.8'], port: 587, tls: 'starttls', rejectUnauthorized: true, auth: { user: 'u', pass: 'p' } }] });
});

test('replies: code, enhanced status and text from one or several lines', (t) => {
  t.deepEqual(replyFromResponse('550 5.1.1 <x@y>: no such user', 451), { code: 550, status: '5.1.1', text: '<x@y>: no such user' });
  t.deepEqual(replyFromResponse('452-4.2.2 mailbox full\r\n452 4.2.2 try later', 451), { code: 452, status: '4.2.2', text: 'mailbox full try later' });
  t.deepEqual(replyFromResponse('250 ok', 250), { code: 250, status: '2.0.0', text: 'ok' });
});

test('the next MX host is tried when one cannot be reached; a reply from a host is final for its recipients', async (t) => {
  const mx = await startFakeMx(t);
  mx.rcpt = (a) => (a.startsWith('no') ? '550 5.1.1 unknown' : null);
  // Nothing listens on the first port (a server closed at once).
  const dead = await startFakeMx(t);
  await dead.close();
  const hosts = [
    { name: 'dead.example', addresses: ['127.0.0.1'], port: dead.port, tls: 'opportunistic' as const, rejectUnauthorized: false, auth: null },
    { name: 'live.example', addresses: ['127.0.0.1'], port: mx.port, tls: 'opportunistic' as const, rejectUnauthorized: false, auth: null },
  ];
  const errors: string[] = [];
  const out = await sendToHosts(
    hosts,
    { from: 'a@example.test', recipients: [{ address: 'yes@x.example' }, { address: 'no@x.example', notify: ['NEVER'] }], message: Buffer.from('Subject: x\r\n\r\nhi\r\n') },
    { heloName: 'mail.example.test', connectTimeoutMs: 3000, greetingTimeoutMs: 3000, socketTimeoutMs: 5000, onSessionError: (h) => errors.push(h) },
  );
  t.deepEqual(errors, ['dead.example']);
  t.like(out.get('yes@x.example'), { reply: { code: 250 }, remoteMta: 'dns; live.example' });
  t.like(out.get('no@x.example'), { reply: { code: 550, status: '5.1.1', text: 'unknown' }, remoteMta: 'dns; live.example' });
  t.is(mx.received.length, 1);
  t.deepEqual(mx.received[0]!.to, ['yes@x.example']);
  // No host at all: temporary, with the reason.
  const none = await sendToHosts(hosts.slice(0, 1), { from: '', recipients: [{ address: 'z@x.example' }], message: Buffer.from('x\r\n') }, { heloName: 'h', connectTimeoutMs: 3000, greetingTimeoutMs: 3000, socketTimeoutMs: 5000 });
  t.like(none.get('z@x.example'), { reply: { code: 451, status: '4.4.1' } });
  t.regex(none.get('z@x.example')!.reply.text, /connection failed/);
});

test('opportunistic STARTTLS: a failed handshake falls back to plain text, unless certificates are verified', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const tls = await loadTlsIdentity(loadConfig({ data: d.path }, {}).config, 'mx.remote.example');
  // A server whose TLS cannot be agreed on (TLS 1.0 only; we ask for 1.2 or later).
  const old = await startFakeMx(t, { tls: { key: tls.key, cert: tls.cert, maxVersion: 'TLSv1', minVersion: 'TLSv1' } as never });
  const good = await startFakeMx(t, { tls });
  const o = { heloName: 'mail.example.test', connectTimeoutMs: 3000, greetingTimeoutMs: 3000, socketTimeoutMs: 5000 };
  const job = { from: 'a@example.test', recipients: [{ address: 'b@x.example' }], message: Buffer.from('Subject: t\r\n\r\nhi\r\n') };
  const host = (port: number, rejectUnauthorized: boolean) => [{ name: 'mx.remote.example', addresses: ['127.0.0.1'], port, tls: 'opportunistic' as const, rejectUnauthorized, auth: null }];
  t.like((await sendToHosts(host(old.port, false), job, o)).get('b@x.example'), { reply: { code: 250 } });
  t.false(old.received[0]!.secure, 'delivered in plain text after the failed handshake');
  t.like((await sendToHosts(host(old.port, true), job, o)).get('b@x.example'), { reply: { code: 451, status: '4.4.1' } }, 'verifying: no plain-text fallback');
  t.is(old.received.length, 1);
  // Verification on and a self-signed certificate: temporary failure; off: TLS without checks.
  const v = (await sendToHosts(host(good.port, true), job, o)).get('b@x.example')!;
  t.like(v, { reply: { code: 451 } });
  t.regex(v.reply.text, /TLS failed|certificate/i);
  t.like((await sendToHosts(host(good.port, false), job, o)).get('b@x.example'), { reply: { code: 250 } });
  t.true(good.received[0]!.secure);
});

test('DSN: NOTIFY rules, RET, the header block, and the report fields', (t) => {
  t.true(wantsNotice(undefined, 'FAILURE'));
  t.false(wantsNotice(undefined, 'DELAY'));
  t.false(wantsNotice(['NEVER'], 'FAILURE'));
  t.true(wantsNotice(['SUCCESS', 'DELAY'], 'DELAY'));
  t.false(wantsNotice(['SUCCESS'], 'FAILURE'));
  const original = Buffer.from('Subject: Hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n');
  t.is(headerBlock(original).toString(), 'Subject: Hi\r\nMessage-ID: <a@b>\r\n');
  const d = buildDsn({ reportingMta: 'mx.example.test', to: 'a@example.test', arrival: 0, ret: 'HDRS', recipients: [{ address: 'b@x.example', action: 'failed', reply: { code: 550, status: '5.1.1', text: 'unknown' }, remoteMta: 'dns; mx.x.example', lastAttempt: 0 }], original, now: new Date(0) }).toString();
  t.regex(d, /\r\nSubject: Undelivered Mail Returned to Sender\r\n/);
  t.regex(d, /\r\nContent-Type: message\/delivery-status\r\nContent-Description: Delivery report\r\n\r\nReporting-MTA: dns; mx\.example\.test\r\nArrival-Date: Thu, 1 Jan 1970 00:00:00 \+0000\r\n\r\nFinal-Recipient: rfc822; b@x\.example\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.x\.example\r\nDiagnostic-Code: smtp; 550 5\.1\.1 unknown\r\nLast-Attempt-Date: Thu, 1 Jan 1970 00:00:00 \+0000\r\n/);
  t.regex(d, /\r\nContent-Type: text\/rfc822-headers\r\n[^\r\n]*\r\n\r\nSubject: Hi\r\nMessage-ID: <a@b>\r\n\r\n--=_stoa_dsn_[0-9a-f]{24}--\r\n$/);
  t.false(d.includes('body'));
});
