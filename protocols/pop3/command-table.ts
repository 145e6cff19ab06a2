/**
 * The POP3 commands as data: the state each is valid in (RFC 1939 §4-§6; STLS RFC 2595 §4; AUTH
 * RFC 5034 §4; CAPA RFC 2449 §5, valid in every state), its arguments, and whether it carries
 * credentials. The session checks all of it before a handler runs, so handlers receive their
 * state already narrowed and their arguments already counted.
 */
import type { AuthorizationState, CommandContext, TransactionState } from './session-state.js';
import type { Reply } from './replies.js';
import { handleCapa } from './commands/capa.js';
import { handleStls } from './commands/stls.js';
import { handleUser } from './commands/user.js';
import { handlePass } from './commands/pass.js';
import { handleAuth } from './commands/auth.js';
import { handleQuit } from './commands/quit.js';
import { handleStat } from './commands/stat.js';
import { handleList } from './commands/list.js';
import { handleUidl } from './commands/uidl.js';
import { handleRetr } from './commands/retr.js';
import { handleTop } from './commands/top.js';
import { handleDele } from './commands/dele.js';
import { handleNoop } from './commands/noop.js';
import { handleRset } from './commands/rset.js';

/** Counted arguments, or the rest of the line verbatim (handed over as the only argument). */
export type ArgSpec = { min: number; max: number; usage: string } | { rest: true; usage: string };

type Result = Reply | Promise<Reply>;

export type CommandSpec =
  | { in: 'authorization'; args: ArgSpec; credentials: boolean; run: (s: CommandContext, st: AuthorizationState, args: string[]) => Result }
  | { in: 'transaction'; args: ArgSpec; run: (s: CommandContext, st: TransactionState, args: string[]) => Result }
  | { in: 'any'; args: ArgSpec; run: (s: CommandContext, args: string[]) => Result };

const none = { min: 0, max: 0, usage: '' };
const msg = { min: 1, max: 1, usage: 'msg' };
const optMsg = { min: 0, max: 1, usage: '[msg]' };

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map<string, CommandSpec>([
  ['CAPA', { in: 'any', args: none, run: handleCapa }],
  ['QUIT', { in: 'any', args: none, run: handleQuit }],
  ['STLS', { in: 'authorization', args: none, credentials: false, run: handleStls }],
  ['USER', { in: 'authorization', args: { min: 1, max: 1, usage: 'name' }, credentials: true, run: handleUser }],
  // The password is the rest of the line: it may hold spaces.
  ['PASS', { in: 'authorization', args: { rest: true, usage: 'password' }, credentials: true, run: handlePass }],
  ['AUTH', { in: 'authorization', args: { min: 0, max: 2, usage: 'mechanism [initial-response]' }, credentials: true, run: handleAuth }],
  ['STAT', { in: 'transaction', args: none, run: handleStat }],
  ['LIST', { in: 'transaction', args: optMsg, run: handleList }],
  ['UIDL', { in: 'transaction', args: optMsg, run: handleUidl }],
  ['RETR', { in: 'transaction', args: msg, run: handleRetr }],
  ['TOP', { in: 'transaction', args: { min: 2, max: 2, usage: 'msg n' }, run: handleTop }],
  ['DELE', { in: 'transaction', args: msg, run: handleDele }],
  ['NOOP', { in: 'transaction', args: none, run: handleNoop }],
  ['RSET', { in: 'transaction', args: none, run: handleRset }],
]);
