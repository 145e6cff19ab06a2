/**
 * A login (PASS or AUTH PLAIN): the password check (runtime/auth.ts: scrypt in the CPU pool,
 * cached), an optional authorization identity (a mailbox the user has full access to), then the
 * maildrop's snapshot. A failure waits before it answers (longer with each failure in the
 * connection) and the last allowed failure closes the connection.
 */
import { ok, type Reply } from '../replies.js';
import { errorReply, isNotFound, replies } from '../errors.js';
import { Maildrop } from '../maildrop.js';
import type { CommandContext } from '../session-state.js';
import type { UserRecord } from '../../../storage/directory-store.js';

/** The client's address without its port (`remote` is "address:port"): what throttling counts. */
const clientAddress = (s: CommandContext) => s.remote.replace(/:\d+$/, '');

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function login(s: CommandContext, name: string, password: string, authzid: string): Promise<Reply> {
  if (s.door.throttle !== undefined && s.door.throttle.blockedFor(clientAddress(s)) > 0) {
    s.log.info({ remote: s.remote }, 'POP3 login refused: too many failures from this address');
    return replies.loginDelay();
  }
  const r = await s.door.auth.verify(name, password);
  if (r.result === 'temporarily-unavailable') return replies.authUnavailable();
  if (r.result === 'bad-credentials') return failed(s, name, 'bad credentials', replies.badCredentials());
  let target: UserRecord = r.user;
  if (authzid !== '') {
    const t = s.door.dir.userByAddress(authzid);
    if (t === undefined || !t.enabled || (t.id !== r.user.id && !s.door.dir.hasFullAccess(r.user.id, t.id))) {
      return failed(s, name, `not authorized for ${authzid}`, replies.notAuthorized(authzid));
    }
    target = t;
  }
  let drop: Maildrop;
  try {
    drop = await Maildrop.open(await s.door.openMailbox(target.address), s.door.sizes);
  } catch (e) {
    s.log.warn({ user: r.user.address, mailbox: target.address, err: e }, 'POP3 login: cannot open the mailbox');
    return isNotFound(e) ? replies.noMailbox() : errorReply(e, 'open the mailbox');
  }
  if (s.state.kind === 'closed') return ok('');
  s.state = { kind: 'transaction', login: r.user, drop };
  s.log.debug({ user: r.user.address, mailbox: target.address, messages: drop.messages.length }, 'POP3 login');
  return ok(`${target.address} has ${drop.messages.length} message${drop.messages.length === 1 ? '' : 's'}`);
}

async function failed(s: CommandContext, name: string, why: string, reply: Reply): Promise<Reply> {
  s.authFailures++;
  s.door.throttle?.fail(clientAddress(s));
  s.log.info({ login: name.slice(0, 320), remote: s.remote, failures: s.authFailures, why }, 'POP3 login failed');
  const l = s.door.limits;
  await sleep(l.failedLoginDelayMs * 2 ** Math.min(s.authFailures - 1, 2));
  return s.authFailures >= l.authFailures ? replies.tooManyFailures() : reply;
}
