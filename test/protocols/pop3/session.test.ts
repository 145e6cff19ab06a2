/**
 * The POP3 door over real sockets, with the real mailbox actor, directory and authenticator.
 */
import test from 'ava';
import { mapiToWire } from '../../../actors/mailbox/wire-message.js';
import { mimeToMapi } from '../../../protocols/mail/mime-to-mapi.js';
import { fetchMessageMime } from '../../../protocols/mail/fetch-mime.js';
import { encodePropBag } from '../../../storage/prop-bag.js';
import { Tag } from '../../../storage/prop-tags.js';
import { crlf, thunderbird } from '../../fixtures/mail/messages.js';
import { sleep } from '../../helpers.js';
import { HOST, LineClient, PASSWORD, USER, startPop3, unstuff, type Pop3Fixture } from './harness.js';

const dotty = crlf(`From: Dot <dot@example.com>
To: alice@example.test
Subject: dots
Message-ID: <dots@example.com>

.a line starting with a dot
..two dots
.
middle . dot
`);

/** Three messages: two with their original MIME, one made by MAPI (MIME generated). */
async function threeMessages(fx: Pop3Fixture): Promise<{ mids: number[]; bytes: Buffer[] }> {
  const m1 = await fx.deliver(thunderbird);
  const m2 = await fx.deliver(dotty);
  const m3 = (await fx.system.call(fx.mailbox, 'deliver', mapiToWire(mimeToMapi(crlf('From: x@example.com\nSubject: made by MAPI\n\nhello\n')).message))).mid;
  const generated = await fetchMessageMime(fx.system, fx.mailbox, m3, fx.dir, { hostname: HOST });
  // POP3 ends every message with a line end (the generated MIME may not have one).
  const sent = generated.subarray(-2).toString() === '\r\n' ? generated : Buffer.concat([generated, Buffer.from('\r\n')]);
  return { mids: [m1, m2, m3], bytes: [thunderbird, dotty, sent] };
}

async function uidls(c: LineClient): Promise<Map<number, string>> {
  const r = await c.multi();
  return new Map(r.lines.map((l) => [Number(l.split(' ')[0]), l.split(' ')[1]!]));
}

test('a whole session: STAT, LIST, UIDL, RETR (the stored bytes), TOP, DELE, RSET, NOOP, QUIT', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true });
  const { mids, bytes } = await threeMessages(fx);
  t.true(bytes[2]!.toString('latin1').includes('Subject: made by MAPI'), 'the third message is generated MIME');
  const c = await LineClient.connect(fx.port);
  t.regex(await c.login(), /^\+OK alice@example\.test has 3 messages$/);
  const total = bytes.reduce((a, b) => a + b.length, 0);
  t.is(await c.cmd('STAT'), `+OK 3 ${total}`);
  c.send('LIST\r\n');
  t.deepEqual(await c.multi(), { status: `+OK 3 messages (${total} octets)`, lines: bytes.map((b, i) => `${i + 1} ${b.length}`) });
  t.is(await c.cmd('LIST 2'), `+OK 2 ${bytes[1]!.length}`);
  c.send('UIDL\r\n');
  const u1 = await uidls(c);
  t.deepEqual([...u1.keys()], [1, 2, 3]);
  for (const [n, u] of u1) t.is(u.slice(0, 12), mids[n - 1]!.toString(16).padStart(12, '0'));
  t.is(await c.cmd('UIDL 3'), `+OK 3 ${u1.get(3)}`);
  for (let n = 1; n <= 3; n++) {
    c.send(`RETR ${n}\r\n`);
    t.is(await c.line(), `+OK ${bytes[n - 1]!.length} octets`);
    const body = await c.multiRaw();
    t.true(unstuff(body).equals(bytes[n - 1]!), `RETR ${n} sends the stored bytes`);
    if (n === 2) t.true(body.toString('latin1').includes('\r\n...two dots\r\n..\r\n'), 'byte-stuffed on the wire');
  }
  c.send('TOP 1 0\r\n');
  t.is(await c.line(), '+OK top of message follows');
  const top = unstuff(await c.multiRaw()).toString('utf8');
  t.true(top.endsWith('\r\n\r\n') && top.includes('Subject: Re:') && !top.includes('Hallo Bob'), 'TOP 1 0: the header only');
  c.send('TOP 2 1\r\n');
  await c.line();
  t.true(unstuff(await c.multiRaw()).toString('latin1').endsWith('\r\n\r\n.a line starting with a dot\r\n'));
  t.is(await c.cmd('DELE 2'), '+OK message 2 deleted');
  t.is(await c.cmd('DELE 2'), '-ERR message 2 already deleted');
  t.is(await c.cmd('RETR 2'), '-ERR message 2 already deleted');
  t.is(await c.cmd('STAT'), `+OK 2 ${bytes[0]!.length + bytes[2]!.length}`);
  t.is(await c.cmd('RETR 4'), '-ERR no such message: 4 (the maildrop has 3)');
  t.is(await c.cmd('RETR x'), '-ERR invalid message number');
  t.is(await c.cmd('RSET'), '+OK maildrop has 3 messages');
  t.is(await c.cmd('NOOP'), '+OK');
  t.is(await c.cmd('DELE 2'), '+OK message 2 deleted');
  t.is(await c.cmd('QUIT'), `+OK ${HOST} POP3 server signing off (1 message deleted)`);
  await c.ended();

  // The delete was soft (recoverable), and the next session sees two messages with the same UIDLs.
  t.deepEqual(await fx.system.call(fx.mailbox, 'listSoftDeleted', { folder: fx.inbox }), [mids[1]]);
  const d = await LineClient.connect(fx.port);
  t.regex(await d.login(), /has 2 messages$/);
  d.send('UIDL\r\n');
  t.deepEqual([...(await uidls(d)).values()], [u1.get(1), u1.get(3)]);
  await d.cmd('QUIT');
});

