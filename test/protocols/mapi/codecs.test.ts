import test from 'ava';
import { WireReader } from '../../../protocols/mapi/wire/reader.js';
import { WireWriter } from '../../../protocols/mapi/wire/writer.js';
import { allCodecs, codecFor } from '../../../protocols/mapi/rops/codec/registry.js';
import { RopId, isReservedRopId, ropName, Ec, ecName } from '../../../protocols/mapi/rops/ids.js';
import { OpenStream } from '../../../protocols/mapi/rops/codec/oxcprpt.js';
import type { RopCtx } from '../../../protocols/mapi/rops/codec/fields.js';
import { rng } from '../../helpers.js';
import { hex, toHex } from './hex.js';

const CTXS: RopCtx[] = [
  {
    columns: [0x3001001f, 0x0e080003, 0x67480014, 0x0fff0102],
    propTags: [0x0e07000b, 0x30070040, 0x001a001e],
    privateLogon: true,
    recipientColumns: [0x0c150003, 0x3001001f, 0x39fe001f],
  },
  { columns: [0x8001101f], propTags: [], privateLogon: false, recipientColumns: [] },
];

test('every RopId of MS-OXCROPS 2.2.2 has a codec; reserved ids have none', (t) => {
  for (const id of Object.values(RopId)) t.truthy(codecFor(id), ropName(id));
  for (let id = 0; id < 256; id++) t.is(codecFor(id) !== undefined, !isReservedRopId(id), `0x${id.toString(16)}`);
  t.is(allCodecs().length, Object.keys(RopId).length);
});

test('round trip: every ROP request and response (generated values, success and failure shapes)', (t) => {
  const g = rng(11);
  for (const codec of allCodecs()) {
    for (const ctx of CTXS) {
      for (let k = 0; k < 8; k++) {
        if (codec.handles !== 'none') {
          const q = codec.genRequest(g, ctx);
          const w = new WireWriter(8);
          codec.pushRequest(w, q, ctx);
          const r = new WireReader(w.toBytes());
          const back = codec.pullRequest(r, ctx);
          t.true(r.ok, `${codec.name} request: ${r.error?.detail}`);
          t.is(r.remaining, 0, `${codec.name} request trailing bytes`);
          t.deepEqual(back, q, `${codec.name} request`);
        }
        if (codec.noResponse) continue;
        const rvs = codec.handles === 'none' ? [0] : [0, Ec.ecNotFound, ...(codec.failCode !== null ? [codec.failCode] : [])];
        for (const rv of rvs) {
          const resp = codec.genResponse(g, ctx, rv);
          const w = new WireWriter(8);
          codec.pushResponse(w, resp, ctx);
          const r = new WireReader(w.toBytes());
          const back = codec.pullResponse(r, ctx);
          t.true(r.ok, `${codec.name} response: ${r.error?.detail}`);
          t.is(r.remaining, 0, `${codec.name} response trailing bytes`);
          t.deepEqual(back, resp, `${codec.name} response 0x${rv.toString(16)}`);
        }
      }
    }
  }
});

test('ec names: ecNotImplemented shares 0x80040102 with ecNotSupported (MS-OXCPERM 4.1); ecNetwork', (t) => {
  t.is(Ec.ecNotImplemented, 0x80040102);
  t.is(ecName(0x80040102), 'ecNotSupported');
  t.is(Ec.ecNetwork, 0x80040115);
});

test('failure responses of plain ROPs are RopId + HandleIndex + ReturnValue', (t) => {
  const w = new WireWriter();
  codecFor(RopId.OpenFolder)!.pushResponse(w, { ropId: RopId.OpenFolder, handleIndex: 1, returnValue: Ec.ecNotFound }, {});
  t.is(toHex(w.toBytes()), '02 01 0f 01 04 80');
});

