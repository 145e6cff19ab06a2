/**
 * Object ids are unsigned 64-bit (replica id in the low bytes, GLOBCNT big-endian above): once a
 * GLOBCNT's low byte passes 0x7F the id is above 2^63. Such ids travel through property bags and
 * rows like any other (the bug: a contents table with PidTagMid failed past ~23 messages).
 */
import test from 'ava';
import { RopId } from '../../../../protocols/mapi/rops/ids.js';
import type { PropertyRow } from '../../../../protocols/mapi/wire/prop-values.js';
import { decodePropBag, encodePropBag } from '../../../../storage/prop-bag.js';
import { Tag } from '../../../../storage/prop-tags.js';
import { makeEid, REPLID_LOCAL } from '../../../../storage/ids.js';
import { NO_HANDLE, startMapiSession } from '../../../fixtures/mapi-session.js';

test('a property bag keeps an id above 2^63 (same 8 bytes, read back signed)', (t) => {
  const id = makeEid(REPLID_LOCAL, 0x80);
  t.true(id >= 2n ** 63n);
  const back = decodePropBag(encodePropBag([[Tag.PidTagMid, id]])).get(Tag.PidTagMid) as bigint;
  t.is(BigInt.asUintN(64, back), id);
});

test('a contents table lists PidTagMid for 60 messages, and every id opens its message', async (t) => {
  const m = await startMapiSession(t);
  const ref = m.stack.mailbox('alice@example.test');
  for (let i = 0; i < 60; i++) await m.stack.sys.call(ref, 'deliver', { props: encodePropBag([[Tag.PidTagMessageClass, 'IPM.Note'], [Tag.PidTagSubject, `m${i}`]]) });
  const r = await m.exec(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: m.logon.folders.inbox, openModeFlags: 0 },
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [Tag.PidTagMid, 0x0037001f] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 100 },
    ],
    [m.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  for (const x of r.responses) t.is(x.returnValue, 0);
  const rows = (r.responses[3]!.ok as { rows: PropertyRow[] }).rows;
  t.is(rows.length, 60);
  const mids = rows.map((x) => BigInt.asUintN(64, x.cells[0] as bigint));
  t.is(new Set(mids).size, 60);
  t.true(mids.some((x) => x >= 2n ** 63n), 'some ids are above 2^63');
  const open = await m.exec(
    mids.map((mid, i) => ({ ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1 + (i % 2), codePageId: 0x0fff, folderId: m.logon.folders.inbox, openModeFlags: 0, messageId: mid })),
    [m.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  t.deepEqual(open.responses.map((x) => x.returnValue), mids.map(() => 0));
});
