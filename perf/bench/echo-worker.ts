/** The raw postMessage baseline: echoes every message back (transferring buffers it got moved). */
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (m: { id: number; payload: unknown; transfer?: boolean }) => {
  if (m.transfer === true && m.payload instanceof Uint8Array) parentPort!.postMessage(m, [m.payload.buffer as ArrayBuffer]);
  else parentPort!.postMessage(m);
});
