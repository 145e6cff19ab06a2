import test from 'ava';
import { WireReader } from '../../../protocols/mapi/wire/reader.js';
import { WireWriter } from '../../../protocols/mapi/wire/writer.js';
import {
  pullPropValue, pushPropValue, pullTaggedValue, pushTaggedValue, pullPropertyRow, pushPropertyRow, rowOf, cellAbsent,
  pullPropertyName, pushPropertyName, NameKind, pullLongTermId, pushLongTermId, pullRestriction, pushRestriction,
  pullSortOrderSet, pushSortOrderSet, pullWireRestriction, TypedValue, pullPropTags, pushPropTags,
} from '../../../protocols/mapi/wire/prop-values.js';
import { PropType, propTag, type PropValue } from '../../../storage/prop-types.js';
import { RelOp, type Restriction } from '../../../storage/restriction.js';
import { hex, toHex } from './hex.js';

function roundTrip(type: number, v: PropValue): PropValue {
  const w = new WireWriter(4);
  pushPropValue(w, type, v);
  const r = new WireReader(w.toBytes());
  const out = pullPropValue(r, type);
  if (!r.ok) throw new Error(r.error!.detail);
  if (r.remaining !== 0) throw new Error('trailing bytes');
  return out;
}

test('reader records the first error and never throws', (t) => {
  const r = new WireReader(new Uint8Array([1, 2, 3]));
  t.is(r.u16(), 0x0201);
  t.is(r.u32(), 0);
  t.is(r.error?.code, 'short');
  t.is(r.error?.offset, 2);
  t.is(r.u8(), 0);
  t.is(r.bytes(1000).byteLength, 0);
  t.is(r.utf16z(), '');
});

test('reader refuses counts larger than the input before allocating', (t) => {
  const r = new WireReader(hex('ff ff ff 7f 00'));
  t.deepEqual(pullPropValue(r, PropType.PtypMultipleBinary), []);
  t.false(r.ok);
});

test('strings: UTF-16LE and 8-bit, null-terminated and counted', (t) => {
  const w = new WireWriter(2);
  w.utf16z('Inbox é');
  w.str8z('abc');
  const r = new WireReader(w.toBytes());
  t.is(r.utf16z(), 'Inbox é');
  t.is(r.str8z(), 'abc');
  t.true(r.ok);
  t.is(new WireReader(hex('41 00 42')).utf16z(), '');
  t.is(new WireReader(hex('41 00 00 00')).utf16n(4), 'A');
});

test('every property type round-trips, single and multi-valued', (t) => {
  const g = hex('00112233445566778899aabbccddeeff');
  const cases: [number, PropValue][] = [
    [PropType.PtypInteger16, -2],
    [PropType.PtypInteger32, -123456],
    [PropType.PtypFloating32, 1.5],
    [PropType.PtypFloating64, Math.PI],
    [PropType.PtypCurrency, -12345678901234n],
    [PropType.PtypFloatingTime, 45000.25],
    [PropType.PtypErrorCode, 0x8004010f],
    [PropType.PtypBoolean, true],
    [PropType.PtypInteger64, 0x7fffffffffffffffn],
    [PropType.PtypString, 'Posteingang ✉'],
    [PropType.PtypString8, 'plain'],
    [PropType.PtypTime, 0x01d9000000000000n],
    [PropType.PtypGuid, g],
    [PropType.PtypBinary, hex('01 02 03')],
    [PropType.PtypServerId, hex('01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00')],
    [PropType.PtypObject, hex('')],
    [PropType.PtypNull, null],
    [PropType.PtypRestriction, hex('08 03 00 37 00')],
    [PropType.PtypRuleAction, hex('01 00 03 00 aa bb cc')],
    [PropType.PtypMultipleInteger16, [1, -1]],
    [PropType.PtypMultipleInteger32, [1, 2, 3]],
    [PropType.PtypMultipleFloating32, [0.5]],
    [PropType.PtypMultipleFloating64, [0.25, -8]],
    [PropType.PtypMultipleCurrency, [1n]],
    [PropType.PtypMultipleFloatingTime, [2.5]],
    [PropType.PtypMultipleInteger64, [1n, -2n]],
    [PropType.PtypMultipleString8, ['a', '']],
    [PropType.PtypMultipleString, ['x', 'yz']],
    [PropType.PtypMultipleTime, [5n]],
    [PropType.PtypMultipleGuid, [g, g]],
    [PropType.PtypMultipleBinary, [hex('ff'), hex('')]],
  ];
  for (const [type, v] of cases) t.deepEqual(roundTrip(type, v), v, `type 0x${type.toString(16)}`);
});

test('layout: TaggedPropertyValue of PidTagDisplayName (assembled from MS-OXCDATA 2.11.4 fields)', (t) => {
  const w = new WireWriter();
  pushTaggedValue(w, { tag: 0x3001001f, value: 'Hi' });
  t.is(toHex(w.toBytes()), '1f 00 01 30 48 00 69 00 00 00');
  const r = new WireReader(w.toBytes());
  t.deepEqual(pullTaggedValue(r), { tag: 0x3001001f, value: 'Hi' });
});

