/**
 * Socket plumbing the line-based doors (IMAP, POP3) share: waiting for room in the socket's
 * buffer, ending a connection gracefully, and turning a plain connection into TLS after a
 * STARTTLS / STLS answer.
 */
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';

/** Resolves once the socket's buffer has room again (or it is gone). */
export function whenDrained(sock: Socket): Promise<void> {
  if (!sock.writableNeedDrain || sock.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.on('drain', done);
    sock.on('close', done);
  });
}

/** Ends the connection after what was written; a client that does not read it is cut after `lingerMs`. */
export function endGracefully(sock: Socket, lingerMs: number): void {
  sock.end();
  setTimeout(() => sock.destroy(), lingerMs).unref();
}

export interface TlsUpgrade {
  /** The raw socket's own close / error listeners, moved to the TLS socket. */
  onClose: () => void;
  onError: (err: Error) => void;
  /** Called with the TLS socket at once (before the handshake): the session writes to it from now on. */
  wrapped(secure: TLSSocket): void;
  /** Called once the handshake is done: the session listens again. */
  secured(secure: TLSSocket): void;
}

/**
 * Sends `okLine` in clear, then continues the same connection under TLS (RFC 3207 / 2595 /
 * 3501 6.2.1). The caller stopped reading from `raw` and discarded anything pipelined behind the
 * command first (nothing learnt before TLS may act after it). Resolves when the answer is written.
 */
export function upgradeToTls(raw: Socket, okLine: Buffer, secureContext: SecureContext, handshakeMs: number, h: TlsUpgrade): Promise<void> {
  return new Promise<void>((resolve) => {
    // The handshake starts once the answer has left: bytes queued before the wrap go out in clear.
    raw.write(okLine, (e) => {
      resolve();
      if ((e !== undefined && e !== null) || raw.destroyed) return;
      raw.off('close', h.onClose);
      raw.off('error', h.onError);
      raw.on('error', () => undefined); // the TLS socket reports; the raw one must not crash the process
      const secure = new TLSSocket(raw, { isServer: true, secureContext });
      const timer = setTimeout(() => secure.destroy(), handshakeMs);
      h.wrapped(secure);
      secure.once('close', () => clearTimeout(timer));
      secure.once('secure', () => {
        clearTimeout(timer);
        h.secured(secure);
      });
    });
  });
}
