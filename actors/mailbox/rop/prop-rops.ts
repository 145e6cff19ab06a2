/** Prop ROPs (issue 8): filled in by their own change. */
import type { HandlerTable } from './rop-run.js';

export function registerPropRops(t: HandlerTable): void {
  void t;
}
