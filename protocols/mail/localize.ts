/**
 * Local people as address-book entries (MS-OXCMAIL 2.4.3.x): a sender or recipient whose SMTP
 * address belongs to a user of this server gets address type EX, the user's legacy DN as e-mail
 * address, an address-book entry id and an EX search key, so Outlook shows them as directory
 * entries (presence, properties, free/busy). The SMTP address stays in Pid*SmtpAddress.
 */
import { addressBookEntryId, searchKey } from '../../storage/address-ids.js';
import { Tag } from '../../storage/prop-tags.js';
import type { PropValue } from '../../storage/prop-types.js';
import type { MapiMessage } from './mapi-message.js';

export interface LocalPerson {
  legacyDn: string;
  displayName: string;
}

export type LookupLocal = (smtpAddress: string) => LocalPerson | null;

function localizeRole(p: Map<number, PropValue>, role: 'Sender' | 'SentRepresenting', lookup: LookupLocal): void {
  const smtp = p.get(Tag[`PidTag${role}SmtpAddress`]);
  if (typeof smtp !== 'string' || p.get(Tag[`PidTag${role}AddressType`]) !== 'SMTP') return;
  const who = lookup(smtp);
  if (who === null) return;
  p.set(Tag[`PidTag${role}AddressType`], 'EX');
  p.set(Tag[`PidTag${role}EmailAddress`], who.legacyDn);
  p.set(Tag[`PidTag${role}EntryId`], addressBookEntryId(who.legacyDn));
  p.set(Tag[`PidTag${role}SearchKey`], searchKey('EX', who.legacyDn));
}

/** Rewrites local senders and recipients of a converted message (and its embedded messages). */
export function localizeAddresses(msg: MapiMessage, lookup: LookupLocal): void {
  localizeRole(msg.props, 'Sender', lookup);
  localizeRole(msg.props, 'SentRepresenting', lookup);
  for (const r of msg.recipients) {
    const smtp = r.get(Tag.PidTagSmtpAddress);
    if (typeof smtp !== 'string' || r.get(Tag.PidTagAddressType) !== 'SMTP') continue;
    const who = lookup(smtp);
    if (who === null) continue;
    const entryId = addressBookEntryId(who.legacyDn);
    r.set(Tag.PidTagAddressType, 'EX');
    r.set(Tag.PidTagEmailAddress, who.legacyDn);
    r.set(Tag.PidTagEntryId, entryId);
    r.set(Tag.PidTagRecipientEntryId, entryId);
    r.set(Tag.PidTagSearchKey, searchKey('EX', who.legacyDn));
    r.set(Tag.PidTagSendRichInfo, true);
  }
  for (const a of msg.attachments) if (a.embedded !== undefined) localizeAddresses(a.embedded, lookup);
}
