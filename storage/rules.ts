/**
 * Server-side rules of a folder (MS-OXORULE 2.2.1.3): each rule is the property values the client
 * gave (PidTagRuleCondition and PidTagRuleActions as their wire bytes, so they come back exactly
 * as written) plus the PidTagRuleId the server assigned. Kept in the mailbox's `rules` key space:
 *   [folder, rule id] → prop bag (prop-bag.ts encoding)
 *   ['seq'] → the last rule id given (ids are unique within the mailbox, hence within a folder)
 * Running rules at delivery is not done here.
 */
import type { MailboxEnv } from './mailbox-env.js';
import { decodePropBag, encodePropBag, type PropMap } from './prop-bag.js';

export interface StoredRule {
  id: number;
  props: PropMap;
}

export class FolderRules {
  constructor(private readonly env: MailboxEnv) {}

  private get db() {
    return this.env.db.rules;
  }

  list(folder: number): StoredRule[] {
    const out: StoredRule[] = [];
    for (const { key, value } of this.db.getRange({ start: [folder, 0], end: [folder + 1] })) {
      out.push({ id: (key as [number, number])[1], props: decodePropBag(Buffer.from(value as Uint8Array)) });
    }
    return out;
  }

  has(folder: number): boolean {
    for (const _ of this.db.getKeys({ start: [folder, 0], end: [folder + 1], limit: 1 })) return true;
    return false;
  }

  get(folder: number, id: number): PropMap | undefined {
    const v = this.db.get([folder, id]) as Uint8Array | undefined;
    return v === undefined ? undefined : decodePropBag(Buffer.from(v));
  }

  nextId(): number {
    const n = ((this.db.get(['seq']) as number | undefined) ?? 0) + 1;
    this.db.putSync(['seq'], n);
    return n;
  }

  put(folder: number, id: number, props: PropMap): void {
    this.db.putSync([folder, id], encodePropBag(props));
  }

  remove(folder: number, id: number): boolean {
    if (this.db.get([folder, id]) === undefined) return false;
    this.db.removeSync([folder, id]);
    return true;
  }

  clear(folder: number): void {
    for (const r of this.list(folder)) this.db.removeSync([folder, r.id]);
  }
}
