/**
 * Sending (MS-OXOMSG 3.2.5): RopSubmitMessage / RopTransportSend save the message with its sender
 * properties, mark it submitted and record the submission in the store (`MailboxStore
 * .addSubmission`, so a restart or a deferred delivery time never loses it); the door then sends
 * it (protocols/mail/submission.ts: local recipients get the MAPI object itself, remote ones
 * MIME through the outbound queue) and asks `completeSubmission`, which moves it to the folder
 * PidTagSentMailEntryId names (Sent Items by default) or deletes it (PidTagDeleteAfterSubmit).
 * RopAbortSubmit takes back a submission not yet taken for sending (a deferred one).
 * The spooler ROPs are answered as a server without a client-side spooler does.
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import { actorError } from '../../../runtime/errors.js';
import { addressBookEntryId, searchKey } from '../../../storage/address-ids.js';
import { eidGlobcnt, eidReplid, makeEid, REPLID_LOCAL } from '../../../storage/ids.js';
import { decodePropBag, encodePropBag, type PropMap } from '../../../storage/prop-bag.js';
import { Tag } from '../../../storage/prop-tags.js';
import { MSGFLAG_UNSENT } from '../../../storage/message-store.js';
import { dateToFiletime, filetimeToDate, PropType, propTag } from '../../../storage/prop-types.js';
import type { HandlerCtx, HandlerTable, RopHandler } from './rop-run.js';

/** Message flags of a submission (MS-OXCMSG 2.2.1.6). */
export const MSGFLAG_SUBMIT = 0x0004;

export const SubmitTag = {
  PidTagDeferredDeliveryTime: propTag(0x000f, PropType.PtypTime),
  PidTagDeleteAfterSubmit: propTag(0x0e01, PropType.PtypBoolean),
  PidTagSentMailEntryId: propTag(0x0e0a, PropType.PtypBinary),
} as const;

/** Address types this server routes (RopGetAddressTypes). */
export const ADDRESS_TYPES = ['EX', 'SMTP'];

/** The sender properties: who sends (the caller) and for whom (the mailbox's owner), MS-OXOMSG 2.2.1. */
function senderProps(h: HandlerCtx, owner: { name: string; legacyDn: string; address: string }, current: PropMap): PropMap {
  const c = h.session.caller;
  const set: PropMap = new Map();
  const who = (prefix: 'Sender' | 'SentRepresenting', p: { name: string; legacyDn: string; address: string }) => {
    const t = Tag as Record<string, number>;
    set.set(t[`PidTag${prefix}Name`]!, p.name);
    set.set(t[`PidTag${prefix}EntryId`]!, addressBookEntryId(p.legacyDn));
    set.set(t[`PidTag${prefix}AddressType`]!, 'EX');
    set.set(t[`PidTag${prefix}EmailAddress`]!, p.legacyDn);
    set.set(t[`PidTag${prefix}SearchKey`]!, searchKey('EX', p.legacyDn));
    set.set(t[`PidTag${prefix}SmtpAddress`]!, p.address);
  };
  who('Sender', { name: c.displayName, legacyDn: c.legacyDn, address: c.address });
  // The owner's identity unless the client set someone it may send for (a delegate's "on behalf of").
  if (h.owner || !current.has(Tag.PidTagSentRepresentingEntryId)) who('SentRepresenting', owner);
  return set;
}

