import test from 'ava';
import { XMLParser } from 'fast-xml-parser';
import { basic, once } from '../http/client.js';
import { PASSWORD, startDoor, type Harness } from '../http/harness.js';

const OUTLOOK = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
const MOBILE = 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006';

let h: Harness;
test.before(async () => {
  h = await startDoor({ users: ['alice@example.test', 'bob@example.test', 'carol@example.test'] });
  await h.dir.addAlias('alice@example.test', 'a.liddell@example.test');
  await h.dir.grantFullAccess('carol@example.test', 'alice@example.test'); // alice may open carol's mailbox
});
test.after.always(async () => h?.close());

function body(who: string, schema = OUTLOOK, by: 'EMailAddress' | 'LegacyDN' = 'EMailAddress'): string {
  const ns = schema === MOBILE ? 'mobilesync' : 'outlook';
  return `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/${ns}/requestschema/2006"><Request><${by}>${who}</${by}><AcceptableResponseSchema>${schema}</AcceptableResponseSchema></Request></Autodiscover>`;
}

async function autodiscover(login: string | null, xml: string, extra: Record<string, string> = {}, path = '/autodiscover/autodiscover.xml') {
  const headers = { host: 'autodiscover.example.test', 'content-type': 'text/xml', 'content-length': String(Buffer.byteLength(xml)), ...(login === null ? {} : { authorization: basic(login, PASSWORD) }), ...extra };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const r = await once(h.httpsPort, true, `POST ${path} HTTP/1.1\r\n${head}\r\n${xml}`);
  const text = r.body.toString('utf8');
  let doc: Record<string, any> | null = null;
  if (/xml/.test(r.headers['content-type'] ?? '')) doc = new XMLParser({ ignoreAttributes: false }).parse(text) as Record<string, any>;
  return { status: r.status, headers: r.headers, text, doc };
}

const mapiHttp = { 'x-mapihttpcapability': '1' };

test('a user\'s own settings: mapiHttp MailStore / AddressBook with the MailboxGuid, User with the legacy DN', async (t) => {
  const alice = h.dir.userByAddress('alice@example.test')!;
  const r = await autodiscover('alice@example.test', body('alice@example.test'), mapiHttp, '/AutoDiscover/AutoDiscover.xml');
  t.is(r.status, 200);
  t.is(r.headers['content-type'], 'text/xml; charset=utf-8');
  const resp = r.doc!.Autodiscover.Response;
  t.is(resp['@_xmlns'], OUTLOOK);
  t.deepEqual(resp.User, { DisplayName: 'Alice', LegacyDN: alice.legacyDn, AutoDiscoverSMTPAddress: 'alice@example.test', DeploymentId: '00000000-0000-4000-8000-000000000001' });
  const p = resp.Account.Protocol;
  t.is(p['@_Type'], 'mapiHttp');
  t.is(p['@_Version'], '1');
  const guid = `1234abcd-0000-4000-8000-${Buffer.from('alice@example.test').toString('hex').slice(0, 12)}`;
  t.is(p.MailStore.InternalUrl, `https://mail.example.test/mapi/emsmdb/?MailboxId=${guid}@example.test`);
  t.is(p.MailStore.ExternalUrl, `https://mail.example.test/mapi/emsmdb/?MailboxId=${guid}@example.test`);
  t.is(p.AddressBook.InternalUrl, `https://mail.example.test/mapi/nspi/?MailboxId=${guid}@example.test`);
  t.false(/EXCH|EXPR|EXHTTP/.test(r.text), 'no RPC over HTTP sections before that door exists');
  // By alias and by legacy DN: the same mailbox; the GUID is asked of the mailbox once.
  const calls = h.guidCalls.filter((a) => a === 'alice@example.test').length;
  const byAlias = await autodiscover('alice@example.test', body('A.Liddell@example.test'), mapiHttp);
  t.is(byAlias.doc!.Autodiscover.Response.User.AutoDiscoverSMTPAddress, 'alice@example.test');
  const byDn = await autodiscover('alice@example.test', body(alice.legacyDn, OUTLOOK, 'LegacyDN'), mapiHttp);
  t.is(byDn.doc!.Autodiscover.Response.Account.Protocol.MailStore.InternalUrl, p.MailStore.InternalUrl);
  t.is(h.guidCalls.filter((a) => a === 'alice@example.test').length, calls, 'cached');
});