const DIALOGUE = `CAPA\r\nUSER ${USER}\r\nPASS ${PASSWORD}\r\nSTAT\r\nUIDL\r\nLIST\r\nRETR 2\r\nTOP 1 3\r\nbogus\r\nNOOP\r\nQUIT\r\n`;

async function runDialogue(fx: Pop3Fixture, send: (c: LineClient) => Promise<void>): Promise<string> {
  const c = await LineClient.connect(fx.port);
  c.socket.setNoDelay(true);
  await send(c);
  await c.ended();
  return c.raw.toString('latin1').slice(c.raw.indexOf('\r\n') + 2);
}

test('pipelined commands in one write, one command at a time, and one byte at a time all get the same answers', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true });
  await threeMessages(fx);
  const lines = DIALOGUE.split(/(?<=\r\n)/);
  const oneByOne = await runDialogue(fx, async (c) => {
    for (const l of lines) {
      c.send(l);
      if (l.startsWith('QUIT')) break;
      if (/^(CAPA|UIDL|LIST|RETR|TOP)/.test(l)) await c.multi();
      else await c.line();
    }
  });
  t.true(oneByOne.endsWith('signing off (0 messages deleted)\r\n'));
  t.is(oneByOne.split('\r\n').filter((l) => l === '-ERR unknown command BOGUS').length, 1);
  const pipelined = await runDialogue(fx, async (c) => c.send(DIALOGUE));
  t.is(pipelined, oneByOne);
  const byteWise = await runDialogue(fx, async (c) => {
    for (const b of Buffer.from(DIALOGUE)) {
      c.send(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
  });
  t.is(byteWise, oneByOne);
});

test('bad commands, over-long lines and commands before login are answered and limited', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true, limits: { badCommands: 7, commandsBeforeAuth: 12, lineBytes: 256 } });
  const c = await LineClient.connect(fx.port);
  t.is(await c.cmd('FOO'), '-ERR unknown command FOO');
  t.is(await c.cmd('RETR 1'), '-ERR RETR is only allowed after login');
  t.is(await c.cmd('USER'), '-ERR syntax: USER name');
  t.is(await c.cmd('PASS secret'), '-ERR USER first');
  t.is(await c.cmd(`NOOP ${'x'.repeat(1000)}`), '-ERR line too long (at most 256 octets)');
  t.is(await c.cmd('3xx'), '-ERR malformed command');
  c.send('CAPA\r\n');
  t.true((await c.multi()).lines.includes('UIDL'), 'still serving after bad input');
  t.is(await c.cmd(''), '-ERR empty command line');
  t.is(await c.cmd('AUTH CRAM-MD5'), '-ERR unsupported SASL mechanism CRAM-MD5 (supported: PLAIN)');
  t.is(await c.cmd('STAT'), '-ERR too many bad commands, closing connection');
  await c.ended();

  const d = await LineClient.connect(fx.port);
  for (let i = 0; i < 12; i++) {
    d.send('CAPA\r\n');
    await d.multi();
  }
  t.is(await d.cmd('CAPA'), '-ERR too many commands without logging in, closing connection');
  await d.ended();

  const e = await LineClient.connect(fx.port);
  t.regex(await e.login(), /^\+OK/);
  t.is(await e.cmd('USER bob'), '-ERR USER is not allowed after login');
  t.is(await e.cmd('TOP 1'), '-ERR syntax: TOP msg n');
  t.is(await e.cmd('TOP 1 -1'), '-ERR no such message: 1 (the maildrop has 0)');
  e.close();
});

