/**
 * Server-side rules (MS-OXORULE 2.2.1 / 2.2.2, 3.2.5.1-3.2.5.2): RopModifyRules and
 * RopGetRulesTable on folder objects, and the rules table's rows. A rule is kept as the property
 * values the client sent (condition and actions as their wire bytes, so they read back byte for
 * byte) with the PidTagRuleId the server gives it (storage/rules.ts). Executing rules at delivery
 * is not part of this; client-side-only rules live in FAI messages and need nothing here.
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import type { TaggedValue } from '../../../protocols/mapi/wire/prop-values.js';
import { actorError } from '../../../runtime/errors.js';
import type { MailboxStore } from '../../../storage/mailbox-store.js';
import type { PropMap } from '../../../storage/prop-bag.js';
import { FolderRules } from '../../../storage/rules.js';
import { PropType, propId, propTag, propTypeOf } from '../../../storage/prop-types.js';
import { folderListTable, mustHave } from './perm-rops.js';
import type { HandlerCtx, HandlerTable, RopHandler } from './rop-run.js';
import { Rights, type FolderObject, type TableObject } from './rop-session.js';

/** The rule properties (MS-OXORULE 2.2.1.3.1). */
export const RuleTag = {
  PidTagRuleId: propTag(0x6674, PropType.PtypInteger64),
  PidTagRuleSequence: propTag(0x6676, PropType.PtypInteger32),
  PidTagRuleState: propTag(0x6677, PropType.PtypInteger32),
  PidTagRuleUserFlags: propTag(0x6678, PropType.PtypInteger32),
  PidTagRuleCondition: propTag(0x6679, PropType.PtypRestriction),
  PidTagRuleActions: propTag(0x6680, PropType.PtypRuleAction),
  PidTagRuleProvider: propTag(0x6681, PropType.PtypString),
  PidTagRuleName: propTag(0x6682, PropType.PtypString),
  PidTagRuleLevel: propTag(0x6683, PropType.PtypInteger32),
  PidTagRuleProviderData: propTag(0x6684, PropType.PtypBinary),
} as const;

/** ModifyRulesFlag (MS-OXORULE 2.2.1.1) and RuleDataFlags (2.2.1.3). */
export const ModifyRulesFlag = { ROW_REPLACE: 0x01 } as const;
export const RuleDataFlags = { ROW_ADD: 0x01, ROW_MODIFY: 0x02, ROW_REMOVE: 0x04 } as const;

/** Whether a folder has rules (RopOpenFolder's HasRules), inside a store read. */
export const hasRulesIn = (store: MailboxStore, fid: number): boolean => new FolderRules(store.env).has(fid);

/** The rules table's rows: one per rule, row id = rule id. */
export async function ruleRows(h: HandlerCtx, o: TableObject): Promise<{ order: number[]; rows: Map<number, PropMap> }> {
  const list = await h.env.read(({ store }) => new FolderRules(store.env).list(o.fid));
  const order: number[] = [];
  const rows = new Map<number, PropMap>();
  for (const r of list) {
    const p = new Map(r.props);
    p.set(RuleTag.PidTagRuleId, BigInt(r.id));
    order.push(r.id);
    rows.set(r.id, p);
  }
  return { order, rows };
}

const folderOf = (h: HandlerCtx): number => (h.input.obj as FolderObject).fid;

/** The rule's values as stored: 8-bit strings as Unicode, PidTagRuleId left out (the server's). */
function ruleProps(values: readonly TaggedValue[]): PropMap {
  const p: PropMap = new Map();
  for (const v of values) {
    const type = propTypeOf(v.tag);
    if (type === PropType.PtypErrorCode || type === PropType.PtypUnspecified) throw actorError('ecInvalidParam', `value of 0x${v.tag.toString(16)}`);
    if (propId(v.tag) === propId(RuleTag.PidTagRuleId)) continue;
    p.set(type === PropType.PtypString8 ? propTag(propId(v.tag), PropType.PtypString) : v.tag, v.value);
  }
  return p;
}

const ruleIdOf = (values: readonly TaggedValue[]): number => {
  const v = values.find((x) => x.tag === RuleTag.PidTagRuleId)?.value;
  if (typeof v !== 'bigint') throw actorError('ecInvalidParam', 'PidTagRuleId missing');
  if (v <= 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw actorError('ecNotFound', `rule ${v}`);
  return Number(v);
};

type RuleChange = { op: 'add'; props: PropMap } | { op: 'modify'; id: number; props: PropMap } | { op: 'remove'; id: number };

function parseRuleChange(d: { ruleDataFlags: number; propertyValues: TaggedValue[] }): RuleChange {
  switch (d.ruleDataFlags) {
    case RuleDataFlags.ROW_ADD: {
      const props = ruleProps(d.propertyValues);
      // MS-OXORULE 3.1.4.2.1: a new rule carries its provider, condition and actions.
      for (const need of [RuleTag.PidTagRuleProvider, RuleTag.PidTagRuleCondition, RuleTag.PidTagRuleActions]) {
        if (!props.has(need)) throw actorError('ecInvalidParam', `a new rule needs 0x${need.toString(16)}`);
      }
      return { op: 'add', props };
    }
    case RuleDataFlags.ROW_MODIFY:
      return { op: 'modify', id: ruleIdOf(d.propertyValues), props: ruleProps(d.propertyValues) };
    case RuleDataFlags.ROW_REMOVE:
      return { op: 'remove', id: ruleIdOf(d.propertyValues) };
    default:
      throw actorError('ecInvalidParam', `RuleDataFlags 0x${d.ruleDataFlags.toString(16)}`);
  }
}

const modifyRules: RopHandler = async (q, h) => {
  const fid = folderOf(h);
  await mustHave(h, fid, Rights.FolderOwner);
  const flags = q.modifyRulesFlag as number;
  if ((flags & ~ModifyRulesFlag.ROW_REPLACE) !== 0) return { returnValue: Ec.ecInvalidParam };
  const data = q.rulesData as { ruleDataFlags: number; propertyValues: TaggedValue[] }[];
  const changes = data.map(parseRuleChange);
  await h.env.write(({ store }) => {
    if (store.folder(fid) === undefined) throw actorError('ecNotFound', `no folder ${fid}`);
    const rules = new FolderRules(store.env);
    // ROW_REPLACE: the rules of the request take the place of every rule the folder had.
    if ((flags & ModifyRulesFlag.ROW_REPLACE) !== 0) rules.clear(fid);
    for (const c of changes) {
      if (c.op === 'add') rules.put(fid, rules.nextId(), c.props);
      else if (c.op === 'modify') {
        const old = rules.get(fid, c.id);
        if (old === undefined) throw actorError('ecNotFound', `no rule ${c.id}`);
        for (const [t, v] of c.props) old.set(t, v);
        rules.put(fid, c.id, old);
      } else if (!rules.remove(fid, c.id)) throw actorError('ecNotFound', `no rule ${c.id}`);
    }
  });
  return { ok: {} };
};

export function registerRuleRops(t: HandlerTable): void {
  t.set(RopId.GetRulesTable, { ...(t.get(RopId.GetRulesTable) ?? {}), folder: folderListTable('rules') });
  t.set(RopId.ModifyRules, { ...(t.get(RopId.ModifyRules) ?? {}), folder: modifyRules });
}
