/**
 * Table ROPs on the small tables kept beside a message (attachments, recipients) over the same
 * table engine, with the message instance ops stubbed: rows read again on every call, columns,
 * paging, seeks, position, status; a released message; permissions / rules tables unsupported;
 * QueryRows answering fewer rows than asked when they would not fit one response.
 */
import test from 'ava';
import pino from 'pino';
import { registerTableRops } from '../../../../actors/mailbox/rop/table-rops.js';
import type { HandlerCtx, HandlerTable, RopEnv } from '../../../../actors/mailbox/rop/rop-run.js';
import { RopSession, type TableObject } from '../../../../actors/mailbox/rop/rop-session.js';
import { Ec, RopId } from '../../../../protocols/mapi/rops/ids.js';
import type { PropertyRow } from '../../../../protocols/mapi/wire/prop-values.js';
import { encodePropBag } from '../../../../storage/prop-bag.js';
import { Tag } from '../../../../storage/prop-tags.js';

const ATTACH_NUM = 0x0e210003;
const ATTACH_NAME = 0x3707001f;
const ATTACH_NAME8 = 0x3707001e;
const ROWID = 0x30000003;

function setup(kind: TableObject['tableKind']) {
  const attachments = [
    { num: 0, props: encodePropBag([[ATTACH_NAME, 'b.txt']]), size: 10, embedded: false },
    { num: 1, props: encodePropBag([[ATTACH_NAME, 'a.pdf']]), size: 20, embedded: false },
  ];
  const recipients = [{ rowid: 0, props: encodePropBag([[Tag.PidTagDisplayName, 'Bob']]) }];
  const calls: string[] = [];
  const env = {
    log: pino({ level: 'silent' }),
    mailbox: 'alice@example.test',
    op: async (name: string, args: { instance: number }) => {
      calls.push(name);
      if (args.instance !== 7) throw new Error('wrong instance');
      if (name === 'instanceAttachments') return attachments;
      if (name === 'instanceRecipients') return recipients;
      throw new Error(`unexpected op ${name}`);
    },
  } as unknown as RopEnv;
  const session = new RopSession('s', { userId: 'u', address: 'alice@example.test', legacyDn: '/o=x', displayName: 'Alice' });
  const msg = session.add(0, { kind: 'message', instance: 7, mid: 5, fid: 3, readOnly: false }, null);
  const tbl = session.add(0, { kind: 'table', tableKind: kind, table: 0, fid: 0, flags: 0, columns: null, owner: msg }, msg);
  const t: HandlerTable = new Map();
  registerTableRops(t);
  const call = async (ropId: number, q: Record<string, unknown> = {}) => {
    const h: HandlerCtx = { env, session, logonId: 0, input: session.get(tbl)!, ropCtx: {}, owner: true, handles: [] };
    try {
      return await t.get(ropId)!.table!({ ropId, logonId: 0, inputHandleIndex: 0, ...q } as never, h);
    } catch (err) {
      return { returnValue: (Ec as Record<string, number>)[(err as { code: string }).code] ?? -1 };
    }
  };
  return { call, attachments, session, msg, calls };
}

