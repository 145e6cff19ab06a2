import test from 'ava';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { connect as tcpConnect } from 'node:net';
import { createHash } from 'node:crypto';
import { send, sendText } from '../../../protocols/http/exchange.js';
import type { Route } from '../../../protocols/http/router.js';
import { basic, once, open, ResponseReader } from './client.js';
import { PASSWORD, startDoor, type Harness } from './harness.js';
import { sleep } from '../../helpers.js';

/** Routes standing in for protocols still to come: an echo (any body, any parser), streams, a long poll. */
const testRoutes: Route[] = [
  {
    name: 'echo',
    paths: ['/test/echo'],
    methods: ['POST', 'PUT', 'RPC_IN_DATA'],
    auth: 'none',
    async handle({ req, res, readBody }) {
      const body = await readBody();
      if (body === null) return;
      const sha = createHash('sha256').update(body).digest('hex').slice(0, 16);
      send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ method: req.method, parser: req.parser, length: body.length, sha }));
    },
  },
  {
    name: 'stream',
    paths: ['/test/stream'],
    methods: ['GET'],
    auth: 'none',
    async handle({ res }) {
      res.writeHead(200, { 'content-type': 'text/plain' }); // no length: chunked
      for (const part of ['one,', 'two,', 'three']) {
        res.write(part);
        await sleep(5);
      }
      res.end();
    },
  },
  {
    name: 'rpc-out',
    paths: ['/test/out'],
    methods: ['RPC_OUT_DATA'],
    auth: 'none',
    async handle({ res }) {
      res.writeHead(200, { 'content-type': 'application/rpc', 'content-length': 1000 });
      for (let i = 0; i < 10; i++) {
        res.write(Buffer.alloc(100, 0x41 + i));
        await sleep(10);
      }
      res.end();
    },
  },
  {
    // A long poll (MAPI NotificationWait, ActiveSync Ping): idle longer than the default allows.
    name: 'wait',
    paths: ['/test/wait'],
    methods: ['GET'],
    auth: 'none',
    limits: { idleMs: 10_000 },
    async handle({ req, res }) {
      await sleep(Number(new URLSearchParams(req.query).get('ms')));
      sendText(res, 200, 'waited');
    },
  },
  {
    name: 'forever',
    paths: ['/test/forever'],
    methods: ['GET'],
    auth: 'none',
    limits: { idleMs: 60_000, maxDurationMs: 800 },
    handle() {
      // never answers: the route's total duration limit does
    },
  },
  {
    name: 'me',
    paths: ['/test/me'],
    methods: ['GET'],
    auth: 'user',
    handle({ res, user }) {
      sendText(res, 200, user!.address);
    },
  },
];

// The default inactivity limit shortened from 300 s to 1 s; small bodies; 3 failed logins.
const ENV = {
  STOA_HTTP_IDLE_TIMEOUT_SECONDS: '1',
  STOA_HTTP_MAX_BODY_KIB: '4',
  STOA_HTTP_MAX_HEADER_KIB: '2',
  STOA_HTTP_HEADER_TIMEOUT_SECONDS: '2',
  STOA_HTTP_AUTH_FAILURE_LIMIT: '3',
  STOA_HTTP_AUTH_FAILURE_WINDOW_SECONDS: '60',
};

let h: Harness;
test.before(async () => {
  h = await startDoor({ env: ENV, routes: testRoutes });
});
test.after.always(async () => h?.close());

const post = (path: string, body: string, extra = '') => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

