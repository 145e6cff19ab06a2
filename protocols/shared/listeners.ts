/**
 * Binds every enabled listener (port = configured port + server.port_base) on the main thread
 * and hands accepted connections to their door. Implicit-TLS ports terminate TLS here.
 * A port that cannot be bound stops the start with a message naming the listener and port.
 */
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { LISTENER_NAMES, type Config, type ListenerName } from '../../runtime/config.js';
import type { TlsIdentity } from './tls.js';

/** How each listener speaks on accept. */
export const LISTENER_SHAPE: Record<ListenerName, { transport: 'tcp' | 'http'; implicitTls: boolean }> = {
  imap: { transport: 'tcp', implicitTls: false },
  imaps: { transport: 'tcp', implicitTls: true },
  pop3: { transport: 'tcp', implicitTls: false },
  pop3s: { transport: 'tcp', implicitTls: true },
  smtp: { transport: 'tcp', implicitTls: false },
  submission: { transport: 'tcp', implicitTls: false },
  submissions: { transport: 'tcp', implicitTls: true },
  lmtp: { transport: 'tcp', implicitTls: false },
  http: { transport: 'http', implicitTls: false },
  https: { transport: 'http', implicitTls: true },
};

export type TcpDoor = (socket: Socket | TLSSocket) => void;
/**
 * HTTP doors take the raw connection too (after TLS on https): the door reads the first request
 * line itself before any HTTP parser, because Node's rejects RPC over HTTP's methods.
 */
export type Door = { transport: 'tcp'; handle: TcpDoor } | { transport: 'http'; handle: TcpDoor };

export interface BoundListener {
  name: ListenerName;
  address: string;
  port: number;
  tls: boolean;
}

export class PortBindError extends Error {
  constructor(
    readonly listener: ListenerName,
    readonly port: number,
    readonly code: string,
  ) {
    const why = code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : code === 'EADDRINUSE' ? 'the port is already in use' : code;
    super(`cannot listen on port ${port} for ${listener}: ${why}. Try --port-base 10000 to move every listener up by 10000.`);
    this.name = 'PortBindError';
  }
}

/** Seconds a client may leave a TLS handshake unfinished. */
const TLS_HANDSHAKE_TIMEOUT_MS = 30_000;

export class Listeners {
  readonly bound: BoundListener[] = [];
  private readonly servers: TcpServer[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly log: Logger) {}

  static async bind(config: Config, tls: TlsIdentity, doors: Record<ListenerName, Door>, log: Logger): Promise<Listeners> {
    const ls = new Listeners(log);
    try {
      await Promise.all(
        LISTENER_NAMES.filter((n) => config.listeners[n].enabled).map((name) =>
          ls.bindOne(name, config.listeners[name].port === 0 ? 0 : config.listeners[name].port + config.server.port_base, config.server.bind, tls, doors[name]),
        ),
      );
    } catch (err) {
      await ls.close();
      throw err;
    }
    ls.bound.sort((a, b) => LISTENER_NAMES.indexOf(a.name) - LISTENER_NAMES.indexOf(b.name));
    return ls;
  }

  private bindOne(name: ListenerName, port: number, host: string, tls: TlsIdentity, door: Door): Promise<void> {
    const shape = LISTENER_SHAPE[name];
    // HTTP over TLS announces http/1.1 only (ALPN): HTTP/2 is not served.
    const alpn = door.transport === 'http' ? { ALPNProtocols: ['http/1.1'] } : {};
    const server: TcpServer = shape.implicitTls
      ? createTlsServer({ cert: tls.cert, key: tls.key, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS, ...alpn }, door.handle)
      : createTcpServer(door.handle);
    if (shape.implicitTls) server.on('tlsClientError', (err: Error) => this.log.debug({ listener: name, err: err.message }, 'TLS handshake failed'));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    this.servers.push(server);
    return new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(new PortBindError(name, port, err.code ?? err.message));
      server.once('error', onError);
      server.listen({ port, host }, () => {
        server.off('error', onError);
        server.on('error', (err: Error) => this.log.error({ listener: name, err }, 'listener error'));
        const addr = server.address();
        const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
        this.bound.push({ name, address: host, port: actual, tls: shape.implicitTls });
        resolve();
      });
    });
  }

  /** Stops accepting and closes open connections. */
  async close(): Promise<void> {
    const closed = this.servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (!s.listening) return resolve();
          s.close(() => resolve());
        }),
    );
    // server.close() waits for open connections: end them now.
    for (const s of this.sockets) s.destroy();
    await Promise.all(closed);
  }

  portOf(name: ListenerName): number | undefined {
    return this.bound.find((b) => b.name === name)?.port;
  }
}
