/**
 * RopSaveChangesMessage (MS-OXCMSG 2.2.3.3 / 3.2.5.3) on a message object: the instance's changes
 * go to the store in the run's write (a child transaction; ecObjectModified when the stored
 * message changed since it was opened, unless ForceSave). The object stays open: read-write with
 * KeepOpenReadWrite, read-only otherwise. Outlook flags, categorizes and edits messages this way;
 * creating messages and sending come with issue 11.
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import { makeEid, REPLID_LOCAL } from '../../../storage/ids.js';
import type { HandlerTable, RopHandler } from './rop-run.js';

/** SaveFlags (MS-OXCROPS 2.2.6.3.1). */
export const SaveFlags = { KeepOpenReadOnly: 0x01, KeepOpenReadWrite: 0x02, ForceSave: 0x04 } as const;

const saveChangesMessage: RopHandler = async (q, h) => {
  const obj = h.input.obj;
  if (obj.kind !== 'message') return { returnValue: Ec.ecNotSupported };
  if (obj.readOnly) return { returnValue: Ec.ecAccessDenied };
  const flags = q.saveFlags as number;
  const { mid } = await h.env.op('saveMessage', { instance: obj.instance, keepOpen: true, force: (flags & SaveFlags.ForceSave) !== 0 });
  if (mid !== null) obj.mid = mid;
  obj.readOnly = (flags & SaveFlags.KeepOpenReadWrite) === 0;
  return { ok: { inputHandleIndex: q.inputHandleIndex, messageId: mid === null ? 0n : makeEid(REPLID_LOCAL, mid) } };
};

export function registerSaveRops(t: HandlerTable): void {
  t.set(RopId.SaveChangesMessage, { ...(t.get(RopId.SaveChangesMessage) ?? {}), message: saveChangesMessage });
}
