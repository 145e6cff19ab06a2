/**
 * MAPI data packed into one buffer for the IMAP view's ops: a frame must fit the worker ring, so
 * large values cannot travel nested in an answer or argument; one top-level buffer moves by
 * ArrayBuffer transfer however large it is. Plain MessagePack maps (no shared structures: the two
 * ends share no state).
 */
import { Packr } from 'msgpackr';
import type { WireMessage } from './wire-message.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

export function packWire(w: WireMessage): Buffer {
  return packr.pack(w);
}

export function unpackWire(b: Uint8Array): WireMessage {
  return packr.unpack(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)) as WireMessage;
}
