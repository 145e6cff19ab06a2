/** The actor kind the runtime benchmarks call. */
import { defineActorKind } from '../../runtime/actor.js';

export type BenchProtocol = {
  echo: { args: unknown; result: unknown };
  spin: { args: { ms: number }; result: number };
  bytes: { args: { data: Uint8Array }; result: { data: Uint8Array } };
};

export default defineActorKind<BenchProtocol>({
  create() {
    return {
      handlers: {
        echo: (a) => a,
        spin: ({ ms }) => {
          const until = performance.now() + ms;
          let n = 0;
          while (performance.now() < until) n++;
          return n;
        },
        bytes: ({ data }) => ({ data }),
      },
    };
  },
});
