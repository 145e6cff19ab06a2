import test from 'ava';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { classifyRequestStart, requestStartAt } from '../../../protocols/http/request-line.js';
import { ChunkedDecoder } from '../../../protocols/http/chunked.js';
import { findHeadEnd, parseHead } from '../../../protocols/http/own-http.js';
import { parseBasic } from '../../../protocols/http/http-auth.js';
import { FailureThrottle } from '../../../protocols/shared/failure-throttle.js';
import { Router, type Route } from '../../../protocols/http/router.js';
import { allowed, parseAllowList, plainAddress } from '../../../protocols/http/address-allow.js';

const b = (s: string) => Buffer.from(s, 'latin1');

test('request starts are classified by method: Node\'s list, our own, or invalid', (t) => {
  t.deepEqual(classifyRequestStart(b('GET / HTTP/1.1')), { kind: 'method', method: 'GET', standard: true });
  t.deepEqual(classifyRequestStart(b('PROPFIND /dav/')), { kind: 'method', method: 'PROPFIND', standard: true });
  t.deepEqual(classifyRequestStart(b('RPC_IN_DATA /rpc')), { kind: 'method', method: 'RPC_IN_DATA', standard: false });
  t.deepEqual(classifyRequestStart(b('\r\nRPC_OUT_DATA /')), { kind: 'method', method: 'RPC_OUT_DATA', standard: false }, 'a leading empty line is skipped');
  t.is(classifyRequestStart(b('RPC_IN')).kind, 'need-more');
  t.is(classifyRequestStart(b('')).kind, 'need-more');
  t.is(classifyRequestStart(b(' GET /')).kind, 'invalid');
  t.is(classifyRequestStart(b('G{T /')).kind, 'invalid');
  t.is(classifyRequestStart(b('\u0016\u0003\u0001')).kind, 'invalid', 'a TLS hello on the plain port');
  t.is(classifyRequestStart(b('A'.repeat(40))).kind, 'invalid', 'a method too long');
  t.is(classifyRequestStart(b('\r\n'.repeat(10) + 'GET')).kind, 'invalid');
});

