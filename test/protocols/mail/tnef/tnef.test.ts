import test from 'ava';
import { rng } from '../../../helpers.js';
import { decodeTnef, MAX_EMBEDDING_DEPTH, MAX_PROBLEMS, codepageEncoding, type TnefResult } from '../../../../protocols/mail/tnef/tnef.js';
import { IID_IMessage, TnefTag } from '../../../../protocols/mail/tnef/tnef-ids.js';
import type { MapiMessage } from '../../../../protocols/mail/mapi-message.js';
import { guidFromString } from '../../../../storage/guid.js';
import { PS_INTERNET_HEADERS, PS_PUBLIC_STRINGS } from '../../../../storage/named-props.js';
import { PropType as P, dateToFiletime, propTag, type PropValue } from '../../../../storage/prop-types.js';
import {
  AttId,
  attAttr,
  attribute,
  attributeBoundaries,
  Bytes,
  dtr,
  from,
  msgAttr,
  oemCodepage,
  propList,
  recipTable,
  renddata,
  str8,
  sum16,
  tnefStream,
  u16,
  u32,
  type WProp,
} from './tnef-writer.js';

const PSETID_Common = guidFromString('00062008-0000-0000-c000-000000000046');
const GUID_A = Uint8Array.from({ length: 16 }, (_, i) => i * 3);
const GUID_B = Uint8Array.from({ length: 16 }, (_, i) => 255 - i);
const ft = (iso: string): bigint => dateToFiletime(new Date(iso));
const sorted = (m: Map<number, PropValue>): [number, PropValue][] => [...m].sort((a, b) => a[0] - b[0]);
const tag = propTag;

const RTF = Uint8Array.from([0x2d, 0, 0, 0, 0x2b, 0, 0, 0, 0x4c, 0x5a, 0x46, 0x75, 1, 2, 3, 4, 5]);
const PDF = new Uint8Array(Buffer.from('%PDF-1.4 tiny test file\n'));

function version(): Uint8Array {
  return msgAttr(AttId.attTnefVersion, u32(0x00010000));
}

// ---------------------------------------------------------------------------------------------
// Fixtures

function plainAttrs(): Uint8Array[] {
  return [
    version(),
    msgAttr(AttId.attOemCodepage, oemCodepage(1252)),
    msgAttr(AttId.attMessageClass, str8('IPM.Note')),
    msgAttr(AttId.attSubject, str8('Legacy subject')),
    msgAttr(AttId.attBody, str8('Café body\r\n')),
    msgAttr(AttId.attDateSent, dtr(2024, 3, 5, 10, 20, 30, 2)),
    msgAttr(AttId.attPriority, u16(1)),
    msgAttr(
      AttId.attMsgProps,
      propList([
        { type: P.PtypString, id: 0x0037, value: 'Grüße — unicode subject 𝄞' },
        { type: P.PtypBinary, id: 0x1009, value: RTF },
        { type: P.PtypBoolean, id: 0x0057, value: true },
        { type: P.PtypTime, id: 0x0039, value: ft('2024-03-05T09:20:30Z') },
      ]),
    ),
  ];
}

function attachmentAttrs(): Uint8Array[] {
  return [
    attAttr(AttId.attAttachRenddata, renddata(1)),
    attAttr(AttId.attAttachTitle, str8('REPORT~1.PDF')),
    attAttr(AttId.attAttachData, PDF),
    attAttr(AttId.attAttachCreateDate, dtr(2024, 1, 2, 3, 4, 5, 2)),
    attAttr(AttId.attAttachModifyDate, dtr(2024, 1, 3, 3, 4, 5, 3)),
    attAttr(
      AttId.attAttachment,
      propList([
        { type: P.PtypString, id: 0x3707, value: 'Report 2024.pdf' },
        { type: P.PtypString, id: 0x370e, value: 'application/pdf' },
        { type: P.PtypString, id: 0x3712, value: 'part1@example.com' },
        { type: P.PtypInteger32, id: 0x3705, value: 1 },
      ]),
    ),
    attAttr(AttId.attAttachRenddata, renddata(1, 10)),
    attAttr(AttId.attAttachTitle, str8('notes.txt')),
    attAttr(AttId.attAttachData, new Uint8Array(Buffer.from('legacy data, replaced'))),
    attAttr(AttId.attAttachMetaFile, Uint8Array.of(9, 8, 7)),
    attAttr(
      AttId.attAttachment,
      propList([
        { type: P.PtypString, id: 0x3707, value: 'notes.txt' },
        { type: P.PtypBinary, id: 0x3701, value: new Uint8Array(Buffer.from('hello\n')) },
      ]),
    ),
  ];
}

