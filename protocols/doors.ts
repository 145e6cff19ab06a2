/**
 * Which door serves each listener. Protocols that are not built yet answer with their own
 * protocol's "service not available" words (IMAP BYE, POP3 -ERR, SMTP/LMTP 421, HTTP 503),
 * so clients get a clear, correct refusal instead of a hang; each protocol issue replaces its
 * entry here with the real door.
 */
import type { Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ListenerName } from '../runtime/config.js';
import type { Door } from './shared/listeners.js';

export interface DoorContext {
  hostname: string;
  log: Logger;
  /** Answers the health probe (a round trip through every worker). */
  health(): Promise<{ ok: boolean; detail: unknown }>;
}

/** How long a refused connection stays open to flush its goodbye line. */
const GOODBYE_LINGER_MS = 2000;

function sayGoodbye(line: string): Door {
  return {
    transport: 'tcp',
    handle(socket: Socket) {
      socket.on('error', () => undefined);
      socket.end(line);
      setTimeout(() => socket.destroy(), GOODBYE_LINGER_MS).unref();
    },
  };
}

function httpDoor(ctx: DoorContext): Door {
  return {
    transport: 'http',
    handle(req: IncomingMessage, res: ServerResponse) {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
        ctx.health().then(
          (h) => {
            const body = JSON.stringify({ status: h.ok ? 'ok' : 'degraded', ...(h.detail as object) });
            res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
            res.end(req.method === 'HEAD' ? undefined : body);
          },
          (err: unknown) => {
            ctx.log.error({ err }, 'health probe failed');
            res.writeHead(503, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ status: 'down' }));
          },
        );
        return;
      }
      req.resume();
      const body = `${ctx.hostname}: ${req.method} ${path} is not served by this build yet.\n`;
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '3600' });
      res.end(body);
    },
  };
}

export function makeDoors(ctx: DoorContext): Record<ListenerName, Door> {
  const h = ctx.hostname;
  const imap = sayGoodbye(`* BYE [UNAVAILABLE] ${h} IMAP is not served by this build yet\r\n`);
  const pop3 = sayGoodbye(`-ERR [SYS/PERM] ${h} POP3 is not served by this build yet\r\n`);
  const smtp = sayGoodbye(`421 4.3.2 ${h} Service not available: SMTP is not served by this build yet\r\n`);
  const http = httpDoor(ctx);
  return {
    imap,
    imaps: imap,
    pop3,
    pop3s: pop3,
    smtp,
    submission: smtp,
    submissions: smtp,
    lmtp: smtp,
    http,
    https: http,
  };
}