// MS-OXCPERM section 4.1 "Adding an Entry to the Permissions List": the client's RopOpenStream
// for PidTagSecurityDescriptorAsXml and the server's ecNotImplemented answer.
test('golden: RopOpenStream request and failure response (MS-OXCPERM 4.1)', (t) => {
  const reqBytes = hex('2B 00 01 02 1F 00 6A 0E-00');
  const r = new WireReader(reqBytes);
  const q = OpenStream.pullRequest(r, {});
  t.true(r.ok);
  t.is(r.remaining, 0);
  t.deepEqual(q, { ropId: 0x2b, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, propertyTag: 0x0e6a001f, openModeFlags: 0 });
  const w = new WireWriter();
  OpenStream.pushRequest(w, q, {});
  t.deepEqual(w.toBytes(), reqBytes);

  const respBytes = hex('2B 02 02 01 04 80');
  const rr = new WireReader(respBytes);
  const resp = OpenStream.pullResponse(rr, {});
  t.deepEqual(resp, { ropId: 0x2b, handleIndex: 2, returnValue: 0x80040102 });
  const w2 = new WireWriter();
  OpenStream.pushResponse(w2, resp, {});
  t.deepEqual(w2.toBytes(), respBytes);
});

// MS-OXCPRPT section 4 (setting properties example): RopSetProperties on a Message object with
// PidTagSubjectPrefix "" and PidTagNormalizedSubject "Hello World".
test('golden: RopSetProperties request (MS-OXCPRPT 4, setting properties)', (t) => {
  const bytes = hex(`0A 00 00 24 00 02 00 1F-00 3D 00 00 00 1F 00 1D
    0E 48 00 65 00 6C 00 6C-00 6F 00 20 00 57 00 6F 00 72 00 6C 00 64 00 00-00`);
  const codec = codecFor(RopId.SetProperties)!;
  const r = new WireReader(bytes);
  const q = codec.pullRequest(r, {});
  t.true(r.ok);
  t.is(r.remaining, 0);
  t.deepEqual(q, {
    ropId: 0x0a,
    logonId: 0,
    inputHandleIndex: 0,
    propertyValues: [
      { tag: 0x003d001f, value: '' },
      { tag: 0x0e1d001f, value: 'Hello World' },
    ],
  });
  const w = new WireWriter();
  codec.pushRequest(w, q, {});
  t.deepEqual(w.toBytes(), bytes);
});

