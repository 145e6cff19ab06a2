/**
 * Port bases for test servers. Every listener binds base + a standard port below 1000, so bases
 * a multiple of 1000 apart never overlap. Each call takes the next block of 1000 for this
 * process (test files run in parallel processes, and tests in one file concurrently), starting
 * from a block derived from the process id, and checks the ports are free.
 */
import { createServer } from 'node:net';

const STANDARD_PORTS = [143, 993, 110, 995, 25, 587, 465, 24, 80, 443];
const FIRST_BASE = 20_000;
const BLOCKS = 40; // 20000 .. 59000
let next = (process.pid * 7) % BLOCKS;

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1' }, () => s.close(() => resolve(true)));
  });
}

export async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < BLOCKS; attempt++) {
    const base = FIRST_BASE + (next++ % BLOCKS) * 1000;
    const ok = await Promise.all(STANDARD_PORTS.map((p) => free(base + p)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free port base found');
}
