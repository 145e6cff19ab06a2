/**
 * The admin commands on the directory and mailboxes (domains, users, aliases, groups), shared by
 * the running server (reached through the control socket) and the CLI when no server runs.
 * Each answers plain data or throws a DirectoryError / ActorError with a clear message.
 */
import { randomBytes } from 'node:crypto';
import { DirectoryError, userView, type DirectoryStore, type UserRecord } from '../storage/directory-store.js';
import { inspectBackup, restoreEnv } from '../storage/backup.js';

export interface AdminBackend {
  dir: DirectoryStore;
  hash(password: string): Promise<{ passwordHash: string; ntHash: string | null }>;
  /** Creates the user's mailbox (identity and special folders). */
  provisionMailbox(user: UserRecord): Promise<{ path: string }>;
  mailboxStats(user: UserRecord): Promise<unknown>;
  /** Sets the mailbox's quota levels from one limit (0 = none). */
  setMailboxQuota(user: UserRecord, bytes: number): Promise<void>;
  mailboxBackup(user: UserRecord, file: string): Promise<unknown>;
  /** Replaces the mailbox with a backup (the mailbox is closed and held meanwhile). */
  mailboxRestore(user: UserRecord, file: string): Promise<unknown>;
}

export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** A password for accounts created without one: 18 random bytes, base64url (24 characters). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

interface Parsed {
  positionals: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['--name', '--password', '--quota', '--partition']);
const BOOL_FLAGS = new Set(['--admin']);

function parse(argv: readonly string[]): Parsed {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_FLAGS.has(a)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      flags.set(a, v);
    } else if (BOOL_FLAGS.has(a)) flags.set(a, true);
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else positionals.push(a);
  }
  return { positionals, flags };
}

function arg(p: Parsed, i: number, what: string): string {
  const v = p.positionals[i];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}

function str(p: Parsed, flag: string): string | undefined {
  const v = p.flags.get(flag);
  return typeof v === 'string' ? v : undefined;
}

export const ADMIN_USAGE = `  domain add <name> | domain list | domain remove <name>
  user add <address> [--name NAME] [--admin] [--password P] [--quota BYTES] [--partition DIR]
                                (without --password a password is generated and printed once)
  user list | user passwd <address> [--password P] | user remove <address>
  user quota <address> <bytes> | user enable <address> | user disable <address>
  mailbox stats <address> | mailbox backup <address> <file> | mailbox restore <address> <file>
  alias add <address> <alias> | alias remove <address> <alias>
  group add <address> [--name NAME] | group list | member add|remove <group> <address>`;

export async function runAdmin(b: AdminBackend, argv: readonly string[]): Promise<unknown> {
  const p = parse(argv);
  const [noun, verb] = p.positionals;
  const dir = b.dir;
  switch (`${noun ?? ''} ${verb ?? ''}`) {
    case 'domain add':
      return dir.addDomain(arg(p, 2, 'domain name'));
    case 'domain list':
      return dir.domains();
    case 'domain remove':
      await dir.removeDomain(arg(p, 2, 'domain name'));
      return { removed: arg(p, 2, 'domain name').toLowerCase() };
    case 'user add': {
      const address = arg(p, 2, 'address');
      const given = str(p, '--password');
      const password = given ?? generatePassword();
      if (password.length < 8) throw new UsageError('a password has at least 8 characters');
      const quota = str(p, '--quota');
      if (quota !== undefined && !/^\d+$/.test(quota)) throw new UsageError('--quota takes a whole number of bytes');
      const hashes = await b.hash(password);
      const user = await dir.addUser({ address, displayName: str(p, '--name'), admin: p.flags.has('--admin'), quotaBytes: quota === undefined ? 0 : Number(quota), partition: str(p, '--partition') ?? null, ...hashes });
      try {
        const mbx = await b.provisionMailbox(user);
        return { user: userView(user), mailbox: mbx.path, ...(given === undefined ? { password } : {}) };
      } catch (err) {
        await dir.removeUser(user.address); // no user without a mailbox
        throw err;
      }
    }
    case 'user list':
      return dir.users().map((u) => ({ address: u.address, displayName: u.displayName, enabled: u.enabled, admin: u.admin, aliases: u.aliases, quotaBytes: u.quotaBytes }));
    case 'user passwd': {
      const address = arg(p, 2, 'address');
      const given = str(p, '--password');
      const password = given ?? generatePassword();
      if (password.length < 8) throw new UsageError('a password has at least 8 characters');
      const h = await b.hash(password);
      const u = await dir.setPassword(address, h.passwordHash, h.ntHash);
      return { address: u.address, ...(given === undefined ? { password } : {}) };
    }
    case 'user remove': {
      const u = await dir.removeUser(arg(p, 2, 'address'));
      return { removed: u.address, note: 'the mailbox data stays on disk' };
    }
    case 'user quota': {
      const bytes = arg(p, 3, 'quota in bytes');
      if (!/^\d+$/.test(bytes)) throw new UsageError('the quota is a whole number of bytes');
      const u = await dir.setQuota(arg(p, 2, 'address'), Number(bytes));
      await b.setMailboxQuota(u, u.quotaBytes);
      return userView(u);
    }
    case 'mailbox stats':
      return b.mailboxStats(mustUser(dir, arg(p, 2, 'address')));
    case 'mailbox backup':
      return b.mailboxBackup(mustUser(dir, arg(p, 2, 'address')), arg(p, 3, 'backup file'));
    case 'mailbox restore':
      return b.mailboxRestore(mustUser(dir, arg(p, 2, 'address')), arg(p, 3, 'backup file'));
    case 'user enable':
    case 'user disable':
      return userView(await dir.setEnabled(arg(p, 2, 'address'), verb === 'enable'));
    case 'alias add':
      return userView(await dir.addAlias(arg(p, 2, 'address'), arg(p, 3, 'alias')));
    case 'alias remove':
      return userView(await dir.removeAlias(arg(p, 2, 'address'), arg(p, 3, 'alias')));
    case 'group add':
      return dir.addGroup(arg(p, 2, 'group address'), str(p, '--name'));
    case 'group list':
      return dir.groups();
    case 'member add':
    case 'member remove':
      return dir.setGroupMember(arg(p, 2, 'group address'), arg(p, 3, 'member address'), verb === 'add');
    default:
      throw new UsageError(`unknown command: ${p.positionals.join(' ') || '(none)'}\n${ADMIN_USAGE}`);
  }
}

/** Restores a backup into a user's (closed) mailbox folder, refusing another user's backup. */
export async function restoreChecked(user: UserRecord, file: string, mailboxDir: string): Promise<{ restored: string; from: string }> {
  const id = await inspectBackup(file);
  if (id.legacyDn.toLowerCase() !== user.legacyDn.toLowerCase()) throw new DirectoryError('INVALID', `${file} is a backup of another mailbox (${id.ownerName})`);
  await restoreEnv(file, mailboxDir);
  return { restored: user.address, from: file };
}

function mustUser(dir: DirectoryStore, address: string): UserRecord {
  const u = dir.userByAddress(address);
  if (u === undefined) throw new DirectoryError('NOT_FOUND', `no user ${address}`);
  return u;
}
