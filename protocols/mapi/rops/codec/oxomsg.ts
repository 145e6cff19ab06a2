/** MS-OXOMSG ROPs (MS-OXCROPS 2.2.7): submission and transport. */
import { defineRop } from './rop.js';
import { RopId } from '../ids.js';
import { u8, u32, u64, bool, when, str8z, taggedValues, sized, type Field } from './fields.js';

const DOC = 'MS-OXOMSG';

export const SubmitMessage = defineRop({ id: RopId.SubmitMessage, doc: DOC, handles: 'in', req: { submitFlags: u8 } });

export const AbortSubmit = defineRop({ id: RopId.AbortSubmit, doc: DOC, handles: 'in', req: { folderId: u64, messageId: u64 } });

/** AddressTypeCount (u16), AddressTypeSize (u16, bytes of all strings), AddressTypes. */
const addressTypes: Field<string[]> = {
  pull: (r) => {
    const n = r.count(r.u16(), 1, 'address types');
    const size = r.u16();
    const start = r.pos;
    const out: string[] = [];
    for (let i = 0; i < n && r.ok; i++) out.push(r.str8z());
    if (r.ok && r.pos - start !== size) r.fail('bad-size', 'AddressTypeSize does not match');
    return out;
  },
  push: (w, v) => {
    w.u16(v.length);
    w.u16(v.reduce((s, x) => s + x.length + 1, 0));
    for (const s of v) w.str8z(s);
  },
  gen: (g) => (g() < 0.5 ? ['EX', 'SMTP'] : []),
};

export const GetAddressTypes = defineRop({ id: RopId.GetAddressTypes, doc: DOC, handles: 'in', ok: { addressTypes } });

export const SetSpooler = defineRop({ id: RopId.SetSpooler, doc: DOC, handles: 'in' });

export const SpoolerLockMessage = defineRop({ id: RopId.SpoolerLockMessage, doc: DOC, handles: 'in', req: { messageId: u64, lockState: u8 } });

/** PropertyValueCount and PropertyValues are present when NoPropertiesReturned is false. */
export const TransportSend = defineRop({
  id: RopId.TransportSend,
  doc: DOC,
  handles: 'in',
  ok: { noPropertiesReturned: bool, propertyValues: when((so) => so.noPropertiesReturned === false, taggedValues) },
});

export const TransportNewMail = defineRop({
  id: RopId.TransportNewMail,
  doc: DOC,
  handles: 'in',
  req: { messageId: u64, folderId: u64, messageClass: str8z, messageFlags: u32 },
});

export const GetTransportFolder = defineRop({ id: RopId.GetTransportFolder, doc: DOC, handles: 'in', ok: { folderId: u64 } });

export const OptionsData = defineRop({
  id: RopId.OptionsData,
  doc: DOC,
  handles: 'in',
  req: { addressType: str8z, wantWin32: bool },
  ok: { reserved: u8, optionsInfo: sized(2), helpFile: sized(2), helpFileName: when((so) => (so.helpFile as Uint8Array).byteLength !== 0, str8z) },
});

export const ROPS = [SubmitMessage, AbortSubmit, GetAddressTypes, SetSpooler, SpoolerLockMessage, TransportSend, TransportNewMail, GetTransportFolder, OptionsData] as const;