test('where a request Node\'s parser refused for its method starts, from the error Node reports', async (t) => {
  // Node's own parser (llhttp) on loopback: what it hands to 'clientError' for each case.
  const errors: { raw: Buffer; at: number }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end());
  });
  server.on('clientError', (err: Error & { rawPacket?: Buffer; bytesParsed?: number }, socket) => {
    errors.push({ raw: err.rawPacket!, at: err.bytesParsed! });
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const refusal = async (bytes: string) => {
    const n = errors.length;
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.end(bytes);
    while (errors.length === n) await new Promise((r) => setTimeout(r, 5));
    return errors[n]!;
  };
  const get = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
  const postOf = (body: string) => `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const req = (method: string) => `${method} /x HTTP/1.1\r\nHost: x\r\n\r\n`;
  // [bytes before, method]: the request before had a Content-Length body when it is a postOf().
  const cases: [string, string][] = [
    ['', 'RPC_IN_DATA'],
    ['\r\n', 'RPC_OUT_DATA'],
    [get, 'RPC_IN_DATA'],
    [get + '\r\n', 'RPC_OUT_DATA'],
    [get + get, 'PROPFINX'],
    [get, 'GETX'],
    [get, 'M-SEARCHX'],
    [get, 'XYZ'],
    [postOf('xyz'), 'RPC_IN_DATA'],
    [postOf('<a/>'), 'RPC_IN_DATA'],
    ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 'RPC_IN_DATA'],
  ];
  for (const [before, method] of cases) {
    const e = await refusal(before + req(method));
    t.is(requestStartAt(e.raw, e.at, before.includes('Content-Length')), before.length, JSON.stringify(before.slice(0, 20)) + ' ' + method);
  }
  const e = await refusal(postOf('ab') + req('PROPFINX'));
  t.is(requestStartAt(e.raw, e.at, true), null, 'after a body, "PROPFIN" + X and "N" + X (NOTIFY) both fit (after a line end only the first: cases above)');
  // Two readings fit: the previous body's last letters may begin the method ("P" + "RPC..." also reads "PR" + "PC...").
  for (const [body, method] of [['abcP', 'RPC_IN_DATA'], ['abcP', 'OX']]) {
    const x = await refusal(postOf(body!) + req(method!));
    t.is(requestStartAt(x.raw, x.at, true), null, `${body} then ${method}`);
  }
  t.is(requestStartAt(b('RPC'), 3, false), null, 'no byte at the error');
  t.is(requestStartAt(b('RPC'), -1, false), null);
});

const CHUNKED = '5\r\nhello\r\n1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\nNEXT';

function decodeIn(parts: Buffer[]): { data: string; rest: string } | string {
  const d = new ChunkedDecoder();
  let data = '';
  let rest = '';
  for (const p of parts) {
    if (d.done) {
      rest += p.toString('latin1');
      continue;
    }
    const r = d.feed(p, (x) => (data += Buffer.from(x).toString('latin1')));
    if (r.error !== undefined) return r.error;
    if (r.done) rest += p.subarray(r.used).toString('latin1');
  }
  return { data, rest };
}

test('chunked bodies decode whole, split at every offset, and one byte at a time; what follows stays', (t) => {
  const all = b(CHUNKED);
  const want = { data: 'hello' + 'abcdefghijklmnopqrstuvwxyz', rest: 'NEXT' };
  t.deepEqual(decodeIn([all]), want);
  for (let i = 0; i <= all.length; i++) t.deepEqual(decodeIn([all.subarray(0, i), all.subarray(i)]), want, `split at ${i}`);
  t.deepEqual(decodeIn([...all].map((x) => Buffer.from([x]))), want);
  t.deepEqual(decodeIn([b('3\nabc\n0\n\n')]), { data: 'abc', rest: '' }, 'bare LF line ends');
});

test('bad chunked framing is an error value, never a throw', (t) => {
  for (const bad of ['zz\r\n', '5\r\nhelloXX', '\r\n', '12345678901234\r\n', '5\r\r\nhello', `1;${'e'.repeat(2000)}\r\n`]) {
    t.is(typeof decodeIn([b(bad)]), 'string', JSON.stringify(bad.slice(0, 20)));
  }
});

test('own parser heads: request line, fields, framing per RFC 9112', (t) => {
  const ok = parseHead(b('RPC_IN_DATA /rpc/rpcproxy.dll?h:6001 HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\nX-A: 1\r\nx-a: 2\r\n'));
  if ('error' in ok) return t.fail(ok.error);
  t.is(ok.method, 'RPC_IN_DATA');
  t.is(ok.target, '/rpc/rpcproxy.dll?h:6001');
  t.deepEqual(ok.framing, { kind: 'length', remaining: 1073741824 });
  t.is(ok.headers['x-a'], '1, 2');
  t.true(ok.keepAlive);
  const abs = parseHead(b('RPC_OUT_DATA http://host/rpc/x HTTP/1.0\r\n'));
  t.true(!('error' in abs) && abs.target === '/rpc/x' && !abs.keepAlive, 'absolute-form; HTTP/1.0 closes by default');
  const cases: [string, number][] = [
    ['X / HTTP/1.1\r\nHost : x\r\n', 400],
    ['X / HTTP/1.1\r\nHost: x\r\n folded\r\n', 400],
    ['X / HTTP/1.1\r\nHost: x\r\nHost: y\r\n', 400],
    ['X / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n', 400],
    ['X / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n', 400],
    ['X / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n', 501],
    ['X / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n', 400],
    ['X / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n', 400],
    ['X / HTTP/3.0\r\nHost: x\r\n', 505],
    ['X /a b HTTP/1.1\r\nHost: x\r\n', 400],
    ['X nope HTTP/1.1\r\nHost: x\r\n', 400],
    ['X / HTTP/1.1\r\nHost: x\u0001\r\n', 400],
  ];
  for (const [head, status] of cases) {
    const r = parseHead(b(head));
    t.true('status' in r && r.status === status, `${JSON.stringify(head)} → ${'status' in r ? r.status : 'ok'}`);
  }
  t.deepEqual(findHeadEnd(b('GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY'), 0), { headEnd: 25, bodyStart: 27 });
  t.deepEqual(findHeadEnd(b('GET / HTTP/1.1\nHost: x\n\nBODY'), 0), { headEnd: 23, bodyStart: 24 });
  t.is(findHeadEnd(b('GET / HTTP/1.1\r\nHost: x\r\n'), 0), null);
});

test('Basic credentials (RFC 7617): UTF-8, the first colon splits, junk is refused', (t) => {
  const enc = (s: string) => `Basic ${Buffer.from(s, 'utf8').toString('base64')}`;
  t.deepEqual(parseBasic(enc('alice@example.test:pa:ss wörd')), { login: 'alice@example.test', password: 'pa:ss wörd' });
  t.deepEqual(parseBasic(`basic   ${Buffer.from('a:b').toString('base64')}`), { login: 'a', password: 'b' }, 'scheme in any case');
  t.deepEqual(parseBasic(`Basic ${Buffer.from('j\u00f6rg:x', 'latin1').toString('base64')}`), { login: 'j\u00f6rg', password: 'x' }, 'ISO-8859-1 fallback');
  for (const bad of ['Basic', 'Basic !!!!', enc('nocolon'), enc(':nouser'), enc('a\u0001b:c'), 'Bearer abc', `Basic ${'A'.repeat(20000)}`]) t.is(parseBasic(bad), null, bad.slice(0, 30));
});

test('the failure throttle blocks an address after the limit until its window ends', (t) => {
  const th = new FailureThrottle(3, 1000);
  th.fail('a', 0);
  th.fail('a', 100);
  t.is(th.blockedFor('a', 200), 0);
  th.fail('a', 200);
  t.is(th.blockedFor('a', 300), 700);
  t.is(th.blockedFor('b', 300), 0);
  t.is(th.blockedFor('a', 1000), 0, 'the window is over');
  th.fail('a', 1100);
  t.is(th.blockedFor('a', 1100), 0, 'a new window starts');
});

test('routes match paths in any letter case, prefixes longest first; 405 lists what is allowed', (t) => {
  const r = (name: string, extra: Partial<Route>): Route => ({ name, methods: ['GET'], auth: 'none', handle: () => undefined, ...extra });
  const router = new Router([
    r('ad', { paths: ['/autodiscover/autodiscover.xml'], methods: ['POST'] }),
    r('mapi', { prefix: '/mapi/' }),
    r('emsmdb', { prefix: '/mapi/emsmdb/', methods: '*' }),
    r('both', { paths: ['/both'], listeners: ['http', 'https'] }),
  ]);
  t.like(router.match('/AutoDiscover/AutoDiscover.XML', 'POST', 'https'), { kind: 'route', route: { name: 'ad' } });
  t.deepEqual(router.match('/autodiscover/autodiscover.xml', 'GET', 'https'), { kind: 'method-not-allowed', allow: ['POST'] });
  t.deepEqual(router.match('/autodiscover/autodiscover.xml', 'GET', 'http'), { kind: 'tls-only' });
  t.like(router.match('/mapi/emsmdb/?x', 'RPC_IN_DATA', 'https'), { kind: 'route', route: { name: 'emsmdb' } });
  t.like(router.match('/mapi/nspi/', 'HEAD', 'https'), { kind: 'route', route: { name: 'mapi' } });
  t.like(router.match('/both', 'GET', 'http'), { kind: 'route' });
  t.deepEqual(router.match('/nothing', 'GET', 'https'), { kind: 'none' });
  t.throws(() => router.add(r('bad', { paths: ['/Upper'] })));
});

test('address allow lists take addresses and CIDR ranges; IPv4-mapped clients compare as IPv4', (t) => {
  const l = parseAllowList('127.0.0.1, ::1,10.0.0.0/8');
  t.true(allowed(l, '127.0.0.1'));
  t.true(allowed(l, '10.2.3.4'));
  t.true(allowed(l, '::1'));
  t.false(allowed(l, '127.0.0.2'));
  t.false(allowed(l, ''));
  t.is(plainAddress('::ffff:10.1.1.1'), '10.1.1.1');
  t.true(allowed(parseAllowList('0.0.0.0/0'), '8.8.8.8'));
  t.false(allowed(parseAllowList(''), '127.0.0.1'), 'empty: nobody');
  t.throws(() => parseAllowList('10.0.0.0/33'));
  t.throws(() => parseAllowList('localhost'));
});
