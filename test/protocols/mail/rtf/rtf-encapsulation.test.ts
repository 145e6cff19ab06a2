import test from 'ava';
import { rng } from '../../../helpers.js';
import iconv from 'iconv-lite';
import { deEncapsulate, encapsulateHtml, encapsulateText, rtfToText } from '../../../../protocols/mail/rtf/rtf-encapsulation.js';
import { MAX_GROUP_DEPTH } from '../../../../protocols/mail/rtf/rtf-reader.js';

const latin1 = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const crlf = (s: string): string => s.replace(/\r\n|\r|\n/g, '\r\n');


/**
 * [MS-OXRTFEX] section 4, the example of encapsulated HTML (RTF lines as the spec prints them;
 * the raw line breaks between them are ignored by RTF readers).
 */
const SPEC_EXAMPLE_RTF = [
  String.raw`{\rtf1\ANSI\ansicpg1251\fromhtml1 \deff0`,
  String.raw`{\fonttbl {\f0\fmodern Courier New;}{\f1\fswiss Arial;}{\f2\fswiss\fcharset0 Arial;}}`,
  String.raw`{\colortbl\red0\green0\blue0;\red0\green0\blue255;} `,
  String.raw`{\*\htmltag64}`,
  String.raw`\uc1\pard\plain\deftab360 \f0\fs24`,
  String.raw`{\*\htmltag <HTML><head>\par`,
  String.raw`<style>\par`,
  String.raw`<!--\par`,
  String.raw` /* Style Definitions */\par`,
  String.raw` p.MsoNormal, li.MsoNormal \{font-family:Arial;\}\par`,
  String.raw`-->\par`,
  String.raw`</style>\par`,
  String.raw`\tab <!-- This is a HTML comment.\par`,
  String.raw`There is a horizontal tab (%x09) character before the comment, \par`,
  String.raw`and some new lines inside the comment. -->\par`,
  String.raw`</head>\par`,
  String.raw`<body>\par`,
  String.raw`<p\par`,
  String.raw`class="MsoNormal">}`,
  String.raw`{\htmlrtf \f1 \htmlrtf0 Note the line break inside a P tag. {\*\htmltag <b>}{\htmlrtf \b \htmlrtf0 This is a bold text{\*\htmltag </b>}} \htmlrtf\par\htmlrtf0}`,
  String.raw`\htmlrtf \par \htmlrtf0`,
  String.raw`{\*\htmltag </p>\par`,
  String.raw`<p class="MsoNormal">\par}`,
  String.raw`{\htmlrtf \f1 \htmlrtf0 This is a normal text with a character references:`,
  String.raw`{\*\htmltag &nbsp;}\htmlrtf \'a0\htmlrtf0  {\*\htmltag &lt;}\htmlrtf <\htmlrtf0  {\*\htmltag &uml;}\htmlrtf {\f2\'a8}\htmlrtf0{\*\htmltag <br>\par}\htmlrtf\line\htmlrtf0`,
  String.raw`characters which have special meaning in RTF: \{\}\\{\*\htmltag <br>\par}\htmlrtf\line\htmlrtf0\htmlrtf\par\htmlrtf0}`,
  String.raw`{\*\htmltag </p>\par`,
  String.raw`<ol>\par`,
  String.raw`    <li class="MsoNormal">}{\htmlrtf {{\*\pn\pnlvlbody\pndec\pnstart1\pnindent360{\pntxta.}}\li360\fi-360{\pntext 1.\tab} \f1 \htmlrtf0 This is a list item}\htmlrtf\par\htmlrtf0}`,
  String.raw`{\*\htmltag \par`,
  String.raw`</ol>\par`,
  String.raw`</body>\par`,
  String.raw`</HTML>\par }}`,
].join('\r\n');

/**
 * The HTML of the example, with \par as CRLF. The leading space is the one after the color
 * table group in the spec's RTF: text outside any \htmlrtf region, so a reader following the
 * rules copies it (whitespace before <HTML> does not change the document).
 */
