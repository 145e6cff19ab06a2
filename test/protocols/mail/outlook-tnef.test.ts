/**
 * Mail as Outlook sends it to a TNEF-capable peer: a plain-text part for everyone else and a
 * winmail.dat holding the MAPI message (RTF body with encapsulated HTML, named properties,
 * attachments). The conversion keeps the RTF as the native body and serves HTML from it.
 */
import test from 'ava';
import { mimeToMapi } from '../../../protocols/mail/mime-to-mapi.js';
import { mapiToMime } from '../../../protocols/mail/mapi-to-mime.js';
import { readBodies, synthesizeBodies } from '../../../protocols/mail/body.js';
import { compressRtf, decompressRtf } from '../../../protocols/mail/rtf/compressed-rtf.js';
import { deEncapsulate, encapsulateHtml } from '../../../protocols/mail/rtf/rtf-encapsulation.js';
import { NativeBody, Tag } from '../../../storage/prop-tags.js';
import { PropType } from '../../../storage/prop-types.js';
import { PS_PUBLIC_STRINGS } from '../../../storage/named-props.js';
import { guidFromString } from '../../../storage/guid.js';
import { AttId, attAttr, msgAttr, propList, renddata, str8, tnefStream, u32 } from './tnef/tnef-writer.js';
import { crlf } from '../../fixtures/mail/messages.js';

const HTML = '<html><body><p>Hello <b>Alice</b>, the figures are attached. Grüße!</p></body></html>';
const PSETID_Common = guidFromString('00062008-0000-0000-c000-000000000046');

function winmail(): Uint8Array {
  const rtf = compressRtf(encapsulateHtml(HTML));
  return tnefStream([
    msgAttr(AttId.attTnefVersion, u32(0x00010000)),
    msgAttr(AttId.attOemCodepage, new Uint8Array([0xe4, 0x04, 0, 0, 0, 0, 0, 0])),
    msgAttr(AttId.attMessageClass, str8('IPM.Microsoft Mail.Note\0')),
    msgAttr(
      AttId.attMsgProps,
      propList([
        { type: PropType.PtypBinary, id: 0x1009, value: rtf },
        { type: PropType.PtypString, id: 0x001a, value: 'IPM.Note' },
        { type: PropType.PtypMultipleString, id: 0x8000, name: { guid: PS_PUBLIC_STRINGS, name: 'Keywords' }, value: ['Finance'] },
        { type: PropType.PtypInteger32, id: 0x8001, name: { guid: PSETID_Common, lid: 0x8506 }, value: 1 },
      ]),
    ),
    attAttr(AttId.attAttachRenddata, renddata(1)),
    attAttr(AttId.attAttachTitle, str8('figures.csv\0')),
    attAttr(AttId.attAttachData, new Uint8Array(Buffer.from('a,b\r\n1,2\r\n'))),
    attAttr(
      AttId.attAttachment,
      propList([
        { type: PropType.PtypString, id: 0x3707, value: 'figures.csv' },
        { type: PropType.PtypString, id: 0x370e, value: 'text/csv' },
      ]),
    ),
  ]);
}

function outlookMail(): Buffer {
  const b64 = Buffer.from(winmail()).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.concat([
    crlf(`From: "Bob (Outlook)" <bob@example.com>
To: Alice <alice@example.org>
Subject: Figures
Date: Tue, 10 Mar 2020 10:00:00 +0100
Message-ID: <OUTLOOK-1@example.com>
Thread-Index: AdX2x4x4x4x4x4x4x4x4x4x4x4x4xA==
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----_=_NextPart_001"
X-MS-TNEF-Correlator: <OUTLOOK-1@example.com>

------_=_NextPart_001
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Hello Alice, the figures are attached. Gr=FC=DFe!

------_=_NextPart_001
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="winmail.dat"

`),
    Buffer.from(b64, 'latin1'),
    crlf(`
------_=_NextPart_001--
`),
  ]);
}

test('Outlook with TNEF: RTF native body (HTML inside), TNEF attachments and named properties', (t) => {
  const { message: m, problems } = mimeToMapi(outlookMail());
  t.deepEqual(problems, []);
  t.is(m.props.get(Tag.PidTagNativeBody), NativeBody.Rtf);
  t.is(m.props.get(Tag.PidTagMessageClass), 'IPM.Note');
  t.is(m.props.get(Tag.PidTagSubject), 'Figures');
  t.is(m.props.get(Tag.PidTagBody), 'Hello Alice, the figures are attached. Grüße!\r\n');
  const b = readBodies(m.props);
  t.is(b.html, HTML);
  t.deepEqual(
    m.attachments.map((a) => [a.props.get(Tag.PidTagAttachLongFilename), Buffer.from(a.data ?? []).toString()]),
    [['figures.csv', 'a,b\r\n1,2\r\n']],
    'winmail.dat is replaced by what it holds',
  );
  t.deepEqual(m.named.find((n) => 'name' in n.name && n.name.name === 'Keywords')?.value, ['Finance']);
  t.true(m.named.some((n) => 'lid' in n.name && n.name.lid === 0x8506));

  // To IMAP / remote recipients: the HTML from the RTF, the text alternative, the attachment.
  const out = mapiToMime(m).toString('latin1');
  t.regex(out, /Content-Type: multipart\/alternative/);
  t.regex(out, /Content-Type: text\/html; charset=utf-8/);
  t.regex(out, /filename=figures\.csv/);
  t.false(out.includes('winmail.dat'));
  const again = mimeToMapi(Buffer.from(out, 'latin1')).message;
  t.is(readBodies(again.props).html, HTML);
});

test('RTF synthesized from HTML de-encapsulates to the same HTML; a plain RTF body gives text', (t) => {
  const props = new Map<number, import('../../../storage/prop-types.js').PropValue>([[Tag.PidTagHtml, Buffer.from(HTML, 'utf8')], [Tag.PidTagInternetCodepage, 65001]]);
  synthesizeBodies(props, [Tag.PidTagRtfCompressed, Tag.PidTagBody]);
  const rtf = decompressRtf(props.get(Tag.PidTagRtfCompressed) as Uint8Array).rtf;
  t.deepEqual(deEncapsulate(rtf), { kind: 'html', value: HTML });
  t.regex(props.get(Tag.PidTagBody) as string, /Hello Alice, the figures are attached\. Grüße!/);
  const plainRtf = compressRtf(Buffer.from('{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}}\\f0 Dear Bob,\\par Caf\\\'e9 at 5.\\par}', 'latin1'));
  const only = new Map<number, import('../../../storage/prop-types.js').PropValue>([[Tag.PidTagRtfCompressed, plainRtf]]);
  t.is(readBodies(only).text?.replace(/\r\n$/, ''), 'Dear Bob,\r\nCafé at 5.');
});
