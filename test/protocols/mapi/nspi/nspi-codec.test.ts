import test from 'ava';
import { InvalidRequestBody } from '../../../../protocols/mapi/http/response-codes.js';
import { WireReader } from '../../../../protocols/mapi/wire/reader.js';
import { WireWriter } from '../../../../protocols/mapi/wire/writer.js';
import { pullAbRow, pullAbValue, pushAbRow, pushAbValue, abRowOf } from '../../../../protocols/mapi/nspi/ab-values.js';
import { nspiCodecs, type Stat } from '../../../../protocols/mapi/nspi/nspi-codec.js';
import { AbTag } from '../../../../protocols/mapi/nspi/nspi-constants.js';
import { PropType } from '../../../../storage/prop-types.js';
import { hex, toHex } from '../hex.js';

/*
 * Golden bytes: MS-OXCMAPIHTTP's protocol examples (section 4) show HTTP exchanges for the
 * mailbox endpoint but, as far as we could find, no address book request or response bodies, and
 * MS-OXNSPI's examples are RPC calls. The bytes below are therefore written by hand from the
 * field tables of MS-OXCMAPIHTTP 2.2.5 and 2.2.1 (and MS-OXNSPI 2.2.8 for STAT), field by field.
 */

const stat: Stat = { sortType: 0, containerId: 0, currentRec: 0, delta: 0, numPos: 0, totalRecs: 0, codePage: 1252, templateLocale: 0x409, sortLocale: 0x409 };
const STAT_HEX = '00000000 00000000 00000000 00000000 00000000 00000000 e4040000 09040000 09040000';

test('Bind request: Flags, HasState, STAT (36 bytes), AuxiliaryBufferSize (golden)', (t) => {
  const body = nspiCodecs.Bind.pushRequest({ flags: 0, state: stat });
  t.is(toHex(body), toHex(hex(`00000000 ff ${STAT_HEX} 00000000`)));
  t.deepEqual(nspiCodecs.Bind.pullRequest(body), { flags: 0, state: stat });
  // Without the STAT; with an auxiliary buffer (ignored, but consumed).
  t.deepEqual(nspiCodecs.Bind.pullRequest(hex('20000000 00 03000000 aabbcc')), { flags: 0x20, state: null });
});

test('Bind response: StatusCode, ErrorCode, ServerGuid, AuxiliaryBufferSize 0 (golden)', (t) => {
  const guid = hex('00112233445566778899aabbccddeeff');
  const body = nspiCodecs.Bind.pushResponse({ error: 0, serverGuid: guid });
  t.is(toHex(body), toHex(hex('00000000 00000000 00112233445566778899aabbccddeeff 00000000')));
  t.deepEqual(nspiCodecs.Bind.pullResponse(body), { error: 0, serverGuid: guid });
});

test('AddressBookPropertyValue: HasValue before strings, binaries and multi-valued; 32-bit counts (golden)', (t) => {
  const push = (type: number, v: Parameters<typeof pushAbValue>[2]) => {
    const w = new WireWriter();
    pushAbValue(w, type, v);
    return w.toBytes();
  };
  t.is(toHex(push(PropType.PtypString, 'Ab')), toHex(hex('ff 4100 6200 0000')));
  t.is(toHex(push(PropType.PtypString8, 'Ab')), toHex(hex('ff 41 62 00')));
  t.is(toHex(push(PropType.PtypBinary, Uint8Array.of(1, 2))), toHex(hex('ff 02000000 0102')));
  t.is(toHex(push(PropType.PtypString, null)), '00', 'HasValue false: nothing follows');
  t.is(toHex(push(PropType.PtypInteger32, 6)), toHex(hex('06000000')), 'no HasValue on fixed types');
  t.is(toHex(push(PropType.PtypBoolean, true)), '01');
  t.is(toHex(push(PropType.PtypMultipleString, ['a', 'b'])), toHex(hex('ff 02000000 ff 6100 0000 ff 6200 0000')));
  t.is(toHex(push(PropType.PtypMultipleInteger32, [1])), toHex(hex('ff 01000000 01000000')));
  for (const [type, v] of [
    [PropType.PtypString, 'Ünïcode'],
    [PropType.PtypBinary, Uint8Array.of(9, 8, 7)],
    [PropType.PtypMultipleString, ['x', '']],
    [PropType.PtypMultipleBinary, [Uint8Array.of(1), Uint8Array.of()]],
    [PropType.PtypInteger64, 5n],
    [PropType.PtypTime, 133000000000000000n],
    [PropType.PtypGuid, hex('00112233445566778899aabbccddeeff')],
  ] as const) {
    const r = new WireReader(push(type, v as never));
    t.deepEqual(pullAbValue(r, type), v);
    t.true(r.ok && r.remaining === 0);
  }
});

