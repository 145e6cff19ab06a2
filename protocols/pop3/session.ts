/**
 * One POP3 connection: reads lines (receiver.ts), gates each command by the command table
 * (state, arguments, credentials before TLS, limits), runs its handler, and writes its reply.
 *
 * Commands run one at a time in arrival order, so pipelining (RFC 2449 §6.6) is just reading
 * ahead: while a command waits for the store, further input is buffered up to
 * `pendingInputBytes`, then the socket is paused. Replies of commands that complete at once are
 * written corked (one TLS record / segment for a pipelined burst); the cork is released before
 * anything waits. Long replies (RETR, TOP, big listings) go out in chunks and wait for 'drain'
 * when the socket's buffer is full, so a slow reader holds at most about one chunk here.
 *
 * STLS: the "+OK" is flushed, everything the client pipelined behind STLS is dropped, and the
 * same TCP connection continues under TLS from a fresh AUTHORIZATION state (RFC 2595 §4).
 */
import { endGracefully, upgradeToTls, whenDrained } from '../shared/socket-io.js';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { LineReceiver } from './receiver.js';
import { parseCommandLine, type CommandLine } from './command-line.js';
import { COMMANDS, type ArgSpec } from './command-table.js';
import { challengeLine, statusLine, TERMINATOR, type Reply } from './replies.js';
import { replies } from './errors.js';
import { stuffedSegments } from './message-bytes.js';
import { continueSasl } from './commands/auth.js';
import { GOODBYE_LINGER_MS, OUTPUT_CHUNK_BYTES } from './limits.js';
import { credentialsAllowed, type CommandContext, type DoorDeps, type State } from './session-state.js';

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}

function argsFor(spec: ArgSpec, c: Extract<CommandLine, { kind: 'command' }>): string[] | null {
  if ('rest' in spec) return c.rest === '' ? null : [c.rest];
  return c.args.length >= spec.min && c.args.length <= spec.max ? c.args : null;
}

export class Pop3Session implements CommandContext {
  state: State = { kind: 'authorization', user: null };
  authFailures = 0;
  tls: boolean;
  readonly log: Logger;
  readonly remote: string;
  private socket: Socket;
  private readonly rx: LineReceiver;
  /** The command loop is running (a later 'data' only buffers). */
  private running = false;
  /** Reading is paused because too much input waits. */
  private paused = false;
  /** The socket is corked by the command loop. */
  private corked = false;
  /** A goodbye was written (or the connection is being dropped): nothing more is read. */
  private ending = false;
  private badCommands = 0;
  private commandsBeforeAuth = 0;

  constructor(
    readonly door: DoorDeps,
    socket: Socket,
    id: number,
  ) {
    this.socket = socket;
    this.tls = socket instanceof TLSSocket && socket.encrypted;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.log = door.log.child({ pop3: id });
    this.rx = new LineReceiver(door.limits.lineBytes);
    this.watch(socket);
    this.listen(socket);
    socket.write(statusLine({ kind: 'ok', text: replies.greeting(door.hostname) }));
  }

  // ---------------------------------------------------------------- socket events

  private watch(sock: Socket): void {
    sock.on('error', this.onError);
    sock.once('close', this.onClose);
  }

  private listen(sock: Socket): void {
    sock.setNoDelay(true);
    sock.setTimeout(this.door.limits.idleMs);
    sock.on('timeout', this.onTimeout);
    sock.on('data', this.onData);
  }

  private unlisten(sock: Socket): void {
    sock.setTimeout(0);
    sock.off('timeout', this.onTimeout);
    sock.off('data', this.onData);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.ending) return;
    this.rx.push(chunk);
    if (this.running) {
      if (!this.paused && this.rx.buffered > this.door.limits.pendingInputBytes) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    void this.drive();
  };

