/**
 * A small pool of ldapts connections to one directory with failover over a URI list.
 *
 * Why our own and not generic-pool: the pool must know LDAP's failure kinds. A result code (49
 * invalid credentials, 32 no such object) is an answer and the connection stays; a socket error or
 * a timeout breaks the connection, which is dropped and the operation tried once on a new one,
 * walking the URI list (failover); 51 busy / 52 unavailable count as the server being away.
 * When every URI failed, the pool fails fast for `retryMs` (a login answers "try later" at once
 * instead of waiting a connect timeout per attempt), then tries again: that is the recovery.
 *
 * Connections of a pool are bound as the service account (`bind` set) or not at all (user binds
 * only: a bind changes a connection's identity, so user binds never share a connection that
 * searches). ldapts reconnects a dropped connection by itself on next use, unauthenticated: a
 * pooled connection is therefore checked (connected, and bound when it should be) before use.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, ResultCodeError } from 'ldapts';

export class LdapUnavailable extends Error {
  readonly code = 'LDAP_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'LdapUnavailable';
  }
}

/** The operations the directory code uses (tests give a fake). */
export type LdapOps = Pick<Client, 'search' | 'searchPaginated' | 'bind'>;

/** What the directory code needs of a pool (tests give a fake). */
export interface LdapRunner {
  use<T>(fn: (c: LdapOps) => Promise<T>): Promise<T>;
}

export interface LdapPoolOptions {
  /** ldap:// or ldaps:// URIs, tried in order from the last one that worked. */
  uris: string[];
  starttls: boolean;
  /** PEM file of the CA(s) to trust ('' = the system's). */
  caFile: string;
  verifyTls: boolean;
  connectTimeoutMs: number;
  /** Per operation. */
  timeoutMs: number;
  /** After every URI failed: fail at once for this long. */
  retryMs: number;
  max: number;
  bind: { dn: string; password: string } | null;
}

interface Pooled {
  client: Client;
  uri: number;
}

/** 51 busy, 52 unavailable (RFC 4511 4.1.9): the server is there but not serving. */
const AWAY_CODES = new Set([51, 52]);

export function isLdapAnswer(err: unknown): err is ResultCodeError {
  return err instanceof ResultCodeError && !AWAY_CODES.has(err.code);
}

export class LdapPool implements LdapRunner {
  private readonly idle: Pooled[] = [];
  private readonly waiting: ((p: Pooled | null) => void)[] = [];
  private size = 0;
  private preferred = 0;
  private downUntil = 0;
  private readonly tls: ConnectionOptions;
  private closed = false;
  lastError: string | null = null;
  /** Connections made (the benchmark counts them). */
  created = 0;

  constructor(private readonly opts: LdapPoolOptions) {
    if (opts.uris.length === 0) throw new Error('no LDAP URIs');
    this.tls = {
      rejectUnauthorized: opts.verifyTls,
      ...(opts.caFile !== '' ? { ca: readFileSync(opts.caFile) } : {}),
    };
  }

  /** True unless the last attempt found every URI down (and the retry pause still runs). */
  get up(): boolean {
    return Date.now() >= this.downUntil;
  }

  stats(): { size: number; idle: number; waiting: number; up: boolean; uri: string; lastError: string | null } {
    return { size: this.size, idle: this.idle.length, waiting: this.waiting.length, up: this.up, uri: this.opts.uris[this.preferred]!, lastError: this.lastError };
  }

