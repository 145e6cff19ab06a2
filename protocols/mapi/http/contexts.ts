/**
 * Session contexts of MAPI over HTTP (MS-OXCMAPIHTTP 3.2.1, 3.2.5.1): Connect and Bind make one,
 * named by a random cookie; every later request of the session carries it. A context belongs to
 * one user and one endpoint: a cookie presented by another user or on the other endpoint is
 * "not found", exactly as an expired one is (X-ResponseCode 10: Outlook then reconnects).
 *
 * Requests of one context run one after another (a promise chain), except NotificationWait and
 * PING, which Outlook sends beside an Execute.
 */
import { randomBytes } from 'node:crypto';

export type Endpoint = 'emsmdb' | 'nspi';

export interface MapiContext<S> {
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly userId: string;
  readonly state: S;
  lastUsed: number;
  /** Requests in progress (an expiring context with work in flight waits for it). */
  busy: number;
  /** The tail of the context's request chain. */
  chain: Promise<unknown>;
  /** Requests seen (the MapiSequence cookie). */
  sequence: number;
}

export interface ContextTableOptions<S> {
  /** A context unused this long expires. */
  idleMs: number;
  /** Most live contexts per user (the oldest goes first). */
  maxPerUser: number;
  onEnd(ctx: MapiContext<S>, why: 'expired' | 'evicted' | 'ended'): void;
}

export class ContextTable<S> {
  private readonly byId = new Map<string, MapiContext<S>>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: ContextTableOptions<S>) {
    this.timer = setInterval(() => this.sweep(), Math.max(1000, Math.min(60_000, o.idleMs / 4)));
    this.timer.unref();
  }

  /** A fresh context id (random, URL-safe). */
  static newId(): string {
    return randomBytes(18).toString('base64url');
  }

  create(endpoint: Endpoint, userId: string, state: S, id = ContextTable.newId()): MapiContext<S> {
    const mine = [...this.byId.values()].filter((c) => c.userId === userId && c.endpoint === endpoint);
    if (mine.length >= this.o.maxPerUser) {
      mine.sort((a, b) => a.lastUsed - b.lastUsed);
      for (const c of mine.slice(0, mine.length - this.o.maxPerUser + 1)) this.end(c.id, 'evicted');
    }
    const ctx: MapiContext<S> = { id, endpoint, userId, state, lastUsed: Date.now(), busy: 0, chain: Promise.resolve(), sequence: 0 };
    this.byId.set(ctx.id, ctx);
    return ctx;
  }

  /** The live context for this cookie, endpoint and user; undefined otherwise (expired ones go). */
  get(id: string, endpoint: Endpoint, userId: string, now = Date.now()): MapiContext<S> | undefined {
    const c = this.byId.get(id);
    if (c === undefined || c.endpoint !== endpoint || c.userId !== userId) return undefined;
    if (c.busy === 0 && now - c.lastUsed > this.o.idleMs) {
      this.end(id, 'expired');
      return undefined;
    }
    c.lastUsed = now;
    return c;
  }

  end(id: string, why: 'expired' | 'evicted' | 'ended' = 'ended'): void {
    const c = this.byId.get(id);
    if (c === undefined) return;
    this.byId.delete(id);
    try {
      this.o.onEnd(c, why);
    } catch {
      // Ending a context never takes the server down (it runs from a timer).
    }
  }

  /** Runs `fn` after the context's earlier requests (in order), counting it as busy. */
  inOrder<T>(ctx: MapiContext<S>, fn: () => Promise<T>): Promise<T> {
    ctx.busy++;
    const p = ctx.chain.then(fn, fn);
    ctx.chain = p.then(
      () => undefined,
      () => undefined,
    );
    return p.finally(() => {
      ctx.busy--;
      ctx.lastUsed = Date.now();
    });
  }

  sweep(now = Date.now()): void {
    for (const c of [...this.byId.values()]) if (c.busy === 0 && now - c.lastUsed > this.o.idleMs) this.end(c.id, 'expired');
  }

  get size(): number {
    return this.byId.size;
  }

  all(): IterableIterator<MapiContext<S>> {
    return this.byId.values();
  }

  close(): void {
    clearInterval(this.timer);
    for (const c of [...this.byId.values()]) this.end(c.id, 'ended');
  }
}

/** Cookie values by name from a Cookie header (RFC 6265 5.4 form). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}
