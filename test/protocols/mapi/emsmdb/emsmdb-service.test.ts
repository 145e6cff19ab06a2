/**
 * The mailbox endpoint's service against real mailbox actors (actor system, LMDB in a temp
 * folder): server bodies against the independent test client's codecs, ROP runs, fuzzing of
 * Execute bodies (no exception but the transport's own escapes, no handle leaks, no other
 * user's mailbox), and a session whose actor state is lost ends visibly.
 */
import test from 'ava';
import { EmsmdbService, SessionLost } from '../../../../protocols/mapi/emsmdb/emsmdb-service.js';
import {
  pullConnectRequest,
  pullExecuteRequest,
  pushConnectRequest,
  pushConnectResponse,
  pushExecuteRequest,
  pushExecuteResponse,
  pushNotificationWaitResponse,
  pullNotificationWaitRequest,
} from '../../../../protocols/mapi/emsmdb/bodies.js';
import { InvalidRequestBody } from '../../../../protocols/mapi/http/response-codes.js';
import { pushRopRequestBuffer } from '../../../../protocols/mapi/rops/buffer.js';
import { allCodecs } from '../../../../protocols/mapi/rops/codec/registry.js';
import type { RopRequest } from '../../../../protocols/mapi/rops/codec/rop.js';
import type { Schema } from '../../../../protocols/mapi/rops/codec/fields.js';
import { Ec, RopId, isReservedRopId } from '../../../../protocols/mapi/rops/ids.js';
import { pushExtendedBuffers } from '../../../../protocols/mapi/wire/rpc-ext.js';
import { MAX_OBJECTS_PER_SESSION } from '../../../../actors/mailbox/rop/rop-session.js';
import * as client from '../../../fixtures/mapi-client/emsmdb.js';
import { startMailStack } from '../../../fixtures/mail-stack.js';
import { quietLog, rng } from '../../../helpers.js';

test('server bodies and the independent client codecs agree both ways', (t) => {
  const q = client.encodeConnectRequest(client.connectRequest('/o=Org/cn=Recipients/cn=x', { defaultCodePage: 1252 }));
  const pulled = pullConnectRequest(q);
  t.is(pulled.userDn, '/o=Org/cn=Recipients/cn=x');
  t.is(pulled.defaultCodePage, 1252);
  t.deepEqual(client.decodeConnectRequest(pushConnectRequest(pulled)).userDn, pulled.userDn);
  const resp = client.decodeConnectResponse(pushConnectResponse({ statusCode: 0, errorCode: 0, maxPollingInterval: 60000, retryCount: 6, retryDelay: 10000, dnPrefix: '/o=Org', displayName: 'Ünïcode' }));
  t.like(resp, { ok: true, maxPollingInterval: 60000, retryCount: 6, retryDelay: 10000, dnPrefix: '/o=Org', displayName: 'Ünïcode' });
  const rb = new Uint8Array([1, 2, 3, 4]);
  const ex = pullExecuteRequest(client.encodeExecuteRequest({ flags: 3, ropBuffer: rb, maxRopOut: 0x10008 }));
  t.like(ex, { flags: 3, maxRopOut: 0x10008 });
  t.deepEqual([...ex.ropBuffer], [1, 2, 3, 4]);
  const er = client.decodeExecuteResponse(pushExecuteResponse({ statusCode: 0, errorCode: 0, flags: 0, ropBuffer: rb }));
  t.true(er.ok);
  if (er.ok) t.deepEqual([...er.ropBuffer], [1, 2, 3, 4]);
  t.is(pullNotificationWaitRequest(client.encodeNotificationWaitRequest({ flags: 0 })).flags, 0);
  const nw = client.decodeNotificationWaitResponse(pushNotificationWaitResponse({ statusCode: 0, errorCode: 0, eventPending: 1 }));
  t.like(nw, { ok: true, eventPending: 1 });
  // Truncated and over-long bodies are the transport's "invalid request body".
  t.throws(() => pullExecuteRequest(new Uint8Array([0, 0, 0, 0, 0xff, 0xff, 0, 0])), { instanceOf: InvalidRequestBody });
  t.throws(() => pullConnectRequest(new Uint8Array([0x41, 0x42])), { instanceOf: InvalidRequestBody });
  t.throws(() => pullNotificationWaitRequest(new Uint8Array(12)), { instanceOf: InvalidRequestBody });
});

