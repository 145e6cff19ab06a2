/**
 * POP3 unique-ids (RFC 1939 §7 UIDL: 1 to 70 characters from 0x21 to 0x7E, the same for a
 * message in every session, never reused for another message of the maildrop).
 *
 * Scheme: the message's MID (its 48-bit GLOBCNT, which the store never changes and never reuses,
 * not even across a restore) as 12 lower-case hex digits, then the first 8 hex digits of the
 * mailbox's replica GUID (the namespace the GLOBCNT counts in): 20 characters, e.g.
 * `00000000004a1f3c9e02`. Flags, read state, IMAP UIDs (a content change gives a new IMAP UID)
 * and folder renames do not touch it. The GUID part keeps ids of a deleted and re-created
 * mailbox (whose counter starts over) from matching what a client kept from the old one, so
 * "leave mail on server" clients do not skip new mail.
 */

export function uidlOf(mid: number, replGuid: string): string {
  return mid.toString(16).padStart(12, '0') + replGuid.replace(/-/g, '').slice(0, 8).toLowerCase();
}
