import test from 'ava';
import { decodeFrame, decodePayload, encodeHeader, encodePayload, DETACH_THRESHOLD, FrameKind, FRAME_HEADER_BYTES } from '../../runtime/frame.js';

function frame(header: Uint8Array, payload: Uint8Array): Buffer {
  return Buffer.concat([header, payload]);
}

test('header layout is byte-exact (golden)', (t) => {
  const h = encodeHeader(FrameKind.CALL, 1, 0x01020304, 0xa0b0c0d0, 7, 'mailbox/ä', 'open');
  t.deepEqual(
    Buffer.from(h).toString('hex'),
    [
      '01', // kind CALL
      '01', // flags
      '0a00', // key length 10 (UTF-8 'ä' is two bytes)
      '04030201', // id, little-endian
      'd0c0b0a0', // seq
      '07000000', // transfer sequence
      '04', // op length
      Buffer.from('mailbox/ä').toString('hex'),
      Buffer.from('open').toString('hex'),
    ].join(''),
  );
  t.is(FRAME_HEADER_BYTES, 17);
});

test('frames decode back to their fields and payload', (t) => {
  const payload = encodePayload({ folder: 'Inbox', uids: [1, 2, 3] });
  const f = decodeFrame(frame(encodeHeader(FrameKind.REPLY, 0, 42, 9, 0, 'k', 'op'), payload.bytes))!;
  t.is(f.kind, FrameKind.REPLY);
  t.is(f.id, 42);
  t.is(f.seq, 9);
  t.is(f.key, 'k');
  t.is(f.op, 'op');
  t.deepEqual(decodePayload(f.raw, undefined, f.payloadAt), { folder: 'Inbox', uids: [1, 2, 3] });
  t.is(payload.transfer.length, 0);
});

test('truncated frames are rejected, not misread', (t) => {
  const good = frame(encodeHeader(FrameKind.CALL, 0, 1, 1, 0, 'key', 'op'), new Uint8Array(0));
  for (let n = 0; n < FRAME_HEADER_BYTES + 5; n++) t.is(decodeFrame(good.subarray(0, n)), null, `length ${n}`);
  t.truthy(decodeFrame(good));
});

test("big binaries nested in objects and arrays are detached too; the caller's containers are not changed", (t) => {
  const big = new Uint8Array(DETACH_THRESHOLD * 4).fill(7);
  const bigger = new Uint8Array(DETACH_THRESHOLD * 8).fill(8);
  const msg = { props: new Uint8Array(10), attachments: [{ props: new Uint8Array(5), data: big }, { embedded: { attachments: [{ data: bigger }] } }], n: 3 };
  const enc = encodePayload(msg);
  t.is(enc.transfer.length, 2);
  t.true(enc.bytes.byteLength < 300, 'the frame carries references, not the data');
  t.is(msg.attachments[0]!.data, big, "the caller's object still points at its buffer (moved on send)");
  const dec = decodePayload(enc.bytes, enc.transfer) as typeof msg;
  t.is(dec.attachments[0]!.data!.byteLength, big.byteLength);
  t.is(dec.attachments[0]!.data![0], 7);
  t.is((dec.attachments[1] as { embedded: { attachments: { data: Uint8Array }[] } }).embedded.attachments[0]!.data[100], 8);
  t.is(dec.n, 3);
});

test('big top-level binary fields are detached for transfer; small ones stay inline', (t) => {
  const big = new Uint8Array(DETACH_THRESHOLD);
  big[5] = 9;
  const small = new Uint8Array(16).fill(3);
  const enc = encodePayload({ body: big, small, name: 'x' });
  t.is(enc.transfer.length, 1);
  t.is(enc.transfer[0], big.buffer, 'the very ArrayBuffer is handed over (moved, not copied)');
  t.true(enc.bytes.byteLength < 200, 'the frame carries a reference, not the data');
  const dec = decodePayload(enc.bytes, enc.transfer) as { body: Uint8Array; small: Uint8Array; name: string };
  t.is(dec.body[5], 9);
  t.deepEqual([...dec.small], [...small]);
  t.is(dec.name, 'x');
  // A view into a larger buffer is copied once so only its own bytes travel.
  const backing = new Uint8Array(DETACH_THRESHOLD * 2);
  const view = backing.subarray(10, 10 + DETACH_THRESHOLD);
  const enc2 = encodePayload(view);
  t.is(enc2.transfer[0]!.byteLength, DETACH_THRESHOLD);
  t.not(enc2.transfer[0], backing.buffer);
  t.is((decodePayload(enc2.bytes, enc2.transfer) as Uint8Array).byteLength, DETACH_THRESHOLD);
});