async function setup(t: Parameters<typeof startMailStack>[0]) {
  const stack = await startMailStack(t);
  const alice = await stack.addUser('alice@example.test', 'pw', 'Alice');
  const bob = await stack.addUser('bob@example.test', 'pw', 'Bob');
  const svc = new EmsmdbService({ system: stack.sys, dir: stack.dir, log: quietLog });
  const connect = (id: string) => {
    const r = svc.connect(pushConnectRequest({ userDn: alice.legacyDn, flags: 0, defaultCodePage: 1252, lcidSort: 1033, lcidString: 1033, aux: new Uint8Array(0) }), alice, id);
    if (r.session === null) throw new Error('connect failed');
    return r.session;
  };
  const exec = (s: ReturnType<typeof connect>, rops: unknown[], handles: number[], opts: { compress?: boolean; xor?: boolean; maxRopOut?: number } = {}) =>
    svc.execute(pushExecuteRequest({ flags: 0, ropBuffer: pushExtendedBuffers([pushRopRequestBuffer(rops as RopRequest<Schema>[], handles)], opts), maxRopOut: opts.maxRopOut ?? 0x10008, aux: new Uint8Array(0) }), s);
  return { stack, alice, bob, svc, connect, exec };
}

const logonRop = (essdn: string, logonId = 0, out = 0) => ({ ropId: RopId.Logon, logonId, inputHandleIndex: 0, outputHandleIndex: out, logonFlags: 1, openFlags: 0x01000000, storeState: 0, essdn });

test('Connect refuses another user\'s DN; a run of ROPs shares one logon; RopRelease releases', async (t) => {
  const { alice, bob, svc, connect, exec } = await setup(t);
  const wrong = svc.connect(pushConnectRequest({ userDn: bob.legacyDn, flags: 0, defaultCodePage: 1252, lcidSort: 1033, lcidString: 1033, aux: new Uint8Array(0) }), alice, 'x');
  t.is(wrong.session, null);
  t.is(client.decodeConnectResponse(wrong.body).ok && (client.decodeConnectResponse(wrong.body) as { errorCode: number }).errorCode, Ec.ecAccessDenied);
  const s = connect('s1');
  const out = client.decodeExecuteResponse(await exec(s, [logonRop(alice.legacyDn), { ropId: RopId.GetStoreState, logonId: 0, inputHandleIndex: 0 }, logonRop(bob.legacyDn, 1, 1)], [0xffffffff, 0xffffffff]));
  t.true(out.ok);
  t.deepEqual([...s.logons.entries()], [[0, 'alice@example.test']], 'the refused logon on Bob\'s mailbox made nothing');
  t.is(s.mailboxes.size, 1);
  await exec(s, [{ ropId: RopId.Release, logonId: 0, inputHandleIndex: 0 }], [0]);
  t.is(s.logons.size, 1, 'a wrong handle value releases nothing');
  await svc.end(s);
  t.is(s.logons.size, 0);
});

