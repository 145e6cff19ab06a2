import test from 'ava';
import { WireReader } from '../../../protocols/mapi/wire/reader.js';
import { WireWriter } from '../../../protocols/mapi/wire/writer.js';
import { pullRecipientRow, pushRecipientRow, RecipientFlag, RecipientType, type RecipientRow } from '../../../protocols/mapi/wire/recipient-row.js';
import { rowOf } from '../../../protocols/mapi/wire/prop-values.js';
import { codecFor } from '../../../protocols/mapi/rops/codec/registry.js';
import { RopId } from '../../../protocols/mapi/rops/ids.js';
import { hex, toHex } from './hex.js';

// PidTagRecipientTrackStatus (PtypInteger32), PidTagDisplayName (PtypString).
const COLS = [0x5ff90003, 0x3001001f];

function roundTrip(t: import('ava').ExecutionContext, row: RecipientRow, cols = COLS): Uint8Array {
  const w = new WireWriter();
  pushRecipientRow(w, row, cols);
  const bytes = w.toBytes();
  const r = new WireReader(bytes);
  t.deepEqual(pullRecipientRow(r, cols), row);
  t.true(r.ok, r.error?.detail);
  t.is(r.remaining, 0);
  return bytes;
}

// Bytes built by hand from MS-OXCDATA 2.8.3 (not a spec example): the field order and the
// presence rules of each flag.
test('SMTP-style recipient: O, E, D flags, 8-bit strings, one of two columns', (t) => {
  const row: RecipientRow = {
    flags: RecipientType.NoType | RecipientFlag.O | RecipientFlag.E | RecipientFlag.D,
    addressType: 'SMTP',
    emailAddress: 'a@b',
    displayName: 'A',
    columnCount: 1,
    properties: rowOf([7]),
  };
  const bytes = roundTrip(t, row);
  t.is(toHex(bytes), '18 80 53 4d 54 50 00 61 40 62 00 41 00 01 00 00 07 00 00 00');
});

test('X500DN recipient: AddressPrefixUsed, DisplayType, X500DN; Unicode display names', (t) => {
  const row: RecipientRow = {
    flags: RecipientType.X500DN | RecipientFlag.U | RecipientFlag.D | RecipientFlag.T | RecipientFlag.I | RecipientFlag.S,
    addressPrefixUsed: 0,
    displayType: 0,
    x500dn: '/o=x/cn=a',
    displayName: 'Zoë',
    transmittableDisplayName: 'Zoë',
    simpleDisplayName: 'Zoe',
    columnCount: 2,
    properties: rowOf([{ absent: true }, 'Zoë']),
  };
  const bytes = roundTrip(t, row);
  t.deepEqual(bytes.subarray(0, 5), hex('71 06 00 00 2f'));
});

test('personal distribution list recipient: EntryID and SearchKey', (t) => {
  roundTrip(t, {
    flags: RecipientType.PersonalDistributionList2 | RecipientFlag.D,
    entryId: hex('00 00 00 00 01 02'),
    searchKey: hex('53 4d 54 50 3a'),
    displayName: 'team',
    columnCount: 0,
    properties: rowOf([]),
  });
});

test('bad rows: too many columns, flags calling for missing fields, short input', (t) => {
  const r = new WireReader(hex('00 00 03 00'));
  pullRecipientRow(r, COLS);
  t.is(r.error?.code, 'bad-value');
  t.throws(() => pushRecipientRow(new WireWriter(), { flags: RecipientFlag.E, columnCount: 0, properties: rowOf([]) }, COLS));
  const s = new WireReader(hex('08 00 61 62'));
  pullRecipientRow(s, COLS);
  t.is(s.error?.code, 'short');
});

test('RopModifyRecipients: rows follow the request RecipientColumns; size 0 removes a row', (t) => {
  const codec = codecFor(RopId.ModifyRecipients)!;
  const q = {
    ropId: RopId.ModifyRecipients,
    logonId: 0,
    inputHandleIndex: 1,
    recipientColumns: COLS,
    recipientRows: [
      {
        rowId: 0,
        recipientType: 1,
        recipientRow: { flags: RecipientFlag.D | RecipientFlag.U, displayName: 'Ann', columnCount: 2, properties: rowOf([0, 'Ann']) },
      },
      { rowId: 1, recipientType: 2, recipientRow: null },
    ],
  };
  const w = new WireWriter();
  codec.pushRequest(w, q, {});
  const r = new WireReader(w.toBytes());
  t.deepEqual(codec.pullRequest(r, {}), q);
  t.is(r.remaining, 0);
});

test('RopReadRecipients takes the recipient columns from the context', (t) => {
  const codec = codecFor(RopId.ReadRecipients)!;
  const resp = {
    ropId: RopId.ReadRecipients,
    handleIndex: 0,
    returnValue: 0,
    ok: {
      recipientRows: [
        {
          rowId: 0,
          recipientType: 1,
          codePageId: 1252,
          reserved: 0,
          recipientRow: { flags: RecipientFlag.D, displayName: 'Bo', columnCount: 1, properties: rowOf([3]) },
        },
      ],
    },
  };
  const w = new WireWriter();
  codec.pushResponse(w, resp, { recipientColumns: COLS });
  const bytes = w.toBytes();
  t.deepEqual(codec.pullResponse(new WireReader(bytes), { recipientColumns: COLS }), resp);
  const noCols = new WireReader(bytes);
  codec.pullResponse(noCols, {});
  t.is(noCols.error?.code, 'bad-value');
});
