/**
 * Password checks against the directory. Every check of a stored hash runs in the CPU pool
 * (scrypt is slow on purpose; libuv's pool stays free for lmdb-js and I/O). Successful checks
 * are remembered for auth.cache_seconds under HMAC(server secret, login ‖ password), because
 * Outlook, phones and DAV clients send Basic credentials on every request; a password change
 * or a disable bumps the user's credential generation, which voids cached entries at once.
 *
 * Users of an LDAP directory (runtime/directory-sync.ts) are checked by binding to it instead,
 * and a successful bind feeds the same cache: the next checks of the same credentials cost no
 * LDAP round trip, and keep working while LDAP is away.
 */
import { createHmac } from 'node:crypto';
import type { CpuPool } from './cpu-pool.js';
import type { ScryptParams } from './cpu-tasks.js';
import type { DirectoryStore, UserRecord } from '../storage/directory-store.js';
import { ntHash } from '../storage/nt-hash.js';

export type AuthResult = { result: 'ok'; user: UserRecord } | { result: 'bad-credentials' } | { result: 'temporarily-unavailable' };

interface CacheEntry {
  userId: string;
  generation: number;
  expires: number;
}

/** Most remembered successful logins; the oldest are dropped past this. */
const CACHE_MAX = 100_000;

/** A password check by another party (LDAP); null when it does not answer for that login. */
export interface ExternalAuth {
  verify(login: string, password: string, user: UserRecord | undefined): Promise<AuthResult | null>;
}

export interface AuthOptions {
  scrypt: ScryptParams;
  cacheMs: number;
  storeNtHash: boolean;
}

export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  /** A hash of a random password, checked when the login is unknown so timing does not tell. */
  private dummyHash: string | null = null;
  private external: ExternalAuth | null = null;
  hits = 0;
  misses = 0;

  constructor(
    private readonly dir: DirectoryStore,
    private readonly pool: CpuPool,
    private readonly secret: Buffer,
    private readonly opts: AuthOptions,
  ) {}

  /** Lets a directory (LDAP) check the passwords of the logins it answers for. */
  useExternal(external: ExternalAuth | null): void {
    this.external = external;
  }

  /** The stored forms of a new password. */
  async hash(password: string): Promise<{ passwordHash: string; ntHash: string | null }> {
    const passwordHash = await this.pool.run('hashPassword', { password, params: this.opts.scrypt }, { route: 'pool' });
    return { passwordHash, ntHash: this.opts.storeNtHash ? ntHash(password).toString('hex') : null };
  }

  async verify(login: string, password: string): Promise<AuthResult> {
    if (password.length === 0 || login.length === 0 || login.length > 320 || password.length > 1024) return { result: 'bad-credentials' };
    const user = this.dir.userByAddress(login);
    const key = createHmac('sha256', this.secret).update(login.toLowerCase()).update('\0').update(password).digest('base64');
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      // A login that is no address (an LDAP uid) names the user the bind found, by id.
      const cached = user ?? (login.includes('@') ? undefined : this.dir.userById(hit.userId));
      if (cached !== undefined && hit.userId === cached.id && hit.generation === cached.credentialGeneration && cached.enabled && hit.expires > now) {
        this.hits++;
        return { result: 'ok', user: cached };
      }
      this.cache.delete(key);
    }
    this.misses++;
    if (this.external !== null) {
      const r = await this.external.verify(login, password, user);
      if (r !== null) {
        if (r.result === 'ok') this.remember(key, r.user, now);
        return r;
      }
    }
    let ok: boolean;
    try {
      if (user === undefined || user.passwordHash === null || !user.enabled) {
        this.dummyHash ??= await this.pool.run('hashPassword', { password: Math.random().toString(36), params: this.opts.scrypt }, { route: 'pool' });
        await this.pool.run('verifyPassword', { password, encoded: this.dummyHash }, { route: 'pool' });
        return { result: 'bad-credentials' };
      }
      ok = await this.pool.run('verifyPassword', { password, encoded: user.passwordHash }, { route: 'pool' });
    } catch {
      return { result: 'temporarily-unavailable' };
    }
    if (!ok) return { result: 'bad-credentials' };
    this.remember(key, user, now);
    return { result: 'ok', user };
  }

  private remember(key: string, user: UserRecord, now: number): void {
    if (this.opts.cacheMs <= 0) return;
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { userId: user.id, generation: user.credentialGeneration, expires: now + this.opts.cacheMs });
  }
}
