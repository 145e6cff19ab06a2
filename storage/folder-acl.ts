/**
 * Folder permissions (MS-OXCPERM): each folder's permissions list, kept in the mailbox's `acl`
 * key space. A member is an address-book user named by legacy DN (the directory lives on the
 * main thread; the mailbox keeps the DN and the name it was given), or one of the two reserved
 * entries: Default (member id 0: everyone without an entry of their own) and Anonymous (member id
 * -1, 0xFFFFFFFFFFFFFFFF on the wire). A reserved entry that was never written has no rights.
 *
 * Keys (schema.ts):
 *   ['f', folder, member id] → { dn, name, rights }   the folder's list, in member id order
 *   ['m', lower-cased dn, folder] → rights          the member's folders ('' for Default entries),
 *                                                  so "does any folder grant this user anything"
 *                                                  (RopLogon of an ACL caller) is one range read
 *   ['seq'] → the last member id given              ids are never reused within a mailbox
 * Writes run inside the caller's write transaction (sync puts).
 */
import type { MailboxEnv } from './mailbox-env.js';

/** The reserved member ids (MS-OXCPERM 2.2.5). */
export const DEFAULT_MEMBER = 0;
export const ANONYMOUS_MEMBER = -1;

/** The free/busy bits of PidTagMemberRights (they apply to the Calendar only, MS-OXCPERM 2.2.7). */
export const FREE_BUSY_RIGHTS = 0x00001800;

/** Above every folder id (range ends). */
const MAX_ID = 2 ** 53;

export interface AclEntry {
  /** Member id: 0 Default, -1 Anonymous, else a positive id this mailbox gave. */
  id: number;
  /** The member's legacy DN ('' for the reserved entries). */
  dn: string;
  /** PidTagMemberName as given when the member was added. */
  name: string;
  rights: number;
}

interface Stored {
  dn: string;
  name: string;
  rights: number;
}

export class FolderAcl {
  constructor(private readonly env: MailboxEnv) {}

  private get db() {
    return this.env.db.acl;
  }

  /** The stored entries of a folder, in member id order (Anonymous first when stored). */
  list(folder: number): AclEntry[] {
    const out: AclEntry[] = [];
    for (const { key, value } of this.db.getRange({ start: ['f', folder, -2], end: ['f', folder + 1] })) {
      const k = key as [string, number, number];
      const v = value as Stored;
      out.push({ id: k[2], dn: v.dn, name: v.name, rights: v.rights });
    }
    return out;
  }

  get(folder: number, id: number): AclEntry | undefined {
    const v = this.db.get(['f', folder, id]) as Stored | undefined;
    return v === undefined ? undefined : { id, dn: v.dn, name: v.name, rights: v.rights };
  }

  /** The member entry of a user on a folder (by legacy DN), if they have one. */
  byDn(folder: number, dn: string): AclEntry | undefined {
    if (dn === '') return undefined;
    for (const e of this.list(folder)) if (e.id > 0 && e.dn.toLowerCase() === dn.toLowerCase()) return e;
    return undefined;
  }

  /**
   * A user's rights on a folder: their own entry's when they have one, else the Default entry's
   * (MS-OXCPERM 3.2.5.x: the Default user stands for every user not in the list).
   */
  rightsOf(folder: number, dn: string): number {
    if (dn !== '') {
      const own = this.db.get(['m', dn.toLowerCase(), folder]) as number | undefined;
      if (own !== undefined) return own;
    }
    return (this.db.get(['f', folder, DEFAULT_MEMBER]) as Stored | undefined)?.rights ?? 0;
  }

  /**
   * Whether some folder gives this user (through their entry, or the Default entry where they
   * have none) a right beyond free/busy. `exists` leaves out folders that are gone.
   */
  grantsAnything(dn: string, exists: (folder: number) => boolean): boolean {
    const lower = dn.toLowerCase();
    const own = new Map<number, number>();
    if (lower !== '') {
      for (const { key, value } of this.db.getRange({ start: ['m', lower], end: ['m', lower, MAX_ID] })) {
        const k = key as [string, string, number];
        if (k[1] !== lower) continue;
        own.set(k[2], value as number);
        if (((value as number) & ~FREE_BUSY_RIGHTS) !== 0 && exists(k[2])) return true;
      }
    }
    for (const { key, value } of this.db.getRange({ start: ['m', ''], end: ['m', '', MAX_ID] })) {
      const k = key as [string, string, number];
      if (k[1] !== '' || own.has(k[2])) continue;
      if (((value as number) & ~FREE_BUSY_RIGHTS) !== 0 && exists(k[2])) return true;
    }
    return false;
  }

  /** A new member id (never given before in this mailbox). */
  nextId(): number {
    const n = ((this.db.get(['seq']) as number | undefined) ?? 0) + 1;
    this.db.putSync(['seq'], n);
    return n;
  }

  /** Writes an entry (its index with it). */
  put(folder: number, e: AclEntry): void {
    const old = this.get(folder, e.id);
    if (old !== undefined && old.dn.toLowerCase() !== e.dn.toLowerCase()) this.removeIndex(folder, old);
    this.db.putSync(['f', folder, e.id], { dn: e.dn, name: e.name, rights: e.rights } satisfies Stored);
    if (e.id > 0 || e.id === DEFAULT_MEMBER) this.db.putSync(['m', e.id === DEFAULT_MEMBER ? '' : e.dn.toLowerCase(), folder], e.rights);
  }

  remove(folder: number, id: number): boolean {
    const old = this.get(folder, id);
    if (old === undefined) return false;
    this.db.removeSync(['f', folder, id]);
    this.removeIndex(folder, old);
    return true;
  }

  /** Every entry of a folder (a deleted folder's list, or ReplaceRows keeping `keep`). */
  clear(folder: number, keep: (e: AclEntry) => boolean = () => false): void {
    for (const e of this.list(folder)) if (!keep(e)) this.remove(folder, e.id);
  }

  private removeIndex(folder: number, e: AclEntry): void {
    if (e.id > 0) this.db.removeSync(['m', e.dn.toLowerCase(), folder]);
    else if (e.id === DEFAULT_MEMBER) this.db.removeSync(['m', '', folder]);
  }
}
