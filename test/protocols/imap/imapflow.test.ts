import test from 'ava';
import { ImapFlow } from 'imapflow';
import { startImap, ALICE, PASSWORD, sampleMessage } from './harness.js';

function client(port: number, secure: boolean): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port, secure, auth: { user: ALICE, pass: PASSWORD }, tls: { rejectUnauthorized: false }, logger: false, disableAutoIdle: false });
}

test('imapflow: a full session over STARTTLS (list, select, fetch, search, store, copy, move, append, expunge, IDLE woken by delivery)', async (t) => {
  const { port, stack } = await startImap(t, { allowPlaintextAuth: false });
  const alice = stack.dir.userByAddress(ALICE)!;
  for (let i = 1; i <= 3; i++) await stack.delivery.deliver(Buffer.from(sampleMessage(i)), [alice]);
  const c = client(port, false);
  t.teardown(() => c.close());
  await c.connect();
  t.true(c.secureConnection, 'upgraded with STARTTLS');
  const list = await c.list();
  const paths = list.map((m) => m.path);
  t.true(paths.includes('INBOX'));
  t.is(list.find((m) => m.path === 'Sent Items')?.specialUse, '\\Sent');
  t.is(list.find((m) => m.path === 'Deleted Items')?.specialUse, '\\Trash');
  t.false(paths.includes('Calendar'), 'calendar folders stay hidden');

  const box = await c.mailboxOpen('INBOX');
  t.is(box.exists, 3);
  const msgs = [];
  for await (const m of c.fetch('1:*', { uid: true, flags: true, envelope: true, bodyStructure: true, size: true, headers: ['subject'] })) msgs.push(m);
  t.deepEqual(msgs.map((m) => m.envelope?.subject), ['message 1', 'message 2', 'message 3']);
  t.is(msgs[0]!.bodyStructure?.type, 'text/plain');
  const one = await c.fetchOne('2', { source: true });
  t.true(one && one.source!.toString().includes('Hello number 2.'));

  t.deepEqual(await c.search({ seen: false }), [1, 2, 3], 'imapflow peeks');
  t.deepEqual(await c.search({ subject: 'message 3' }), [3]);
  t.deepEqual(await c.search({ from: 'sender1@example.org' }), [1]);
  t.deepEqual(await c.search({ body: 'number 2' }), [2]);

  await c.messageFlagsAdd('1', ['\\Flagged', '$Work']);
  const f1 = await c.fetchOne('1', { flags: true });
  t.true(f1 && f1.flags!.has('\\Flagged') && f1.flags!.has('$Work'));

  await c.mailboxCreate('Archive');
  const copied = await c.messageCopy('1', 'Archive');
  t.truthy(copied && copied.uidMap && copied.uidMap.size === 1, 'COPYUID');
  const moved = await c.messageMove('3', 'Archive');
  t.truthy(moved && moved.uidMap?.size === 1);
  t.is(c.mailbox && typeof c.mailbox === 'object' ? c.mailbox.exists : -1, 2);

  const appended = await c.append('INBOX', sampleMessage(9), ['\\Seen']);
  t.truthy(appended && appended.uid);
  await c.messageDelete('1');
  const left = [];
  for await (const m of c.fetch('1:*', { uid: true, envelope: true })) left.push(m.envelope?.subject);
  t.deepEqual(left, ['message 2', 'message 9']);

  // IDLE: a delivery must wake it.
  const exists = new Promise<number>((resolve) => c.on('exists', (d: { count: number }) => resolve(d.count)));
  void c.idle();
  await new Promise((r) => setTimeout(r, 200));
  await stack.delivery.deliver(Buffer.from(sampleMessage(10)), [alice]);
  t.is(await Promise.race([exists, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]), 3);

  const status = await c.status('Archive', { messages: true, unseen: true, uidNext: true });
  t.is(status === false ? -1 : status.messages, 2);
  await c.logout();
});

test('imapflow: implicit TLS, two clients see each other\'s changes', async (t) => {
  const { tlsPort, stack } = await startImap(t);
  await stack.delivery.deliver(Buffer.from(sampleMessage(1)), [stack.dir.userByAddress(ALICE)!]);
  const a = client(tlsPort, true);
  const b = client(tlsPort, true);
  t.teardown(() => (a.close(), b.close()));
  await a.connect();
  await b.connect();
  await a.mailboxOpen('INBOX');
  await b.mailboxOpen('INBOX');
  const flagged = new Promise<string[]>((resolve) => b.on('flags', (d: { flags: Set<string> }) => resolve([...d.flags])));
  void b.idle();
  await new Promise((r) => setTimeout(r, 200));
  await a.messageFlagsAdd('1', ['\\Seen', '\\Answered']);
  const seen = await Promise.race([flagged, new Promise<string[]>((r) => setTimeout(() => r([]), 5000))]);
  t.true(seen.includes('\\Seen') && seen.includes('\\Answered'), `b saw ${seen.join(' ')}`);
  const expunged = new Promise<boolean>((resolve) => b.on('expunge', () => resolve(true)));
  await a.messageDelete('1');
  t.true(await Promise.race([expunged, new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]));
  await a.logout();
  await b.logout();
});
