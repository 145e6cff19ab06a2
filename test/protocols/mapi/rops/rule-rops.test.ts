/**
 * Server-side rules (MS-OXORULE) through a real session: rules added with RopModifyRules come
 * back from RopGetRulesTable with server-given ids and their condition and actions byte for byte;
 * modify, remove, ROW_REPLACE; HasRules on RopOpenFolder; bad requests.
 */
import test from 'ava';
import { Ec, RopId } from '../../../../protocols/mapi/rops/ids.js';
import type { PropertyRow } from '../../../../protocols/mapi/wire/prop-values.js';
import { NO_HANDLE, startMapiSession, type MapiSession } from '../../../fixtures/mapi-session.js';

const RULE_ID = 0x66740014;
const RULE_SEQUENCE = 0x66760003;
const RULE_STATE = 0x66770003;
const RULE_USER_FLAGS = 0x66780003;
const RULE_CONDITION = 0x667900fd;
const RULE_ACTIONS = 0x668000fe;
const RULE_PROVIDER = 0x6681001f;
const RULE_NAME = 0x6682001f;
const RULE_NAME8 = 0x6682001e;
const RULE_LEVEL = 0x66830003;
const RULE_PROVIDER_DATA = 0x66840102;
const COLUMNS = [RULE_ID, RULE_SEQUENCE, RULE_STATE, RULE_NAME, RULE_PROVIDER, RULE_LEVEL, RULE_USER_FLAGS, RULE_PROVIDER_DATA, RULE_CONDITION, RULE_ACTIONS];

/** A restriction in its ROP form (MS-OXCDATA 2.12): AND of a substring match on the subject and an exist on the sender. */
function condition(word: string): Uint8Array {
  const text = Buffer.from(`${word}\0`, 'utf16le');
  const content = Buffer.alloc(1 + 2 + 2 + 4 + 4);
  content.writeUInt8(0x03, 0); // RES_CONTENT
  content.writeUInt16LE(0x0001, 1); // FL_SUBSTRING
  content.writeUInt16LE(0x0001, 3); // FL_IGNORECASE
  content.writeUInt32LE(0x0037001f, 5); // PidTagSubject
  content.writeUInt32LE(0x0037001f, 9);
  const exist = Buffer.from([0x08, 0x1f, 0x00, 0x1a, 0x0c]); // RES_EXIST PidTagSenderName
  const and = Buffer.from([0x00, 0x02, 0x00]); // RES_AND, 2 children
  return Buffer.concat([and, content, text, exist]);
}

/** RuleActions (MS-OXORULE 2.2.5): one OP_MARK_AS_READ block and one OP_DELETE block. */
function actions(): Uint8Array {
  const block = (type: number) => {
    const b = Buffer.alloc(2 + 9);
    b.writeUInt16LE(9, 0);
    b.writeUInt8(type, 2);
    return b;
  };
  return Buffer.concat([Buffer.from([0x02, 0x00]), block(0x0b), block(0x0a)]);
}

const openInbox = (m: MapiSession) => ({ ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: m.logon.folders.inbox, openModeFlags: 0 });

async function modifyRules(m: MapiSession, modifyRulesFlag: number, rulesData: { ruleDataFlags: number; propertyValues: { tag: number; value: unknown }[] }[]): Promise<number> {
  const r = await m.exec([openInbox(m), { ropId: RopId.ModifyRules, logonId: 0, inputHandleIndex: 1, modifyRulesFlag, rulesData }], [m.logon.handle, NO_HANDLE]);
  return r.responses[1]!.returnValue;
}