const SPEC_EXAMPLE_HTML = [
  ' <HTML><head>',
  '<style>',
  '<!--',
  ' /* Style Definitions */',
  ' p.MsoNormal, li.MsoNormal {font-family:Arial;}',
  '-->',
  '</style>',
  '\t<!-- This is a HTML comment.',
  'There is a horizontal tab (%x09) character before the comment, ',
  'and some new lines inside the comment. -->',
  '</head>',
  '<body>',
  '<p',
  'class="MsoNormal">Note the line break inside a P tag. <b>This is a bold text</b> </p>',
  '<p class="MsoNormal">',
  'This is a normal text with a character references:&nbsp; &lt; &uml;<br>',
  'characters which have special meaning in RTF: {}\\<br>',
  '</p>',
  '<ol>',
  '    <li class="MsoNormal">This is a list item',
  '</ol>',
  '</body>',
  '</HTML>',
  '',
].join('\r\n');

test('MS-OXRTFEX section 4 example: the encapsulated HTML comes back', (t) => {
  t.deepEqual(deEncapsulate(latin1(SPEC_EXAMPLE_RTF)), { kind: 'html', value: SPEC_EXAMPLE_HTML });
  t.deepEqual(deEncapsulate(SPEC_EXAMPLE_RTF), { kind: 'html', value: SPEC_EXAMPLE_HTML }, 'as a binary string too');
});

test('the RTF view of the spec example: htmltag content skipped, RTF-only text shown', (t) => {
  const text = rtfToText(SPEC_EXAMPLE_RTF);
  t.true(text.includes('Note the line break inside a P tag. This is a bold text'));
  t.true(text.includes('references:\u00a0 < \u00a8'), 'the \\htmlrtf renderings, \\f2 (charset 0) as Windows-1252');
  t.false(text.includes('<HTML>'));
  t.true(text.includes('1.\t This is a list item'), 'the space after the \\pntext group is text');
});

test('recognition (MS-OXRTFEX 2.2.3.1): only \\fromhtml1 / \\fromtext among the first 10 tokens', (t) => {
  t.is(deEncapsulate(String.raw`{\rtf1\a\b\c\d\e\g\h\fromhtml1 x}`)?.kind, 'html', 'the 10th token');
  t.is(deEncapsulate(String.raw`{\rtf1\a\b\c\d\e\g\h\i\fromhtml1 x}`), null, 'the 11th is not looked at');
  t.is(deEncapsulate(String.raw`{\rtf1 Hello\fromhtml1 x}`), null, 'text ends the header');
  t.is(deEncapsulate(String.raw`{\rtf1\ansi{\fonttbl}\fromhtml1 x}`), null, 'a group end ends the header');
  t.is(deEncapsulate(String.raw`{\rtf1\fromhtml0 x}`), null);
  t.is(deEncapsulate(String.raw`{\rtf1\ansi\fromhtml x}`), null, 'FROMHTML is \\fromhtml1');
  t.deepEqual(deEncapsulate(String.raw`{\rtf1\ansi\ansicpg1252\fromtext \deff0{\fonttbl{\f0 Arial;}}\f0 Hi\par there}`), { kind: 'text', value: 'Hi\r\nthere' });
  t.is(deEncapsulate(String.raw`{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0 plain}`), null);
  t.is(deEncapsulate(''), null);
  t.is(deEncapsulate('not rtf'), null);
});

test('\\htmlrtf is a group-scoped toggle; \\*\\htmltag content is kept, other \\* groups are not', (t) => {
  const rtf = String.raw`{\rtf1\ansi\fromhtml1 {\*\htmltag64}\htmlrtf {\b junk}\htmlrtf0 text{\htmlrtf inner}kept{\*\mhtmltag84 <x>}{\*\htmltag84 <b>}{\*\generator g}}`;
  t.is(deEncapsulate(rtf)?.value, 'textkept<b>');
  const nested = String.raw`{\rtf1\ansi\fromhtml1 {{{\*\htmltag4 <i>}{{\htmlrtf1 no}yes}}}\htmlrtf {\htmlrtf0 on}off\htmlrtf0 end}`;
  t.is(deEncapsulate(nested)?.value, '<i>yesonend');
  // \mhtmltag (with \htmlbase) is the MHTML twin of the \htmltag beside it: not copied.
  const mhtml = String.raw`{\rtf1\ansi\fromhtml1 {\*\mhtmltag84 <img src="\htmlbase cid:image001">}{\*\htmltag84 <img src="image001.png">}}`;
  t.is(deEncapsulate(mhtml)?.value, '<img src="image001.png">');
});

test('escapes, \\par \\line \\tab, \\uN with \\ucN skip counts, \\bin', (t) => {
  const rtf = String.raw`{\rtf1\ansi\fromhtml1 {\*\htmltag0 a\{b\}c\\d\par e\line f\tab g}` +
    String.raw` \u8364?\uc2\u20320\'c4\'e3!{\uc0\u1041}\u-10179??\u-8704??x\bin3 {}zy}`;
  t.is(deEncapsulate(rtf)?.value, 'a{b}c\\d\r\ne\r\nf\tg €你!Б😀xy');
});

