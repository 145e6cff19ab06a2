/** ROPs of MS-OXCROPS itself (2.2.15): RopRelease and the buffer-level responses. */
import { defineRop } from './rop.js';
import { RopId } from '../ids.js';
import { u8, u16, u32, arr, struct, sized, rest } from './fields.js';

const DOC = 'MS-OXCROPS';

/** RopRelease (0x01) has no response. */
export const Release = defineRop({ id: RopId.Release, doc: DOC, handles: 'in', noResponse: true });

/** RopBackoff (0xF9, response only, MS-OXCROPS 2.2.15.2). */
export const Backoff = defineRop({
  id: RopId.Backoff,
  doc: DOC,
  handles: 'none',
  ok: { logonId: u8, duration: u32, backoffRops: arr(1, struct({ ropIdBackoff: u8, duration: u32 }), 5), additionalData: sized(2) },
});

/** RopBufferTooSmall (0xFF, response only, MS-OXCROPS 2.2.15.1): SizeNeeded, then the unprocessed request bytes. */
export const BufferTooSmall = defineRop({ id: RopId.BufferTooSmall, doc: DOC, handles: 'none', ok: { sizeNeeded: u16, requestBuffers: rest } });

export const ROPS = [Release, Backoff, BufferTooSmall] as const;
