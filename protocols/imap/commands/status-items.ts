/**
 * STATUS data items (RFC 3501 §6.3.10; also LIST-STATUS, RFC 5819):
 *   status-att = "MESSAGES" / "RECENT" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN" / "SIZE" (RFC 8438)
 */
import type { Reader } from '../parser/reader.js';
import type { ResponseWriter } from '../response/writer.js';

export type StatusItem = 'MESSAGES' | 'RECENT' | 'UIDNEXT' | 'UIDVALIDITY' | 'UNSEEN' | 'SIZE';
const ITEMS: ReadonlySet<string> = new Set(['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'SIZE']);

export function readStatusItems(r: Reader): StatusItem[] | null {
  if (!r.expect(0x28, '"("')) return null;
  const out: StatusItem[] = [];
  for (;;) {
    const a = r.atom();
    if (a === null) return null;
    const up = a.toUpperCase();
    if (!ITEMS.has(up)) return r.fail(`unknown STATUS item ${a.slice(0, 20)}`);
    out.push(up as StatusItem);
    if (r.take(0x29)) return out;
    if (!r.sp()) return null;
  }
}

export interface StatusValues {
  messages: number;
  unseen: number;
  uidNext: number;
  uidValidity: number;
  size: number;
  recent: number;
}

export function writeStatus(w: ResponseWriter, name: string, items: readonly StatusItem[], v: StatusValues): void {
  w.raw('* STATUS ').str(name).raw(' (');
  items.forEach((it, i) => {
    if (i > 0) w.raw(' ');
    const n = it === 'MESSAGES' ? v.messages : it === 'UNSEEN' ? v.unseen : it === 'UIDNEXT' ? v.uidNext : it === 'UIDVALIDITY' ? v.uidValidity : it === 'SIZE' ? v.size : v.recent;
    w.raw(`${it} ${n}`);
  });
  w.raw(')\r\n');
}
