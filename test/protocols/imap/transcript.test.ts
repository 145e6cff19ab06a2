import test from 'ava';
import { connect as tlsConnect } from 'node:tls';
import { startImap, RawClient, ALICE, BOB, PASSWORD, sampleMessage } from './harness.js';
import { encodePropBag } from '../../../storage/prop-bag.js';
import { Tag } from '../../../storage/prop-tags.js';
import { PropType, propTag } from '../../../storage/prop-types.js';

const FAST = { failedLoginDelayMs: 5 };

async function loggedIn(port: number): Promise<RawClient> {
  const { client } = await RawClient.open(port);
  const r = await client.cmd(`LOGIN ${ALICE} "${PASSWORD}"`);
  if (!/t\d+ OK/.test(r)) throw new Error(r);
  return client;
}

test('before TLS: LOGINDISABLED, LOGIN refused; STARTTLS drops what was pipelined behind it', async (t) => {
  const { port } = await startImap(t, { allowPlaintextAuth: false });
  const { client, greeting } = await RawClient.open(port);
  t.regex(greeting, /^\* OK \[CAPABILITY IMAP4rev1 .*STARTTLS LOGINDISABLED\]/);
  t.regex(await client.cmd(`LOGIN ${ALICE} x`), /t1 NO \[PRIVACYREQUIRED\]/);
  // Command injection: a LOGIN pipelined in clear behind STARTTLS must not run under TLS.
  client.write(`s1 STARTTLS\r\ns2 LOGIN ${ALICE} "${PASSWORD}"\r\n`);
  t.regex(await client.until('s1'), /s1 OK Begin TLS/);
  const secure = tlsConnect({ socket: client.socket, rejectUnauthorized: false });
  await new Promise<void>((r) => secure.once('secureConnect', () => r()));
  let got = '';
  secure.on('data', (d: Buffer) => (got += d.toString()));
  secure.write('s3 CAPABILITY\r\n');
  await new Promise((r) => setTimeout(r, 300));
  t.notRegex(got, /s2/, 'the pipelined LOGIN was dropped');
  t.regex(got, /CAPABILITY IMAP4rev1 .*AUTH=PLAIN/);
  t.notRegex(got, /STARTTLS/);
  secure.write(`s4 AUTHENTICATE PLAIN ${Buffer.from(`\0${ALICE}\0${PASSWORD}`).toString('base64')}\r\n`);
  await new Promise((r) => setTimeout(r, 300));
  t.regex(got, /s4 OK \[CAPABILITY [^\]]*IDLE[^\]]*\] Logged in/);
  secure.destroy();
});

test('syntax errors: BAD with the tag, untagged BAD without one, state errors, BYE after too many', async (t) => {
  const { port } = await startImap(t, { limits: { badCommands: 5 } });
  const { client } = await RawClient.open(port);
  t.regex(await client.cmd('SELECT INBOX'), /t1 BAD SELECT not allowed now: log in first/);
  t.regex(await client.cmd('FROBNICATE'), /t2 BAD unknown command FROBNICATE/);
  client.write('+ NOOP\r\n');
  t.regex(await client.readUntil((b) => b.endsWith('\r\n')), /^\* BAD/);
  t.regex(await client.cmd('LOGIN "unterminated'), /t3 BAD unterminated quoted string/);
  const last = await client.readUntil(() => false, 500).catch(() => '');
  void last;
  client.write('t9 BOGUS\r\n');
  t.regex(await client.readUntil((b) => b.includes('BYE')), /t9 BAD .*\r\n\* BYE Too many bad commands/);
});

