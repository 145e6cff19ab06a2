/** Finds a port base under which every standard listener port is free on 127.0.0.1. */
import { createServer } from 'node:net';

const STANDARD_PORTS = [143, 993, 110, 995, 25, 587, 465, 24, 80, 443];

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1' }, () => s.close(() => resolve(true)));
  });
}

export async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 400) * 100;
    const ok = await Promise.all(STANDARD_PORTS.map((p) => free(base + p)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free port base found');
}
