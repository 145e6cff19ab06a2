/** A tiny actor the health probe calls, proving a round trip through a worker's ring works. */
import { defineActorKind } from '../../runtime/actor.js';

export type HealthProtocol = {
  ping: { args: null; result: { worker: number; at: number } };
};

export default defineActorKind<HealthProtocol>({
  readOnly: ['ping'],
  create(ctx) {
    return { handlers: { ping: () => ({ worker: ctx.workerIndex, at: Date.now() }) } };
  },
});