test('literals: synchronizing gets "+", LITERAL+ does not; an oversized literal is refused or discarded', async (t) => {
  const { port } = await startImap(t, { limits: { literalBytes: 100 } });
  const { client } = await RawClient.open(port);
  client.write(`a1 LOGIN {${ALICE.length}}\r\n`);
  t.regex(await client.readUntil((b) => b.endsWith('\r\n')), /^\+ /);
  client.write(`${ALICE} {${PASSWORD.length}+}\r\n${PASSWORD}\r\n`);
  t.regex(await client.until('a1'), /a1 OK/);
  client.write('a2 SEARCH TEXT {500}\r\n');
  t.regex(await client.until('a2'), /a2 BAD \[TOOBIG\] literal too large/);
  client.write(`a3 SELECT INBOX\r\na4 SEARCH TEXT {500+}\r\n${'x'.repeat(500)}\r\na5 NOOP\r\n`);
  const r = await client.until('a5');
  t.regex(r, /a3 OK \[READ-WRITE\]/);
  t.regex(r, /a4 BAD \[TOOBIG\]/);
  t.regex(r, /a5 OK NOOP/);
});

test('a line over the limit is BAD [TOOBIG] with its tag; the session goes on', async (t) => {
  const { port } = await startImap(t, { limits: { lineBytes: 200 } });
  const client = await loggedIn(port);
  client.write(`a1 LIST "" ${'x'.repeat(1000)}\r\na2 NOOP\r\n`);
  const r = await client.until('a2');
  t.regex(r, /a1 BAD \[TOOBIG\] command line too long/);
  t.regex(r, /a2 OK/);
});

test('failed logins: NO [AUTHENTICATIONFAILED], the third one closes; no one opens another user\'s mailbox', async (t) => {
  const { port } = await startImap(t, { limits: FAST });
  const { client } = await RawClient.open(port);
  t.regex(await client.cmd(`LOGIN ${ALICE} wrong`), /t1 NO \[AUTHENTICATIONFAILED\]/);
  // authzid bob without a grant.
  t.regex(await client.cmd(`AUTHENTICATE PLAIN ${Buffer.from(`${BOB}\0${ALICE}\0${PASSWORD}`).toString('base64')}`), /t2 NO \[AUTHORIZATIONFAILED\]/);
  const r = await client.cmd(`LOGIN ${ALICE} wrong-again`);
  t.regex(r, /\* BYE Too many failed logins/);
  await client.readUntil(() => client.closed, 3000);
  t.true(client.closed);
});

test('AUTHENTICATE PLAIN with a continuation, and cancelled', async (t) => {
  const { port } = await startImap(t);
  const { client } = await RawClient.open(port);
  client.write('a1 AUTHENTICATE PLAIN\r\n');
  t.regex(await client.readUntil((b) => b.endsWith('\r\n')), /^\+ \r\n$/);
  client.write('*\r\n');
  t.regex(await client.until('a1'), /a1 BAD authentication cancelled/);
  client.write('a2 AUTHENTICATE PLAIN\r\n');
  await client.readUntil((b) => b.endsWith('\r\n'));
  client.write(`${Buffer.from(`\0${ALICE}\0${PASSWORD}`).toString('base64')}\r\n`);
  t.regex(await client.until('a2'), /a2 OK/);
});

test('connections per user are limited', async (t) => {
  const { port } = await startImap(t, { limits: { connectionsPerUser: 2 } });
  const a = await loggedIn(port);
  const b = await loggedIn(port);
  const { client: c } = await RawClient.open(port);
  t.regex(await c.cmd(`LOGIN ${ALICE} "${PASSWORD}"`), /t1 NO \[LIMIT\]/);
  a.close();
  await new Promise((r) => setTimeout(r, 200));
  t.regex(await c.cmd(`LOGIN ${ALICE} "${PASSWORD}"`), /t2 OK/);
  b.close();
});

test('pipelined commands answer in order', async (t) => {
  const { port, stack } = await startImap(t);
  await stack.delivery.deliver(Buffer.from(sampleMessage(1)), [stack.dir.userByAddress(ALICE)!]);
  const { client } = await RawClient.open(port);
  client.write(`p1 LOGIN ${ALICE} "${PASSWORD}"\r\np2 SELECT INBOX\r\np3 FETCH 1 (FLAGS)\r\np4 STORE 1 +FLAGS (\\Seen)\r\np5 LOGOUT\r\n`);
  const r = await client.until('p5');
  const order = [...r.matchAll(/^(p\d) (OK|NO|BAD)/gm)].map((m) => m[1]);
  t.deepEqual(order, ['p1', 'p2', 'p3', 'p4', 'p5']);
  t.regex(r, /\* 1 FETCH \(UID 1 FLAGS \(\\Seen \\Recent\)\)/);
});