test('code page 1251: \\ansicpg and \\fcharset204 decode \\\'hh', (t) => {
  const html = String.raw`{\rtf1\ansi\ansicpg1251\fromhtml1 {\*\htmltag64}\'cf\'f0\'e8\'e2\'e5\'f2{\*\htmltag64 <p title="\'e4\'e0">}}`;
  t.is(deEncapsulate(html)?.value, 'Привет<p title="да">');
  const font = String.raw`{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss\fcharset0 Arial;}{\f1\fswiss\fcharset204 Arial CYR;}}\f0 caf\'e9 {\f1 \'cc\'ee\'f1\'ea\'e2\'e0}\par}`;
  t.is(rtfToText(font), 'café Москва\r\n');
});

test('code page 932: double-byte characters, escaped or with a literal trail byte', (t) => {
  const sjis = iconv.encode('日本語のメール', 'cp932');
  const escaped = [...sjis].map((b) => `\\'${b.toString(16).padStart(2, '0')}`).join('');
  t.is(deEncapsulate(`{\\rtf1\\ansi\\ansicpg932\\fromhtml1 {\\*\\htmltag64}${escaped}}`)?.value, '日本語のメール');
  // 0x83 0x41 is "ア": writers leave a printable trail byte unescaped.
  t.is(rtfToText(String.raw`{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fcharset128 MS Gothic;}}\f0 \'83A\'82\'a0}`), 'アあ');
});

test('rtfToText: an ordinary document, destinations skipped', (t) => {
  const rtf = [
    String.raw`{\rtf1\ansi\ansicpg1252\deff0\deflang1031{\fonttbl{\f0\fswiss\fcharset0 Calibri;}{\f1\froman\fprq2 Times;}}`,
    String.raw`{\colortbl ;\red255\green0\blue0;}{\stylesheet{\s0 Normal;}}{\info{\author Ann}{\title Plan}}`,
    String.raw`{\*\generator Riched20 10.0;}\viewkind4\uc1`,
    String.raw`{\header Page header}\pard\sa200\sl276\slmult1\f0\fs22 Hallo Welt,\par`,
    String.raw`Gr\'fc\'dfe\tab aus {\b K\'f6ln}\line zweite Zeile\par`,
    String.raw`{\field{\*\fldinst{HYPERLINK "https://example.org/"}}{\fldrslt{\ul example.org}}}\par`,
    String.raw`{\pict\wmetafile8\picw10\pich10 0102030405}Bild\emdash Ende\~!\par`,
    String.raw`{\footnote note}\u8364? 5\par}`,
  ].join('\r\n');
  t.is(rtfToText(rtf), 'Hallo Welt,\r\nGrüße\taus Köln\r\nzweite Zeile\r\nexample.org\r\nBild\u2014Ende\u00a0!\r\n€ 5\r\n');
  t.is(rtfToText(latin1(rtf)), rtfToText(rtf));
});

test('a Unicode string is read as text: raw non-ASCII characters are kept', (t) => {
  t.is(rtfToText('{\\rtf1\\ansi\\ansicpg1251 Grüße 東京 \\\'e4}'), 'Grüße 東京 д');
});

const SAMPLES = [
  '<html><head><title>Grüße</title></head><body><p>Grüße aus Köln, Straße — “Anführung”</p></body></html>',
  '<p>Привет, мир! Ёлка</p><p>Съешь же ещё этих мягких французских булок</p>',
  '<div>日本語のメール、中文邮件、한국어 메일</div>',
  '<p>Emoji 😀🎉👍🏽 and a lone surrogate \ud800 here</p>',
  '<html>\r\n<head>\r\n<style>p { color: red; }\r\n/* {braces} \\ */</style>\r\n<script>if (a < b && c > d) { x(); }</script>\r\n</head>\r\n<body>\r\n' +
    '<!-- comment with <tags> and {braces} -->\r\n<p class="a&b" title=\'x > y\'>a &amp; b &lt; c &nbsp;&#8364;&#x20AC;&bogus; 5 < 6 {} \\ \\par</p>\r\n' +
    '<pre>\tindented\r\n\t\tmore</pre>\r\n</body>\r\n</html>\r\n',
  'plain text with no markup at all, just {braces} and \\backslashes\\ and \x01\x1f\x7f control',
  '',
  '<',
  '<p',
  'a <b',
  '<!--',
];

