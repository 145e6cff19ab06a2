import test from 'ava';
import { FilterParser } from 'ldapts';
import { and, dnKey, eq, escapeFilterValue, guidFilterValue, guidFromBytes, or, userIdFor } from '../../../storage/ldap/ldap-filter.js';

test('RFC 4515 escaping: * ( ) \\ and NUL become hex escapes, everything else stays', (t) => {
  t.is(escapeFilterValue('*'), '\\2a');
  t.is(escapeFilterValue('alice)(uid=*'), 'alice\\29\\28uid=\\2a');
  t.is(escapeFilterValue('a\\b'), 'a\\5cb');
  t.is(escapeFilterValue('nul\0x'), 'nul\\00x');
  t.is(escapeFilterValue('Zoë@example.test'), 'Zoë@example.test');
  // The escaped filter parses to an equality on the literal text, never a wildcard or an OR.
  const f = FilterParser.parseString(eq('uid', '*)(|(uid=*'));
  t.is(f.constructor.name, 'EqualityFilter');
  t.is((f as unknown as { value: string }).value, '*)(|(uid=*');
  t.throws(() => eq('uid)(x', 'a'), { message: /not an attribute description/ });
});

test('and / or join filters, wrapping bare ones', (t) => {
  t.is(and('(objectClass=person)', ''), '(objectClass=person)');
  t.is(and('objectClass=person', '(!(x=y))'), '(&(objectClass=person)(!(x=y)))');
  t.is(or(eq('uid', 'a'), eq('mail', 'a@b')), '(|(uid=a)(mail=a@b))');
});

test('DN keys ignore case and spacing but keep escapes', (t) => {
  t.is(dnKey('CN=Team , OU=Groups,DC=Example, DC=test'), 'cn=team,ou=groups,dc=example,dc=test');
  t.is(dnKey('cn=a\\,b,dc=x'), 'cn=a\\,b,dc=x');
});

test('objectGUID bytes read as AD shows them (first three fields little-endian), and back for filters', (t) => {
  const bytes = Buffer.from('78563412bc9af0de0123456789abcdef', 'hex');
  const g = guidFromBytes(bytes);
  t.is(g, '12345678-9abc-def0-0123-456789abcdef');
  t.is(guidFilterValue(g), '\\78\\56\\34\\12\\bc\\9a\\f0\\de\\01\\23\\45\\67\\89\\ab\\cd\\ef');
});

test('user ids: the directory id when it is 128 bits, else a stable name-based one', (t) => {
  t.is(userIdFor('corp', '3EE3E848-7FB9-1041-8805-D9CBCABAE1BE'), '3ee3e848-7fb9-1041-8805-d9cbcabae1be');
  t.is(userIdFor('corp', '66446001-1dd211b2-80b5d5a2-8d1f0000'), '66446001-1dd2-11b2-80b5-d5a28d1f0000', '389 DS nsUniqueId');
  const odd = userIdFor('corp', 'not-a-uuid');
  t.regex(odd, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  t.is(userIdFor('corp', 'not-a-uuid'), odd);
  t.not(userIdFor('lab', 'not-a-uuid'), odd);
});