async function rulesTable(m: MapiSession): Promise<{ rows: unknown[][]; hasRules: boolean }> {
  const r = await m.exec(
    [
      openInbox(m),
      { ropId: RopId.GetRulesTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0x40 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: COLUMNS },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 50 },
    ],
    [m.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  for (const x of r.responses) if (x.returnValue !== 0) throw new Error(`rules table: 0x${x.returnValue.toString(16)}`);
  return { rows: (r.responses[3]!.ok as { rows: PropertyRow[] }).rows.map((x) => x.cells), hasRules: (r.responses[0]!.ok as { hasRules: boolean }).hasRules };
}

const newRule = (name: string, seq: number, word: string) => ({
  ruleDataFlags: 0x01,
  propertyValues: [
    { tag: RULE_SEQUENCE, value: seq },
    { tag: RULE_STATE, value: 0x01 },
    { tag: RULE_NAME, value: name },
    { tag: RULE_PROVIDER, value: 'RuleOrganizer' },
    { tag: RULE_LEVEL, value: 0 },
    { tag: RULE_USER_FLAGS, value: 7 },
    { tag: RULE_PROVIDER_DATA, value: new Uint8Array([1, 2, 3, 4]) },
    { tag: RULE_CONDITION, value: condition(word) },
    { tag: RULE_ACTIONS, value: actions() },
  ],
});

test('rules round-trip: server ids, every property back, condition and actions byte for byte; HasRules', async (t) => {
  const m = await startMapiSession(t);
  t.false((await rulesTable(m)).hasRules);
  t.deepEqual((await rulesTable(m)).rows, []);
  t.is(await modifyRules(m, 0, [newRule('Sales', 10, 'sale'), newRule('Spam', 11, 'offer')]), 0);
  const { rows, hasRules } = await rulesTable(m);
  t.true(hasRules, 'RopOpenFolder reports the folder has rules');
  t.is(rows.length, 2);
  const [a, b] = rows as unknown[][];
  t.true(typeof a![0] === 'bigint' && typeof b![0] === 'bigint' && a![0] !== b![0], 'distinct server-given ids');
  t.deepEqual(a!.slice(1, 8), [10, 1, 'Sales', 'RuleOrganizer', 0, 7, new Uint8Array([1, 2, 3, 4])].map((v) => (v instanceof Uint8Array ? a![7] : v)));
  t.deepEqual(Buffer.from(a![7] as Uint8Array), Buffer.from([1, 2, 3, 4]));
  t.deepEqual(Buffer.from(a![8] as Uint8Array), Buffer.from(condition('sale')), 'condition as written');
  t.deepEqual(Buffer.from(b![8] as Uint8Array), Buffer.from(condition('offer')));
  t.deepEqual(Buffer.from(a![9] as Uint8Array), Buffer.from(actions()), 'actions as written');
});

test('rules are modified, removed and replaced', async (t) => {
  const m = await startMapiSession(t);
  t.is(await modifyRules(m, 0, [newRule('One', 1, 'a'), newRule('Two', 2, 'b')]), 0);
  const [one, two] = (await rulesTable(m)).rows as unknown[][];
  // Modify: only what is sent changes (an 8-bit name is kept as Unicode).
  t.is(await modifyRules(m, 0, [{ ruleDataFlags: 0x02, propertyValues: [{ tag: RULE_ID, value: one![0] }, { tag: RULE_NAME8, value: 'Uno' }, { tag: RULE_STATE, value: 0 }] }]), 0);
  let rows = (await rulesTable(m)).rows;
  t.deepEqual(rows[0]!.slice(0, 5), [one![0], 1, 0, 'Uno', 'RuleOrganizer']);
  t.deepEqual(Buffer.from(rows[0]![8] as Uint8Array), Buffer.from(condition('a')), 'condition untouched');
  // Remove.
  t.is(await modifyRules(m, 0, [{ ruleDataFlags: 0x04, propertyValues: [{ tag: RULE_ID, value: two![0] }] }]), 0);
  rows = (await rulesTable(m)).rows;
  t.deepEqual(rows.map((r) => r[3]), ['Uno']);
  // Unknown ids and incomplete rules fail whole: nothing changes.
  t.is(await modifyRules(m, 0, [newRule('Three', 3, 'c'), { ruleDataFlags: 0x04, propertyValues: [{ tag: RULE_ID, value: 999n }] }]), Ec.ecNotFound);
  t.is(await modifyRules(m, 0, [{ ruleDataFlags: 0x01, propertyValues: [{ tag: RULE_NAME, value: 'no condition' }, { tag: RULE_PROVIDER, value: 'X' }] }]), Ec.ecInvalidParam);
  t.deepEqual((await rulesTable(m)).rows.map((r) => r[3]), ['Uno']);
  // ROW_REPLACE: the request's rules take the place of all.
  t.is(await modifyRules(m, 0x01, [newRule('Four', 4, 'd'), newRule('Five', 5, 'e')]), 0);
  rows = (await rulesTable(m)).rows;
  t.deepEqual(rows.map((r) => r[3]), ['Four', 'Five']);
  t.false(rows.some((r) => r[0] === one![0] || r[0] === two![0]), 'ids are not reused');
  // Removing every rule clears HasRules.
  t.is(await modifyRules(m, 0, rows.map((r) => ({ ruleDataFlags: 0x04, propertyValues: [{ tag: RULE_ID, value: r[0] }] }))), 0);
  const after = await rulesTable(m);
  t.deepEqual(after.rows, []);
  t.false(after.hasRules);
});
