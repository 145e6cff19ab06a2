import test from 'ava';
import { decodePropBag, encodePropBag, PropValueError, type PropMap } from '../../storage/prop-bag.js';
import { PropType, propTag, dateToFiletime, filetimeToDate, type PropValue } from '../../storage/prop-types.js';

const guid = Uint8Array.from({ length: 16 }, (_, i) => i * 7);

const samples: [number, PropValue][] = [
  [propTag(0x6601, PropType.PtypInteger16), -32768],
  [propTag(0x6602, PropType.PtypInteger32), -2147483648],
  [propTag(0x6603, PropType.PtypFloating32), 1.5],
  [propTag(0x6604, PropType.PtypFloating64), Math.PI],
  [propTag(0x6605, PropType.PtypCurrency), -922337203685477n],
  [propTag(0x6606, PropType.PtypFloatingTime), 45000.25],
  [propTag(0x6607, PropType.PtypErrorCode), 0x8004010f],
  [propTag(0x6608, PropType.PtypBoolean), true],
  [propTag(0x6609, PropType.PtypInteger64), 2n ** 63n - 1n],
  [propTag(0x660a, PropType.PtypString), 'Grüße aus Zürich ✉ 𝄞 日本語'],
  [propTag(0x660b, PropType.PtypString8), 'plain ascii'],
  [propTag(0x660c, PropType.PtypTime), dateToFiletime(new Date('2026-11-28T12:00:00Z'))],
  [propTag(0x660d, PropType.PtypGuid), guid],
  [propTag(0x660e, PropType.PtypBinary), new Uint8Array([0, 255, 1, 254])],
  [propTag(0x660f, PropType.PtypServerId), new Uint8Array([1, 2, 3])],
  [propTag(0x6610, PropType.PtypRestriction), new Uint8Array([8, 0])],
  [propTag(0x6611, PropType.PtypRuleAction), new Uint8Array([1, 0])],
  [propTag(0x6612, PropType.PtypObject), new Uint8Array(0)],
  [propTag(0x6613, PropType.PtypNull), null],
  [propTag(0x6614, PropType.PtypMultipleInteger16), [1, -2, 3]],
  [propTag(0x6615, PropType.PtypMultipleInteger32), [7, -8]],
  [propTag(0x6616, PropType.PtypMultipleFloating32), [0.5, -0.25]],
  [propTag(0x6617, PropType.PtypMultipleFloating64), [1e300, -1e-300]],
  [propTag(0x6618, PropType.PtypMultipleCurrency), [1n, -1n]],
  [propTag(0x6619, PropType.PtypMultipleFloatingTime), [1.25]],
  [propTag(0x661a, PropType.PtypMultipleInteger64), [0n, -(2n ** 63n)]],
  [propTag(0x661b, PropType.PtypMultipleString8), ['a', '']],
  [propTag(0x661c, PropType.PtypMultipleString), ['Red Category', 'Blue', 'ünïcode']],
  [propTag(0x661d, PropType.PtypMultipleTime), [0n, 2n ** 64n - 1n]],
  [propTag(0x661e, PropType.PtypMultipleGuid), [guid, guid]],
  [propTag(0x661f, PropType.PtypMultipleBinary), [new Uint8Array([1]), new Uint8Array(0)]],
  [propTag(0x6620, PropType.PtypMultipleString), []],
];

function normalize(v: PropValue): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(normalize);
  return v;
}

test('every property type round-trips, multi-valued ones included', (t) => {
  const bag: PropMap = new Map(samples);
  const back = decodePropBag(encodePropBag(bag));
  t.is(back.size, samples.length);
  for (const [tag, v] of samples) t.deepEqual(normalize(back.get(tag)!), normalize(v), `0x${tag.toString(16)}`);
  t.is(typeof back.get(propTag(0x6604, PropType.PtypFloating64)), 'number');
});

test('big binaries round-trip, copied or viewed as asked', (t) => {
  const big = new Uint8Array(5 << 20);
  for (let i = 0; i < big.length; i += 997) big[i] = i & 0xff;
  const tag = propTag(0x1000, PropType.PtypBinary);
  const enc = encodePropBag([[tag, big]]);
  const copied = decodePropBag(enc).get(tag) as Uint8Array;
  t.is(Buffer.compare(Buffer.from(copied), Buffer.from(big)), 0);
  t.not(copied.buffer, enc.buffer);
  const viewed = decodePropBag(enc, false).get(tag) as Uint8Array;
  t.is(viewed.buffer, enc.buffer, 'no copy when the caller owns the buffer');
});

test('FILETIME converts to and from dates', (t) => {
  const d = new Date('2001-02-03T04:05:06.789Z');
  t.is(filetimeToDate(dateToFiletime(d)).getTime(), d.getTime());
  t.is(dateToFiletime(new Date('1601-01-01T00:00:00Z')), 0n);
});

test('a value that does not fit its type is refused, naming the tag', (t) => {
  const bad: [number, PropValue][] = [
    [propTag(0x1, PropType.PtypInteger16), 40000],
    [propTag(0x1, PropType.PtypInteger32), 1.5],
    [propTag(0x1, PropType.PtypInteger64), 5],
    [propTag(0x1, PropType.PtypBoolean), 1],
    [propTag(0x1, PropType.PtypString), new Uint8Array(1)],
    [propTag(0x1, PropType.PtypGuid), new Uint8Array(15)],
    [propTag(0x1, PropType.PtypMultipleString), 'not an array'],
    [propTag(0x1, PropType.PtypMultipleInteger32), [1, 'x']],
    [propTag(0x1, PropType.PtypMultipleInteger32), 1],
    [propTag(0x1, 0x0099), 1],
    [propTag(0x1, 0x100b), [true]],
  ];
  for (const [tag, v] of bad) {
    const err = t.throws(() => encodePropBag([[tag, v]]), { instanceOf: PropValueError });
    t.regex(err!.message, /^property 0x0001/);
  }
});

test('a truncated or corrupt bag is an error, not garbage', (t) => {
  const enc = encodePropBag(new Map(samples));
  for (const cut of [1, 5, 9, enc.length - 1]) t.throws(() => decodePropBag(enc.subarray(0, cut)), { instanceOf: RangeError });
});