test('without X-MapiHttpCapability: the account, but no protocol sections yet', async (t) => {
  const r = await autodiscover('alice@example.test', body('alice@example.test'));
  t.is(r.status, 200);
  const acc = r.doc!.Autodiscover.Response.Account;
  t.is(acc.Action, 'settings');
  t.is(acc.Protocol, undefined);
  t.is((await autodiscover('alice@example.test', body('alice@example.test'), { 'x-mapihttpcapability': '0' })).doc!.Autodiscover.Response.Account.Protocol, undefined);
});

test('an unknown address, or another user\'s without a grant, gets error 500; with a grant, that mailbox\'s settings', async (t) => {
  const err = (r: Awaited<ReturnType<typeof autodiscover>>) => r.doc!.Autodiscover.Response.Error;
  const unknown = await autodiscover('alice@example.test', body('nobody@example.test'), mapiHttp);
  t.is(unknown.status, 200);
  t.is(err(unknown).ErrorCode, 500);
  t.regex(err(unknown)['@_Time'], /^\d\d:\d\d:\d\d\.\d{3}$/);
  const denied = await autodiscover('alice@example.test', body('bob@example.test'), mapiHttp);
  t.is(err(denied).ErrorCode, 500, 'bob did not grant alice anything');
  t.is(denied.text.replace(/Time="[^"]+"/, ''), unknown.text.replace(/Time="[^"]+"/, ''), 'indistinguishable from an unknown address');
  const granted = await autodiscover('alice@example.test', body('carol@example.test'), mapiHttp);
  t.is(granted.status, 200);
  t.is(granted.doc!.Autodiscover.Response.User.AutoDiscoverSMTPAddress, 'carol@example.test');
  t.regex(granted.doc!.Autodiscover.Response.Account.Protocol.MailStore.InternalUrl, /MailboxId=1234abcd-0000-4000-8000-[0-9a-f]{12}@example\.test$/);
  t.is(err(await autodiscover('carol@example.test', body('alice@example.test'), mapiHttp)).ErrorCode, 500, 'a grant goes one way');
  await h.dir.revokeFullAccess('carol@example.test', 'alice@example.test');
  t.is(err(await autodiscover('alice@example.test', body('carol@example.test'), mapiHttp)).ErrorCode, 500, 'revoked: refused at once');
  await h.dir.grantFullAccess('carol@example.test', 'alice@example.test');
});

test('phones: the mobilesync schema answers with the ActiveSync URL; an unknown schema gets 601', async (t) => {
  const r = await autodiscover('bob@example.test', body('bob@example.test', MOBILE));
  t.is(r.status, 200);
  const resp = r.doc!.Autodiscover.Response;
  t.is(resp['@_xmlns'], MOBILE);
  t.deepEqual(resp.User, { DisplayName: 'Bob', EMailAddress: 'bob@example.test' });
  t.deepEqual(resp.Action.Settings.Server, { Type: 'MobileSync', Url: 'https://mail.example.test/Microsoft-Server-ActiveSync', Name: 'https://mail.example.test/Microsoft-Server-ActiveSync' });
  const other = await autodiscover('bob@example.test', body('bob@example.test', 'http://example.test/some/other/schema'));
  t.is(other.doc!.Autodiscover.Response.Error.ErrorCode, 601);
});

