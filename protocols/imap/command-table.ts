/**
 * The IMAP commands as data: the states each is valid in (RFC 3501 §6), and whether the session
 * may announce expunges of other sessions while answering it (§7.4.1: not during FETCH, STORE or
 * SEARCH by message sequence number). The session checks the state before a handler runs, so a
 * handler only reads its arguments and does its work.
 */
import type { Reader } from './parser/reader.js';
import type { CommandContext, Completion } from './session-state.js';
import { handleCapability } from './commands/capability.js';
import { handleNoop } from './commands/noop.js';
import { handleLogout } from './commands/logout.js';
import { handleId } from './commands/id.js';
import { handleStarttls } from './commands/starttls.js';
import { handleAuthenticate } from './commands/authenticate.js';
import { handleLogin } from './commands/login.js';
import { handleEnable } from './commands/enable.js';
import { handleSelect } from './commands/select.js';
import { handleCreate } from './commands/create.js';
import { handleDelete } from './commands/delete.js';
import { handleRename } from './commands/rename.js';
import { handleSubscribe } from './commands/subscribe.js';
import { handleList } from './commands/list.js';
import { handleStatus } from './commands/status.js';
import { handleAppend } from './commands/append.js';
import { handleNamespace } from './commands/namespace.js';
import { handleIdle } from './commands/idle.js';
import { handleClose } from './commands/close.js';
import { handleExpunge } from './commands/expunge.js';
import { handleSearch } from './commands/search.js';
import { handleFetch } from './commands/fetch.js';
import { handleStore } from './commands/store.js';
import { handleCopy } from './commands/copy.js';

export type SessionKind = 'notAuthenticated' | 'authenticated' | 'selected';

export interface CommandSpec {
  states: readonly SessionKind[];
  /** Untagged EXPUNGE may be sent while answering. */
  expunges: boolean;
  run(ctx: CommandContext, r: Reader): Completion | Promise<Completion>;
}

const ANY: readonly SessionKind[] = ['notAuthenticated', 'authenticated', 'selected'];
const PRE: readonly SessionKind[] = ['notAuthenticated'];
const AUTH: readonly SessionKind[] = ['authenticated', 'selected'];
const SEL: readonly SessionKind[] = ['selected'];

const spec = (states: readonly SessionKind[], run: CommandSpec['run'], expunges = true): CommandSpec => ({ states, expunges, run });

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map<string, CommandSpec>([
  ['CAPABILITY', spec(ANY, handleCapability)],
  ['NOOP', spec(ANY, handleNoop)],
  ['LOGOUT', spec(ANY, handleLogout)],
  ['ID', spec(ANY, handleId)],
  ['STARTTLS', spec(PRE, handleStarttls)],
  ['AUTHENTICATE', spec(PRE, handleAuthenticate)],
  ['LOGIN', spec(PRE, handleLogin)],
  ['ENABLE', spec(AUTH, handleEnable)],
  ['SELECT', spec(AUTH, (c, r) => handleSelect(c, r, false))],
  ['EXAMINE', spec(AUTH, (c, r) => handleSelect(c, r, true))],
  ['CREATE', spec(AUTH, handleCreate)],
  ['DELETE', spec(AUTH, handleDelete)],
  ['RENAME', spec(AUTH, handleRename)],
  ['SUBSCRIBE', spec(AUTH, (c, r) => handleSubscribe(c, r, true))],
  ['UNSUBSCRIBE', spec(AUTH, (c, r) => handleSubscribe(c, r, false))],
  ['LIST', spec(AUTH, (c, r) => handleList(c, r, false))],
  ['LSUB', spec(AUTH, (c, r) => handleList(c, r, true))],
  ['STATUS', spec(AUTH, handleStatus)],
  ['APPEND', spec(AUTH, handleAppend)],
  ['NAMESPACE', spec(AUTH, handleNamespace)],
  ['IDLE', spec(AUTH, handleIdle)],
  ['CHECK', spec(SEL, handleNoop)],
  ['CLOSE', spec(SEL, (c) => handleClose(c, true))],
  ['UNSELECT', spec(SEL, (c) => handleClose(c, false))],
  ['EXPUNGE', spec(SEL, (c, r) => handleExpunge(c, r, false))],
  ['SEARCH', spec(SEL, (c, r) => handleSearch(c, r, false), false)],
  ['FETCH', spec(SEL, (c, r) => handleFetch(c, r, false), false)],
  ['STORE', spec(SEL, (c, r) => handleStore(c, r, false), false)],
  ['COPY', spec(SEL, (c, r) => handleCopy(c, r, false, false))],
  ['MOVE', spec(SEL, (c, r) => handleCopy(c, r, false, true))],
  ['UID SEARCH', spec(SEL, (c, r) => handleSearch(c, r, true))],
  ['UID FETCH', spec(SEL, (c, r) => handleFetch(c, r, true))],
  ['UID STORE', spec(SEL, (c, r) => handleStore(c, r, true))],
  ['UID COPY', spec(SEL, (c, r) => handleCopy(c, r, true, false))],
  ['UID MOVE', spec(SEL, (c, r) => handleCopy(c, r, true, true))],
  ['UID EXPUNGE', spec(SEL, (c, r) => handleExpunge(c, r, true))],
]);

/** What the session can tell about a command line before running it. */
export type CommandHead = { kind: 'ok'; tag: string; name: string } | { kind: 'bad'; tag: string | null; why: string };

function isTagChar(c: number): boolean {
  // ASTRING-CHAR except "+" (RFC 3501 §9 tag).
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== 0x22 && c !== 0x5c && c !== 0x2b;
}

/** Reads "tag SP name [SP sub]" (sub for UID commands) and leaves the reader after the name. */
export function readHead(r: Reader): CommandHead {
  const tag = r.run(isTagChar, 'a tag');
  if (tag === null || tag.length > 64) return { kind: 'bad', tag: null, why: 'missing or bad tag' };
  if (!r.sp()) return { kind: 'bad', tag, why: 'missing command' };
  const name = r.atom();
  if (name === null) return { kind: 'bad', tag, why: 'missing command' };
  let up = name.toUpperCase();
  if (up === 'UID') {
    if (!r.sp()) return { kind: 'bad', tag, why: 'UID needs a command' };
    const sub = r.atom();
    if (sub === null) return { kind: 'bad', tag, why: 'UID needs a command' };
    up = `UID ${sub.toUpperCase()}`;
  }
  return { kind: 'ok', tag, name: up };
}