test('HTML round trips (German, Cyrillic, CJK, emoji, markup edge cases)', (t) => {
  for (const html of SAMPLES) {
    const rtf = encapsulateHtml(html);
    t.true(rtf.every((b) => b < 0x80), 'the RTF is 7-bit');
    t.deepEqual(deEncapsulate(rtf), { kind: 'html', value: html }, JSON.stringify(html));
  }
});

test('HTML line endings come back as CRLF', (t) => {
  const lf = '<html>\n<body>\n<p>one\ntwo\rthree</p>\n</body>\n</html>\n';
  t.is(deEncapsulate(encapsulateHtml(lf))?.value, crlf(lf));
});

test('the RTF view of encapsulated HTML shows the text (for readers that do not de-encapsulate)', (t) => {
  const rtf = encapsulateHtml('<html><head><title>T</title></head><body><p>a &amp; b<br>next\nline</p><p>€</p></body></html>');
  t.is(rtfToText(rtf), 'a & b\r\nnext line\r\n€\r\n');
});

test('text round trips, line endings as CRLF', (t) => {
  for (const text of ['', 'Hello', 'Grüße\r\nПривет\r\n日本\r\n😀', 'tab\there {x} \\y\\ \u0000\u0007 end', ' leading space', '1234']) {
    t.deepEqual(deEncapsulate(encapsulateText(text)), { kind: 'text', value: text });
  }
  t.is(deEncapsulate(encapsulateText('a\nb\rc\r\n'))?.value, 'a\r\nb\r\nc\r\n');
  t.is(rtfToText(encapsulateText('a\nb')), 'a\r\nb');
});

test('pathological nesting: deep groups cost bounded time and keep balance', (t) => {
  const deep = 200_000;
  const rtf = '{\\rtf1\\ansi\\fromhtml1 ' + '{'.repeat(deep) + '{\\*\\htmltag0 <x>}' + '}'.repeat(deep) + 'after}';
  const start = performance.now();
  t.is(deEncapsulate(rtf)?.value, '<x>after');
  t.is(rtfToText('{\\rtf1 ' + '{\\b '.repeat(deep) + 'deep' + '}'.repeat(deep) + ' tail}'), 'deep tail');
  t.true(MAX_GROUP_DEPTH < deep);
  t.true(performance.now() - start < 5000);
  t.is(rtfToText('}}}}{{{x'), 'x', 'stray group ends are ignored');
});

test('fuzz: mutated RTF never throws, output bounded, time bounded', (t) => {
  const r = rng(99);
  const seeds = [latin1(SPEC_EXAMPLE_RTF), encapsulateHtml(SAMPLES[4]!), encapsulateText('Grüße\r\nПривет'), latin1(String.raw`{\rtf1\ansi\ansicpg932{\fonttbl{\f0\fcharset128 x;}}\f0\uc2\u1234\'82\'a0\bin5 abcde{\*\htmltag1 x}}`)];
  const alphabet = latin1("{}\\*'u0123456789-abcfhilmnprtx ?\r\n\x80\xff");
  const start = performance.now();
  for (let k = 0; k < 3000; k++) {
    const base = seeds[k % seeds.length]!;
    let m = Buffer.from(base);
    for (let e = 1 + Math.floor(r() * 8); e > 0; e--) {
      const at = Math.floor(r() * (m.length + 1));
      const b = r() < 0.6 ? alphabet[Math.floor(r() * alphabet.length)]! : Math.floor(r() * 256);
      const op = r();
      if (op < 0.4 && at < m.length) m[at] = b;
      else if (op < 0.8) m = Buffer.concat([m.subarray(0, at), Uint8Array.of(b), m.subarray(at)]);
      else m = Buffer.concat([m.subarray(0, at), m.subarray(at + 1 + Math.floor(r() * 20))]);
    }
    try {
      const d = deEncapsulate(m);
      const text = rtfToText(m);
      if (d !== null && d.value.length > m.length) t.fail(`case ${k}: output longer than input`);
      if (text.length > m.length) t.fail(`case ${k}: text longer than input`);
      deEncapsulate(m.toString('latin1') + '\u4e00');
    } catch (err) {
      t.fail(`case ${k} threw ${String(err)}`);
      return;
    }
  }
  t.true(performance.now() - start < 20_000);
});
