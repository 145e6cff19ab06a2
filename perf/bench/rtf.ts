/**
 * Compressed RTF (MS-OXRTFCP) and RTF de-encapsulation (MS-OXRTFEX) throughput on ~1 MiB of
 * realistic RTF: an Outlook-style HTML mail body (styles, paragraphs, a table, quoted reply,
 * some non-ASCII text), varied so it does not repeat verbatim, encapsulated in RTF.
 * Compression and decompression are set beside zlib (deflate level 6 / inflate) on the same
 * bytes, for scale. MB/s counts uncompressed RTF bytes (1 MB = 10^6 bytes).
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { compressRtf, decompressRtf } from '../../protocols/mail/rtf/compressed-rtf.js';
import { deEncapsulate, encapsulateHtml, rtfToText } from '../../protocols/mail/rtf/rtf-encapsulation.js';
import type { Row } from './common.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const TARGET_BYTES = 1 << 20;

const NAMES = ['Anna Müller', 'Jörg Weiß', 'Olga Смирнова', 'Kenji 佐藤', 'Chloé Dubois', 'Sam Patel'];
const WORDS = ['budget', 'Quartal', 'review', 'deadline', 'Übersicht', 'forecast', 'invoice', 'Angebot', 'meeting', 'shipment', 'approval', 'draft'];

/** A deterministic pseudo-random source, so runs compare. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 0x100000000;
  };
}

function mailHtml(): string {
  const r = rng(2024);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const sentence = (): string => {
    let s = '';
    for (let w = 5 + Math.floor(r() * 12); w > 0; w--) s += pick(WORDS) + ' ';
    return s.charAt(0).toUpperCase() + s.slice(1, -1) + (r() < 0.2 ? ' — € ' + (r() * 10_000).toFixed(2) : '') + '.';
  };
  const head =
    '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n' +
    '<style><!--\r\np.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;}\r\n' +
    'a:link, span.MsoHyperlink {color:#0563C1; text-decoration:underline;}\r\n--></style></head>\r\n<body lang=DE link="#0563C1">\r\n<div class=WordSection1>\r\n';
  let body = '';
  for (let block = 0; head.length + body.length < TARGET_BYTES / 2; block++) {
    body += `<p class=MsoNormal>Hallo ${pick(NAMES)},<o:p></o:p></p>\r\n<p class=MsoNormal><o:p>&nbsp;</o:p></p>\r\n`;
    for (let p = 2 + Math.floor(r() * 3); p > 0; p--) body += `<p class=MsoNormal><span style='color:#1F497D'>${sentence()} ${sentence()}</span><o:p></o:p></p>\r\n`;
    body += '<table class=MsoNormalTable border=0 cellpadding=0><tr>';
    for (let c = 0; c < 4; c++) body += `<td style='padding:.75pt'><p class=MsoNormal>${pick(WORDS)} ${block}.${c}<o:p></o:p></p></td>`;
    body += `</tr></table>\r\n<p class=MsoNormal>Gr&uuml;&szlig;e<br>${pick(NAMES)}<o:p></o:p></p>\r\n`;
    body += `<div style='border:none;border-top:solid #E1E1E1 1.0pt'><p class=MsoNormal><b>Von:</b> ${pick(NAMES)} &lt;x${block}@example.com&gt;<br><b>Gesendet:</b> ${1 + (block % 28)}. März 2024<o:p></o:p></p></div>\r\n`;
  }
  return head + body + '</div>\r\n</body>\r\n</html>\r\n';
}

/** Runs `fn` for SECONDS (after a warm-up) and returns the rate in MB/s of `bytes` per call. */
function throughput(bytes: number, fn: () => unknown): number {
  for (let k = 0; k < 3; k++) fn();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    fn();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < SECONDS * 1000);
  return (bytes * calls) / (elapsed / 1000) / 1e6;
}

export async function run(): Promise<Row[]> {
  const html = mailHtml();
  const rtf = encapsulateHtml(html);
  const compressed = compressRtf(rtf);
  const deflated = deflateSync(rtf);
  if (decompressRtf(compressed).rtf.length !== rtf.length || deEncapsulate(rtf)?.value.length !== html.length) throw new Error('rtf bench: round trip failed');
  const size = rtf.length;
  const note = `${(size / 1048576).toFixed(2)} MiB RTF`;

  const compress = throughput(size, () => compressRtf(rtf));
  const deflate = throughput(size, () => deflateSync(rtf));
  const decompress = throughput(size, () => decompressRtf(compressed));
  const inflate = throughput(size, () => inflateSync(deflated));
  const deencapsulate = throughput(size, () => deEncapsulate(rtf));
  const text = throughput(size, () => rtfToText(rtf));
  return [
    {
      bench: 'rtf',
      metric: 'compress (MS-OXRTFCP LZFu)',
      value: compress,
      unit: 'MB/s',
      baseline: { name: 'zlib deflate', value: deflate },
      ratio: compress / deflate,
      note: `${note}; size ${((compressed.length / size) * 100).toFixed(1)}% (deflate ${((deflated.length / size) * 100).toFixed(1)}%)`,
    },
    { bench: 'rtf', metric: 'decompress', value: decompress, unit: 'MB/s', baseline: { name: 'zlib inflate', value: inflate }, ratio: decompress / inflate, note },
    { bench: 'rtf', metric: 'de-encapsulate HTML (MS-OXRTFEX)', value: deencapsulate, unit: 'MB/s', note },
    { bench: 'rtf', metric: 'rtfToText', value: text, unit: 'MB/s', note },
  ];
}