/** Spec examples: [source, RopId, 'req' | 'resp', bytes, expected decoding]. Each is pulled and pushed back. */
const GOLDEN: [string, number, 'req' | 'resp', string, Record<string, unknown>][] = [
  ['MS-OXCMSG 4.8.1', RopId.SaveChangesMessage, 'req', '0c 00 00 01 0a', { ropId: 0x0c, logonId: 0, responseHandleIndex: 0, inputHandleIndex: 1, saveFlags: 0x0a }],
  ['MS-OXCPRPT 4.5 (1)', RopId.EmptyFolder, 'req', '58 00 00 01 00', { ropId: 0x58, logonId: 0, inputHandleIndex: 0, wantAsynchronous: true, wantDeleteAssociated: false }],
  [
    'MS-OXCPRPT 4.5 (2)',
    RopId.Progress,
    'resp',
    '50 00 00 00 00 00 00 1D-00 00 00 D9 02 00 00',
    { ropId: 0x50, handleIndex: 0, returnValue: 0, ok: { logonId: 0, completedTaskCount: 29, totalTaskCount: 729 } },
  ],
  ['MS-OXCPRPT 4.5 (3)', RopId.Progress, 'req', '50 00 00 00', { ropId: 0x50, logonId: 0, inputHandleIndex: 0, wantCancel: false }],
  ['MS-OXCTABL 4.5.3.1', RopId.QueryRows, 'req', '15 00 00 00 01 32 00', { ropId: 0x15, logonId: 0, inputHandleIndex: 0, queryRowsFlags: 0, forwardRead: true, rowCount: 50 }],
  ['MS-OXORULE 4.2.2 (1)', RopId.GetRulesTable, 'resp', '3f 01 00 00 00 00', { ropId: 0x3f, handleIndex: 1, returnValue: 0 }],
  ['MS-OXORULE 4.2.2 (2)', RopId.SetColumns, 'resp', '12 01 00 00 00 00 00', { ropId: 0x12, handleIndex: 1, returnValue: 0, ok: { tableStatus: 0 } }],
  [
    'MS-OXCFOLD 4.1.1',
    RopId.CreateFolder,
    'req',
    `1C 00 00 01 01 01 00 00-46 00 6F 00 6C 00 64 00
     65 00 72 00 31 00 00 00-00 00`,
    { ropId: 0x1c, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderType: 1, useUnicodeStrings: true, openExisting: false, reserved: 0, displayName: 'Folder1', comment: '' },
  ],
  [
    'MS-OXCFOLD 4.5.1',
    RopId.MoveFolder,
    'req',
    `35 00 01 02 01 01 01 00-00 00 0E 8E DF 36 46 00
     6F 00 6C 00 64 00 65 00-72 00 31 00 00 00`,
    { ropId: 0x35, logonId: 0, inputHandleIndex: 1, destHandleIndex: 2, wantAsynchronous: true, useUnicode: true, folderId: 0x36df8e0e00000001n, newFolderName: 'Folder1' },
  ],
  [
    'MS-OXCFOLD 4.6.1',
    RopId.CopyFolder,
    'req',
    `36 00 00 01 01 01 01 01-00 00 00 0E 8E DF 36 46
     00 6F 00 6C 00 64 00 65-00 72 00 31 00 00 00`,
    {
      ropId: 0x36,
      logonId: 0,
      inputHandleIndex: 0,
      destHandleIndex: 1,
      wantAsynchronous: true,
      wantRecursive: true,
      useUnicode: true,
      folderId: 0x36df8e0e00000001n,
      newFolderName: 'Folder1',
    },
  ],
  ['MS-OXCFOLD 4.7.2', RopId.GetHierarchyTable, 'resp', '04 02 00 00 00 00 15 00-00 00', { ropId: 0x04, handleIndex: 2, returnValue: 0, ok: { rowCount: 21 } }],
  // Client request buffer of the contents-table example (MSDN ee218288, section 4.1.1).
  ['MS-OXCTABL 4.1.1', RopId.GetContentsTable, 'req', '05 00 00 01 00', { ropId: 0x05, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, tableFlags: 0 }],
  ['MS-OXCTABL 4.3.2', RopId.SortTable, 'resp', '13 01 00 00 00 00 00', { ropId: 0x13, handleIndex: 1, returnValue: 0, ok: { tableStatus: 0 } }],
  ['MS-OXOMSG 4.1.1', RopId.SubmitMessage, 'req', '32 00 02 00', { ropId: 0x32, logonId: 0, inputHandleIndex: 2, submitFlags: 0 }],
  // RopOpenStream on PidTagExtendedRuleMessageCondition (MSDN ee160269, section 4.4.1.1).
  [
    'MS-OXORULE 4.4.1.1',
    RopId.OpenStream,
    'req',
    '2B 01 00 01 02 01 9A 0E-01',
    { ropId: 0x2b, logonId: 1, inputHandleIndex: 0, outputHandleIndex: 1, propertyTag: 0x0e9a0102, openModeFlags: 1 },
  ],
];

for (const [source, id, dir, bytesHex, expected] of GOLDEN) {
  test(`golden: ${ropName(id)} ${dir === 'req' ? 'request' : 'response'} (${source})`, (t) => {
    const codec = codecFor(id)!;
    const bytes = hex(bytesHex);
    const r = new WireReader(bytes);
    const v = dir === 'req' ? codec.pullRequest(r, {}) : codec.pullResponse(r, {});
    t.true(r.ok, r.error?.detail);
    t.is(r.remaining, 0);
    t.deepEqual(v as unknown, expected);
    const w = new WireWriter();
    if (dir === 'req') codec.pushRequest(w, v as Parameters<typeof codec.pushRequest>[1], {});
    else codec.pushResponse(w, v as Parameters<typeof codec.pushResponse>[1], {});
    t.deepEqual(w.toBytes(), bytes);
  });
}
