/** The server side of the local control socket (see control-protocol.ts). */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import { CONTROL_COMMANDS, CONTROL_MAX_LINE, type ControlCommand, type ControlRequest, type ControlResponse } from './control-protocol.js';

export type ControlHandler = (cmd: ControlCommand, args: Record<string, unknown>) => Promise<unknown>;

export class ControlServer {
  private constructor(
    private readonly server: Server,
    readonly path: string,
  ) {}

  /** Fails when another live server already answers on the socket (same data folder). */
  static async listen(path: string, handler: ControlHandler, log: Logger): Promise<ControlServer> {
    if (existsSync(path)) {
      if (await isLive(path)) throw new Error(`another server is running with this data folder (control socket ${path} answers)`);
      unlinkSync(path);
    }
    const server = createServer((s) => serve(s, handler, log));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    return new ControlServer(server, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

/** Refuses to go on when another live server answers on this control socket (same data folder). */
export async function assertNoOtherServer(path: string): Promise<void> {
  if (existsSync(path) && (await isLive(path))) throw new Error(`another server is running with this data folder (control socket ${path} answers)`);
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function serve(socket: Socket, handler: ControlHandler, log: Logger): void {
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  const send = (r: ControlResponse) => socket.write(JSON.stringify(r) + '\n');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > CONTROL_MAX_LINE && !buf.includes('\n')) {
      send({ id: 0, ok: false, error: { code: 'TOO_LONG', detail: `request line over ${CONTROL_MAX_LINE} bytes` } });
      socket.end();
      return;
    }
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() === '') continue;
      let req: ControlRequest;
      try {
        req = JSON.parse(line) as ControlRequest;
      } catch {
        send({ id: 0, ok: false, error: { code: 'BAD_REQUEST', detail: 'not JSON' } });
        continue;
      }
      const id = typeof req.id === 'number' ? req.id : 0;
      if (!(CONTROL_COMMANDS as readonly string[]).includes(req.cmd)) {
        send({ id, ok: false, error: { code: 'UNKNOWN_COMMAND', detail: `unknown command ${JSON.stringify(req.cmd)}` } });
        continue;
      }
      const args = typeof req.args === 'object' && req.args !== null ? req.args : {};
      handler(req.cmd, args).then(
        (result) => send({ id, ok: true, result }),
        (err: unknown) => {
          const e = err as { code?: unknown; message?: unknown };
          log.debug({ err, cmd: req.cmd }, 'control command failed');
          send({ id, ok: false, error: { code: typeof e.code === 'string' ? e.code : 'FAILED', detail: typeof e.message === 'string' ? e.message : String(err) } });
        },
      );
    }
  });
}