const NAMED: WProp[] = [
  { type: P.PtypInteger32, id: 0x8001, name: { guid: PSETID_Common, lid: 0x8503 }, value: 15 },
  { type: P.PtypMultipleString, id: 0x8002, name: { guid: PS_PUBLIC_STRINGS, name: 'Keywords' }, value: ['Red', 'Blue'] },
  { type: P.PtypString, id: 0x8003, name: { guid: PS_INTERNET_HEADERS, name: 'x-mailer' }, value: 'Stoa 1' },
  { type: P.PtypBoolean, id: 0x8004, name: { guid: PSETID_Common, lid: 0x8506 }, value: true },
  { type: P.PtypString8, id: 0x8005, name: { guid: PS_PUBLIC_STRINGS, name: 'abc' }, value: 'eight bit' },
  { type: P.PtypBinary, id: 0x8006, name: { guid: GUID_A, lid: 0 }, value: Uint8Array.of(1, 2, 3) },
];

const SCALARS: [WProp, PropValue][] = [
  [{ type: P.PtypInteger16, id: 0x6601, value: -1234 }, -1234],
  [{ type: P.PtypInteger32, id: 0x6602, value: -5 }, -5],
  [{ type: P.PtypFloating32, id: 0x6603, value: 1.5 }, 1.5],
  [{ type: P.PtypFloating64, id: 0x6604, value: Math.PI }, Math.PI],
  [{ type: P.PtypCurrency, id: 0x6605, value: -12345678n }, -12345678n],
  [{ type: P.PtypFloatingTime, id: 0x6606, value: 45000.25 }, 45000.25],
  [{ type: P.PtypErrorCode, id: 0x6607, value: 0x8004010f }, 0x8004010f],
  [{ type: P.PtypBoolean, id: 0x6608, value: false }, false],
  [{ type: P.PtypInteger64, id: 0x6609, value: 2n ** 63n - 1n }, 2n ** 63n - 1n],
  [{ type: P.PtypTime, id: 0x660a, value: 2n ** 64n - 1n }, 2n ** 64n - 1n],
  [{ type: P.PtypGuid, id: 0x660b, value: GUID_A }, GUID_A],
  [{ type: P.PtypString8, id: 0x660c, value: 'naïve' }, 'naïve'],
  [{ type: P.PtypString, id: 0x660d, value: 'ünïcode ✉' }, 'ünïcode ✉'],
  [{ type: P.PtypBinary, id: 0x660e, value: Uint8Array.of(1, 2, 3, 4, 5) }, Uint8Array.of(1, 2, 3, 4, 5)],
  [{ type: P.PtypMultipleInteger16, id: 0x6610, value: [1, -2, 3] }, [1, -2, 3]],
  [{ type: P.PtypMultipleInteger32, id: 0x6611, value: [7, -8] }, [7, -8]],
  [{ type: P.PtypMultipleFloating32, id: 0x6612, value: [0.5, -0.25] }, [0.5, -0.25]],
  [{ type: P.PtypMultipleFloating64, id: 0x6613, value: [1e300, -1e-300] }, [1e300, -1e-300]],
  [{ type: P.PtypMultipleCurrency, id: 0x6614, value: [1n, -1n] }, [1n, -1n]],
  [{ type: P.PtypMultipleFloatingTime, id: 0x6615, value: [1.25] }, [1.25]],
  [{ type: P.PtypMultipleInteger64, id: 0x6616, value: [0n, -(2n ** 63n)] }, [0n, -(2n ** 63n)]],
  [{ type: P.PtypMultipleString8, id: 0x6617, value: ['a', 'bc', ''] }, ['a', 'bc', '']],
  [{ type: P.PtypMultipleString, id: 0x6618, value: ['x', 'yy', 'zzz'] }, ['x', 'yy', 'zzz']],
  [{ type: P.PtypMultipleTime, id: 0x6619, value: [0n, ft('2026-11-28T12:00:00Z')] }, [0n, ft('2026-11-28T12:00:00Z')]],
  [{ type: P.PtypMultipleGuid, id: 0x661a, value: [GUID_A, GUID_B] }, [GUID_A, GUID_B]],
  [{ type: P.PtypMultipleBinary, id: 0x661b, value: [Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(1, 2, 3, 4, 5)] }, [Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(1, 2, 3, 4, 5)]],
  [{ type: P.PtypMultipleString, id: 0x661c, value: [] }, []],
];

const RECIPIENTS: WProp[][] = [
  [
    { type: P.PtypInteger32, id: 0x0c15, value: 1 },
    { type: P.PtypString, id: 0x3001, value: 'Alice Example' },
    { type: P.PtypString, id: 0x3002, value: 'SMTP' },
    { type: P.PtypString, id: 0x3003, value: 'alice@example.com' },
    { type: P.PtypBinary, id: 0x0fff, value: Uint8Array.of(0, 0, 0, 0, 1, 2, 3) },
  ],
  [
    { type: P.PtypInteger32, id: 0x0c15, value: 2 },
    { type: P.PtypString8, id: 0x3001, value: 'Bob' },
    { type: P.PtypString8, id: 0x3003, value: 'bob@example.com' },
  ],
];

