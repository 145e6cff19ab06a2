/** MS-OXCNOTIF ROPs (MS-OXCROPS 2.2.14): notifications. */
import { defineRop } from './rop.js';
import { RopId } from '../ids.js';
import { u8, u16, u32, u64, bool, when, rest } from './fields.js';

const DOC = 'MS-OXCNOTIF';

export const RegisterNotification = defineRop({
  id: RopId.RegisterNotification,
  doc: DOC,
  handles: 'io',
  req: {
    notificationTypes: u8,
    reserved: u8,
    wantWholeStore: bool,
    folderId: when((so) => so.wantWholeStore === false, u64),
    messageId: when((so) => so.wantWholeStore === false, u64),
  },
});

/**
 * RopNotify (response only): NotificationHandle (4), LogonId (1), NotificationData. The
 * NotificationData structure (MS-OXCNOTIF 2.2.1.4.1.2: NotificationFlags, then per-type fields)
 * is kept as bytes: the reference corpus gave its field list and NotificationType values but not
 * every field's presence rule, so it is not parsed yet. Its pull reads to the end of the window,
 * so a client must pull RopNotify with the window set to the ROP (push is exact). RopPending's
 * SessionIndex (2 bytes) is checked against MS-OXCROPS 2.2.14.3.1.
 */
export const Notify = defineRop({ id: RopId.Notify, doc: DOC, handles: 'none', ok: { notificationHandle: u32, logonId: u8, notificationData: rest } });

export const Pending = defineRop({ id: RopId.Pending, doc: DOC, handles: 'none', ok: { sessionIndex: u16 } });

export const ROPS = [RegisterNotification, Notify, Pending] as const;
