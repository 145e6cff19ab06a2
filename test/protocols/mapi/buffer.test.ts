import test from 'ava';
import { pullRopRequestBuffer, pushRopRequestBuffer, pushRopResponseBuffer, planResponseBuffer } from '../../../protocols/mapi/rops/buffer.js';
import { RopId } from '../../../protocols/mapi/rops/ids.js';
import { hex, toHex } from './hex.js';
import { WireReader } from '../../../protocols/mapi/wire/reader.js';
import { WireWriter } from '../../../protocols/mapi/wire/writer.js';
import { codecFor } from '../../../protocols/mapi/rops/codec/registry.js';
import { Backoff } from '../../../protocols/mapi/rops/codec/oxcrops.js';

const logon = { ropId: RopId.Logon, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 0, logonFlags: 1, openFlags: 0x01000000, storeState: 0, essdn: '/o=Stoa/cn=Recipients/cn=alice' };
const gpl = { ropId: RopId.GetPropertiesList, logonId: 0, inputHandleIndex: 0 };
const release = { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 };

test('request buffer round trip: RopSize, ROPs, handle table', (t) => {
  const buf = pushRopRequestBuffer([logon, gpl, release], [0xffffffff, 0x12]);
  const p = pullRopRequestBuffer(buf);
  t.is(p.error, null);
  t.deepEqual(p.rops.map((x) => x.request), [logon, gpl, release]);
  t.deepEqual(p.handles, [0xffffffff, 0x12]);
  t.is(buf[0] | (buf[1] << 8), buf.byteLength - 8);
});

test('golden: RopRelease in a buffer', (t) => {
  const buf = pushRopRequestBuffer([release], [0x1da]);
  t.is(toHex(buf), '05 00 01 00 01 da 01 00 00');
});

test('a reserved RopId ends the list and fails the request', (t) => {
  const buf = hex('08 00 09 00 00 28 00 00 ff ff ff ff');
  const p = pullRopRequestBuffer(buf);
  t.true(p.reserved);
  t.is(p.rops.length, 1);
  t.is(p.error?.code, 'reserved-rop');
});

test('a ROP that cannot be parsed ends the list; earlier ones stand', (t) => {
  const p = pullRopRequestBuffer(hex('07 00 09 00 00 02 00 ff ff ff ff'));
  t.is(p.rops.length, 1);
  t.is(p.error?.code, 'short');
  t.false(pullRopRequestBuffer(hex('ff 00')).error === null);
  t.false(pullRopRequestBuffer(hex('02 00 01')).error === null, 'handle table not a multiple of 4');
});

test('response buffer: RopBufferTooSmall when the next response does not fit', (t) => {
  const responses = [hex('09 00 00 00 00 00 00 00'), new Uint8Array(100)];
  const req = pushRopRequestBuffer([gpl, gpl], [1]);
  const p = pullRopRequestBuffer(req);
  const out = pushRopResponseBuffer(responses, [1], 40, { ropsList: p.ropsList, starts: p.rops.map((x) => x.start) });
  t.is(out.responded, 1);
  t.true(out.bufferTooSmall);
  // RopSize, first response, RopBufferTooSmall (SizeNeeded 102, the unprocessed 3-byte request), handle.
  t.is(toHex(out.buffer), '10 00 09 00 00 00 00 00 00 00 ff 66 00 09 00 00 01 00 00 00');
  t.deepEqual(planResponseBuffer([4, 4], 0, () => 0, 100), { fit: 2, bufferTooSmall: false, sizeNeeded: 0 });
});

// MS-OXCROPS 4.4: two RopRelease requests on handles 0x6F and 0x6E.
test('golden: RopRelease request buffer (MS-OXCROPS 4.4)', (t) => {
  const bytes = hex('08 00 01 00 00 01 00 01 6F 00 00 00 6E 00 00 00');
  const p = pullRopRequestBuffer(bytes);
  t.is(p.error, null);
  const rel = p.rops.map((x) => x.request);
  t.deepEqual(rel, [
    { ropId: 0x01, logonId: 0, inputHandleIndex: 0 },
    { ropId: 0x01, logonId: 0, inputHandleIndex: 1 },
  ]);
  t.deepEqual(p.handles, [0x6f, 0x6e]);
  t.deepEqual(pushRopRequestBuffer(rel, p.handles), bytes);
});

// MS-OXCROPS 4.6: a RopSetColumns response, then RopBackoff for the whole logon (no ROPs listed).
test('golden: RopBackoff after RopSetColumns in a response buffer (MS-OXCROPS 4.6)', (t) => {
  const bytes = hex('12 00 12 00 00 00 00 00 00 F9 00 34 12 00 00 00 00 00 28 00 00 00');
  const r = new WireReader(bytes, 2, 0x12);
  const setColumns = codecFor(RopId.SetColumns)!.pullResponse(r, {});
  const backoff = Backoff.pullResponse(r, {});
  t.true(r.ok, r.error?.detail);
  t.is(r.remaining, 0);
  t.deepEqual(setColumns, { ropId: 0x12, handleIndex: 0, returnValue: 0, ok: { tableStatus: 0 } });
  t.deepEqual(backoff, { ropId: 0xf9, handleIndex: 0, returnValue: 0, ok: { logonId: 0, duration: 0x1234, backoffRops: [], additionalData: new Uint8Array(0) } });
  const w = new WireWriter();
  codecFor(RopId.SetColumns)!.pushResponse(w, setColumns, {});
  Backoff.pushResponse(w, backoff, {});
  const out = pushRopResponseBuffer([w.toBytes()], [0x28], 0x1000);
  t.deepEqual(out.buffer, bytes);
});