test('failed logins wait (longer each time) and the last allowed one closes the connection', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true, limits: { failedLoginDelayMs: 100, authFailures: 3 } });
  const c = await LineClient.connect(fx.port);
  const timed = async (f: () => Promise<string>) => {
    const t0 = Date.now();
    const r = await f();
    return { r, ms: Date.now() - t0 };
  };
  const a = await timed(() => c.login(USER, 'wrong'));
  t.is(a.r, '-ERR [AUTH] invalid user name or password');
  t.true(a.ms >= 95, `first failure waited ${a.ms} ms`);
  const b = await timed(() => c.login('nobody@example.test', PASSWORD));
  t.is(b.r, '-ERR [AUTH] invalid user name or password');
  t.true(b.ms >= 195, `second failure waited ${b.ms} ms`);
  t.is(await c.login(USER, 'still wrong'), '-ERR [AUTH] invalid user name or password; too many failures, closing connection');
  await c.ended();
  const d = await LineClient.connect(fx.port);
  t.regex(await d.login(), /^\+OK/, 'a right password still works on a new connection');
  d.close();
});

test('failures from one address across connections: [LOGIN-DELAY] until the window ends, even with the right password', async (t) => {
  const { FailureThrottle } = await import('../../../protocols/shared/failure-throttle.js');
  const fx = await startPop3(t, { allowPlaintextAuth: true, limits: { failedLoginDelayMs: 1 }, throttle: new FailureThrottle(2, 60_000) });
  for (let i = 0; i < 2; i++) {
    const c = await LineClient.connect(fx.port);
    t.is(await c.login(USER, 'wrong'), '-ERR [AUTH] invalid user name or password');
    c.close();
  }
  const d = await LineClient.connect(fx.port);
  t.is(await d.login(), '-ERR [LOGIN-DELAY] too many failed logins from your address; try again later');
  await d.ended();
});

test('before TLS on the plain port: no USER / SASL in CAPA, credentials refused; after STLS they work', async (t) => {
  const fx = await startPop3(t);
  const c = await LineClient.connect(fx.port);
  c.send('CAPA\r\n');
  const before = (await c.multi()).lines;
  t.true(before.includes('STLS'));
  t.false(before.includes('USER'));
  t.false(before.some((l) => l.startsWith('SASL')));
  t.is(await c.cmd(`USER ${USER}`), '-ERR [AUTH] TLS first: use STLS, plaintext authentication is disabled on this connection');
  t.is(await c.cmd(`PASS ${PASSWORD}`), '-ERR [AUTH] TLS first: use STLS, plaintext authentication is disabled on this connection');
  t.is(await c.cmd('AUTH PLAIN AGFsaWNlAHB3'), '-ERR [AUTH] TLS first: use STLS, plaintext authentication is disabled on this connection');
  // Pipelined plaintext behind STLS must not run under TLS.
  c.send('STLS\r\nUSER injected\r\n');
  t.is(await c.line(), '+OK Begin TLS negotiation');
  await c.startTls();
  c.send('CAPA\r\n');
  const after = (await c.multi()).lines;
  t.true(after.includes('USER') && after.includes('SASL PLAIN'));
  t.false(after.includes('STLS'));
  t.is(await c.cmd(`PASS ${PASSWORD}`), '-ERR USER first', 'the injected USER did not run');
  t.is(await c.cmd('STLS'), '-ERR TLS is already active');
  t.regex(await c.login(), /^\+OK alice@example\.test has 0 messages$/);
  t.is(await c.cmd('QUIT'), `+OK ${HOST} POP3 server signing off (0 messages deleted)`);

  // Implicit TLS: credentials at once, no STLS.
  const s = await LineClient.connect(fx.tlsPort, true);
  s.send('CAPA\r\n');
  const caps = (await s.multi()).lines;
  t.true(caps.includes('USER') && !caps.includes('STLS'));
  t.is(await s.cmd('STLS'), '-ERR TLS is already active');
  t.regex(await s.login(), /^\+OK/);
  s.send('CAPA\r\n');
  t.false((await s.multi()).lines.includes('USER'), 'after login CAPA lists what TRANSACTION offers');
  s.close();
  // The server sees the close a moment later (longer on a loaded machine).
  for (let i = 0; i < 100 && fx.door.stats().sessions > 0; i++) await sleep(20);
  t.is(fx.door.stats().sessions, 0, 'closed sessions are counted out, STLS ones too');
});