/** A message whose attachment embeds a message, `depth` levels down. */
function nestedStream(depth: number, level = 0): Uint8Array {
  const attrs = [version(), msgAttr(AttId.attMsgProps, propList([{ type: P.PtypString, id: 0x0037, value: `level ${level}` }]))];
  if (depth > 0) {
    attrs.push(
      attAttr(AttId.attAttachRenddata, renddata(1)),
      attAttr(
        AttId.attAttachment,
        propList([
          { type: P.PtypInteger32, id: 0x3705, value: 5 },
          { type: P.PtypString, id: 0x3001, value: `embedded ${level + 1}` },
          { type: P.PtypObject, id: 0x3701, value: { iid: IID_IMessage, data: nestedStream(depth - 1, level + 1) } },
        ]),
      ),
    );
  } else {
    attrs.push(attAttr(AttId.attAttachRenddata, renddata(1)), attAttr(AttId.attAttachTitle, str8('leaf.txt')), attAttr(AttId.attAttachData, Uint8Array.of(42)));
  }
  return tnefStream(attrs);
}

/** Everything together: the fixture the truncation and fuzz tests damage. */
function fullAttrs(): Uint8Array[] {
  return [
    ...plainAttrs().slice(0, -1),
    msgAttr(AttId.attFrom, from('Sender Name', 'SMTP:sender@example.com')),
    msgAttr(AttId.attRecipTable, recipTable(RECIPIENTS)),
    msgAttr(AttId.attMsgProps, propList([...NAMED, ...SCALARS.map(([p]) => p)])),
    ...attachmentAttrs(),
    attAttr(AttId.attAttachRenddata, renddata(1)),
    attAttr(
      AttId.attAttachment,
      propList([
        { type: P.PtypInteger32, id: 0x3705, value: 5 },
        { type: P.PtypObject, id: 0x3701, value: { iid: IID_IMessage, data: nestedStream(2) } },
      ]),
    ),
  ];
}

function subjectsDown(m: MapiMessage): string[] {
  const out: string[] = [];
  let cur: MapiMessage | undefined = m;
  while (cur !== undefined) {
    out.push(String(cur.props.get(tag(0x0037, P.PtypString))));
    cur = cur.attachments.find((a) => a.embedded !== undefined)?.embedded;
  }
  return out;
}

function clean(t: { deepEqual: (a: unknown, b: unknown) => void }, r: TnefResult): void {
  t.deepEqual(r.problems, []);
}

// ---------------------------------------------------------------------------------------------
// Golden bytes: the start of MS-OXTNEF section 3.1 "Sample Message", built by hand from the
// specification's table (values and lengths), with the checksums the specification prints.

test('golden: MS-OXTNEF 3.1 sample message (first eight attributes)', (t) => {
  const ascii = (s: string): string => Buffer.from(s + '\0', 'latin1').toString('hex');
  const hex = [
    '789f3e22', '0100', // signature, attach key 0x0001
    '01', '06900800', '04000000', '00000100', '0100', // attTnefVersion, checksum 0x0001
    '01', '07900600', '08000000', 'e404000000000000', 'e800', // attOemCodepage 1252/0, checksum 0x00E8
    '01', '08800700', '18000000', ascii('IPM.Microsoft Mail.Note'), '3108', // checksum 0x0831
    '01', '0d800400', '02000000', '0200', '0200', // attPriority normal, checksum 0x0002
    '01', '04800100', '0f000000', ascii('Simple subject'), '7a05', // checksum 0x057A
    '01', '05800300', '0e000000', 'd4070200' + '11000b00' + '19002300' + '0200', '3701', // Tue 02/17/2004 11:25:35
    '01', '20800300', '0e000000', 'd4070200' + '11000c00' + '1a000900' + '0200', '1f01', // Tue 02/17/2004 12:26:09
    '01', '09800100', '21000000', ascii('757BB19CDE936A4087D90BB784C58E3B'), '5107', // checksum 0x0751
  ].join('');
  const bytes = new Uint8Array(Buffer.from(hex, 'hex'));
  const r = decodeTnef(bytes);
  clean(t, r);
  t.deepEqual(sorted(r.message.props), sorted(new Map<number, PropValue>([
    [TnefTag.PidTagMessageClass, 'IPM.Microsoft Mail.Note'],
    [TnefTag.PidTagImportance, 1],
    [TnefTag.PidTagSubject, 'Simple subject'],
    // A DTR has no zone: read as UTC (the sample's attMsgProps carries 19:25:35 UTC).
    [TnefTag.PidTagClientSubmitTime, ft('2004-02-17T11:25:35Z')],
    [TnefTag.PidTagLastModificationTime, ft('2004-02-17T12:26:09Z')],
    [TnefTag.PidTagSearchKey, new Uint8Array(Buffer.from('757BB19CDE936A4087D90BB784C58E3B', 'hex'))],
  ])));
  // The writer computes the same checksums the specification prints.
  t.is(sum16(str8('Simple subject')), 0x057a);
  t.is(sum16(dtr(2004, 2, 17, 11, 25, 35, 2)), 0x0137);
  t.is(sum16(str8('IPM.Microsoft Mail.Note')), 0x0831);
  t.is(sum16(str8('757BB19CDE936A4087D90BB784C58E3B')), 0x0751);
});