test('attachment tables: columns, sort, paging, seek, position, status; rows read again each time', async (t) => {
  const { call, attachments, calls } = setup('attachments');
  t.deepEqual((await call(RopId.SetColumns, { propertyTags: [ATTACH_NUM, ATTACH_NAME8, ROWID, Tag.PidTagSubject] })).ok, { tableStatus: 0 });
  const q = await call(RopId.QueryRows, { queryRowsFlags: 0, forwardRead: true, rowCount: 10 });
  t.deepEqual((q.ok!.rows as PropertyRow[]).map((r) => r.cells), [
    [0, 'b.txt', 0, { error: Ec.ecNotFound }],
    [1, 'a.pdf', 1, { error: Ec.ecNotFound }],
  ]);
  t.deepEqual(q.ctx!.columns, [ATTACH_NUM, ATTACH_NAME8, ROWID, Tag.PidTagSubject]);
  t.is(q.ok!.origin, 2);
  t.deepEqual((await call(RopId.QueryPosition)).ok, { numerator: 2, denominator: 2 });
  await call(RopId.SortTable, { sortOrderSet: { categorizedCount: 0, expandedCount: 0, sortOrders: [{ propertyType: 0x1e, propertyId: 0x3707, order: 0 }] } });
  attachments.push({ num: 2, props: encodePropBag([[ATTACH_NAME, 'c.doc']]), size: 1, embedded: false });
  t.deepEqual((await call(RopId.SeekRow, { origin: 0, rowCount: 1, wantRowMovedCount: true })).ok, { hasSoughtLess: false, rowsSought: 1 });
  const rest = await call(RopId.QueryRows, { queryRowsFlags: 0, forwardRead: true, rowCount: 10 });
  t.deepEqual((rest.ok!.rows as PropertyRow[]).map((r) => r.cells[1]), ['b.txt', 'c.doc'], 'sorted by name, the new attachment seen');
  t.deepEqual((await call(RopId.GetStatus)).ok, { tableStatus: 0 });
  t.true(calls.every((c) => c === 'instanceAttachments'));
});

test('recipient tables; a released message; permissions and rules tables; bad column sets', async (t) => {
  const r = setup('recipients');
  await r.call(RopId.SetColumns, { propertyTags: [Tag.PidTagDisplayName, ROWID] });
  t.deepEqual(((await r.call(RopId.QueryRows, { queryRowsFlags: 1, forwardRead: true, rowCount: 5 })).ok!.rows as PropertyRow[]).map((x) => x.cells), [['Bob', 0]]);
  r.session.objects.delete(r.msg);
  t.is((await r.call(RopId.QueryRows, { queryRowsFlags: 0, forwardRead: true, rowCount: 5 })).returnValue, Ec.ecNullObject, 'the message is gone');
  for (const kind of ['permissions', 'rules'] as const) {
    const p = setup(kind);
    t.is((await p.call(RopId.SetColumns, { propertyTags: [Tag.PidTagDisplayName] })).returnValue, Ec.ecNotSupported);
    t.is((await p.call(RopId.QueryRows, { queryRowsFlags: 0, forwardRead: true, rowCount: 5 })).returnValue, Ec.ecNotSupported);
  }
  const a = setup('attachments');
  t.is((await a.call(RopId.SetColumns, { propertyTags: [] })).returnValue, Ec.ecInvalidParam);
  t.is((await a.call(RopId.QueryRows, { queryRowsFlags: 0, forwardRead: true, rowCount: 5 })).returnValue, Ec.ecNullObject, 'no columns yet');
});

test('QueryRows answers fewer rows than asked when they would not fit, and leaves the cursor after the last one sent', async (t) => {
  const { call, attachments } = setup('attachments');
  attachments.length = 0;
  for (let i = 0; i < 400; i++) attachments.push({ num: i, props: encodePropBag([[ATTACH_NAME, `${i}`.padStart(200, '.')]]), size: 1, embedded: false });
  await call(RopId.SetColumns, { propertyTags: [ATTACH_NUM, ATTACH_NAME] });
  const q = await call(RopId.QueryRows, { queryRowsFlags: 0, forwardRead: true, rowCount: 400 });
  const n = (q.ok!.rows as PropertyRow[]).length;
  t.true(n > 10 && n < 400, `${n} rows`);
  t.is(q.ok!.origin, 1);
  t.deepEqual((await call(RopId.QueryPosition)).ok, { numerator: n, denominator: 400 });
  const next = await call(RopId.QueryRows, { queryRowsFlags: 0, forwardRead: true, rowCount: 1 });
  t.is((next.ok!.rows as PropertyRow[])[0]!.cells[0], n);
});