test('AUTH PLAIN: initial response, continuation, cancel, bad input, and a mailbox the user has full access to', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const a = await LineClient.connect(fx.port);
  t.is(await a.cmd(`AUTH PLAIN ${b64(`\0${USER}\0${PASSWORD}`)}`), '+OK alice@example.test has 0 messages');
  a.close();

  const b = await LineClient.connect(fx.port);
  b.send('AUTH\r\n');
  t.deepEqual(await b.multi(), { status: '+OK SASL mechanisms follow', lines: ['PLAIN'] });
  t.is(await b.cmd('AUTH PLAIN'), '+ ');
  t.is(await b.cmd('*'), '-ERR authentication cancelled');
  t.is(await b.cmd('AUTH plain'), '+ ');
  t.is(await b.cmd('not base64!'), '-ERR invalid PLAIN response: the response is not base64');
  t.is(await b.cmd('AUTH PLAIN ='), '-ERR invalid PLAIN response: empty PLAIN response');
  t.is(await b.cmd('AUTH PLAIN'), '+ ');
  t.is(await b.cmd(b64(`${USER}\0${USER}\0${PASSWORD}`)), '+OK alice@example.test has 0 messages');
  b.close();

  // Bob may open Alice's mailbox once granted full access (authzid = the mailbox).
  await fx.dir.addUser({ address: 'bob@example.test', ...(await fx.auth.hash('bob password')) });
  const c = await LineClient.connect(fx.port);
  t.is(await c.cmd(`AUTH PLAIN ${b64(`${USER}\0bob@example.test\0bob password`)}`), `-ERR [AUTH] not authorized to open the mailbox of ${USER}`);
  await fx.dir.grantFullAccess(USER, 'bob@example.test');
  t.is(await c.cmd(`AUTH PLAIN ${b64(`${USER}\0bob@example.test\0bob password`)}`), '+OK alice@example.test has 0 messages');
  c.close();
});

test('deletes happen only at QUIT: a dropped connection deletes nothing', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true });
  await threeMessages(fx);
  const c = await LineClient.connect(fx.port);
  await c.login();
  t.is(await c.cmd('DELE 1'), '+OK message 1 deleted');
  t.is(await c.cmd('DELE 3'), '+OK message 3 deleted');
  c.close();
  await sleep(100);
  t.is((await fx.system.call(fx.mailbox, 'listContents', { folder: fx.inbox })).length, 3);
  const d = await LineClient.connect(fx.port);
  t.regex(await d.login(), /has 3 messages$/);
  d.close();
});

test('UIDLs stay the same across sessions and after read-state and flag changes by other clients; sizes still match RETR', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true });
  const { mids } = await threeMessages(fx);
  const session = async () => {
    const c = await LineClient.connect(fx.port);
    await c.login();
    c.send('UIDL\r\n');
    const u = await uidls(c);
    c.send('LIST\r\n');
    const sizes = (await c.multi()).lines.map((l) => Number(l.split(' ')[1]));
    const got: number[] = [];
    for (let n = 1; n <= 3; n++) {
      c.send(`RETR ${n}\r\n`);
      await c.line();
      got.push(unstuff(await c.multiRaw()).length);
    }
    await c.cmd('QUIT');
    t.deepEqual(got, sizes, 'LIST sizes = the bytes RETR sent');
    return [...u.values()];
  };
  const first = await session();
  const second = await session();
  t.deepEqual(second, first);
  // What IMAP's \Seen and a flag (keyword / follow-up) change do to the store.
  await fx.system.call(fx.mailbox, 'setRead', { mids, read: true });
  for (const mid of mids) await fx.system.call(fx.mailbox, 'setFlagProps', { mid, set: encodePropBag([[Tag.PidTagFlagStatus, 2]]) });
  t.deepEqual(await session(), first);
  const cached = fx.door.stats();
  t.true(cached.sizeCacheHits >= 3, 'the second session found its sizes in the door cache');
});