test('unknown property type is an error, not an exception', (t) => {
  const r = new WireReader(hex('33 00 01 30 00'));
  pullTaggedValue(r);
  t.is(r.error?.code, 'bad-value');
});

test('property rows: standard, flagged (absent and error cells), typed cells', (t) => {
  const cols = [0x3001001f, 0x0e080003, 0x67480014, propTag(0x8001, 0)];
  const rows = [
    rowOf(['Inbox', 42, 7n, new TypedValue(PropType.PtypBoolean, true)]),
    rowOf(['Inbox', cellAbsent(), { error: 0x8004010f }, new TypedValue(PropType.PtypInteger32, 5)]),
  ];
  t.false(rows[0].flagged);
  t.true(rows[1].flagged);
  for (const row of rows) {
    const w = new WireWriter();
    pushPropertyRow(w, row, cols);
    const r = new WireReader(w.toBytes());
    t.deepEqual(pullPropertyRow(r, cols), row);
    t.true(r.ok);
    t.is(r.remaining, 0);
  }
});

test('PropertyTagArray, PropertyName, LongTermId round trips', (t) => {
  const w = new WireWriter();
  pushPropTags(w, [0x0fff0102, 0x3001001f]);
  const names = [
    { kind: NameKind.MNID_ID, guid: hex('0820060000000000c000000000000046'), lid: 0x8501 },
    { kind: NameKind.MNID_STRING, guid: hex('2903020000000000c000000000000046'), name: 'Keywords' },
    { kind: NameKind.None, guid: hex('00000000000000000000000000000000') },
  ] as const;
  for (const n of names) pushPropertyName(w, n);
  const ltid = { databaseGuid: hex('000102030405060708090a0b0c0d0e0f'), globalCounter: hex('000000000123'), pad: 0 };
  pushLongTermId(w, ltid);
  const r = new WireReader(w.toBytes());
  t.deepEqual(pullPropTags(r), [0x0fff0102, 0x3001001f]);
  for (const n of names) t.deepEqual(pullPropertyName(r), n);
  t.deepEqual(pullLongTermId(r), ltid);
  t.true(r.ok);
  t.is(r.remaining, 0);
});

const sample: Restriction = {
  type: 'and',
  children: [
    { type: 'content', fuzzy: 0x10001, tag: 0x0037001f, value: 'hello' },
    { type: 'property', relop: RelOp.GE, tag: 0x0e060040, value: 1000n },
    { type: 'or', children: [{ type: 'exist', tag: 0x0e1b000b }, { type: 'not', child: { type: 'bitmask', op: 1, tag: 0x0e070003, mask: 1 } }] },
    { type: 'compareProps', relop: RelOp.NE, tag1: 0x0e080003, tag2: 0x0e080003 },
    { type: 'size', relop: RelOp.LT, tag: 0x1000001f, size: 100 },
    { type: 'sub', subobject: 0x0e12000d, child: { type: 'property', relop: RelOp.EQ, tag: 0x0c150003, value: 1 } },
    { type: 'comment', props: [[0x3001001f, 'note']], child: { type: 'count', count: 3, child: { type: 'exist', tag: 0x0037001f } } },
    { type: 'comment', props: [], child: null },
    { type: 'property', relop: RelOp.EQ, tag: 0x8001101f, value: 'mv-instance' },
  ],
};

test('restrictions round-trip, narrow and wide counts', (t) => {
  for (const wide of [false, true]) {
    const w = new WireWriter();
    pushRestriction(w, sample, wide);
    const r = new WireReader(w.toBytes());
    t.deepEqual(pullRestriction(r, wide), sample);
    t.true(r.ok);
    t.is(r.remaining, 0);
  }
});

test('layout: exist restriction on PidTagSubject (bytes assembled from MS-OXCDATA 2.12.10 fields)', (t) => {
  const w = new WireWriter();
  pushRestriction(w, { type: 'exist', tag: 0x0037001f });
  t.is(toHex(w.toBytes()), '08 1f 00 37 00');
});

test('restrictions pull to the thread-crossing form too', (t) => {
  const w = new WireWriter();
  pushRestriction(w, { type: 'and', children: sample.type === 'and' ? sample.children.slice(0, -1) : [] });
  const r = new WireReader(w.toBytes());
  const x = pullWireRestriction(r);
  t.is(x?.type, 'and', r.error?.detail);
});

test('deep restrictions are refused', (t) => {
  const bytes = new Uint8Array(200).fill(0x02);
  const r = new WireReader(bytes);
  pullRestriction(r);
  t.is(r.error?.code, 'too-deep');
});

test('SortOrderSet round trip and layout', (t) => {
  const s = { categorizedCount: 0, expandedCount: 0, sortOrders: [{ propertyType: 0x40, propertyId: 0x0e06, order: 1 }] };
  const w = new WireWriter();
  pushSortOrderSet(w, s);
  t.is(toHex(w.toBytes()), '01 00 00 00 00 00 40 00 06 0e 01');
  t.deepEqual(pullSortOrderSet(new WireReader(w.toBytes())), s);
});
