/** MS-OXORULE ROPs (MS-OXCROPS 2.2.11): server-side rules. */
import { defineRop } from './rop.js';
import { RopId } from '../ids.js';
import { u8, arr, struct, taggedValues, sized } from './fields.js';

const DOC = 'MS-OXORULE';

/** RuleData: RuleDataFlags, PropertyValueCount, PropertyValues. */
const ruleData = struct({ ruleDataFlags: u8, propertyValues: taggedValues });

export const ModifyRules = defineRop({ id: RopId.ModifyRules, doc: DOC, handles: 'in', req: { modifyRulesFlag: u8, rulesData: arr(2, ruleData, 3) } });

export const GetRulesTable = defineRop({ id: RopId.GetRulesTable, doc: DOC, handles: 'io', req: { tableFlags: u8 } });

export const UpdateDeferredActionMessages = defineRop({
  id: RopId.UpdateDeferredActionMessages,
  doc: DOC,
  handles: 'in',
  req: { serverEntryId: sized(2), clientEntryId: sized(2) },
});

export const ROPS = [ModifyRules, GetRulesTable, UpdateDeferredActionMessages] as const;