test('keep-alive and pipelined requests over TLS are answered in order on one connection, chunked both ways', async (t) => {
  const s = await open(h.httpsPort, true);
  const r = new ResponseReader(s);
  s.write(
    'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' +
      post('/test/echo', 'hello') +
      'GET /test/stream HTTP/1.1\r\nHost: x\r\n\r\n' +
      'POST /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n',
  );
  const got = await r.responses(4);
  t.deepEqual(got.map((x) => x.status), [200, 200, 200, 200]);
  t.is(JSON.parse(got[0]!.body.toString()).status, 'ok');
  t.like(JSON.parse(got[1]!.body.toString()), { method: 'POST', parser: 'node', length: 5 });
  t.is(got[2]!.headers['transfer-encoding'], 'chunked', 'a response without a length is chunked');
  t.is(got[2]!.body.toString(), 'one,two,three');
  t.like(JSON.parse(got[3]!.body.toString()), { length: 11, sha: createHash('sha256').update('hello world').digest('hex').slice(0, 16) }, 'a chunked request body');
  await sleep(200);
  s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  t.is((await r.responses(5))[4]!.status, 200, 'the connection stays open for more');
  t.false(r.closed);
  s.destroy();
});

test('a non-standard method (RPC_IN_DATA, RPC_OUT_DATA) reaches its route through the door\'s own HTTP/1.1 handling', async (t) => {
  const s = await open(h.httpsPort, true);
  const r = new ResponseReader(s);
  // Split inside the method: the door classifies only once the method is complete.
  s.write('RPC_IN');
  await sleep(30);
  s.write('_DATA /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
  s.write('RPC_IN_DATA /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  const got = await r.responses(3);
  t.like(JSON.parse(got[0]!.body.toString()), { method: 'RPC_IN_DATA', parser: 'own', length: 3 });
  t.like(JSON.parse(got[1]!.body.toString()), { method: 'RPC_IN_DATA', parser: 'own', length: 3 });
  t.is(got[2]!.status, 200, 'later requests of any method are served on that connection too');
  t.is(got[2]!.headers.connection, 'keep-alive');
  s.destroy();

  const out = await once(h.httpsPort, true, 'RPC_OUT_DATA /test/out HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
  t.is(out.status, 200);
  t.is(out.body.length, 1000, 'a streamed response with a declared length');
  t.is(out.body.subarray(900).toString(), 'J'.repeat(100));

  // The path of RPC over HTTP itself, not served yet: a clean 503 (the announced 1 GiB body is not read).
  const rpc = await once(h.httpsPort, true, 'RPC_IN_DATA /rpc/rpcproxy.dll?host:6001 HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n');
  t.is(rpc.status, 503);
  t.true(rpc.closed, 'the connection closes instead of reading a gigabyte');
});

test('a non-standard method after requests Node parsed: the door takes the connection over (keep-alive and pipelined)', async (t) => {
  const json = (x: { body: Buffer }) => JSON.parse(x.body.toString()) as Record<string, unknown>;
  // Keep-alive: the second request, in a read of its own, uses a method Node's parser refuses.
  const s = await open(h.httpsPort, true);
  const r = new ResponseReader(s);
  s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await r.responses(1);
  s.write('RPC_IN_DATA /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
  const second = (await r.responses(2))[1]!;
  t.is(second.status, 200);
  t.like(json(second), { method: 'RPC_IN_DATA', parser: 'own', length: 3 });
  s.write(post('/test/echo', 'xy').replace('POST', 'PUT'));
  t.like(json((await r.responses(3))[2]!), { method: 'PUT', parser: 'own', length: 2 }, 'the door serves the rest of the connection');
  t.false(r.closed);
  s.destroy();

  // Pipelined in one write behind a slow answer and a body: Node's answers first, then the door's, in order.
  const p = await open(h.httpsPort, true);
  const rp = new ResponseReader(p);
  p.write(
    'GET /test/wait?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n' +
      post('/test/echo', 'hello') +
      'RPC_IN_DATA /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
      'RPC_OUT_DATA /test/out HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' +
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  const got = await rp.responses(5);
  t.deepEqual(got.map((x) => x.status), [200, 200, 200, 200, 200]);
  t.is(got[0]!.body.toString(), 'waited\n');
  t.like(json(got[1]!), { method: 'POST', parser: 'node', length: 5 });
  t.like(json(got[2]!), { method: 'RPC_IN_DATA', parser: 'own', length: 3 });
  t.is(got[3]!.body.length, 1000);
  t.is(JSON.parse(got[4]!.body.toString()).status, 'ok');
  p.destroy();

  // A body ending in letters that could begin the method ("P" + "RPC..." reads as "PR..." too): refused, not guessed.
  const a = await open(h.httpsPort, true);
  const ra = new ResponseReader(a);
  a.write(post('/test/echo', 'abcP') + 'RPC_IN_DATA /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
  t.deepEqual((await ra.responses(2)).map((x) => x.status), [200, 400], 'the first is answered, then the refusal');
  t.true(await ra.closedWithin(1000));
});

test('a long request outlives the default inactivity limit when its route allows; stalled requests get 408', async (t) => {
  const t0 = Date.now();
  const wait = await once(h.httpsPort, true, 'GET /test/wait?ms=2500 HTTP/1.1\r\nHost: x\r\n\r\n');
  t.is(wait.status, 200, 'idle 2.5 s with http.idle_timeout_seconds = 1: the route declares 10 s');
  t.true(Date.now() - t0 >= 2400);

  const s = await open(h.httpsPort, true);
  const r = new ResponseReader(s);
  s.write('POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf.');
  const t1 = Date.now();
  const [stalled] = await r.responses(1);
  t.is(stalled!.status, 408);
  t.true(Date.now() - t1 >= 900 && Date.now() - t1 < 2500, `answered after ${Date.now() - t1} ms`);
  s.destroy();

  const own = await once(h.httpsPort, true, 'RPC_IN_DATA /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf.');
  t.is(own.status, 408, 'the same on the door\'s own parser');

  const forever = await once(h.httpsPort, true, 'GET /test/forever HTTP/1.1\r\nHost: x\r\n\r\n');
  t.is(forever.status, 408, 'a route\'s total duration limit');
});

test('bodies and heads over their limits get 413 / 431; malformed requests 400 / 505; never a hang', async (t) => {
  t.is((await once(h.httpsPort, true, post('/test/echo', 'x'.repeat(5000)))).status, 413, 'declared length over http.max_body_kib');
  const chunk = 'x'.repeat(3000);
  const chunked = `POST /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${(3000).toString(16)}\r\n${chunk}\r\n${(3000).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
  const big = await once(h.httpsPort, true, chunked);
  t.is(big.status, 413, 'a chunked body growing past the limit');
  t.is((await once(h.httpsPort, true, chunked.replace('POST', 'RPC_IN_DATA'))).status, 413, 'the same on the own parser');
  const bigHead = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(3000)}\r\n\r\n`;
  t.is((await once(h.httpsPort, true, bigHead)).status, 431);
  t.is((await once(h.httpsPort, true, bigHead.replace('GET', 'RPC_OUT_DATA'))).status, 431);
  t.is((await once(h.httpsPort, true, 'G\u0001T / HTTP/1.1\r\n\r\n')).status, 400, 'a method that is not a token');
  t.is((await once(h.httpsPort, true, 'RPC_IN_DATA /test/echo HTTP/1.1\r\nContent-Length: 0\r\n\r\n')).status, 400, 'HTTP/1.1 without Host');
  t.is((await once(h.httpsPort, true, 'RPC_IN_DATA /test/echo HTTP/2.0\r\nHost: x\r\n\r\n')).status, 505);
  t.is((await once(h.httpsPort, true, 'RPC_IN_DATA /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n')).status, 400, 'both framings: refused (RFC 9112 §6.1)');
  t.is((await once(h.httpsPort, true, 'RPC_IN_DATA /test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).status, 400, 'a bad chunk size');
  t.is((await once(h.httpsPort, true, 'GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n')).status, 404);
  const m = await once(h.httpsPort, true, 'DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  t.is(m.status, 405);
  t.is(m.headers.allow, 'GET, HEAD');
  // A client that sends half a head and stops is cut off at http.header_timeout_seconds.
  const s = await open(h.httpsPort, true);
  const r = new ResponseReader(s);
  s.write('GET /healthz HTTP/1.1\r\nHo');
  t.true(await r.closedWithin(4000), 'a slow head is disconnected');
});

test('Basic authentication: 401 with a challenge, the credential cache, and per-address throttling', async (t) => {
  const get = (auth: string | null, localAddress = '127.0.0.1') =>
    new Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: h.httpsPort, path: '/test/me', rejectUnauthorized: false, localAddress, agent: false, headers: auth === null ? {} : { authorization: auth } },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const none = await get(null);
  t.is(none.status, 401);
  t.is(none.headers['www-authenticate'], 'Basic realm="mail.example.test", charset="UTF-8"');
  const ok = await get(basic('Alice@Example.test', PASSWORD));
  t.is(ok.status, 200);
  t.is(ok.body.trim(), 'alice@example.test');
  const hits = h.auth.hits;
  t.is((await get(basic('alice@example.test', PASSWORD))).status, 200);
  t.is(h.auth.hits, hits + 1, 'the second request was answered from the credential cache');
  const checks = h.auth.hits + h.auth.misses;
  t.is((await get(basic('alice@example.test', PASSWORD))).status, 200);
  t.is(h.auth.hits + h.auth.misses, checks, 'the same header again: remembered by the door, no password check at all');
  // A password change voids remembered headers at once (the credential generation is compared on each request).
  const bob = basic('bob@example.test', PASSWORD);
  t.is((await get(bob, '127.0.0.4')).status, 200);
  t.is((await get(bob, '127.0.0.4')).status, 200);
  const { passwordHash } = await h.auth.hash('a new password');
  await h.dir.setPassword('bob@example.test', passwordHash, null);
  t.is((await get(bob, '127.0.0.4')).status, 401, 'the old password no longer opens the door');
  t.is((await get(basic('bob@example.test', 'a new password'), '127.0.0.4')).status, 200);
  t.is((await get('Negotiate TlRMTVNTUAABAAAAB4IIog==')).status, 401, 'another scheme: challenged, not counted');
  for (let i = 0; i < 3; i++) t.is((await get(basic('alice@example.test', 'wrong'))).status, 401);
  const blocked = await get(basic('alice@example.test', PASSWORD));
  t.is(blocked.status, 429, 'after 3 failures the address is refused even with the right password');
  t.true(Number(blocked.headers['retry-after']) > 0);
  t.is((await get(basic('alice@example.test', PASSWORD), '127.0.0.2')).status, 200, 'another address is not affected');
  // Over plain HTTP no password is taken: the client is sent to HTTPS.
  const plain = await once(h.httpPort, false, `GET /test/me HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic('bob@example.test', PASSWORD)}\r\n\r\n`);
  t.is(plain.status, 302);
  t.is(plain.headers.location, 'https://mail.example.test/test/me');
  t.is((await once(h.httpPort, false, 'POST /test/me HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')).status, 403);
});

test('/metrics: Prometheus text with runtime, directory and door counters, for allowed addresses only', async (t) => {
  const m = await once(h.httpsPort, true, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
  t.is(m.status, 200);
  t.regex(m.headers['content-type']!, /^text\/plain; version=0\.0\.4/);
  const text = m.body.toString();
  t.regex(text, /^stoa_test_gauge 7$/m, 'the samples the server passes in');
  t.regex(text, /^stoa_http_requests_total\{route="health",code="200"\} \d+$/m);
  t.regex(text, /^stoa_http_connections_total\{listener="https"\} \d+$/m);
  t.regex(text, /^# TYPE stoa_http_auth_failures_total counter$/m);
  const other = await new Promise<number>((resolve, reject) => {
    const raw = tcpConnect({ host: '127.0.0.1', port: h.httpsPort, localAddress: '127.0.0.3' });
    const s = tlsConnect({ socket: raw, rejectUnauthorized: false }, () => s.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let buf = '';
    s.setEncoding('utf8').on('data', (c: string) => (buf += c));
    s.on('end', () => resolve(Number(buf.split(' ')[1])));
    s.on('error', reject);
  });
  t.is(other, 403, '127.0.0.3 is not in metrics.allow');
});
