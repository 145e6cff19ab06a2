import test from 'ava';
import { Reader } from '../../../protocols/imap/parser/reader.js';
import { readSequenceSet, formatSequenceSet, formatUidList, STAR } from '../../../protocols/imap/parser/sequence-set.js';
import { readFetchItems } from '../../../protocols/imap/parser/fetch-att.js';
import { readSearch } from '../../../protocols/imap/parser/search-keys.js';
import { readDate, readDateTime, formatDateTime } from '../../../protocols/imap/parser/date.js';
import { compilePattern, joinReference } from '../../../protocols/imap/parser/list-pattern.js';
import { decodeMutf7, encodeMutf7 } from '../../../protocols/imap/mutf7.js';
import { readHead } from '../../../protocols/imap/command-table.js';
import { parseMailboxName, imapName } from '../../../protocols/imap/commands/mailbox-name.js';
import { decodePlain } from '../../../protocols/imap/commands/authenticate.js';
import { Flag, isKeywordAtom, flagsText } from '../../../protocols/imap/flags.js';

const rd = (s: string) => new Reader(Buffer.from(s, 'latin1'));

test('strings: atoms, quoted with escapes, literals (sync and LITERAL+), NIL', (t) => {
  const r = rd('abc "a \\"q\\" \\\\ b" {3}\r\nx y {2+}\r\nzz NIL');
  t.is(r.astring(), 'abc');
  t.true(r.sp());
  t.is(r.astring(), 'a "q" \\ b');
  t.true(r.sp());
  t.is(r.astring(), 'x y');
  t.true(r.sp());
  t.is(r.string(), 'zz');
  t.true(r.sp());
  t.deepEqual(r.nstring(), { value: null });
  t.true(r.end());
  const bad = rd('"unterminated');
  t.is(bad.astring(), null);
  t.is(bad.error, 'unterminated quoted string');
  t.is(rd('{5}\r\nab').string(), null);
  t.is(rd('"a\\b"').string(), null);
});

test('command head: tag, name, UID prefix; bad tags', (t) => {
  t.deepEqual(readHead(rd('a1 uid fetch 1:* FLAGS')), { kind: 'ok', tag: 'a1', name: 'UID FETCH' });
  t.deepEqual(readHead(rd('x.y NOOP')), { kind: 'ok', tag: 'x.y', name: 'NOOP' });
  t.is(readHead(rd('+tag NOOP')).kind, 'bad');
  t.deepEqual(readHead(rd('a1')), { kind: 'bad', tag: 'a1', why: 'missing command' });
});

test('sequence sets: numbers, ranges both ways, star; formatting', (t) => {
  t.deepEqual(readSequenceSet(rd('1,3:5,*,7:*')), [[1, 1], [3, 5], [STAR, STAR], [7, STAR]]);
  t.is(readSequenceSet(rd('0')), null);
  t.is(readSequenceSet(rd('1,')), null);
  t.is(formatSequenceSet([5, 1, 2, 3, 9, 10]), '1:3,5,9:10');
  t.is(formatUidList([4, 5, 6, 2, 3]), '4:6,2:3');
});

test('FETCH items: macros, sections with fields, partials, PEEK', (t) => {
  t.deepEqual(readFetchItems(rd('FAST'))!.map((i) => i.k), ['flags', 'internaldate', 'rfc822.size']);
  const items = readFetchItems(rd('(UID BODY.PEEK[HEADER.FIELDS (From "To")] BODY[1.2.MIME] BODY[]<0.100> BODY[TEXT] BODYSTRUCTURE RFC822.SIZE)'))!;
  t.deepEqual(items[1], { k: 'section', peek: true, part: [], text: 'fields', fields: ['from', 'to'], partial: null, label: 'HEADER.FIELDS (From To)' });
  t.deepEqual(items[2], { k: 'section', peek: false, part: [1, 2], text: 'mime', fields: [], partial: null, label: '1.2.MIME' });
  t.deepEqual(items[3], { k: 'section', peek: false, part: [], text: null, fields: [], partial: [0, 100], label: '' });
  t.is(items[4]!.k, 'section');
  t.is(readFetchItems(rd('BODY[MIME]')), null, 'MIME needs a part');
  t.is(readFetchItems(rd('(FLAGS BOGUS)')), null);
});

test('SEARCH keys: every form of RFC 3501, charset, nesting, OR/NOT', (t) => {
  const s = readSearch(rd('CHARSET UTF-8 OR FROM alice (SUBJECT "x y" UNSEEN) NOT DELETED 1:3 UID 5:* HEADER X-Foo bar LARGER 10 SINCE 1-Feb-2020 SENTBEFORE "12-Mar-2021" KEYWORD $Work NEW'))!;
  t.is(s.charset, 'UTF-8');
  t.is(s.key.k, 'and');
  const keys = (s.key as { c: { k: string }[] }).c.map((k) => k.k);
  t.deepEqual(keys, ['or', 'not', 'seq', 'uid', 'header', 'size', 'date', 'date', 'keyword', 'and']);
  t.is(readSearch(rd('BOGUS')), null);
  t.is(readSearch(rd('SINCE 31-Feb-2020')), null);
  const deep = '('.repeat(40) + 'ALL' + ')'.repeat(40);
  t.is(readSearch(rd(deep)), null, 'nesting is limited');
});