test('golden: a single String8 property list as MS-OXTNEF shows it (tag, count, size)', (t) => {
  // "1e 00 76 00 01 00 00 00 28 00 00 00": PtypString8 property 0x0076, one value of 40 bytes.
  const text = 'someone@example.com'.padEnd(39, '.');
  const value = str8(text);
  t.is(value.length, 40);
  const list = new Bytes().u32(1).raw(Buffer.from('1e007600' + '01000000' + '28000000', 'hex')).raw(value).done();
  t.deepEqual([...list.subarray(4, 16)], [0x1e, 0, 0x76, 0, 1, 0, 0, 0, 0x28, 0, 0, 0]);
  const r = decodeTnef(tnefStream([version(), msgAttr(AttId.attMsgProps, list)]));
  clean(t, r);
  t.deepEqual(sorted(r.message.props), [[0x0076001e, text]]);
});

// ---------------------------------------------------------------------------------------------
// Messages

test('plain message: legacy attributes, encapsulated properties win, RTF kept as binary', (t) => {
  const r = decodeTnef(tnefStream(plainAttrs()));
  clean(t, r);
  t.deepEqual(sorted(r.message.props), sorted(new Map<number, PropValue>([
    [TnefTag.PidTagMessageClass, 'IPM.Note'],
    [TnefTag.PidTagBody, 'Café body\r\n'],
    [TnefTag.PidTagImportance, 2],
    [tag(0x0037, P.PtypString), 'Grüße — unicode subject 𝄞'],
    [TnefTag.PidTagRtfCompressed, RTF],
    [tag(0x0057, P.PtypBoolean), true],
    [TnefTag.PidTagClientSubmitTime, ft('2024-03-05T09:20:30Z')],
  ])));
  t.deepEqual(r.message.named, []);
  t.deepEqual(r.message.recipients, []);
  t.deepEqual(r.message.attachments, []);
});

test('encapsulated properties win even when the legacy attribute comes after them', (t) => {
  const r = decodeTnef(
    tnefStream([
      version(),
      msgAttr(AttId.attMsgProps, propList([{ type: P.PtypString, id: 0x0037, value: 'from props' }])),
      msgAttr(AttId.attSubject, str8('legacy')),
    ]),
  );
  clean(t, r);
  t.deepEqual(sorted(r.message.props), [[tag(0x0037, P.PtypString), 'from props']]);
});

test('every scalar and multi-valued type', (t) => {
  const r = decodeTnef(tnefStream([version(), msgAttr(AttId.attMsgProps, propList(SCALARS.map(([p]) => p)))]));
  clean(t, r);
  t.deepEqual(sorted(r.message.props), sorted(new Map(SCALARS.map(([p, v]) => [tag(p.id, p.type), v]))));
});

test('named properties with LIDs and string names', (t) => {
  const r = decodeTnef(tnefStream([version(), msgAttr(AttId.attMsgProps, propList(NAMED))]));
  clean(t, r);
  t.deepEqual(r.message.props, new Map());
  t.deepEqual(r.message.named, [
    { name: { guid: PSETID_Common, lid: 0x8503 }, type: P.PtypInteger32, value: 15 },
    { name: { guid: PS_PUBLIC_STRINGS, name: 'Keywords' }, type: P.PtypMultipleString, value: ['Red', 'Blue'] },
    { name: { guid: PS_INTERNET_HEADERS, name: 'x-mailer' }, type: P.PtypString, value: 'Stoa 1' },
    { name: { guid: PSETID_Common, lid: 0x8506 }, type: P.PtypBoolean, value: true },
    { name: { guid: PS_PUBLIC_STRINGS, name: 'abc' }, type: P.PtypString8, value: 'eight bit' },
    { name: { guid: GUID_A, lid: 0 }, type: P.PtypBinary, value: Uint8Array.of(1, 2, 3) },
  ]);
});

test('recipient table rows', (t) => {
  const r = decodeTnef(tnefStream([version(), msgAttr(AttId.attRecipTable, recipTable(RECIPIENTS))]));
  clean(t, r);
  t.deepEqual(r.message.recipients.map(sorted), [
    sorted(new Map<number, PropValue>([
      [tag(0x0c15, P.PtypInteger32), 1],
      [tag(0x3001, P.PtypString), 'Alice Example'],
      [tag(0x3002, P.PtypString), 'SMTP'],
      [tag(0x3003, P.PtypString), 'alice@example.com'],
      [tag(0x0fff, P.PtypBinary), Uint8Array.of(0, 0, 0, 0, 1, 2, 3)],
    ])),
    sorted(new Map<number, PropValue>([
      [tag(0x0c15, P.PtypInteger32), 2],
      [tag(0x3001, P.PtypString8), 'Bob'],
      [tag(0x3003, P.PtypString8), 'bob@example.com'],
    ])),
  ]);
});

