/**
 * One IMAP connection: reads commands (receiver.ts), gates each by the command table (state),
 * runs its handler, and writes its responses.
 *
 * Commands run one at a time in arrival order; pipelined commands are read ahead (up to a limit,
 * then the socket is paused). A handler reads all its arguments before it first waits: a command
 * is a view into the receive buffer, valid until the next bytes arrive. Responses of commands
 * that complete at once leave corked together; a long response (a large FETCH) is flushed in
 * pieces and waits for 'drain', so a slow reader holds about OUTPUT_HIGH_WATER here.
 *
 * The selected mailbox is kept current by the mailbox actor's events: an event marks the view
 * dirty, and the next command that touches the mailbox (or IDLE at once) asks what changed.
 */
import { endGracefully, upgradeToTls, whenDrained } from '../shared/socket-io.js';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { Receiver } from './receiver.js';
import { Reader } from './parser/reader.js';
import { COMMANDS, readHead } from './command-table.js';
import { ResponseWriter } from './response/writer.js';
import { bad, receiverErrorText, texts } from './errors.js';
import { GOODBYE_LINGER_MS, IDLE_COALESCE_MS, IDLE_KEEPALIVE_MS, OUTPUT_HIGH_WATER } from './limits.js';
import { capabilityList } from './commands/capability.js';
import { syncView } from './commands/sync.js';
import type { CommandContext, Completion, DoorDeps, State } from './session-state.js';

/** Input waiting behind a running command before the socket is paused. */
const PENDING_INPUT_BYTES = 256 * 1024;

export class ImapSession implements CommandContext {
  state: State = { kind: 'notAuthenticated' };
  tls: boolean;
  tag = '*';
  readonly out = new ResponseWriter();
  readonly enabled = new Set<string>();
  authFailures = 0;
  readonly log: Logger;
  readonly remote: string;
  private socket: Socket;
  private readonly rx: Receiver;
  private running = false;
  private paused = false;
  private corked = false;
  private ending = false;
  private badCommands = 0;
  /** Set while a handler waits for a line (IDLE's DONE, an AUTHENTICATE response). */
  private lineWaiter: (() => void) | null = null;
  /** Set while IDLE waits: called when the mailbox changed. */
  private idleWake: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  private slotUser: string | null = null;

  constructor(
    readonly door: DoorDeps,
    socket: Socket,
    id: number,
  ) {
    this.socket = socket;
    this.tls = socket instanceof TLSSocket && socket.encrypted;
    this.remote = socket.remoteAddress ?? '?';
    this.log = door.log.child({ imap: id });
    this.rx = new Receiver(door.limits);
    socket.on('error', this.onError);
    socket.once('close', this.onClose);
    this.listen(socket);
    socket.setTimeout(door.limits.preAuthMs);
    socket.write(`* OK [CAPABILITY ${capabilityList(this)}] ${texts.greeting(door.hostname)}\r\n`);
  }

  capabilities(): string {
    return capabilityList(this);
  }

  // ---------------------------------------------------------------- state

  setState(s: State): void {
    const prev = this.state;
    if (prev.kind === 'notAuthenticated' && s.kind === 'authenticated') {
      this.socket.setTimeout(this.door.limits.idleMs);
      this.slotUser = s.user.id;
    }
    if (prev.kind === 'selected' && (s.kind !== 'selected' || s.view !== prev.view)) {
      this.unsubscribe?.();
      this.unsubscribe = null;
    }
    if (s.kind === 'selected' && (prev.kind !== 'selected' || prev.view !== s.view)) {
      const view = s.view;
      this.unsubscribe = s.mailbox.subscribe(() => {
        view.dirty = true;
        this.idleWake?.();
      });
    }
    this.state = s;
  }

  // ---------------------------------------------------------------- socket events

  private listen(sock: Socket): void {
    sock.setNoDelay(true);
    sock.on('timeout', this.onTimeout);
    sock.on('data', this.onData);
  }

  private unlisten(sock: Socket): void {
    sock.off('timeout', this.onTimeout);
    sock.off('data', this.onData);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.ending) return;
    this.rx.push(chunk);
    if (this.lineWaiter !== null) {
      this.lineWaiter();
      return;
    }
    if (this.running) {
      if (!this.paused && this.rx.buffered > PENDING_INPUT_BYTES) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    void this.drive();
  };