test('AddressBookPropertyRow: plain and flagged forms, typed values under PtypUnspecified columns (golden)', (t) => {
  const cols = [AbTag.PidTagDisplayName, AbTag.PidTagTitle, 0x39000000 /* PidTagDisplayType, PtypUnspecified */];
  const row = abRowOf([
    { kind: 'value', type: PropType.PtypString, value: 'A' },
    { kind: 'error', code: 0x8004010f },
    { kind: 'value', type: PropType.PtypInteger32, value: 1 },
  ]);
  t.true(row.flagged);
  const w = new WireWriter();
  pushAbRow(w, row, cols);
  t.is(toHex(w.toBytes()), toHex(hex('01 00 ff 4100 0000 0a 0f010480 0300 00 01000000')));
  t.deepEqual(pullAbRow(new WireReader(w.toBytes()), cols), row);
  const plain = abRowOf([{ kind: 'value', type: PropType.PtypString, value: 'A' }]);
  const w2 = new WireWriter();
  pushAbRow(w2, plain, [AbTag.PidTagDisplayName]);
  t.is(toHex(w2.toBytes()), toHex(hex('00 ff 4100 0000')));
});

test('every request and response codec round-trips', (t) => {
  const table = { columns: [AbTag.PidTagDisplayName, AbTag.PidTagObjectType], rows: [abRowOf([{ kind: 'value', type: PropType.PtypString, value: 'Alice' }, { kind: 'value', type: PropType.PtypInteger32, value: 6 }])] };
  const values = [
    { tag: AbTag.PidTagDisplayName, value: 'Alice' },
    { tag: AbTag.PidTagEntryId, value: Uint8Array.of(1, 2, 3) },
  ];
  const cases: { [K in keyof typeof nspiCodecs]: [Parameters<(typeof nspiCodecs)[K]['pushRequest']>[0], Parameters<(typeof nspiCodecs)[K]['pushResponse']>[0]] } = {
    Bind: [{ flags: 0, state: stat }, { error: 0, serverGuid: new Uint8Array(16).fill(7) }],
    Unbind: [{ reserved: 0 }, { error: 1 }],
    CompareMIds: [{ reserved: 0, state: stat, mid1: 0x10, mid2: 0x11 }, { error: 0, result: -1 }],
    DNToMId: [{ reserved: 0, names: ['/o=Stoa/cn=a', ''] }, { error: 0, mids: [0x10, 0] }],
    GetMatches: [
      {
        reserved: 0,
        state: stat,
        mids: null,
        interfaceOptionFlags: 0,
        filter: { type: 'and', children: [{ type: 'content', fuzzy: 0x10002, tag: AbTag.PidTagDisplayName, value: 'al' }, { type: 'exist', tag: AbTag.PidTagSmtpAddress }] },
        propertyName: { guid: new Uint8Array(16), id: 0x8009000d },
        rowCount: 50,
        columns: table.columns,
      },
      { error: 0, state: stat, mids: [0x10], table },
    ],
    GetPropList: [{ flags: 1, mid: 0x10, codePage: 1252 }, { error: 0, tags: [AbTag.PidTagDisplayName] }],
    GetProps: [{ flags: 2, state: stat, tags: [AbTag.PidTagDisplayName] }, { error: 0x40380, codePage: 1252, values }],
    GetSpecialTable: [{ flags: 4, state: stat, version: 3 }, { error: 0, codePage: 1252, version: 9, rows: [values, []] }],
    GetTemplateInfo: [{ flags: 1, displayType: 0, templateDn: '/o=x', codePage: 1252, localeId: 0x409 }, { error: 0, codePage: 1252, row: values }],
    ModLinkAtt: [{ flags: 0, propTag: 0x8009000d, mid: 0x10, entryIds: [Uint8Array.of(1, 2), Uint8Array.of()] }, { error: 0x80070005 }],
    ModProps: [{ reserved: 0, state: stat, tagsToRemove: [AbTag.PidTagTitle], values }, { error: 0x80070005 }],
    QueryColumns: [{ reserved: 0, mapiFlags: 0x80000000 }, { error: 0, columns: [AbTag.PidTagDisplayName] }],
    QueryRows: [{ flags: 0, state: stat, explicitTable: [0x10, 0x11], rowCount: 20, columns: table.columns }, { error: 0, state: stat, table }],
    ResolveNames: [{ reserved: 0, state: stat, tags: null, names: ['alice', 'Bøb'] }, { error: 0, codePage: 1252, mids: [0x10, 1], table }],
    ResortRestriction: [{ reserved: 0, state: stat, mids: [0x11, 0x10] }, { error: 0, state: stat, mids: [0x10, 0x11] }],
    SeekEntries: [{ reserved: 0, state: stat, target: { tag: AbTag.PidTagDisplayName, value: 'B' }, explicitTable: null, columns: table.columns }, { error: 0, state: stat, table }],
    UpdateStat: [{ reserved: 0, state: stat, deltaRequested: true }, { error: 0, state: stat, delta: -3 }],
    GetMailboxUrl: [{ flags: 0, serverDn: '/o=Stoa/cn=Servers/cn=x' }, { error: 0, url: 'https://h/mapi/emsmdb/' }],
    GetAddressBookUrl: [{ flags: 0, userDn: '/o=Stoa/cn=a' }, { error: 0, url: 'https://h/mapi/nspi/' }],
  };
  for (const [name, [req, resp]] of Object.entries(cases)) {
    const c = nspiCodecs[name as keyof typeof nspiCodecs] as unknown as { pushRequest(v: unknown): Uint8Array; pullRequest(b: Uint8Array): unknown; pushResponse(v: unknown): Uint8Array; pullResponse(b: Uint8Array): unknown };
    t.deepEqual(c.pullRequest(c.pushRequest(req)), req, `${name} request`);
    const body = c.pushResponse(resp);
    t.deepEqual(c.pullResponse(body), resp, `${name} response`);
    t.is(new DataView(body.buffer, body.byteOffset).getUint32(0, true), 0, `${name}: StatusCode 0`);
    t.is(new DataView(body.buffer, body.byteOffset).getUint32(body.byteLength - 4, true), 0, `${name}: AuxiliaryBufferSize 0`);
  }
});

test('bodies that do not parse throw InvalidRequestBody: short, trailing bytes, bad counts', (t) => {
  t.throws(() => nspiCodecs.Bind.pullRequest(hex('000000')), { instanceOf: InvalidRequestBody });
  t.throws(() => nspiCodecs.Unbind.pullRequest(hex('00000000 00000000 ff')), { instanceOf: InvalidRequestBody }, 'trailing byte');
  t.throws(() => nspiCodecs.QueryRows.pullRequest(hex('00000000 00 ffffffff')), { instanceOf: InvalidRequestBody }, 'an explicit table larger than the body');
  t.throws(() => nspiCodecs.GetProps.pullRequest(hex('00000000 00 ff ffffff7f')), { instanceOf: InvalidRequestBody }, 'a tag count larger than the body');
  t.throws(() => nspiCodecs.Unbind.pullRequest(hex('00000000 10000000')), { instanceOf: InvalidRequestBody }, 'auxiliary buffer longer than the body');
});
