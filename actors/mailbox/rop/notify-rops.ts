/** Notify ROPs (issue 8): filled in by their own change. */
import type { HandlerTable } from './rop-run.js';

export function registerNotifyRops(t: HandlerTable): void {
  void t;
}