test('fuzzed Execute bodies: only the transport\'s errors escape, no handle leaks, never another mailbox', async (t) => {
  const { stack, alice, bob, svc, connect, exec } = await setup(t);
  const s = connect('fuzz');
  const g = rng(7);
  const codecs = allCodecs().filter((c) => c.handles !== 'none' && !isReservedRopId(c.id));
  const dns = [alice.legacyDn, bob.legacyDn, '', '/o=nowhere/cn=x', alice.legacyDn.toUpperCase()];
  let answered = 0;
  let invalid = 0;
  for (let i = 0; i < 600; i++) {
    const rops: unknown[] = [];
    const n = 1 + Math.floor(g() * 6);
    for (let k = 0; k < n; k++) {
      if (g() < 0.3) {
        rops.push(logonRop(dns[Math.floor(g() * dns.length)]!, Math.floor(g() * 3), Math.floor(g() * 4)));
        continue;
      }
      const c = codecs[Math.floor(g() * codecs.length)]!;
      const q = c.genRequest(g, { privateLogon: true }) as RopRequest<Schema> & { logonId: number; inputHandleIndex: number; outputHandleIndex?: number };
      q.logonId = Math.floor(g() * 3);
      q.inputHandleIndex = Math.floor(g() * 4);
      if (q.outputHandleIndex !== undefined) q.outputHandleIndex = Math.floor(g() * 4);
      rops.push(q);
    }
    const handles = Array.from({ length: 4 }, () => (g() < 0.5 ? 0xffffffff : (Math.floor(g() * 3) << 24) | Math.floor(g() * 40)));
    let body: Uint8Array;
    try {
      body = pushExecuteRequest({
        flags: 0,
        ropBuffer: pushExtendedBuffers([pushRopRequestBuffer(rops as RopRequest<Schema>[], handles)], { compress: g() < 0.3, xor: g() < 0.3 }),
        maxRopOut: g() < 0.2 ? 0x8008 : 0x10008,
        aux: new Uint8Array(0),
      });
    } catch {
      continue; // a generated request too large to encode
    }
    if (g() < 0.4) {
      body = Uint8Array.from(body);
      const flips = 1 + Math.floor(g() * 4);
      for (let f = 0; f < flips; f++) body[Math.floor(g() * body.byteLength)] ^= 1 << Math.floor(g() * 8);
      if (g() < 0.2) body = body.subarray(0, Math.floor(g() * body.byteLength));
    }
    try {
      const r = client.decodeExecuteResponse(await svc.execute(body, s));
      t.true(r.ok);
      answered++;
    } catch (err) {
      if (err instanceof InvalidRequestBody) invalid++;
      else throw err;
    }
    for (const m of s.logons.values()) t.is(m, 'alice@example.test', 'no logon ever reaches Bob\'s mailbox');
  }
  t.true(answered > 300, `${answered} answered`);
  t.true(invalid > 20, `${invalid} invalid bodies`);
  // Whatever the fuzz opened stays within the session's limit and goes with the session.
  const ended = await stack.sys.call(stack.mailbox('alice@example.test'), 'endSession', { session: 'fuzz' });
  t.true(ended.released <= MAX_OBJECTS_PER_SESSION);
  const bobEnded = await stack.sys.call(stack.mailbox('bob@example.test'), 'endSession', { session: 'fuzz' });
  t.is(bobEnded.released, 0);
  // The session still works.
  const again = connect('after');
  const ok = client.decodeExecuteResponse(await exec(again, [logonRop(alice.legacyDn)], [0xffffffff]));
  t.true(ok.ok);
  t.deepEqual([...again.logons.keys()], [0]);
});

test('a session whose actor state is gone ends visibly (context not found), never silently', async (t) => {
  const { stack, alice, connect, exec } = await setup(t);
  const s = connect('lost');
  await exec(s, [logonRop(alice.legacyDn)], [0xffffffff]);
  t.deepEqual([...s.logons.keys()], [0]);
  // The actor loses the session (as after a worker restart or passivation): the door finds out.
  await stack.sys.call(stack.mailbox('alice@example.test'), 'endSession', { session: 'lost' });
  await t.throwsAsync(exec(s, [{ ropId: RopId.GetStoreState, logonId: 0, inputHandleIndex: 0 }], [0x00000001]), { instanceOf: SessionLost });
  t.true(s.lost);
});