  private readonly onTimeout = (): void => {
    this.log.debug({ remote: this.remote, state: this.state.kind }, 'IMAP autologout');
    this.bye(this.state.kind === 'notAuthenticated' ? 'Login timeout' : texts.idleTimeout);
  };

  private readonly onError = (e: Error): void => {
    this.log.debug({ remote: this.remote, err: e.message }, 'IMAP socket error');
  };

  private readonly onClose = (): void => {
    this.ending = true;
    this.state = { kind: 'logout' };
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.slotUser !== null) this.door.registry.release(this.slotUser);
    this.slotUser = null;
    this.lineWaiter?.();
    this.idleWake?.();
  };

  // ---------------------------------------------------------------- the command loop

  private async drive(): Promise<void> {
    this.running = true;
    try {
      while (!this.ending) {
        const r = this.rx.next();
        if (r.kind === 'needMore') break;
        if (r.kind === 'needLiteral') {
          this.put(Buffer.from('+ Ready for literal data\r\n'));
          this.uncork();
          continue;
        }
        this.cork();
        if (r.kind === 'error') {
          this.tag = r.tag ?? '*';
          await this.complete(this.countBad(receiverErrorText(r.why, r.limit)));
          this.rx.shrink();
          continue;
        }
        const done = this.run(r.command);
        const c = done instanceof Promise ? (this.uncork(), await done) : done;
        await this.complete(c);
        this.rx.shrink();
      }
    } catch (e) {
      // Handlers turn store errors into completions: what lands here is a bug.
      this.log.error({ err: e, remote: this.remote }, 'IMAP session failed');
      this.bye('Internal server error, closing connection');
    } finally {
      this.uncork();
      this.running = false;
    }
    if (this.paused && !this.ending) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private run(command: Buffer): Completion | Promise<Completion> {
    const r = new Reader(command);
    const head = readHead(r);
    if (head.kind === 'bad') {
      this.tag = head.tag ?? '*';
      return this.countBad(bad(head.why));
    }
    this.tag = head.tag;
    const spec = COMMANDS.get(head.name);
    if (spec === undefined) return this.countBad(bad(`unknown command ${head.name.slice(0, 24)}`));
    const st = this.state.kind;
    if (st === 'logout' || !spec.states.includes(st)) {
      const why = st === 'notAuthenticated' ? 'log in first' : st === 'selected' || spec.states.includes('selected') ? 'select a mailbox first' : 'not allowed after login';
      return this.countBad(bad(`${head.name} not allowed now: ${why}`));
    }
    const done = spec.run(this, r);
    const finish = (c: Completion): Completion | Promise<Completion> => {
      if (c.status === 'BAD') return this.countBad(c);
      // Expunges of other sessions, announced where IMAP allows it.
      const s = this.state;
      if (spec.expunges && s.kind === 'selected' && s.view.gone.size > 0) s.view.announceExpunges(this.out);
      return c;
    };
    return done instanceof Promise ? done.then(finish) : finish(done);
  }

  private countBad(c: Completion): Completion {
    if (++this.badCommands >= this.door.limits.badCommands) {
      this.put(this.out.take());
      this.put(Buffer.from(`${this.tag} ${c.status}${c.code !== undefined ? ` [${c.code}]` : ''} ${c.text}\r\n`));
      this.bye(texts.tooManyBad);
    }
    return c;
  }

  /** Writes the untagged responses and the tagged one; then what the completion asks for. */
  private async complete(c: Completion): Promise<void> {
    if (this.ending) return;
    this.cork();
    if (this.out.length > 0) this.put(this.out.take());
    const tagged = Buffer.from(`${this.tag} ${c.status}${c.code !== undefined ? ` [${c.code}]` : ''} ${c.text}\r\n`, 'utf8');
    if (c.after === 'starttls') {
      await this.startTls(tagged);
      return;
    }
    this.put(tagged);
    if (c.after === 'close') {
      this.goodbye();
      return;
    }
    await this.pace();
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

  private put(b: Buffer | Buffer[]): void {
    if (this.socket.destroyed) return;
    if (Array.isArray(b)) {
      for (const x of b) if (x.length > 0) this.socket.write(x);
    } else if (b.length > 0) this.socket.write(b);
  }

  private drained(): Promise<void> {
    return whenDrained(this.socket);
  }

  private async pace(): Promise<void> {
    if (this.socket.writableLength < OUTPUT_HIGH_WATER) return;
    this.uncork();
    await this.drained();
  }

  async flush(): Promise<void> {
    if (this.out.length > 0) this.put(this.out.take());
    await this.pace();
  }

  private bye(text: string): void {
    if (this.ending) return;
    this.put(Buffer.from(`* BYE ${text}\r\n`));
    this.goodbye();
  }

  private goodbye(): void {
    this.ending = true;
    this.uncork();
    endGracefully(this.socket, GOODBYE_LINGER_MS);
  }

  // ---------------------------------------------------------------- lines inside a command

  /** The next plain line from the client (null when the connection ends, 'long' when over the limit). */
  private async readLine(): Promise<Buffer | null | 'long'> {
    for (;;) {
      if (this.ending) return null;
      const r = this.rx.nextLine();
      if (r.kind === 'line') return Buffer.from(r.line);
      if (r.kind === 'tooLong') return 'long';
      if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
      await new Promise<void>((resolve) => (this.lineWaiter = resolve));
      this.lineWaiter = null;
    }
  }

  async challenge(base64: string): Promise<string | null> {
    this.put(Buffer.from(`+ ${base64}\r\n`));
    this.uncork();
    const l = await this.readLine();
    if (l === null || l === 'long') return null;
    return l.toString('latin1');
  }

  async idle(): Promise<'done' | 'bad' | 'gone'> {
    const sock = this.socket;
    // Our keepalives count as activity for the socket's own timer, so IDLE has a timer of its own.
    sock.setTimeout(0);
    const limit = setTimeout(() => this.bye(texts.idleTimeout), this.door.limits.idleCommandMs);
    const keepalive = setInterval(() => {
      // Keeps NAT and firewall state alive (as Dovecot's imap_idle_notify_interval does).
      this.put(Buffer.from('* OK Still here\r\n'));
    }, IDLE_KEEPALIVE_MS);
    this.put(Buffer.from('+ idling\r\n'));
    await this.flush();
    this.uncork();
    let pending: NodeJS.Timeout | null = null;
    let syncing: Promise<void> | null = null;
    const sync = async () => {
      const st = this.state;
      if (st.kind !== 'selected' || !st.view.dirty) return;
      await syncView(this, st, true);
      await this.flush();
      this.uncork();
    };
    this.idleWake = () => {
      if (pending !== null || this.ending) return;
      // Events come in bursts (a delivery emits several): one sync per burst.
      pending = setTimeout(() => {
        pending = null;
        syncing = (syncing ?? Promise.resolve()).then(sync, () => undefined);
      }, IDLE_COALESCE_MS);
    };
    if (this.state.kind === 'selected' && this.state.view.dirty) this.idleWake();
    try {
      const l = await this.readLine();
      if (l === null) return 'gone';
      if (l === 'long') return 'bad';
      return l.toString('latin1').trim().toUpperCase() === 'DONE' ? 'done' : 'bad';
    } finally {
      clearTimeout(limit);
      clearInterval(keepalive);
      this.idleWake = null;
      if (pending !== null) clearTimeout(pending);
      await syncing;
      sock.setTimeout(this.state.kind === 'notAuthenticated' ? this.door.limits.preAuthMs : this.door.limits.idleMs);
    }
  }

  // ---------------------------------------------------------------- STARTTLS

  /**
   * The tagged OK leaves in clear, then the same connection continues under TLS (RFC 3501
   * §6.2.1); whatever the client pipelined behind STARTTLS is dropped (the command-injection
   * flaw: nothing learnt before TLS may act after it).
   */
  private startTls(okLine: Buffer): Promise<void> {
    const raw = this.socket;
    const ctx = this.door.secureContext;
    this.unlisten(raw);
    raw.pause();
    const dropped = this.rx.discard();
    if (dropped > 0) this.log.info({ remote: this.remote, bytes: dropped }, 'IMAP: input pipelined after STARTTLS discarded');
    this.uncork();
    if (ctx === null) return new Promise((resolve) => raw.write(okLine, () => resolve()));
    return upgradeToTls(raw, okLine, ctx, this.door.limits.tlsHandshakeMs, {
      onClose: this.onClose,
      onError: this.onError,
      wrapped: (secure) => {
        this.socket = secure;
        secure.on('error', this.onError);
        secure.once('close', this.onClose);
      },
      secured: (secure) => {
        this.tls = true;
        this.listen(secure);
      },
    });
  }
}
