import test from 'ava';
import { guidFromString, guidToString, newGuid, guidEquals } from '../../storage/guid.js';

test('GUID text and wire bytes convert both ways (Data1-3 little-endian)', (t) => {
  // PS_MAPI, {00020328-0000-0000-C000-000000000046}
  const b = guidFromString('{00020328-0000-0000-C000-000000000046}');
  t.is(Buffer.from(b).toString('hex'), '2803020000000000c000000000000046');
  t.is(guidToString(b), '00020328-0000-0000-c000-000000000046');
  const x = guidFromString('01234567-89ab-cdef-0123-456789abcdef');
  t.is(Buffer.from(x).toString('hex'), '67452301ab89efcd0123456789abcdef');
  t.throws(() => guidFromString('not-a-guid'));
});

test('new GUIDs are random version-4 GUIDs', (t) => {
  const a = newGuid();
  const b = newGuid();
  t.false(guidEquals(a, b));
  t.regex(guidToString(a), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.true(guidEquals(a, Uint8Array.from(a)));
});