test('legacy message attributes map to their properties', (t) => {
  const r = decodeTnef(
    tnefStream([
      version(),
      msgAttr(AttId.attFrom, from('Sender Name', 'SMTP:sender@example.com')),
      msgAttr(AttId.attDateRecd, dtr(2023, 12, 31, 23, 59, 58, 0)),
      msgAttr(AttId.attDateModified, dtr(2024, 2, 29, 0, 0, 1, 4)),
      msgAttr(AttId.attDateStart, dtr(2024, 6, 1, 9, 0, 0, 6)),
      msgAttr(AttId.attDateEnd, dtr(2024, 6, 1, 10, 30, 0, 6)),
      msgAttr(AttId.attMessageStatus, Uint8Array.of(0x20 | 0x80)),
      msgAttr(AttId.attMessageID, str8('00ff10')),
      msgAttr(AttId.attParentID, str8('ABCD')),
      msgAttr(AttId.attConversationID, str8('')),
      msgAttr(AttId.attPriority, u16(3)),
      msgAttr(AttId.attAidOwner, u32(0xfffffffe)),
      msgAttr(AttId.attRequestRes, u16(1)),
      msgAttr(AttId.attOriginalMessageClass, str8('IPM.Schedule.Meeting.Request')),
      msgAttr(AttId.attOwner, new Uint8Array(6)),
    ]),
  );
  clean(t, r);
  const entryId = new Uint8Array(
    Buffer.concat([
      Buffer.alloc(4),
      Buffer.from('812b1fa4bea310199d6e00dd010f5402', 'hex'),
      Buffer.from('00000100', 'hex'),
      Buffer.from('Sender Name\0SMTP\0sender@example.com\0', 'latin1'),
    ]),
  );
  t.deepEqual(sorted(r.message.props), sorted(new Map<number, PropValue>([
    [TnefTag.PidTagSenderName, 'Sender Name'],
    [TnefTag.PidTagSenderAddressType, 'SMTP'],
    [TnefTag.PidTagSenderEmailAddress, 'sender@example.com'],
    [TnefTag.PidTagSenderEntryId, entryId],
    [TnefTag.PidTagMessageDeliveryTime, ft('2023-12-31T23:59:58Z')],
    [TnefTag.PidTagLastModificationTime, ft('2024-02-29T00:00:01Z')],
    [TnefTag.PidTagStartDate, ft('2024-06-01T09:00:00Z')],
    [TnefTag.PidTagEndDate, ft('2024-06-01T10:30:00Z')],
    // fmsRead | fmsHasAttach, fmsModified clear: read, unmodified, has attachments.
    [TnefTag.PidTagMessageFlags, 0x01 | 0x02 | 0x10],
    [TnefTag.PidTagSearchKey, Uint8Array.of(0x00, 0xff, 0x10)],
    [TnefTag.PidTagParentKey, Uint8Array.of(0xab, 0xcd)],
    [TnefTag.PidTagConversationKey, new Uint8Array(0)],
    [TnefTag.PidTagImportance, 0],
    [TnefTag.PidTagOwnerAppointmentId, -2],
    [TnefTag.PidTagResponseRequested, true],
    [TnefTag.PidTagOriginalMessageClass, 'IPM.Schedule.Meeting.Request'],
  ])));
});

// ---------------------------------------------------------------------------------------------
// Attachments and embedded messages

test('attachments: file names, data, dates, metafile; the property stream wins', (t) => {
  const r = decodeTnef(tnefStream([version(), ...attachmentAttrs()]));
  clean(t, r);
  const [a, b] = r.message.attachments;
  t.is(r.message.attachments.length, 2);
  t.deepEqual(a!.data, PDF);
  t.deepEqual(sorted(a!.props), sorted(new Map<number, PropValue>([
    [TnefTag.PidTagAttachMethod, 1],
    [TnefTag.PidTagRenderingPosition, -1],
    [TnefTag.PidTagAttachFilename, 'REPORT~1.PDF'],
    [TnefTag.PidTagCreationTime, ft('2024-01-02T03:04:05Z')],
    [TnefTag.PidTagLastModificationTime, ft('2024-01-03T03:04:05Z')],
    [TnefTag.PidTagAttachLongFilename, 'Report 2024.pdf'],
    [TnefTag.PidTagAttachMimeTag, 'application/pdf'],
    [TnefTag.PidTagAttachContentId, 'part1@example.com'],
  ])));
  t.is(a!.embedded, undefined);
  t.deepEqual(b!.data, new Uint8Array(Buffer.from('hello\n')));
  t.deepEqual(sorted(b!.props), sorted(new Map<number, PropValue>([
    [TnefTag.PidTagAttachMethod, 1],
    [TnefTag.PidTagRenderingPosition, 10],
    [TnefTag.PidTagAttachFilename, 'notes.txt'],
    [TnefTag.PidTagAttachRendering, Uint8Array.of(9, 8, 7)],
    [TnefTag.PidTagAttachLongFilename, 'notes.txt'],
  ])));
});

