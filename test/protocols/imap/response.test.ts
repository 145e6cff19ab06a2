import test from 'ava';
import { parseMimeTree } from '../../../protocols/mail/mime/mime-tree.js';
import { ResponseWriter } from '../../../protocols/imap/response/writer.js';
import { writeBodyStructure } from '../../../protocols/imap/response/body-structure.js';
import { writeEnvelope } from '../../../protocols/imap/response/envelope.js';
import { applyPartial, sectionBytes } from '../../../protocols/imap/response/sections.js';
import type { SectionItem } from '../../../protocols/imap/parser/fetch-att.js';
import { webmail, nested, thunderbird, allFixtures } from '../../fixtures/mail/messages.js';

/** Golden BODYSTRUCTURE and ENVELOPE (checked by hand against RFC 3501 §7.4.2). */
const GOLDEN: Record<string, [Buffer, string, string]> = {
  webmail: [webmail, "(((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"7BIT\" 35 1 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"UTF-8\") NIL NIL \"7BIT\" 56 1 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"000000000000a1b2c3d4e5f60717\") NIL NIL NIL)(\"application\" \"pdf\" (\"name\" \"=?UTF-8?B?UmVjaG51bmcgTcOkcnoucGRm?=\") NIL NIL \"BASE64\" 72 NIL (\"attachment\" (\"filename\" \"=?UTF-8?B?UmVjaG51bmcgTcOkcnoucGRm?=\")) NIL NIL) \"mixed\" (\"boundary\" \"000000000000a1b2c3d4e5f60718\") NIL NIL NIL)", "(\"Thu, 5 Mar 2020 10:11:12 +0000\" \"Invoice\" ((\"Erin\" NIL \"erin\" \"gmail.example\")) ((\"Erin\" NIL \"erin\" \"gmail.example\")) ((\"Erin\" NIL \"erin\" \"gmail.example\")) ((NIL NIL \"alice\" \"example.org\")) NIL NIL NIL \"<CAF=abc123@mail.gmail.com>\")"],
  nested1: [nested(1), "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 19 1 NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 161 (\"Mon, 2 Mar 2020 00:00:00 +0000\" \"Level 1\" ((NIL NIL \"level1\" \"example.com\")) ((NIL NIL \"level1\" \"example.com\")) ((NIL NIL \"level1\" \"example.com\")) ((NIL NIL \"x\" \"example.com\")) NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 17 1 NIL NIL NIL NIL) 7 NIL (\"attachment\" NIL) NIL NIL) \"mixed\" (\"boundary\" \"b0-nest\") NIL NIL NIL)", "(\"Mon, 2 Mar 2020 00:00:00 +0000\" \"Level 0\" ((NIL NIL \"level0\" \"example.com\")) ((NIL NIL \"level0\" \"example.com\")) ((NIL NIL \"level0\" \"example.com\")) ((NIL NIL \"x\" \"example.com\")) NIL NIL NIL NIL)"],
  thunderbird: [thunderbird, "((\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL \"8BIT\" 115 6 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 189 3 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"------------8A3E1D5C9B2F4E6A7C0D1B2E\") NIL \"de-DE\" NIL)", "(\"Tue, 3 Mar 2020 12:34:56 +0100\" \"Re: =?UTF-8?Q?Gr=c3=bc=c3=9fe_aus_M=c3=bcnchen?=\" ((\"Alice Example\" NIL \"alice\" \"example.org\")) ((\"Alice Example\" NIL \"alice\" \"example.org\")) ((\"Alice Example\" NIL \"alice\" \"example.org\")) ((\"Bob Example\" NIL \"bob\" \"example.com\")(NIL NIL \"carol\" \"example.net\")) ((\"=?UTF-8?Q?J=c3=b6rg_Ma=c3=9f?=\" NIL \"joerg\" \"example.de\")) NIL \"<a2@example.com>\" \"<5e1b2c3d-0000-4000-8000-000000000001@example.org>\")"],
};

function render(m: Buffer): [string, string] {
  const tree = parseMimeTree(m);
  const w = new ResponseWriter();
  writeBodyStructure(w, tree.buf, tree.root, true);
  const bs = w.takeBuffer().toString('latin1');
  writeEnvelope(w, tree.root.headers);
  return [bs, w.takeBuffer().toString('latin1')];
}

for (const [name, [msg, bs, env]] of Object.entries(GOLDEN)) {
  test(`BODYSTRUCTURE and ENVELOPE golden: ${name}`, (t) => {
    const [b, e] = render(msg);
    t.is(b, bs);
    t.is(e, env);
  });
}

test('every fixture renders balanced parentheses (broken mail included)', (t) => {
  for (const [name, m] of Object.entries(allFixtures)) {
    const [b, e] = render(m);
    for (const s of [b, e]) {
      let depth = 0;
      let inQuote = false;
      for (let i = 0; i < s.length; i++) {
        const c = s[i];
        if (inQuote) {
          if (c === '\\') i++;
          else if (c === '"') inQuote = false;
        } else if (c === '"') inQuote = true;
        else if (c === '{') {
          const close = s.indexOf('}', i);
          i = close + 2 + Number(s.slice(i + 1, close));
        } else if (c === '(') depth++;
        else if (c === ')') depth--;
        t.true(depth >= 0, name);
      }
      t.is(depth, 0, name);
    }
  }
});

const sec = (part: number[], text: SectionItem['text'], fields: string[] = []): SectionItem => ({ k: 'section', peek: true, part, text, fields, partial: null, label: '' });

test('sections: parts, the header and text of a message/rfc822 part, MIME headers, header fields, partials', (t) => {
  const tree = parseMimeTree(nested(1));
  const s = (part: number[], text: SectionItem['text'], fields?: string[]) => sectionBytes(tree, sec(part, text, fields)).toString('latin1');
  t.is(s([1], null), 'Forwarding level 1.');
  t.is(s([2], 'header'), 'From: level1@example.com\r\nTo: x@example.com\r\nSubject: Level 1\r\nDate: Mon, 2 Mar 2020 00:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n');
  t.is(s([2], 'text'), 'Innermost text.\r\n');
  t.is(s([2, 1], null), 'Innermost text.\r\n');
  t.is(s([2], 'mime'), 'Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n');
  t.is(s([], 'fields', ['subject', 'to']), 'To: x@example.com\r\nSubject: Level 0\r\n\r\n');
  t.true(s([], 'fields.not', ['subject', 'to']).startsWith('From: level0@example.com\r\nDate:'));
  t.is(s([3], null), '');
  t.is(applyPartial(Buffer.from('0123456789'), [2, 3]).toString(), '234');
  t.is(applyPartial(Buffer.from('0123456789'), [20, 3]).toString(), '');
});