  /** RFC 1939 §3: the autologout closes without a reply and without the UPDATE state. */
  private readonly onTimeout = (): void => {
    this.log.debug({ remote: this.remote, state: this.state.kind }, 'POP3 idle autologout');
    this.ending = true;
    this.socket.destroy();
  };

  private readonly onError = (e: Error): void => {
    this.log.debug({ remote: this.remote, err: e.message }, 'POP3 socket error');
  };

  private readonly onClose = (): void => {
    if (this.state.kind === 'transaction') {
      const marked = this.state.drop.messages.filter((m) => m.deleted).length;
      this.log.debug({ remote: this.remote, marked }, 'POP3 connection closed without QUIT: nothing deleted');
    }
    this.state = { kind: 'closed' };
    this.ending = true;
  };

  // ---------------------------------------------------------------- the command loop

  private async drive(): Promise<void> {
    this.running = true;
    try {
      while (!this.ending) {
        const r = this.rx.next();
        if (r.kind === 'needMore') break;
        this.cork();
        let reply: Reply;
        if (r.kind === 'tooLong') {
          reply = this.lineTooLong();
        } else {
          // The line is a view valid until the next push: dispatch reads it before it awaits anything.
          const pending = this.dispatch(r.line);
          if (pending instanceof Promise) {
            this.uncork();
            reply = await pending;
          } else reply = pending;
        }
        if (this.state.kind === 'closed') break;
        await this.send(reply);
      }
    } catch (e) {
      // Handlers turn store errors into replies: what lands here is a bug.
      this.log.error({ err: e, remote: this.remote }, 'POP3 session failed');
      if (this.state.kind !== 'closed') this.socket.end(statusLine({ kind: 'err', code: 'SYS/TEMP', text: 'internal error, closing connection' }));
      this.ending = true;
    } finally {
      this.uncork();
      this.running = false;
    }
    if (this.paused && !this.ending) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private dispatch(line: Buffer): Reply | Promise<Reply> {
    const st = this.state;
    if (st.kind === 'sasl') return continueSasl(this, line.toString('latin1'));
    if (st.kind !== 'authorization' && st.kind !== 'transaction') return replies.malformed(); // not reached: nothing is read then
    const c = parseCommandLine(line);
    if (st.kind === 'authorization' && ++this.commandsBeforeAuth > this.door.limits.commandsBeforeAuth) return replies.tooManyBeforeAuth();
    if (c.kind === 'empty') return this.bad(replies.empty());
    if (c.kind === 'malformed') return this.bad(replies.malformed());
    const spec = COMMANDS.get(c.verb);
    if (spec === undefined) return this.bad(replies.unknownCommand(c.verb));
    const usage = () => this.bad(replies.usage(c.verb, spec.args.usage));
    switch (spec.in) {
      case 'any': {
        const args = argsFor(spec.args, c);
        return args === null ? usage() : spec.run(this, args);
      }
      case 'authorization': {
        if (st.kind !== 'authorization') return this.bad(replies.wrongState(c.verb, true));
        const args = argsFor(spec.args, c);
        if (args === null) return usage();
        if (spec.credentials && !credentialsAllowed(this)) return replies.tlsFirst();
        return spec.run(this, st, args);
      }
      case 'transaction': {
        if (st.kind !== 'transaction') return this.bad(replies.wrongState(c.verb, false));
        const args = argsFor(spec.args, c);
        return args === null ? usage() : spec.run(this, st, args);
      }
      default:
        return assertNever(spec);
    }
  }

  private bad(r: Reply): Reply {
    return ++this.badCommands >= this.door.limits.badCommands ? replies.tooManyBad() : r;
  }

  private lineTooLong(): Reply {
    const r = replies.lineTooLong(this.door.limits.lineBytes);
    if (this.state.kind === 'sasl') {
      // RFC 5034 §4: a failed exchange is answered -ERR; the client starts over.
      this.state = { kind: 'authorization', user: null };
      return r;
    }
    return this.bad(r);
  }

  // ---------------------------------------------------------------- output

  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  /** Resolves once the socket's buffer has room again (or it is gone). */
  private drained(): Promise<void> {
    return whenDrained(this.socket);
  }

  private put(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  /**
   * Back-pressure: once a chunk's worth waits in the socket's buffer, it is flushed (uncorked)
   * and the reply waits for 'drain' before producing more.
   */
  private async pace(): Promise<void> {
    if (this.socket.writableLength < OUTPUT_CHUNK_BYTES) return;
    const wasCorked = this.corked;
    this.uncork();
    await this.drained();
    if (wasCorked && !this.socket.destroyed) this.cork();
  }

  /** Writes a reply. The socket stays corked (the loop uncorks when it waits or runs dry): a reply and the next ones leave together. */
  private async send(r: Reply): Promise<void> {
    this.cork();
    switch (r.kind) {
      case 'ok':
      case 'err':
        if (r.after === 'starttls') return this.startTls(statusLine(r));
        this.put(statusLine(r));
        if (r.after === 'close') this.goodbye();
        return this.pace();
      case 'challenge':
        this.put(challengeLine(r.base64));
        return this.pace();
      case 'lines':
        return this.sendLines(r.text, r.lines);
      case 'message':
        return this.sendMessage(r.text, r.bytes, r.end);
      default:
        return assertNever(r);
    }
  }

  private async sendLines(text: string, lines: readonly string[]): Promise<void> {
    let batch = statusLine({ kind: 'ok', text }).toString('utf8');
    for (const l of lines) {
      // Byte-stuffing (RFC 1939 §3); listings never start with "." but CAPA lines could one day.
      batch += l.charCodeAt(0) === 0x2e ? `.${l}\r\n` : `${l}\r\n`;
      if (batch.length >= OUTPUT_CHUNK_BYTES) {
        this.put(Buffer.from(batch, 'utf8'));
        batch = '';
        await this.pace();
      }
    }
    this.put(Buffer.from(`${batch}.\r\n`, 'utf8'));
    await this.pace();
  }

  private async sendMessage(text: string, bytes: Buffer, end: number): Promise<void> {
    this.put(statusLine({ kind: 'ok', text }));
    for (const segments of stuffedSegments(bytes, end, OUTPUT_CHUNK_BYTES)) {
      for (const seg of segments) {
        if (this.socket.destroyed) return;
        if (seg.length <= OUTPUT_CHUNK_BYTES) this.put(seg);
        // A line longer than a chunk still goes out in chunk-sized pieces.
        else for (let at = 0; at < seg.length; at += OUTPUT_CHUNK_BYTES) {
          this.put(seg.subarray(at, at + OUTPUT_CHUNK_BYTES));
          await this.pace();
        }
      }
      await this.pace();
    }
    this.put(TERMINATOR);
    await this.pace();
  }

  /** Ends the connection after the last reply; a client that does not read it is cut after a while. */
  private goodbye(): void {
    this.ending = true;
    this.uncork();
    endGracefully(this.socket, GOODBYE_LINGER_MS);
  }

  // ---------------------------------------------------------------- STLS

  private startTls(okLine: Buffer): Promise<void> {
    const raw = this.socket;
    this.unlisten(raw);
    raw.pause();
    const dropped = this.rx.discard();
    if (dropped > 0) this.log.info({ remote: this.remote, bytes: dropped }, 'POP3: input pipelined after STLS discarded');
    this.uncork();
    return upgradeToTls(raw, okLine, this.door.secureContext, this.door.limits.tlsHandshakeMs, {
      onClose: this.onClose,
      onError: this.onError,
      wrapped: (secure) => {
        this.socket = secure;
        this.watch(secure);
      },
      secured: (secure) => {
        this.tls = true;
        // RFC 2595 §4: what was learnt before TLS (the USER name) is forgotten.
        this.state = { kind: 'authorization', user: null };
        this.listen(secure);
      },
    });
  }
}