test('another client removes messages meanwhile: RETR says so, listings leave them out, QUIT deletes the rest and reports', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true });
  const { mids, bytes } = await threeMessages(fx);
  const c = await LineClient.connect(fx.port);
  await c.login();
  await fx.system.call(fx.mailbox, 'deleteMessages', { folder: fx.inbox, mids: [mids[1]!], hard: false });
  t.is(await c.cmd('RETR 2'), '-ERR message 2 is no longer available: another client removed it from the Inbox');
  t.is(await c.cmd('STAT'), `+OK 2 ${bytes[0]!.length + bytes[2]!.length}`);
  c.send('UIDL\r\n');
  t.deepEqual([...(await uidls(c)).keys()], [1, 3]);
  t.is(await c.cmd('LIST 2'), '-ERR message 2 is no longer available: another client removed it from the Inbox');
  t.is(await c.cmd('DELE 2'), '+OK message 2 deleted (another client had already removed it)');
  t.is(await c.cmd('DELE 1'), '+OK message 1 deleted');
  t.is(await c.cmd('DELE 3'), '+OK message 3 deleted');
  // Message 3 goes too before QUIT (a MAPI client, say).
  await fx.system.call(fx.mailbox, 'moveCopyMessages', { from: fx.inbox, to: (await fx.system.call(fx.mailbox, 'logonInfo', null)).special.deletedItems, mids: [mids[2]!], move: true });
  t.is(await c.cmd('QUIT'), `+OK ${HOST} POP3 server signing off (1 message deleted, 2 already removed by another client)`);
  t.deepEqual(await fx.system.call(fx.mailbox, 'listContents', { folder: fx.inbox }), []);
});

test('a message delivered during a session shows in the next one, not in this one', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true });
  await fx.deliver(thunderbird);
  const c = await LineClient.connect(fx.port);
  await c.login();
  await fx.deliver(dotty);
  t.regex(await c.cmd('STAT'), /^\+OK 1 /);
  t.regex(await c.cmd('RETR 2'), /^-ERR no such message/);
  t.regex(await c.cmd('QUIT'), /0 messages deleted/);
  const d = await LineClient.connect(fx.port);
  t.regex(await d.login(), /has 2 messages$/);
  t.regex(await d.cmd('LIST 2'), new RegExp(`^\\+OK 2 ${dotty.length}$`));
  d.close();
});

test('idle autologout closes without a reply and deletes nothing', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true, limits: { idleMs: 300 } });
  await fx.deliver(thunderbird);
  const c = await LineClient.connect(fx.port);
  await c.login();
  t.is(await c.cmd('DELE 1'), '+OK message 1 deleted');
  const seen = c.raw.length;
  await c.ended();
  t.is(c.raw.length, seen, 'no reply at autologout (RFC 1939 §3)');
  t.is((await fx.system.call(fx.mailbox, 'listContents', { folder: fx.inbox })).length, 1);
});

test('RETR of a large message waits for a slow reader instead of buffering it', async (t) => {
  const fx = await startPop3(t, { allowPlaintextAuth: true });
  const line = `${'abcdefghij'.repeat(7)}.xyz\r\n.leading dot\r\n`;
  const big = Buffer.concat([crlf('From: big@example.com\nSubject: big\n\n'), Buffer.from(line.repeat(Math.ceil((24 << 20) / line.length)))]);
  await fx.deliver(big);
  const c = await LineClient.connect(fx.port);
  await c.login();
  t.is(await c.cmd('LIST 1'), `+OK 1 ${big.length}`);
  const server = fx.serverSockets[fx.serverSockets.length - 1]!;
  c.socket.pause();
  c.send('RETR 1\r\n');
  let worst = 0;
  for (let i = 0; i < 20; i++) {
    await sleep(50);
    worst = Math.max(worst, server.writableLength);
  }
  t.true(server.bytesWritten < big.length, `the reader is behind (server wrote ${server.bytesWritten} of ${big.length})`);
  t.true(worst < 512 * 1024, `the door held at most ${worst} bytes for the socket`);
  c.socket.resume();
  t.is(await c.line(), `+OK ${big.length} octets`);
  t.true(unstuff(await c.multiRaw()).equals(big));
  c.close();
});