test('authentication comes before any lookup; bad XML gets 400 with error 600; oversized bodies 413', async (t) => {
  const anon = await autodiscover(null, body('alice@example.test'));
  t.is(anon.status, 401);
  t.regex(anon.headers['www-authenticate']!, /^Basic realm=/);
  const wrong = await once(h.httpsPort, true, `POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('alice@example.test', 'nope')}\r\nContent-Length: 3\r\n\r\nabc`);
  t.is(wrong.status, 401);
  for (const bad of ['<Autodiscover><Request>', 'plain text', `<!DOCTYPE a [<!ENTITY x "y">]>${body('alice@example.test')}`]) {
    const r = await autodiscover('alice@example.test', bad);
    t.is(r.status, 400, bad);
    t.is(r.doc!.Autodiscover.Response.Error.ErrorCode, 600);
  }
  const big = await autodiscover('alice@example.test', body('alice@example.test') + ' '.repeat(70 * 1024));
  t.is(big.status, 413);
  t.is(big.headers.connection, 'close');
  // Chunked, so the size is only known while reading.
  const chunk = 'x'.repeat(40 * 1024);
  const head = `POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('alice@example.test', PASSWORD)}\r\nTransfer-Encoding: chunked\r\n\r\n`;
  t.is((await once(h.httpsPort, true, `${head}${(chunk.length).toString(16)}\r\n${chunk}\r\n${(chunk.length).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`)).status, 413);
  t.is((await once(h.httpsPort, true, `GET /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\n\r\n`)).status, 405);
});

test('plain HTTP: GET autodiscover.xml is redirected to HTTPS; POST is refused; autoconfig is served', async (t) => {
  const r = await once(h.httpPort, false, 'GET /Autodiscover/Autodiscover.xml HTTP/1.1\r\nHost: autodiscover.example.test\r\n\r\n');
  t.is(r.status, 302);
  t.is(r.headers.location, 'https://mail.example.test/Autodiscover/Autodiscover.xml');
  t.is((await once(h.httpPort, false, `POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`)).status, 403);
  for (const [port, tls, path, host] of [
    [h.httpPort, false, '/mail/config-v1.1.xml?emailaddress=alice%40example.test', 'autoconfig.example.test'],
    [h.httpPort, false, '/mail/config-v1.1.xml', 'autoconfig.example.test'],
    [h.httpsPort, true, '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice@example.test', 'example.test'],
  ] as const) {
    const a = await once(port, tls, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    t.is(a.status, 200, path);
    const cfg = new XMLParser({ ignoreAttributes: false }).parse(a.body.toString()) as Record<string, any>;
    const p = cfg.clientConfig.emailProvider;
    t.is(p['@_id'], 'example.test');
    t.deepEqual(
      p.incomingServer.map((s: Record<string, unknown>) => [s['@_type'], s.port, s.socketType]),
      [
        ['imap', 993, 'SSL'],
        ['imap', 143, 'STARTTLS'],
        ['pop3', 995, 'SSL'],
        ['pop3', 110, 'STARTTLS'],
      ],
    );
    t.deepEqual(p.outgoingServer.map((s: Record<string, unknown>) => [s.port, s.socketType]), [
      [465, 'SSL'],
      [587, 'STARTTLS'],
    ]);
  }
  t.is((await once(h.httpPort, false, 'GET /mail/config-v1.1.xml?emailaddress=x@elsewhere.test HTTP/1.1\r\nHost: x\r\n\r\n')).status, 404);
});

test('the JSON form over HTTPS', async (t) => {
  const r = await once(h.httpsPort, true, 'GET /autodiscover/autodiscover.json/v1.0/bob@example.test?Protocol=ActiveSync HTTP/1.1\r\nHost: x\r\n\r\n');
  t.is(r.status, 200);
  t.deepEqual(JSON.parse(r.body.toString()), { Protocol: 'ActiveSync', Url: 'https://mail.example.test/Microsoft-Server-ActiveSync' });
  const bad = await once(h.httpsPort, true, 'GET /autodiscover/autodiscover.json/v1.0/bob@example.test?Protocol=Nope HTTP/1.1\r\nHost: x\r\n\r\n');
  t.is(bad.status, 400);
  t.is(JSON.parse(bad.body.toString()).ErrorCode, 'InvalidProtocol');
});
