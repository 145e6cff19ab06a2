/** The CLI's side of the control socket. */
import { connect } from 'node:net';
import type { ControlCommand, ControlResponse } from './control-protocol.js';

export class ControlUnavailable extends Error {}

/** Sends one command and returns its result; ControlUnavailable when no server listens. */
export function controlCall(path: string, cmd: ControlCommand, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer from the server within ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new ControlUnavailable(`no server is running (no answer on ${path})`));
      else reject(err);
    });
    s.on('connect', () => s.write(JSON.stringify({ id: 1, cmd, args }) + '\n'));
    s.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      s.end();
      const res = JSON.parse(buf.slice(0, nl)) as ControlResponse;
      if (res.ok) resolve(res.result);
      else reject(Object.assign(new Error(res.error.detail), { code: res.error.code }));
    });
  });
}
