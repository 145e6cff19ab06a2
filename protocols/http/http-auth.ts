/**
 * Who is asking: HTTP authentication against the directory. Basic (RFC 7617) over TLS now, each
 * check through runtime/auth.ts (scrypt in the CPU pool, with its credential cache). NTLM and
 * Negotiate (Outlook on Windows, RPC over HTTP) slot in as further schemes: each scheme offers a
 * challenge and may claim an Authorization header.
 *
 * Clients send the same Basic header on every request, so a successful check is also remembered
 * here, by a salted SHA-256 of the exact header value, for auth.cache_seconds: a request carrying
 * it is answered synchronously (no decoding, no HMAC, no promise) after one directory read that
 * compares the user's credential generation, so a password change or a disable voids it at once,
 * as it voids runtime/auth.ts's cache. That read is shared by the requests of one user within one
 * turn of timers (lmdb-js reads from a snapshot renewed just as often, so it sees nothing newer).
 *
 * A missing or wrong credential is answered 401 with one WWW-Authenticate per scheme; failures
 * count per client address (throttle.ts) and past the limit the address gets 429 + Retry-After.
 */
import { hash, randomBytes } from 'node:crypto';
import type { AuthResult } from '../../runtime/auth.js';
import type { UserRecord } from '../../storage/directory-store.js';
import { header, sendText, type HttpRequest, type HttpResponse } from './exchange.js';
import type { FailureThrottle } from '../shared/failure-throttle.js';

export interface Credentials {
  login: string;
  password: string;
}

/** Longest Authorization header value considered (a Basic one is far shorter; NTLM / Kerberos tokens fit). */
const MAX_AUTHORIZATION_BYTES = 16 * 1024;

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 *   credentials = "Basic" 1*SP token68   (RFC 7617 §2, scheme name case-insensitive)
 *   user-pass   = user-id ":" password    (user-id has no ':')
 * UTF-8 (we announce charset="UTF-8"), falling back to ISO-8859-1 for old clients.
 * null when the header is not a usable Basic credential.
 */
export function parseBasic(value: string): Credentials | null {
  if (value.length > MAX_AUTHORIZATION_BYTES) return null;
  const m = /^basic +([^ ]+) *$/i.exec(value);
  if (m === null || !BASE64_RE.test(m[1]!)) return null;
  const raw = Buffer.from(m[1]!, 'base64');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    text = raw.toString('latin1');
  }
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  const login = text.slice(0, colon);
  const password = text.slice(colon + 1);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(login) || password.includes('\0')) return null;
  return { login, password };
}

export interface HttpAuthOptions {
  realm: string;
  verify(login: string, password: string): Promise<AuthResult>;
  /**
   * The user's record as the directory has it now, for the remembered-header check: by the login
   * when it is an address (or alias), else (an LDAP uid) by the id the check found, as
   * runtime/auth.ts's cache looks users up.
   */
  current(login: string, userId: string): UserRecord | undefined;
  /** How long a successful check is remembered by header value (auth.cache_seconds; 0: not at all). */
  cacheMs: number;
  throttle: FailureThrottle;
  /** Counters: a failed check, a refusal by the throttle. */
  onFailure(): void;
  onThrottled(): void;
}

/** Most header values remembered; the oldest are dropped past this. */
const REMEMBERED_MAX = 10_000;

interface Remembered {
  login: string;
  userId: string;
  generation: number;
  expires: number;
}

export class HttpAuth {
  private readonly challenges: string[];
  /** Successful checks by salted hash of the Authorization value (never the value itself). */
  private readonly remembered = new Map<string, Remembered>();
  private readonly salt = randomBytes(16).toString('base64');
  /** Directory reads of this turn of timers, by login and user id (see the file comment). */
  private readonly current = new Map<string, UserRecord | undefined>();
  private currentTimer: NodeJS.Timeout | null = null;
  /** Requests answered from the remembered headers (no password check at all). */
  hits = 0;
  /**
   * Checks under way, by Authorization value: a client opening many connections at once (Outlook,
   * a phone, a benchmark) sends the same credentials on each, and without this every one of them
   * would run scrypt before the first result reached the cache. Entries live only while the check runs.
   */
  private readonly inFlight = new Map<string, Promise<AuthResult>>();