test('dates', (t) => {
  t.is(readDate(rd('1-Feb-2020')), Date.UTC(2020, 1, 1));
  t.is(readDateTime(rd('"17-Jul-1996 02:44:25 -0700"')), Date.UTC(1996, 6, 17, 9, 44, 25));
  t.is(readDateTime(rd('" 7-Jul-1996 02:44:25 +0000"')), Date.UTC(1996, 6, 7, 2, 44, 25));
  t.is(formatDateTime(Date.UTC(1996, 6, 7, 2, 44, 25)), '07-Jul-1996 02:44:25 +0000');
});

test('modified UTF-7 both ways (RFC 3501 §5.1.3 examples), and its refusals', (t) => {
  t.is(encodeMutf7('~peter/mail/台北/日本語'), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  t.is(decodeMutf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-'), '~peter/mail/台北/日本語');
  t.is(encodeMutf7('Tom & Jerry'), 'Tom &- Jerry');
  t.is(decodeMutf7('Tom &- Jerry'), 'Tom & Jerry');
  t.is(decodeMutf7('&Jjo!'), null);
  t.is(decodeMutf7('&AGE-'), null, 'ASCII in base64 is not canonical');
  for (const s of ['Entwürfe', 'Gelöschte Elemente', '送信済みアイテム', 'a&b', '😀 emoji']) t.is(decodeMutf7(encodeMutf7(s)), s);
});

test('mailbox names: INBOX any case, "/" in display names, mUTF-7', (t) => {
  t.deepEqual(parseMailboxName(Buffer.from('inbox/Sub')), { imap: 'INBOX/Sub', path: ['INBOX', 'Sub'] });
  t.deepEqual(parseMailboxName(Buffer.from('Entw&APw-rfe')), { imap: 'Entw&APw-rfe', path: ['Entwürfe'] });
  t.is(imapName(['Projects', 'A/B']), 'Projects/A&IhU-B');
  t.deepEqual(parseMailboxName(Buffer.from('Projects/A&IhU-B')), { imap: 'Projects/A&IhU-B', path: ['Projects', 'A/B'] });
  t.is(typeof parseMailboxName(Buffer.from('a//b')), 'string');
});

test('LIST patterns', (t) => {
  const pct = compilePattern(joinReference('', '%'));
  t.true(pct('INBOX'));
  t.false(pct('A/B'));
  const star = compilePattern(joinReference('Archive', '*'));
  t.true(star('Archive/2020'));
  t.false(star('Other'));
  t.true(compilePattern('inbox')('INBOX'));
  t.true(compilePattern('Inbox/%')('INBOX/x'));
  t.false(compilePattern('a.b')('aXb'));
});

test('SASL PLAIN', (t) => {
  t.deepEqual(decodePlain(Buffer.from('\0alice\0pw').toString('base64')), { authzid: '', authcid: 'alice', password: 'pw' });
  t.is(typeof decodePlain('not base64!'), 'string');
  t.is(typeof decodePlain(Buffer.from('alice\0pw').toString('base64')), 'string');
});

test('flags: keyword atoms, text', (t) => {
  t.true(isKeywordAtom('$Label1'));
  t.false(isKeywordAtom('Red Category'));
  t.false(isKeywordAtom('Grün'));
  t.is(flagsText(Flag.Seen | Flag.Forwarded, ['work']), '\\Seen $Forwarded work');
});

import { Receiver } from '../../../protocols/imap/receiver.js';

/** A command through the receiver in every split, then parsed: each must give what the whole gives. */
function viaReceiver(input: string): Buffer[] {
  const b = Buffer.from(input, 'latin1');
  const splits: Buffer[][] = [[b], [...b].map((x) => Buffer.from([x]))];
  for (let i = 1; i < b.length; i++) splits.push([b.subarray(0, i), b.subarray(i)]);
  return splits.map((chunks) => {
    const rx = new Receiver({ lineBytes: 8192, literalBytes: 8192, appendBytes: 8192 });
    let out: Buffer | null = null;
    for (const c of chunks) {
      rx.push(c);
      for (;;) {
        const r = rx.next();
        if (r.kind === 'needMore') break;
        if (r.kind === 'ok') out = Buffer.from(r.command);
      }
    }
    return out!;
  });
}

test('commands with literals parse the same however the bytes arrived', (t) => {
  const fetch = 'a1 UID FETCH 1:*,7 (UID BODY.PEEK[HEADER.FIELDS ({4}\r\nFrom "To")] BODY[1.2]<0.10>)\r\n';
  const search = 'a2 SEARCH CHARSET UTF-8 OR SUBJECT {5+}\r\nGrüße FROM "x" HEADER {5}\r\nX-Foo {3}\r\nbar\r\n';
  for (const [input, parse] of [
    [fetch, (r: Reader) => (readHead(r), r.sp(), readSequenceSet(r), r.sp(), readFetchItems(r))],
    [search, (r: Reader) => (readHead(r), r.sp(), readSearch(r))],
  ] as const) {
    const outs = viaReceiver(input);
    const whole = JSON.stringify(parse(new Reader(outs[0]!)));
    t.not(whole, 'null', input);
    for (const o of outs) t.is(JSON.stringify(parse(new Reader(o))), whole);
  }
});
