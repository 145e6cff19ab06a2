/**
 * A login (LOGIN or AUTHENTICATE PLAIN): throttling per client address, the password check
 * (runtime/auth.ts: scrypt in the CPU pool, cached), an optional authorization identity (a
 * mailbox the user has full access to), and the per-user connection limit. A failure waits before
 * it answers (longer with each failure in the connection); the last allowed failure closes it.
 */
import { ok, no } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import type { UserRecord } from '../../../storage/directory-store.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function login(ctx: CommandContext, name: string, password: string, authzid: string): Promise<Completion> {
  const l = ctx.door.limits;
  if (ctx.door.registry.throttled(ctx.remote, l.authFailuresPerAddressPerMinute)) {
    await sleep(l.failedLoginDelayMs);
    return no('UNAVAILABLE', 'Too many failed logins from your address; try again later');
  }
  const r = await ctx.door.auth.verify(name, password);
  if (r.result === 'temporarily-unavailable') return no('UNAVAILABLE', 'Authentication is temporarily unavailable, try again later');
  if (r.result === 'bad-credentials') return failed(ctx, name, 'bad credentials', no('AUTHENTICATIONFAILED', 'Invalid credentials'));
  let target: UserRecord = r.user;
  if (authzid !== '' && authzid.toLowerCase() !== r.user.address.toLowerCase()) {
    const t = ctx.door.dir.userByAddress(authzid);
    if (t === undefined || !t.enabled || !ctx.door.dir.hasFullAccess(r.user.id, t.id)) return failed(ctx, name, `not authorized for ${authzid}`, no('AUTHORIZATIONFAILED', 'Not authorized to open that mailbox'));
    target = t;
  }
  if (ctx.state.kind !== 'notAuthenticated') return no('CLIENTBUG', 'Already logged in');
  if (!ctx.door.registry.acquire(r.user.id, l.connectionsPerUser)) return no('LIMIT', `Too many connections for this user (at most ${l.connectionsPerUser})`);
  ctx.setState({ kind: 'authenticated', user: r.user, mailbox: ctx.door.openMailbox(target.address) });
  ctx.log.debug({ user: r.user.address, mailbox: target.address }, 'IMAP login');
  return ok('Logged in', `CAPABILITY ${ctx.capabilities()}`);
}

async function failed(ctx: CommandContext, name: string, why: string, c: Completion): Promise<Completion> {
  ctx.authFailures++;
  ctx.door.registry.failed(ctx.remote);
  ctx.log.info({ login: name.slice(0, 320), remote: ctx.remote, failures: ctx.authFailures, why }, 'IMAP login failed');
  const l = ctx.door.limits;
  await sleep(l.failedLoginDelayMs * 2 ** Math.min(ctx.authFailures - 1, 2));
  if (ctx.authFailures >= l.authFailures) {
    ctx.out.raw('* BYE Too many failed logins, closing connection\r\n');
    return { ...c, after: 'close' };
  }
  return c;
}

/** LOGIN and AUTHENTICATE before TLS: refused unless the door allows plaintext (RFC 3501 §6.2.3, LOGINDISABLED). */
export function plaintextRefused(ctx: CommandContext): Completion | null {
  if (ctx.tls || ctx.door.allowPlaintextAuth) return null;
  return no('PRIVACYREQUIRED', 'Use STARTTLS first: plaintext authentication is disabled on this connection');
}
