/** Stream ROPs (issue 8): filled in by their own change. */
import type { HandlerTable } from './rop-run.js';

export function registerStreamRops(t: HandlerTable): void {
  void t;
}
