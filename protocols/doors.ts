/**
 * Which door serves each listener: IMAP, POP3, SMTP / Submission / LMTP, and the HTTP door
 * (protocols/http/) for HTTP and HTTPS, whose router answers 503 on the paths of HTTP protocols
 * still to come (MAPI, RPC over HTTP, ActiveSync, DAV).
 */
import type { Logger } from 'pino';
import type { ListenerName } from '../runtime/config.js';
import type { Door } from './shared/listeners.js';
import { makeHttpDoor, type HttpDoorContext } from './http/make-door.js';
import type { SmtpDoors } from './smtp/smtp-door.js';
import type { Pop3Door } from './pop3/pop3-door.js';
import type { ImapDoor } from './imap/imap-door.js';

export interface DoorContext extends HttpDoorContext {
  hostname: string;
  log: Logger;
  /** Answers the health probe (a round trip through every worker). */
  health(): Promise<{ ok: boolean; detail: unknown }>;
  /** SMTP, Submission and LMTP (protocols/smtp/). */
  smtp: SmtpDoors;
  /** POP3 on both listeners (each session tells TLS from its socket). */
  pop3: Pop3Door;
  /** IMAP on both listeners (each session tells TLS from its socket; STARTTLS only on 143). */
  imap: ImapDoor;
}

export function makeDoors(ctx: DoorContext): Record<ListenerName, Door> {
  const imap: Door = { transport: 'tcp', handle: ctx.imap };
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
