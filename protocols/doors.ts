/**
 * Which door serves each listener. Protocols that are not built yet answer with their own
 * protocol's "service not available" words (IMAP BYE), so clients get
 * a clear, correct refusal instead of a hang; each protocol issue replaces its entry here with
 * the real door. HTTP and HTTPS go to the HTTP door (protocols/http/), whose router answers
 * 503 on the paths of HTTP protocols still to come.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerName } from '../runtime/config.js';
import type { Door } from './shared/listeners.js';
import { makeHttpDoor, type HttpDoorContext } from './http/make-door.js';
import type { SmtpDoors } from './smtp/smtp-door.js';
import type { Pop3Door } from './pop3/pop3-door.js';

export interface DoorContext extends HttpDoorContext {
  hostname: string;
  log: Logger;
  /** Answers the health probe (a round trip through every worker). */
  health(): Promise<{ ok: boolean; detail: unknown }>;
  /** SMTP, Submission and LMTP (protocols/smtp/). */
  smtp: SmtpDoors;
  /** POP3 on both listeners (each session tells TLS from its socket). */
  pop3: Pop3Door;
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

export function makeDoors(ctx: DoorContext): Record<ListenerName, Door> {
  const h = ctx.hostname;
  const imap = sayGoodbye(`* BYE [UNAVAILABLE] ${h} IMAP is not served by this build yet\r\n`);
  const pop3: Door = { transport: 'tcp', handle: ctx.pop3 };
  // One HTTP door for both listeners: HTTPS carries every HTTP protocol, plain HTTP redirects.
  const web = makeHttpDoor(ctx);
  return {
    imap,
    imaps: imap,
    pop3,
    pop3s: pop3,
    smtp: { transport: 'tcp', handle: ctx.smtp.handler('inbound') },
    submission: { transport: 'tcp', handle: ctx.smtp.handler('submission') },
    submissions: { transport: 'tcp', handle: ctx.smtp.handler('submissions') },
    lmtp: { transport: 'tcp', handle: ctx.smtp.handler('lmtp') },
    http: { transport: 'http', handle: (socket) => web.handleConnection(socket, 'http') },
    https: { transport: 'http', handle: (socket) => web.handleConnection(socket, 'https') },
  };
}
