/**
 * RopSaveChangesMessage (MS-OXCMSG 2.2.3.3 / 3.2.5.3) on a message object: the instance's changes
 * go to the store in the run's write (a child transaction; ecObjectModified when the stored
 * message changed since this object opened or last saved it, unless ForceSave). An embedded
 * message saves into its parent's attachment instead (and reaches the store with the parent).
 * A read-only object answers ecAccessDenied. After a save the object stays open: read-write with
 * KeepOpenReadWrite or ForceSave, read-only otherwise; a failed save leaves it as it was.
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import { makeEid, REPLID_LOCAL } from '../../../storage/ids.js';
import { decodePropBag, encodePropBag, type PropMap } from '../../../storage/prop-bag.js';
import { Tag } from '../../../storage/prop-tags.js';
import { PropType, propTag } from '../../../storage/prop-types.js';
import type { HandlerCtx, HandlerTable, RopHandler } from './rop-run.js';

/** SaveFlags (MS-OXCROPS 2.2.6.3.1); other bits are ignored. */
export const SaveFlags = { KeepOpenReadOnly: 0x01, KeepOpenReadWrite: 0x02, ForceSave: 0x04 } as const;

/** PidTagRecipientType values (MS-OXOMSG 2.2.3.1): the low bits; higher bits are flags. */
const MAPI_TO = 1;
const MAPI_CC = 2;
const MAPI_BCC = 3;

const bagOf = (bytes: Uint8Array): PropMap => decodePropBag(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

const strOf = (p: PropMap, id: number): string | undefined => {
  for (const t of [propTag(id, PropType.PtypString), propTag(id, PropType.PtypString8)]) {
    const v = p.get(t);
    if (typeof v === 'string') return v;
  }
  return undefined;
};

/**
 * PidTagDisplayTo / Cc / Bcc (MS-OXOMSG 2.2.1.7-9): the display names of the recipients of each
 * kind, separated by semicolons; the server keeps them in step with the recipients.
 */
async function setDisplayLists(h: HandlerCtx, instance: number): Promise<void> {
  const lists: Record<number, string[]> = { [MAPI_TO]: [], [MAPI_CC]: [], [MAPI_BCC]: [] };
  for (const r of await h.env.op('instanceRecipients', { instance })) {
    const p = bagOf(r.props);
    const rt = p.get(Tag.PidTagRecipientType);
    const kind = typeof rt === 'number' ? rt & 0x0f : MAPI_TO;
    const name = strOf(p, 0x3001) ?? strOf(p, 0x5ff6) ?? strOf(p, 0x3003);
    if (name !== undefined) lists[kind]?.push(name);
  }
  const props: PropMap = new Map([
    [Tag.PidTagDisplayTo, lists[MAPI_TO]!.join('; ')],
    [propTag(0x0e03, PropType.PtypString), lists[MAPI_CC]!.join('; ')],
    [propTag(0x0e02, PropType.PtypString), lists[MAPI_BCC]!.join('; ')],
  ]);
  await h.env.op('instanceSetProps', { instance, props: encodePropBag(props) });
}

const saveChangesMessage: RopHandler = async (q, h) => {
  const obj = h.input.obj;
  if (obj.kind !== 'message') return { returnValue: Ec.ecNotSupported };
  if (obj.readOnly) return { returnValue: Ec.ecAccessDenied };
  const flags = q.saveFlags as number;
  await setDisplayLists(h, obj.instance);
  const { mid } = await h.env.op('saveMessage', { instance: obj.instance, keepOpen: true, force: (flags & SaveFlags.ForceSave) !== 0 });
  if (mid !== null) obj.mid = mid;
  obj.readOnly = (flags & (SaveFlags.KeepOpenReadWrite | SaveFlags.ForceSave)) === 0;
  // An embedded message has no id of its own: MessageId 0.
  return { ok: { inputHandleIndex: q.inputHandleIndex, messageId: mid === null ? 0n : makeEid(REPLID_LOCAL, mid) } };
};

export function registerSaveRops(t: HandlerTable): void {
  t.set(RopId.SaveChangesMessage, { ...(t.get(RopId.SaveChangesMessage) ?? {}), message: saveChangesMessage });
}