async function submit(h: HandlerCtx, transport: boolean) {
  const obj = h.input.obj;
  if (obj.kind !== 'message') return { returnValue: Ec.ecNotSupported };
  if (obj.readOnly) return { returnValue: Ec.ecAccessDenied };
  // Sending for someone is for the owner and full-access delegates; folder permissions do not give it.
  if (h.access === 'acl') return { returnValue: Ec.ecAccessDenied };
  const recipients = await h.env.op('instanceRecipients', { instance: obj.instance });
  if (recipients.length === 0) return { returnValue: Ec.ecNoRecipients };
  const info = await h.env.read(({ store }) => ({ quota: store.quotaState(), id: store.identity()! }));
  if (info.quota === 'send-prohibited' || info.quota === 'receive-prohibited') return { returnValue: Ec.ecQuotaExceeded };
  const current = decodePropBag(Buffer.from(await h.env.op('instanceGetProps', { instance: obj.instance })));
  const set = senderProps(h, { name: info.id.ownerName, legacyDn: info.id.legacyDn, address: h.env.mailbox }, current);
  const now = new Date();
  set.set(Tag.PidTagClientSubmitTime, dateToFiletime(now));
  const flags = current.get(Tag.PidTagMessageFlags);
  set.set(Tag.PidTagMessageFlags, ((typeof flags === 'number' ? flags : 0) | MSGFLAG_SUBMIT | MSGFLAG_UNSENT) >>> 0);
  await h.env.op('instanceSetProps', { instance: obj.instance, props: encodePropBag(set) });
  const { mid } = await h.env.op('saveMessage', { instance: obj.instance, keepOpen: true, force: true });
  if (mid === null) throw actorError('ecNotSupported', 'an embedded message is sent with its parent');
  const deferred = current.get(SubmitTag.PidTagDeferredDeliveryTime);
  const due = !transport && typeof deferred === 'bigint' ? Math.max(now.getTime(), filetimeToDate(deferred).getTime()) : now.getTime();
  const c = h.session.caller;
  await h.env.write(({ store }) => store.addSubmission(mid, { due, by: { userId: c.userId, legacyDn: c.legacyDn, displayName: c.displayName, address: c.address }, submitted: now.getTime() }));
  obj.mid = mid;
  obj.readOnly = true;
  h.session.submitted.push({ mid, due });
  return null;
}

const submitMessage: RopHandler = async (_q, h) => (await submit(h, false)) ?? {};

const transportSend: RopHandler = async (_q, h) => (await submit(h, true)) ?? { ok: { noPropertiesReturned: true } };

const abortSubmit: RopHandler = async (q, h) => {
  const mid = q.messageId as bigint;
  if (eidReplid(mid) !== REPLID_LOCAL) return { returnValue: Ec.ecNotFound };
  const gc = eidGlobcnt(mid);
  const state = await h.env.read(({ store }) => store.submission(gc));
  if (state === undefined) return { returnValue: Ec.ecNotInQueue };
  if (state.taken !== undefined) return { returnValue: Ec.ecUnableToAbort };
  await h.env.write(({ store, msgs }) => {
    store.removeSubmission(gc);
    const rec = msgs.message(gc);
    if (rec !== undefined) msgs.update(gc, { set: new Map([[Tag.PidTagMessageFlags, rec.flags & ~MSGFLAG_SUBMIT]]) }, { force: true });
  });
  return {};
};

const getAddressTypes: RopHandler = () => ({ ok: { addressTypes: ADDRESS_TYPES } });
const setSpooler: RopHandler = () => ({});
const spoolerLockMessage: RopHandler = () => ({});
const transportNewMail: RopHandler = () => ({});
const getTransportFolder: RopHandler = async (_q, h) => {
  const outbox = await h.env.read(({ store }) => store.specialFolders().outbox);
  return { ok: { folderId: makeEid(REPLID_LOCAL, outbox) } };
};
/** No transport options dialogs here: empty OptionsInfo and help file. */
const optionsData: RopHandler = () => ({ ok: { reserved: 1, optionsInfo: new Uint8Array(0), helpFile: new Uint8Array(0) } });

export function registerSubmitRops(t: HandlerTable): void {
  const on = (id: number, kind: 'logon' | 'message', fn: RopHandler) => t.set(id, { ...(t.get(id) ?? {}), [kind]: fn });
  on(RopId.SubmitMessage, 'message', submitMessage);
  on(RopId.TransportSend, 'message', transportSend);
  on(RopId.AbortSubmit, 'logon', abortSubmit);
  on(RopId.GetAddressTypes, 'logon', getAddressTypes);
  on(RopId.SetSpooler, 'logon', setSpooler);
  on(RopId.SpoolerLockMessage, 'logon', spoolerLockMessage);
  on(RopId.TransportNewMail, 'logon', transportNewMail);
  on(RopId.GetTransportFolder, 'logon', getTransportFolder);
  on(RopId.OptionsData, 'logon', optionsData);
}
