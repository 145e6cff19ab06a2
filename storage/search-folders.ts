/**
 * Search folders (MS-OXCFOLD, PidTagFolderType FOLDER_SEARCH): criteria are a restriction plus
 * scope folders (optionally with their subfolders). Matches are computed when the criteria are
 * set and kept current on every message write in scope, in the same transaction, so a search
 * folder's contents are always exact. Each match keeps its real parent folder.
 *
 * Keys: meta ['search', folder] → SearchCriteria; db.search [searchFolder, mid] → 1.
 */
import { actorError } from '../runtime/errors.js';
import type { MailboxStore } from './mailbox-store.js';
import { evaluate, fromWireRestriction, mapRow, type WireRestriction } from './restriction.js';
import { FolderType } from './prop-tags.js';
import type { PropMap } from './prop-bag.js';

export interface SearchCriteria {
  restriction: WireRestriction | null;
  scope: number[];
  recursive: boolean;
}

/** SearchFlags of RopGetSearchCriteria (MS-OXCFOLD 2.2.1.5.2): running, rebuild, recursive... */
export const SearchState = {
  SEARCH_RUNNING: 0x00000001,
  SEARCH_REBUILD: 0x00000002,
  SEARCH_RECURSIVE: 0x00000004,
  SEARCH_COMPLETE: 0x00001000,
} as const;

export interface MessageView {
  folder: number;
  props: PropMap;
  recipients: PropMap[];
  attachments: PropMap[];
}

export class SearchFolders {
  constructor(
    private readonly mbx: MailboxStore,
    private readonly view: (mid: number) => MessageView | undefined,
    private readonly contents: (folder: number) => number[],
  ) {}

  private get db() {
    return this.mbx.env.db;
  }

  private list(): number[] {
    return (this.db.meta.get('searchFolders') as number[] | undefined) ?? [];
  }

  criteria(folder: number): SearchCriteria | undefined {
    return this.db.meta.get(['search', folder]) as SearchCriteria | undefined;
  }

  /** Folders a search covers (its scope, and their subfolders when recursive). */
  private scopeOf(c: SearchCriteria): Set<number> {
    const out = new Set<number>();
    const walk = (f: number) => {
      if (out.has(f) || this.mbx.folder(f) === undefined) return;
      out.add(f);
      if (c.recursive) for (const child of this.mbx.children(f)) walk(child);
    };
    for (const f of c.scope) walk(f);
    return out;
  }

  private matches(c: SearchCriteria, mid: number): boolean {
    const v = this.view(mid);
    if (v === undefined) return false;
    if (c.restriction === null) return true;
    return evaluate(fromWireRestriction(c.restriction), mapRow(v.props, { recipients: v.recipients, attachments: v.attachments }));
  }

  /**
   * The matches of criteria over their scope, computed outside any write transaction in slices
   * of at most `sliceMs`, yielding between slices (a large scope must not stall the worker).
   * The caller then stores them with setCriteria(folder, c, matches).
   */
  async evaluateSliced(folder: number, c: SearchCriteria, sliceMs: number): Promise<number[]> {
    this.validate(folder, c);
    const out: number[] = [];
    let slice = performance.now();
    for (const f of this.scopeOf(c)) {
      for (const mid of this.contents(f)) {
        if (this.matches(c, mid)) out.push(mid);
        if (performance.now() - slice >= sliceMs) {
          await new Promise((r) => setImmediate(r));
          slice = performance.now();
        }
      }
    }
    return out;
  }

  private validate(folder: number, c: SearchCriteria): void {
    const rec = this.mbx.mustFolder(folder);
    if (rec.type !== FolderType.FOLDER_SEARCH) throw actorError('ecNotSearchFolder', 'criteria can only be set on a search folder');
    for (const f of c.scope) {
      const s = this.mbx.folder(f);
      if (s === undefined) throw actorError('ecNotFound', `no scope folder ${f}`);
      if (s.type === FolderType.FOLDER_SEARCH) throw actorError('ecInvalidParam', 'a search folder cannot search another search folder');
    }
    if (c.restriction !== null) {
      try {
        fromWireRestriction(c.restriction);
      } catch (err) {
        throw actorError('ecTooComplex', (err as Error).message);
      }
    }
  }

  /**
   * RopSetSearchCriteria: stores the criteria and the matches (computed here unless given, as
   * evaluateSliced gives them), in the caller's write transaction.
   */
  setCriteria(folder: number, c: SearchCriteria, precomputed?: readonly number[]): number {
    this.validate(folder, c);
    this.db.meta.putSync(['search', folder], c);
    if (!this.list().includes(folder)) this.db.meta.putSync('searchFolders', [...this.list(), folder]);
    for (const { key } of this.db.search.getRange({ start: [folder], end: [folder + 1] })) this.db.search.removeSync(key);
    if (precomputed !== undefined) {
      for (const mid of precomputed) this.db.search.putSync([folder, mid], 1);
      return precomputed.length;
    }
    let n = 0;
    for (const f of this.scopeOf(c)) {
      for (const mid of this.contents(f)) {
        if (this.matches(c, mid)) {
          this.db.search.putSync([folder, mid], 1);
          n++;
        }
      }
    }
    return n;
  }

  /** The messages a search folder holds. */
  results(folder: number): number[] {
    return [...this.db.search.getRange({ start: [folder], end: [folder + 1] })].map((e) => (e.key as [number, number])[1]);
  }

  state(folder: number): number {
    const c = this.criteria(folder);
    if (c === undefined) return 0;
    return SearchState.SEARCH_COMPLETE | (c.recursive ? SearchState.SEARCH_RECURSIVE : 0);
  }

  /**
   * Called after a message was written, moved in, or removed: brings every search folder whose
   * scope covers it up to date. Returns the search folders whose membership changed.
   */
  messageChanged(mid: number, folder: number): { folder: number; added: boolean }[] {
    const changed: { folder: number; added: boolean }[] = [];
    for (const sf of this.list()) {
      const c = this.criteria(sf);
      if (c === undefined) continue;
      const inScope = this.scopeOf(c).has(folder);
      const was = this.db.search.get([sf, mid]) !== undefined;
      const now = inScope && this.matches(c, mid);
      if (now && !was) {
        this.db.search.putSync([sf, mid], 1);
        changed.push({ folder: sf, added: true });
      } else if (!now && was) {
        this.db.search.removeSync([sf, mid]);
        changed.push({ folder: sf, added: false });
      }
    }
    return changed;
  }

  /** A message is gone: drop it from every search folder; returns the folders it left. */
  messageRemoved(mid: number): number[] {
    const left: number[] = [];
    for (const sf of this.list()) {
      if (this.db.search.get([sf, mid]) !== undefined) {
        this.db.search.removeSync([sf, mid]);
        left.push(sf);
      }
    }
    return left;
  }
}