test('legacy transport file name; attachment attribute before attAttachRenddata starts one', (t) => {
  const r = decodeTnef(tnefStream([version(), attAttr(AttId.attAttachTransportFilename, str8('x.bin')), attAttr(AttId.attAttachData, Uint8Array.of(1))]));
  t.is(r.message.attachments.length, 1);
  t.deepEqual(sorted(r.message.attachments[0]!.props), [[TnefTag.PidTagAttachTransportName, 'x.bin']]);
  t.deepEqual(r.message.attachments[0]!.data, Uint8Array.of(1));
  t.is(r.problems.length, 1);
  t.regex(r.problems[0]!, /before any attAttachRenddata/);
});

test('embedded message attachment, three levels deep', (t) => {
  const r = decodeTnef(nestedStream(3));
  clean(t, r);
  t.deepEqual(subjectsDown(r.message), ['level 0', 'level 1', 'level 2', 'level 3']);
  const att = r.message.attachments[0]!;
  t.deepEqual(sorted(att.props), sorted(new Map<number, PropValue>([
    [TnefTag.PidTagAttachMethod, 5],
    [tag(0x3001, P.PtypString), 'embedded 1'],
    [TnefTag.PidTagRenderingPosition, -1],
  ])));
  t.false(att.props.has(TnefTag.PidTagAttachDataObject));
  let leaf = r.message;
  while (leaf.attachments[0]?.embedded) leaf = leaf.attachments[0].embedded;
  t.deepEqual(leaf.attachments[0]!.data, Uint8Array.of(42));
  t.deepEqual(sorted(leaf.attachments[0]!.props), sorted(new Map<number, PropValue>([
    [TnefTag.PidTagAttachMethod, 1],
    [TnefTag.PidTagRenderingPosition, -1],
    [TnefTag.PidTagAttachFilename, 'leaf.txt'],
  ])));
});

test(`embedded messages nest at most ${MAX_EMBEDDING_DEPTH} levels; deeper ones stay bytes`, (t) => {
  const r = decodeTnef(nestedStream(MAX_EMBEDDING_DEPTH + 4));
  const subjects = subjectsDown(r.message);
  t.is(subjects.length, MAX_EMBEDDING_DEPTH + 1);
  t.is(r.problems.length, 1);
  t.regex(r.problems[0]!, /deeper than/);
  let last = r.message;
  while (last.attachments[0]?.embedded) last = last.attachments[0].embedded;
  t.true(last.attachments[0]!.props.get(TnefTag.PidTagAttachDataObject) instanceof Uint8Array);
});

test('an object that is not IID_IMessage, or not TNEF, is kept as bytes', (t) => {
  const r = decodeTnef(
    tnefStream([
      version(),
      attAttr(AttId.attAttachRenddata, renddata(2)),
      attAttr(AttId.attAttachment, propList([{ type: P.PtypObject, id: 0x3701, value: { iid: GUID_A, data: Uint8Array.of(1, 2, 3) } }])),
      attAttr(AttId.attAttachRenddata, renddata(1)),
      attAttr(AttId.attAttachment, propList([{ type: P.PtypObject, id: 0x3701, value: { iid: IID_IMessage, data: Uint8Array.of(1, 2, 3, 4, 5) } }])),
    ]),
  );
  const [ole, bad] = r.message.attachments;
  t.deepEqual(ole!.props.get(TnefTag.PidTagAttachDataObject), Uint8Array.of(1, 2, 3));
  t.is(ole!.props.get(TnefTag.PidTagAttachMethod), 6);
  t.deepEqual(bad!.props.get(TnefTag.PidTagAttachDataObject), Uint8Array.of(1, 2, 3, 4, 5));
  t.is(bad!.embedded, undefined);
  t.is(r.problems.length, 1);
  t.regex(r.problems[0]!, /not a TNEF stream/);
});

// ---------------------------------------------------------------------------------------------
// Code pages