test('queued notifications: NotificationWait answers at once, the next Execute carries them, RopPending when they do not fit', async (t) => {
  const { alice, svc, connect, exec } = await setup(t);
  const s = connect('notify');
  await exec(s, [logonRop(alice.legacyDn)], [0xffffffff]);
  const waiting = svc.notificationWait(pushNotificationWait(), s, 60_000);
  // A RopNotify response as issue 8's notifications will queue it (RopId, handle, logon id, data).
  const note = Uint8Array.from([RopId.Notify, 1, 0, 0, 0, 0, 0x00, 0x01, 0x02]);
  svc.notify(s, note);
  t.like(client.decodeNotificationWaitResponse(await waiting), { ok: true, eventPending: 1 });
  const r = client.decodeExecuteResponse(await exec(s, [{ ropId: RopId.GetStoreState, logonId: 0, inputHandleIndex: 0 }], [1]));
  t.true(r.ok);
  const payload = r.ok ? client.readExtendedBuffers(r.ropBuffer)[0]!.payload : new Uint8Array(0);
  const ropSize = payload[0]! | (payload[1]! << 8);
  t.deepEqual([...payload.subarray(ropSize - note.byteLength, ropSize)], [...note], 'the RopNotify follows the responses');
  t.is(s.pendingNotify.length, 0);
  // More than fits in the smallest output buffer: the rest waits, announced by RopPending.
  for (let i = 0; i < 3; i++) svc.notify(s, Uint8Array.from([RopId.Notify, 1, 0, 0, 0, 0, ...new Uint8Array(0x3000)]));
  const r2 = client.decodeExecuteResponse(await exec(s, [{ ropId: RopId.GetStoreState, logonId: 0, inputHandleIndex: 0 }], [1], { maxRopOut: 0x8008 }));
  const p2 = r2.ok ? client.readExtendedBuffers(r2.ropBuffer)[0]!.payload : new Uint8Array(0);
  const size2 = p2[0]! | (p2[1]! << 8);
  t.deepEqual([...p2.subarray(size2 - 3, size2)], [RopId.Pending, 0, 0]);
  t.is(s.pendingNotify.length, 1);
});

function pushNotificationWait(): Uint8Array {
  return client.encodeNotificationWaitRequest({ flags: 0 });
}

test('a mailbox too busy to take a run answers ecServerBusy with RopBackoff, and nothing is lost', async (t) => {
  const stack = await startMailStack(t, ['example.test'], { limits: { queueHard: 2, queueSoft: 1 } });
  const alice = await stack.addUser('alice@example.test', 'pw', 'Alice');
  const svc = new EmsmdbService({ system: stack.sys, dir: stack.dir, log: quietLog });
  const sessions = Array.from({ length: 24 }, (_, i) => {
    const r = svc.connect(pushConnectRequest({ userDn: alice.legacyDn, flags: 0, defaultCodePage: 1252, lcidSort: 1033, lcidString: 1033, aux: new Uint8Array(0) }), alice, `busy-${i}`);
    return r.session!;
  });
  const body = () =>
    pushExecuteRequest({ flags: 0, ropBuffer: pushExtendedBuffers([pushRopRequestBuffer([logonRop(alice.legacyDn) as unknown as RopRequest<Schema>], [0xffffffff])]), maxRopOut: 0x10008, aux: new Uint8Array(0) });
  const answers = await Promise.all(sessions.map((s) => svc.execute(body(), s)));
  let busy = 0;
  for (const [i, a] of answers.entries()) {
    const r = client.decodeExecuteResponse(a);
    t.true(r.ok);
    const payload = r.ok ? client.readExtendedBuffers(r.ropBuffer)[0]!.payload : new Uint8Array(0);
    const rv = payload[4]! | (payload[5]! << 8) | (payload[6]! << 16) | (payload[7]! << 24);
    if (rv >>> 0 === Ec.ecServerBusy) {
      busy++;
      t.is(payload[8], RopId.Backoff, 'RopBackoff follows the refused ROP');
      t.is(sessions[i]!.logons.size, 0);
      t.false(sessions[i]!.lost, 'a busy mailbox does not end the session');
    } else {
      t.is(rv, 0);
      t.is(sessions[i]!.logons.size, 1);
    }
  }
  t.true(busy > 0, 'some runs met the full queue');
  t.true(busy < sessions.length, 'some runs got through');
});