  constructor(private readonly opts: HttpAuthOptions) {
    // One WWW-Authenticate per scheme offered (NTLM / Negotiate join here later).
    this.challenges = [`Basic realm="${opts.realm.replace(/["\\]/g, '')}", charset="UTF-8"`];
  }

  /**
   * The authenticated user, or null after the door answered (401 / 429 / 503). Synchronous when
   * the header is remembered (the usual case: clients repeat it on every request); a promise when
   * the password must be checked.
   */
  authenticate(req: HttpRequest, res: HttpResponse): UserRecord | null | Promise<UserRecord | null> {
    const wait = this.opts.throttle.blockedFor(req.remoteAddress);
    if (wait > 0) {
      this.opts.onThrottled();
      sendText(res, 429, 'Too many failed logins from this address; try again later.', { 'retry-after': Math.ceil(wait / 1000) });
      return null;
    }
    const value = header(req, 'authorization');
    if (value === undefined) {
      this.challenge(res, 'Authentication required.');
      return null;
    }
    if (this.opts.cacheMs > 0 && value.length <= MAX_AUTHORIZATION_BYTES) {
      const key = this.keyOf(value);
      const r = this.remembered.get(key);
      if (r !== undefined) {
        const user = this.currentUser(r.login, r.userId);
        if (user !== undefined && user.id === r.userId && user.credentialGeneration === r.generation && user.enabled && r.expires > Date.now()) {
          this.hits++;
          return user;
        }
        this.remembered.delete(key);
      }
    }
    return this.check(req, res, value);
  }

  private currentUser(login: string, userId: string): UserRecord | undefined {
    const key = `${login}\0${userId}`;
    let user = this.current.get(key);
    if (user === undefined && !this.current.has(key)) {
      user = this.opts.current(login, userId);
      this.current.set(key, user);
      this.currentTimer ??= setTimeout(() => {
        this.current.clear();
        this.currentTimer = null;
      }, 0).unref();
    }
    return user;
  }

  private keyOf(value: string): string {
    return hash('sha256', this.salt + value, 'base64');
  }

  private async check(req: HttpRequest, res: HttpResponse, value: string): Promise<UserRecord | null> {
    const cred = parseBasic(value);
    if (cred === null) {
      // Another scheme (NTLM, Negotiate) is not a failed guess: challenge with what we offer.
      if (!/^basic\b/i.test(value)) this.challenge(res, 'Unsupported authentication scheme; use Basic over TLS.');
      else this.fail(req, res);
      return null;
    }
    let check = this.inFlight.get(value);
    if (check === undefined) {
      check = this.opts.verify(cred.login, cred.password).finally(() => this.inFlight.delete(value));
      this.inFlight.set(value, check);
    }
    const r = await check;
    switch (r.result) {
      case 'ok':
        if (this.opts.cacheMs > 0) this.remember(value, cred.login, r.user);
        return r.user;
      case 'bad-credentials':
        this.fail(req, res);
        return null;
      case 'temporarily-unavailable':
        sendText(res, 503, 'Authentication is temporarily unavailable; try again shortly.', { 'retry-after': 5 });
        return null;
    }
  }

  private remember(value: string, login: string, user: UserRecord): void {
    const key = this.keyOf(value);
    if (!this.remembered.has(key) && this.remembered.size >= REMEMBERED_MAX) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(key, { login, userId: user.id, generation: user.credentialGeneration, expires: Date.now() + this.opts.cacheMs });
  }

  private fail(req: HttpRequest, res: HttpResponse): void {
    this.opts.throttle.fail(req.remoteAddress);
    this.opts.onFailure();
    this.challenge(res, 'The login or password is wrong.');
  }

  private challenge(res: HttpResponse, text: string): void {
    sendText(res, 401, text, { 'www-authenticate': this.challenges });
  }
}