test('changes through the store (as MAPI makes them) follow the UID rules', async (t) => {
  const { port, stack } = await startImap(t);
  const alice = stack.dir.userByAddress(ALICE)!;
  await stack.delivery.deliver(Buffer.from(sampleMessage(1)), [alice]);
  await stack.delivery.deliver(Buffer.from(sampleMessage(2)), [alice]);
  const ref = stack.mailbox(ALICE);
  const info = await stack.sys.call(ref, 'logonInfo', null);
  const [m1, m2] = await stack.sys.call(ref, 'listContents', { folder: info.special.inbox });
  const client = await loggedIn(port);
  await client.cmd('SELECT INBOX');
  // Read state and follow-up flag: same UID, new flags.
  await stack.sys.call(ref, 'setRead', { mids: [m1!], read: true });
  await stack.sys.call(ref, 'setFlagProps', { mid: m1!, set: encodePropBag([[Tag.PidTagFlagStatus, 2]]) });
  let r = await client.cmd('NOOP');
  t.regex(r, /\* 1 FETCH \(UID 1 FLAGS \(\\Seen \\Flagged \\Recent\)\)/);
  // Reply verb from Outlook: \Answered.
  await stack.sys.call(ref, 'setFlagProps', { mid: m2!, set: encodePropBag([[Tag.PidTagLastVerbExecuted, 103]]) });
  r = await client.cmd('UID FETCH 2 (FLAGS)');
  t.regex(r, /\* 2 FETCH \(UID 2 FLAGS \(\\Answered \\Recent\)\)/);
  // A content change (subject): the old UID is expunged, the message comes back under a new one.
  await stack.sys.call(ref, 'updateMessage', { mid: m2!, set: encodePropBag([[Tag.PidTagSubject, 'edited in Outlook']]) });
  r = await client.cmd('FETCH 1:* (UID)');
  t.notRegex(r, /EXPUNGE/, 'no EXPUNGE during FETCH');
  t.regex(r, /\* 3 EXISTS/, 'the new UID is announced at once');
  r = await client.cmd('NOOP');
  t.regex(r, /\* 2 EXPUNGE/, 'the old UID goes when IMAP allows');
  r = await client.cmd('UID FETCH 3 (UID FLAGS ENVELOPE)');
  t.regex(r, /UID 3 FLAGS \(\\Answered( \\Recent)?\) ENVELOPE \("[^"]*" "edited in Outlook"/);
  // The content changed, so the original MIME went: the stable MIME is served, the same every time.
  const a = await client.cmd('UID FETCH 3 (BODY.PEEK[] RFC822.SIZE)');
  const b = await client.cmd('UID FETCH 3 (BODY.PEEK[] RFC822.SIZE)');
  t.is(a.replace(/t\d+ OK.*/, ''), b.replace(/t\d+ OK.*/, ''));
  const size = Number(/RFC822.SIZE (\d+)/.exec(a)![1]);
  t.is(size, Number(/BODY\[\] \{(\d+)\}/.exec(a)![1]));
});

test('keywords are categories: non-atom categories stay hidden and survive FLAGS replacement; $Junk never becomes one', async (t) => {
  const { port, stack } = await startImap(t);
  const alice = stack.dir.userByAddress(ALICE)!;
  await stack.delivery.deliver(Buffer.from(sampleMessage(1)), [alice]);
  const ref = stack.mailbox(ALICE);
  const info = await stack.sys.call(ref, 'logonInfo', null);
  const [mid] = await stack.sys.call(ref, 'listContents', { folder: info.special.inbox });
  const [kwId] = await stack.sys.call(ref, 'idsFromNames', { names: [{ guid: '00020329-0000-0000-c000-000000000046', name: 'Keywords' }], create: true });
  const kwTag = propTag(kwId!, PropType.PtypMultipleString);
  await stack.sys.call(ref, 'setFlagProps', { mid: mid!, set: encodePropBag([[kwTag, ['Red Category', 'todo']]]) });
  const client = await loggedIn(port);
  let r = await client.cmd('SELECT INBOX');
  t.regex(r, /\* FLAGS \(.* todo\)/);
  t.notRegex(r, /Red/);
  r = await client.cmd('FETCH 1 (FLAGS)');
  t.regex(r, /FLAGS \(\\Recent todo\)/);
  r = await client.cmd('STORE 1 FLAGS (done $Junk \\Seen)');
  t.regex(r, /FLAGS \(\\Seen \\Recent \$Junk done\)/);
  const props = await stack.sys.call(ref, 'getMessage', { mid: mid!, tags: [kwTag] });
  const { decodePropBag } = await import('../../../storage/prop-bag.js');
  t.deepEqual(decodePropBag(Buffer.from(props.props)).get(kwTag), ['Red Category', 'done']);
});

test('EXAMINE is read-only: STORE refused, BODY[] does not set \\Seen', async (t) => {
  const { port, stack } = await startImap(t);
  await stack.delivery.deliver(Buffer.from(sampleMessage(1)), [stack.dir.userByAddress(ALICE)!]);
  const client = await loggedIn(port);
  t.regex(await client.cmd('EXAMINE INBOX'), /OK \[READ-ONLY\]/);
  t.regex(await client.cmd('STORE 1 +FLAGS (\\Seen)'), /NO \[READ-ONLY\]/);
  await client.cmd('FETCH 1 BODY[]');
  t.regex(await client.cmd('FETCH 1 FLAGS'), /FLAGS \(\)/);
  t.regex(await client.cmd('SELECT INBOX'), /OK \[READ-WRITE\]/);
  const r = await client.cmd('FETCH 1 BODY[TEXT]');
  t.regex(r, /FLAGS \(\\Seen/);
});

test('mailboxes: CREATE with superiors, RENAME, DELETE with children refused, RENAME INBOX, subscriptions, mUTF-7', async (t) => {
  const { port, stack } = await startImap(t);
  await stack.delivery.deliver(Buffer.from(sampleMessage(1)), [stack.dir.userByAddress(ALICE)!]);
  const client = await loggedIn(port);
  t.regex(await client.cmd('CREATE Projekte/Entw&APw-rfe/'), /OK/);
  t.regex(await client.cmd('CREATE Projekte'), /NO \[ALREADYEXISTS\]/);
  t.regex(await client.cmd('DELETE Projekte'), /NO \[INUSE\]/);
  t.regex(await client.cmd('DELETE INBOX'), /NO/);
  t.regex(await client.cmd('DELETE "Sent Items"'), /NO \[CANNOT\]/);
  t.regex(await client.cmd('RENAME Projekte/Entw&APw-rfe Alt/Drafts2'), /OK/);
  let r = await client.cmd('LIST "" "*"');
  t.regex(r, /\* LIST \(\\HasChildren\) "\/" "Alt"/);
  t.regex(r, /\* LIST \(\\HasNoChildren\) "\/" "Alt\/Drafts2"/);
  t.regex(r, /\* LIST \(\\HasNoChildren\) "\/" "Projekte"/);
  t.notRegex(r, /Calendar|Contacts|Tasks|Notes|Journal|Conversation|RSS/);
  t.regex(await client.cmd('RENAME INBOX "Old Inbox"'), /OK/);
  r = await client.cmd('STATUS "Old Inbox" (MESSAGES)');
  t.regex(r, /MESSAGES 1/);
  t.regex(await client.cmd('STATUS INBOX (MESSAGES)'), /MESSAGES 0/);
  t.regex(await client.cmd('UNSUBSCRIBE Projekte'), /OK/);
  t.regex(await client.cmd('SUBSCRIBE Ghost'), /OK/);
  r = await client.cmd('LSUB "" "*"');
  t.notRegex(r, /"Projekte"/);
  t.regex(r, /\* LSUB \(\\Noselect\) "\/" "Ghost"/);
  r = await client.cmd('LIST (SUBSCRIBED) "" "*" RETURN (SPECIAL-USE)');
  t.regex(r, /\(\\HasNoChildren \\Sent \\Subscribed\) "\/" "Sent Items"/);
  t.regex(r, /\\NonExistent\) "\/" "Ghost"/);
  t.regex(await client.cmd('LIST "" ""'), /\* LIST \(\\Noselect\) "\/" ""/);
  t.regex(await client.cmd('SELECT Nowhere'), /NO \[NONEXISTENT\]/);
  t.regex(await client.cmd('APPEND Nowhere {3+}\r\nabc'), /NO \[TRYCREATE\]/);
});

test('expunges from another session: held during FETCH / SEARCH / STORE, announced on NOOP', async (t) => {
  const { port, stack } = await startImap(t);
  const alice = stack.dir.userByAddress(ALICE)!;
  for (let i = 1; i <= 3; i++) await stack.delivery.deliver(Buffer.from(sampleMessage(i)), [alice]);
  const a = await loggedIn(port);
  const b = await loggedIn(port);
  await a.cmd('SELECT INBOX');
  await b.cmd('SELECT INBOX');
  await b.cmd('STORE 2 +FLAGS.SILENT (\\Deleted)');
  await b.cmd('EXPUNGE');
  let r = await a.cmd('FETCH 1:3 (FLAGS)');
  t.notRegex(r, /EXPUNGE/);
  t.regex(r, /\* 3 FETCH/);
  r = await a.cmd('SEARCH ALL');
  t.regex(r, /\* SEARCH 1 3\r\n/);
  r = await a.cmd('NOOP');
  t.regex(r, /\* 2 EXPUNGE/);
  r = await a.cmd('UID SEARCH ALL');
  t.regex(r, /\* SEARCH 1 3\r\n/);
});

test('IDLE is woken by a delivery and by another session\'s flag change', async (t) => {
  const { port, stack } = await startImap(t);
  const alice = stack.dir.userByAddress(ALICE)!;
  await stack.delivery.deliver(Buffer.from(sampleMessage(1)), [alice]);
  const a = await loggedIn(port);
  const b = await loggedIn(port);
  await a.cmd('SELECT INBOX');
  await b.cmd('SELECT INBOX');
  a.write('i1 IDLE\r\n');
  t.regex(await a.readUntil((x) => x.includes('+ idling')), /\+ idling/);
  await stack.delivery.deliver(Buffer.from(sampleMessage(2)), [alice]);
  t.regex(await a.readUntil((x) => x.includes('EXISTS')), /\* 2 EXISTS/);
  await b.cmd('STORE 1 +FLAGS (\\Flagged)');
  t.regex(await a.readUntil((x) => x.includes('FETCH')), /\* 1 FETCH \(UID 1 FLAGS \([^)]*\\Flagged/);
  a.write('DONE\r\n');
  t.regex(await a.until('i1'), /i1 OK IDLE terminated/);
});

test('inactivity: the login timeout says BYE', async (t) => {
  const { port } = await startImap(t, { limits: { preAuthMs: 300 } });
  const { client } = await RawClient.open(port);
  t.regex(await client.readUntil((b) => b.includes('BYE'), 3000), /\* BYE Login timeout/);
});

test('IDLE shows a change made through MAPI (read state) and a POP3-style delete at once', async (t) => {
  const { port, stack } = await startImap(t);
  const alice = stack.dir.userByAddress(ALICE)!;
  await stack.delivery.deliver(Buffer.from(sampleMessage(1)), [alice]);
  await stack.delivery.deliver(Buffer.from(sampleMessage(2)), [alice]);
  const ref = stack.mailbox(ALICE);
  const info = await stack.sys.call(ref, 'logonInfo', null);
  const [m1, m2] = await stack.sys.call(ref, 'listContents', { folder: info.special.inbox });
  const a = await loggedIn(port);
  await a.cmd('SELECT INBOX');
  a.write('i1 IDLE\r\n');
  await a.readUntil((x) => x.includes('+ idling'));
  await stack.sys.call(ref, 'setRead', { mids: [m1!], read: true });
  t.regex(await a.readUntil((x) => x.includes('FETCH')), /\* 1 FETCH \(UID 1 FLAGS \(\\Seen \\Recent\)\)/);
  await stack.sys.call(ref, 'deleteMessages', { folder: info.special.inbox, mids: [m2!], hard: false });
  t.regex(await a.readUntil((x) => x.includes('EXPUNGE')), /\* 2 EXPUNGE/);
  a.write('DONE\r\n');
  t.regex(await a.until('i1'), /OK/);
});

test('a large FETCH streams to a slow reader with back-pressure and arrives whole', async (t) => {
  const { port, stack } = await startImap(t);
  const alice = stack.dir.userByAddress(ALICE)!;
  const line = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-=+/\r\n';
  const big = line.repeat(Math.ceil((1024 * 1024) / line.length));
  for (let i = 1; i <= 6; i++) await stack.delivery.deliver(Buffer.from(sampleMessage(i) + big), [alice]);
  const a = await loggedIn(port);
  await a.cmd('SELECT INBOX');
  a.socket.pause();
  a.write('f1 FETCH 1:* (BODY.PEEK[])\r\n');
  await new Promise((r) => setTimeout(r, 800));
  a.socket.resume();
  const r = await a.until('f1');
  t.regex(r, /f1 OK/);
  const sizes = [...r.matchAll(/BODY\[\] \{(\d+)\}/g)].map((m) => Number(m[1]));
  t.is(sizes.length, 6);
  t.true(r.length > 6 * 1024 * 1024);
});

test('APPEND of a 3 MB message with an attachment, then FETCH BODY[] gives the same bytes', async (t) => {
  const { port } = await startImap(t);
  const att = Buffer.alloc(2 * 1024 * 1024, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
  const raw = `From: a@example.org\r\nTo: alice@example.test\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream; name=blob.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n${att}\r\n--b--\r\n`;
  const a = await loggedIn(port);
  a.write(`p1 APPEND INBOX {${raw.length}+}\r\n${raw}\r\n`);
  t.regex(await a.until('p1'), /p1 OK \[APPENDUID \d+ 1\]/);
  await a.cmd('SELECT INBOX');
  const r = await a.cmd('FETCH 1 (RFC822.SIZE BODYSTRUCTURE BODY.PEEK[])');
  t.regex(r, new RegExp(`RFC822.SIZE ${raw.length} `));
  t.regex(r, /\("application" "octet-stream" \("name" "blob.bin"\)/);
  const lit = /BODY\[\] \{(\d+)\}\r\n/.exec(r)!;
  t.is(r.slice(lit.index + lit[0].length, lit.index + lit[0].length + Number(lit[1])), raw);
});

test('a user with a full-access grant opens another mailbox with an authorization identity; without it, never', async (t) => {
  const { port, stack } = await startImap(t);
  await stack.delivery.deliver(Buffer.from(sampleMessage(5)), [stack.dir.userByAddress(BOB)!]);
  const plain = (authz: string) => Buffer.from(`${authz}\0${ALICE}\0${PASSWORD}`).toString('base64');
  const { client: a } = await RawClient.open(port);
  t.regex(await a.cmd(`AUTHENTICATE PLAIN ${plain(BOB)}`), /NO \[AUTHORIZATIONFAILED\]/);
  await stack.dir.grantFullAccess(BOB, ALICE);
  t.regex(await a.cmd(`AUTHENTICATE PLAIN ${plain(BOB)}`), /OK/);
  const r = await a.cmd('SELECT INBOX');
  t.regex(r, /\* 1 EXISTS/);
  t.regex(await a.cmd('FETCH 1 (ENVELOPE)'), /"message 5"/);
  a.close();
});

test('an IDLE past its limit ends with BYE', async (t) => {
  const { port } = await startImap(t, { limits: { idleCommandMs: 400 } });
  const a = await loggedIn(port);
  await a.cmd('SELECT INBOX');
  a.write('i1 IDLE\r\n');
  t.regex(await a.readUntil((x) => x.includes('BYE'), 5000), /\+ idling\r\n\* BYE Autologout/);
});