test('String8 in code page 1251 (attOemCodepage)', (t) => {
  const r = decodeTnef(
    tnefStream([
      version(),
      msgAttr(AttId.attOemCodepage, oemCodepage(1251)),
      msgAttr(AttId.attSubject, str8('Привет', 'cp1251')),
      msgAttr(AttId.attRecipTable, recipTable([[{ type: P.PtypString8, id: 0x3001, value: 'Иван', encoding: 'cp1251' }]])),
      msgAttr(
        AttId.attMsgProps,
        propList([
          { type: P.PtypString8, id: 0x1000, value: 'Текст письма', encoding: 'cp1251' },
          { type: P.PtypMultipleString8, id: 0x6617, value: ['один', 'два'], encoding: 'cp1251' },
          { type: P.PtypString8, id: 0x8001, name: { guid: PS_PUBLIC_STRINGS, name: 'Имя' }, value: 'Значение', encoding: 'cp1251' },
        ]),
      ),
      attAttr(AttId.attAttachRenddata, renddata(1)),
      attAttr(AttId.attAttachTitle, str8('Файл.txt', 'cp1251')),
    ]),
  );
  clean(t, r);
  t.deepEqual(sorted(r.message.props), sorted(new Map<number, PropValue>([
    [TnefTag.PidTagSubject, 'Привет'],
    [tag(0x1000, P.PtypString8), 'Текст письма'],
    [tag(0x6617, P.PtypMultipleString8), ['один', 'два']],
  ])));
  t.deepEqual(r.message.named, [{ name: { guid: PS_PUBLIC_STRINGS, name: 'Имя' }, type: P.PtypString8, value: 'Значение' }]);
  t.deepEqual(r.message.recipients.map(sorted), [[[tag(0x3001, P.PtypString8), 'Иван']]]);
  t.is(r.message.attachments[0]!.props.get(TnefTag.PidTagAttachFilename), 'Файл.txt');
});

test('code page from PidTagMessageCodepage given after the strings; embedded messages inherit it', (t) => {
  const inner = tnefStream([version(), msgAttr(AttId.attMsgProps, propList([{ type: P.PtypString8, id: 0x0037, value: 'Вложение', encoding: 'cp1251' }]))]);
  const r = decodeTnef(
    tnefStream([
      version(),
      msgAttr(AttId.attSubject, str8('Тема', 'cp1251')),
      msgAttr(AttId.attMsgProps, propList([{ type: P.PtypInteger32, id: 0x3ffd, value: 1251 }])),
      attAttr(AttId.attAttachRenddata, renddata(1)),
      attAttr(AttId.attAttachment, propList([{ type: P.PtypObject, id: 0x3701, value: { iid: IID_IMessage, data: inner } }])),
    ]),
  );
  clean(t, r);
  t.is(r.message.props.get(TnefTag.PidTagSubject), 'Тема');
  t.is(r.message.attachments[0]!.embedded!.props.get(tag(0x0037, P.PtypString8)), 'Вложение');
});

test('without a code page String8 is Windows-1252; an unknown code page is noted', (t) => {
  const plain = decodeTnef(tnefStream([version(), msgAttr(AttId.attSubject, str8('€ café'))]));
  clean(t, plain);
  t.is(plain.message.props.get(TnefTag.PidTagSubject), '€ café');
  const odd = decodeTnef(tnefStream([version(), msgAttr(AttId.attOemCodepage, oemCodepage(4242)), msgAttr(AttId.attSubject, str8('€'))]));
  t.is(odd.message.props.get(TnefTag.PidTagSubject), '€');
  t.deepEqual(odd.problems, ['code page 4242 not supported: 8-bit strings read as windows-1252']);
  t.is(codepageEncoding(1251), 'cp1251');
  t.is(codepageEncoding(65001), 'utf8');
  t.is(codepageEncoding(28605), 'iso-8859-15');
  t.is(codepageEncoding(4242), undefined);
});

// ---------------------------------------------------------------------------------------------
// Bad input

test('a checksum mismatch is a problem, and the attribute is still used', (t) => {
  const r = decodeTnef(tnefStream([version(), attribute(1, AttId.attSubject, str8('Hi'), 0x1234)]));
  t.is(r.message.props.get(TnefTag.PidTagSubject), 'Hi');
  t.is(r.problems.length, 1);
  t.regex(r.problems[0]!, /attSubject at offset \d+: checksum 0x1234, data sums to 0x00b1/);
});

test('not TNEF, empty, unknown attributes, unknown levels', (t) => {
  t.regex(decodeTnef(new Uint8Array(0)).problems[0]!, /too few/);
  t.regex(decodeTnef(new Uint8Array(100)).problems[0]!, /not a TNEF stream/);
  t.regex(decodeTnef(tnefStream([])).problems[0]!, /no attributes/);
  const r = decodeTnef(tnefStream([version(), attribute(1, 0x00061234, Uint8Array.of(1)), attribute(7, AttId.attSubject, str8('x'))]));
  t.is(r.message.props.get(TnefTag.PidTagSubject), 'x');
  t.is(r.problems.length, 2);
  // A Buffer as input works the same.
  t.deepEqual(decodeTnef(Buffer.from(tnefStream(plainAttrs()))).message.props, decodeTnef(tnefStream(plainAttrs())).message.props);
});

