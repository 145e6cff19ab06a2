/** Folder ROPs (issue 8): filled in by their own change. */
import type { HandlerTable } from './rop-run.js';

export function registerFolderRops(t: HandlerTable): void {
  void t;
}