  /**
   * Runs fn on a pooled connection. A broken connection is dropped and fn runs once more on a
   * new one (operations here are reads and binds: safe to repeat); LDAP result codes pass
   * through; when no server can be reached, LdapUnavailable.
   */
  async use<T>(fn: (c: LdapOps) => Promise<T>): Promise<T> {
    const n = this.opts.uris.length;
    // One stale pooled connection, then one new connection per URI at most.
    for (let attempt = 0; attempt <= n; attempt++) {
      const p = await this.acquire();
      try {
        const v = await fn(p.client);
        this.release(p);
        return v;
      } catch (err) {
        if (isLdapAnswer(err)) {
          this.release(p);
          throw err;
        }
        this.destroy(p);
        this.lastError = `${this.opts.uris[p.uri]}: ${(err as Error).message.split('\n')[0]!}`;
        // Connections are made lazily (on the first operation) when there is no StartTLS or
        // service bind: a failure here moves the next new connection on to the next server.
        if (p.uri === this.preferred) this.preferred = (p.uri + 1) % n;
      }
    }
    this.downUntil = Date.now() + this.opts.retryMs;
    throw new LdapUnavailable(`no LDAP server answered (${this.lastError})`);
  }

  private async acquire(): Promise<Pooled> {
    if (this.closed) throw new LdapUnavailable('the LDAP pool is closed');
    while (this.idle.length > 0) {
      const p = this.idle.pop()!;
      if (p.client.isConnected && (this.opts.bind === null || p.client.isBound)) return p;
      this.destroy(p);
    }
    if (this.size < this.opts.max) {
      this.size++;
      try {
        return await this.create();
      } catch (err) {
        this.size--;
        this.wakeOne();
        throw err;
      }
    }
    return new Promise<Pooled>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(take);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new LdapUnavailable(`no LDAP connection free within ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      const take = (p: Pooled | null) => {
        clearTimeout(timer);
        if (p !== null) resolve(p);
        else this.acquire().then(resolve, reject);
      };
      this.waiting.push(take);
    });
  }

  /** A new connection: from the URI that last worked, on round the list (failover). */
  private async create(): Promise<Pooled> {
    if (Date.now() < this.downUntil) throw new LdapUnavailable(`LDAP unreachable (${this.lastError ?? 'no server answered'}); next try in ${Math.ceil((this.downUntil - Date.now()) / 1000)} s`);
    const n = this.opts.uris.length;
    const errors: string[] = [];
    for (let k = 0; k < n; k++) {
      const i = (this.preferred + k) % n;
      const url = this.opts.uris[i]!;
      // ldapts speaks TLS from the start whenever tlsOptions are given, whatever the scheme:
      // give them for ldaps:// only (StartTLS takes its own below).
      const secure = url.toLowerCase().startsWith('ldaps:');
      const client = new Client({ url, timeout: this.opts.timeoutMs, connectTimeout: this.opts.connectTimeoutMs, ...(secure ? { tlsOptions: this.tls } : {}), strictDN: false });
      try {
        if (this.opts.starttls && !secure) await client.startTLS({ ...this.tls });
        if (this.opts.bind !== null) await client.bind(this.opts.bind.dn, this.opts.bind.password);
        this.preferred = i;
        this.created++;
        return { client, uri: i };
      } catch (err) {
        void client.unbind().catch(() => undefined);
        if (err instanceof ResultCodeError && !AWAY_CODES.has(err.code)) {
          // The server answered: a refused service bind is a configuration problem, not an outage.
          this.lastError = `${url}: ${err.message}`;
          throw new LdapUnavailable(`${url}: the service bind was refused (${err.message}); check bind_dn and bind_password`);
        }
        errors.push(`${url}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    this.lastError = errors.join('; ');
    this.downUntil = Date.now() + this.opts.retryMs;
    throw new LdapUnavailable(`no LDAP server answered (${this.lastError})`);
  }

  private release(p: Pooled): void {
    if (this.closed) {
      this.destroy(p);
      return;
    }
    const w = this.waiting.shift();
    if (w !== undefined) w(p);
    else this.idle.push(p);
  }

  private destroy(p: Pooled): void {
    this.size--;
    void p.client.unbind().catch(() => undefined);
    this.wakeOne();
  }

  /** A waiter gets the chance to make a connection in the place of one that went. */
  private wakeOne(): void {
    const w = this.waiting.shift();
    if (w !== undefined) w(null);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = this.idle.splice(0);
    for (const w of this.waiting.splice(0)) w(null);
    await Promise.allSettled(all.map((p) => p.client.unbind()));
    this.size -= all.length;
  }
}
