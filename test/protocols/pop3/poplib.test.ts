/**
 * Python's poplib (a real, independent POP3 client) against the door: over STLS on the plain port
 * and over implicit TLS, USER/PASS and AUTH PLAIN; what it retrieves must be the stored bytes.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mapiToWire } from '../../../actors/mailbox/wire-message.js';
import { mimeToMapi } from '../../../protocols/mail/mime-to-mapi.js';
import { fetchMessageMime } from '../../../protocols/mail/fetch-mime.js';
import { allFixtures, crlf } from '../../fixtures/mail/messages.js';
import { HOST, PASSWORD, USER, startPop3, type Pop3Fixture } from './harness.js';

const SCRIPT = String.raw`
import base64, json, poplib, ssl, sys
mode, port, user, pw, auth = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
out = {}
if mode == 'stls':
    p = poplib.POP3('127.0.0.1', port, timeout=30)
    out['capa_before'] = sorted(p.capa().keys())
    try:
        p.user(user)
        out['user_before_tls'] = 'accepted'
    except poplib.error_proto as e:
        out['user_before_tls'] = e.args[0].decode()
    p.stls(ctx)
else:
    p = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=30)
out['capa'] = {k: v for k, v in p.capa().items()}
if auth == 'user':
    p.user(user)
    out['login'] = p.pass_(pw).decode()
elif auth == 'plain-ir':
    out['login'] = p._shortcmd('AUTH PLAIN ' + base64.b64encode(('\0' + user + '\0' + pw).encode()).decode()).decode()
else:
    p._putcmd('AUTH PLAIN')
    out['challenge'] = p._getline()[0].decode()
    p._putcmd(base64.b64encode(('\0' + user + '\0' + pw).encode()).decode())
    out['login'] = p._getresp().decode()
count, octets = p.stat()
out['stat'] = [count, octets]
out['list'] = [l.decode() for l in p.list()[1]]
out['uidl'] = [l.decode() for l in p.uidl()[1]]
msgs = []
for n in range(1, count + 1):
    resp, lines, size = p.retr(n)
    msgs.append({'resp': resp.decode(), 'octets': size, 'b64': base64.b64encode(b''.join(l + b'\r\n' for l in lines)).decode()})
out['retr'] = msgs
resp, lines, size = p.top(1, 0)
out['top'] = base64.b64encode(b''.join(l + b'\r\n' for l in lines)).decode()
out['dele'] = p.dele(1).decode()
out['quit'] = p.quit().decode()
print(json.dumps(out))
`;

interface PoplibResult {
  capa_before?: string[];
  user_before_tls?: string;
  capa: Record<string, string[]>;
  challenge?: string;
  login: string;
  stat: [number, number];
  list: string[];
  uidl: string[];
  retr: { resp: string; octets: number; b64: string }[];
  top: string;
  dele: string;
  quit: string;
}

function poplib(mode: 'stls' | 'ssl', port: number, auth: 'user' | 'plain-ir' | 'plain'): Promise<PoplibResult> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', SCRIPT, mode, String(port), USER, PASSWORD, auth], { timeout: 60_000, maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      if (e !== null) reject(new Error(`${e.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as PoplibResult);
    });
  });
}

/** Every fixture (original MIME kept) and two messages made by MAPI (MIME generated); what POP3 must send for each. */
async function fill(fx: Pop3Fixture): Promise<Buffer[]> {
  const expected: Buffer[] = [];
  for (const raw of Object.values(allFixtures)) {
    await fx.deliver(raw);
    expected.push(raw);
  }
  for (const text of ['From: a@example.com\nSubject: made in Outlook\n\n.dot line\nbody\n', 'From: b@example.com\nSubject: second\n\nx\n']) {
    const mid = (await fx.system.call(fx.mailbox, 'deliver', mapiToWire(mimeToMapi(crlf(text)).message))).mid;
    const g = await fetchMessageMime(fx.system, fx.mailbox, mid, fx.dir, { hostname: HOST });
    expected.push(g.subarray(-2).toString() === '\r\n' ? g : Buffer.concat([g, Buffer.from('\r\n')]));
  }
  return expected;
}

function check(t: { is: (a: unknown, b: unknown, m?: string) => void; true: (v: boolean, m?: string) => void; deepEqual: (a: unknown, b: unknown, m?: string) => void }, r: PoplibResult, expected: Buffer[]): void {
  const total = expected.reduce((a, b) => a + b.length, 0);
  t.deepEqual(r.stat, [expected.length, total]);
  t.deepEqual(
    r.list,
    expected.map((b, i) => `${i + 1} ${b.length}`),
  );
  t.is(new Set(r.uidl.map((l) => l.split(' ')[1])).size, expected.length, 'distinct UIDLs');
  r.retr.forEach((m, i) => {
    t.is(m.resp, `+OK ${expected[i]!.length} octets`);
    t.is(m.octets, expected[i]!.length, `poplib counted the octets LIST gave for ${i + 1}`);
    t.true(Buffer.from(m.b64, 'base64').equals(expected[i]!), `message ${i + 1}: the bytes the store holds`);
  });
  const top = Buffer.from(r.top, 'base64').toString('latin1');
  const header = expected[0]!.toString('latin1');
  t.is(top, header.slice(0, header.indexOf('\r\n\r\n') + 4));
  t.is(r.dele, '+OK message 1 deleted');
  t.is(r.quit, `+OK ${HOST} POP3 server signing off (1 message deleted)`);
}

test('poplib over STLS with USER/PASS: stat, list, uidl, retr, top, dele, quit', async (t) => {
  const fx = await startPop3(t);
  const expected = await fill(fx);
  const r = await poplib('stls', fx.port, 'user');
  t.true(r.capa_before!.includes('STLS'));
  t.false(r.capa_before!.includes('USER'));
  t.is(r.user_before_tls, '-ERR [AUTH] TLS first: use STLS, plaintext authentication is disabled on this connection');
  t.deepEqual(r.capa.SASL, ['PLAIN']);
  t.true('USER' in r.capa && !('STLS' in r.capa));
  t.is(r.login, `+OK ${USER} has ${expected.length} messages`);
  check(t, r, expected);
  t.is((await fx.system.call(fx.mailbox, 'listContents', { folder: fx.inbox })).length, expected.length - 1);
});

test('poplib over implicit TLS with AUTH PLAIN (initial response, then continuation)', async (t) => {
  const fx = await startPop3(t);
  const expected = await fill(fx);
  const r = await poplib('ssl', fx.tlsPort, 'plain-ir');
  t.is(r.login, `+OK ${USER} has ${expected.length} messages`);
  check(t, r, expected);
  const again = await poplib('ssl', fx.tlsPort, 'plain');
  t.is(again.challenge, '+ ');
  t.is(again.login, `+OK ${USER} has ${expected.length - 1} messages`);
  t.deepEqual(again.uidl, r.uidl.slice(1).map((l) => `${Number(l.split(' ')[0]) - 1} ${l.split(' ')[1]}`), 'the same UIDLs, renumbered');
  check(t, again, expected.slice(1));
});