test('huge counts and lying lengths are refused before anything is allocated', (t) => {
  const lists: Uint8Array[] = [
    u32(0xffffffff), // property count
    new Bytes().u32(1).u16(P.PtypMultipleInteger64).u16(0x6601).u32(0xfffffff0).done(), // value count
    new Bytes().u32(1).u16(P.PtypBinary).u16(0x6601).u32(0xffffffff).done(), // single-valued count
    new Bytes().u32(1).u16(P.PtypBinary).u16(0x6601).u32(1).u32(0x7fffffff).done(), // value size
    new Bytes().u32(1).u16(P.PtypString).u16(0x8001).raw(GUID_A).u32(1).u32(0xfffffff0).done(), // name length
    new Bytes().u32(1).u16(P.PtypNull).u16(0x6601).u32(0).done(), // a type without a size
  ];
  for (const list of lists) {
    const start = process.hrtime.bigint();
    const r = decodeTnef(tnefStream([version(), msgAttr(AttId.attMsgProps, list)]));
    t.true(process.hrtime.bigint() - start < 1_000_000_000n);
    t.true(r.problems.length > 0);
  }
  const rows = decodeTnef(tnefStream([version(), msgAttr(AttId.attRecipTable, u32(0xffffffff))]));
  t.true(rows.problems.length > 0);
  t.deepEqual(rows.message.recipients, []);
  // Rows that end inside a row's property count: no endless loop, the whole rows are kept.
  const cut = new Bytes().u32(3).raw(propList([{ type: P.PtypInteger32, id: 0x0c15, value: 1 }])).u16(7).done();
  const damaged = decodeTnef(tnefStream([version(), msgAttr(AttId.attRecipTable, cut)]));
  t.deepEqual(damaged.message.recipients.map(sorted), [[[tag(0x0c15, P.PtypInteger32), 1]]]);
  t.true(damaged.problems.length > 0);
  // An attribute claiming 4 GB.
  const long = new Bytes().u32(0x223e9f78).u16(1).u8(1).u32(AttId.attBody).u32(0xffffffff).raw(str8('short')).done();
  t.regex(decodeTnef(long).problems[0]!, /length 4294967295 but 6 bytes left/);
});

test('a truncated property stream keeps the properties read before the cut', (t) => {
  const whole = tnefStream([version(), msgAttr(AttId.attMsgProps, propList(SCALARS.map(([p]) => p)))]);
  const r = decodeTnef(whole.subarray(0, Math.floor(whole.length / 2)));
  t.true(r.problems.length >= 2);
  t.true(r.message.props.size > 3);
  t.is(r.message.props.get(tag(0x6601, P.PtypInteger16)), -1234);
});

test('problems are capped', (t) => {
  const attrs = Array.from({ length: MAX_PROBLEMS + 50 }, () => attribute(1, AttId.attSubject, str8('x'), 0));
  const r = decodeTnef(tnefStream(attrs));
  t.is(r.problems.length, MAX_PROBLEMS + 1);
  t.is(r.problems[MAX_PROBLEMS], '50 more problems not listed');
});

test('truncation at every offset: never throws, and every cut inside an attribute is reported', (t) => {
  const attrs = fullAttrs();
  const whole = tnefStream(attrs);
  const full = decodeTnef(whole);
  clean(t, full);
  t.is(full.message.attachments.length, 3);
  t.deepEqual(subjectsDown(full.message).slice(1), ['level 0', 'level 1', 'level 2']);
  // A TNEF stream has no end marker: a cut between two attributes leaves a valid stream.
  const boundaries = new Set(attributeBoundaries(attrs));
  for (let cut = 0; cut < whole.length; cut++) {
    const r = decodeTnef(whole.subarray(0, cut));
    if (!boundaries.has(cut) || cut === 6) t.true(r.problems.length > 0, `cut at ${cut}`);
  }
});

test('random mutations: no exception, bounded output and time', (t) => {
  const seeds = [tnefStream(fullAttrs()), nestedStream(4), tnefStream(plainAttrs())];
  const rand = rng(0x5eed);
  const int = (n: number): number => Math.floor(rand() * n);
  const started = Date.now();
  let cases = 0;
  for (let i = 0; i < 4000; i++) {
    const base = seeds[i % seeds.length]!;
    let b = new Uint8Array(base);
    const edits = 1 + int(6);
    for (let e = 0; e < edits; e++) {
      const at = int(b.length);
      switch (int(5)) {
        case 0:
          b[at] = int(256);
          break;
        case 1:
          b[at] ^= 1 << int(8);
          break;
        case 2: {
          const v = [0, 0xffffffff, 0x7fffffff, 0x80000000, int(0x10000), 1][int(6)]!;
          if (at + 4 <= b.length) new DataView(b.buffer).setUint32(at, v, true);
          break;
        }
        case 3:
          b = b.subarray(0, at);
          break;
        default: {
          const len = int(32);
          b = new Uint8Array(Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))]));
        }
      }
    }
    let r: TnefResult;
    try {
      r = decodeTnef(b);
    } catch (err) {
      t.fail(`case ${i} threw ${String(err)}`);
      return;
    }
    t.true(r.problems.length <= MAX_PROBLEMS + 1);
    t.false(r.problems.some((p) => p.startsWith('internal error')), `case ${i}: ${r.problems.join('; ')}`);
    cases++;
  }
  t.is(cases, 4000);
  t.true(Date.now() - started < 60_000);
});
