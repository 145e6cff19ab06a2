/**
 * The admin commands on the directory and mailboxes (domains, users, aliases, groups), shared by
 * the running server (reached through the control socket) and the CLI when no server runs.
 * Each answers plain data or throws a DirectoryError / ActorError with a clear message.
 */
import { randomBytes } from 'node:crypto';
import { DirectoryError, isHidden, userView, type DirectoryStore, type DomainRecord, type ProfileField, type UserRecord } from '../storage/directory-store.js';
import { inspectBackup, restoreEnv } from '../storage/backup.js';
import { dkimDnsRecord, makeDkimKey } from '../protocols/smtp/outbound/dkim.js';
import type { QueueAdmin } from '../protocols/smtp/outbound/outbound-service.js';
import type { DirectorySync, SyncOptions } from './directory-sync.js';

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
  /** The outbound queue (`queue list|flush|remove`); absent where there is none. */
  queue?: QueueAdmin;
  /** The LDAP directories (`directory sync|job|status|lookup`); absent where none is configured. */
  directory?: Pick<DirectorySync, 'startJob' | 'job' | 'status' | 'lookup'>;
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

/** `user set` options and the profile field each sets. */
const PROFILE_FLAGS: Record<string, ProfileField> = {
  '--title': 'title',
  '--department': 'department',
  '--office': 'office',
  '--phone': 'phone',
  '--mobile': 'mobile',
  '--company': 'company',
  '--given-name': 'givenName',
  '--surname': 'surname',
};

const VALUE_FLAGS = new Set(['--name', '--password', '--quota', '--partition', '--hidden', ...Object.keys(PROFILE_FLAGS)]);
const BOOL_FLAGS = new Set(['--admin', '--new', '--prune', '--yes', '--force']);

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
  domain dkim <name> [--new]    the DKIM DNS record to publish (a key is made if the domain has none; --new replaces it)
  user add <address> [--name NAME] [--admin] [--password P] [--quota BYTES] [--partition DIR]
                                (without --password a password is generated and printed once)
  user list | user passwd <address> [--password P] | user remove <address>
  user quota <address> <bytes> | user enable <address> | user disable <address>
  user set <address> [--title T] [--department D] [--office O] [--phone P] [--mobile M] [--company C]
           [--given-name G] [--surname S] [--hidden yes|no]
                                what the address book shows of a user ('' clears a field); --hidden yes leaves the
                                user out of address lists and name resolution (mail still arrives)
  mailbox stats <address> | mailbox backup <address> <file> | mailbox restore <address> <file>
  mailbox grant <mailbox> <user> | mailbox revoke <mailbox> <user> | mailbox grants [<mailbox>]
                                (full access to another user's mailbox: AutoDiscover, later MAPI)
  alias add <address> <alias> | alias remove <address> <alias>
  group add <address> [--name NAME] | group list | member add|remove <group> <address>
  queue list | queue flush | queue remove <id>
                                (outbound mail: recipients with their state and last error; flush tries everything now)
  directory sync [<ldap name>] [--prune [--yes]] [--force]
                                read users and groups from LDAP now, with a progress bar and a summary; users gone
                                from LDAP are disabled and listed; --prune lists them for removal, --prune --yes
                                removes them and deletes their mailboxes; --force applies past max_gone_percent
  directory status | directory lookup <login>
                                the LDAP directories (servers, pools, last sync, gone users); what a login resolves to`;

export async function runAdmin(b: AdminBackend, argv: readonly string[]): Promise<unknown> {
  const p = parse(argv);
  const [noun, verb] = p.positionals;
  const dir = b.dir;
  switch (`${noun ?? ''} ${verb ?? ''}`) {
    case 'domain add': {
      const name = arg(p, 2, 'domain name');
      if (dir.domain(name) !== undefined) throw new DirectoryError('EXISTS', `domain ${name.toLowerCase()} exists already`);
      // The key is made first (RSA takes a moment), then stored with the domain in one write.
      return domainView(await dir.addDomain(name, { dkim: await makeDkimKey() }));
    }
    case 'domain list':
      return dir.domains().map((d) => ({ name: d.name, created: d.created, dkim: d.dkim === undefined ? null : { selector: d.dkim.selector, dnsName: `${d.dkim.selector}._domainkey.${d.name}` } }));
    case 'domain dkim': {
      const name = arg(p, 2, 'domain name');
      const d = dir.domain(name);
      if (d === undefined) throw new DirectoryError('NOT_FOUND', `no domain ${name.toLowerCase()}`);
      if (d.dkim !== undefined && !p.flags.has('--new')) return domainView(d);
      const renewed = await dir.setDkim(d.name, await makeDkimKey(new Date(), d.dkim?.selector));
      return { ...domainView(renewed), ...(d.dkim !== undefined ? { note: `mail is signed with the new key (selector ${renewed.dkim!.selector}) from now on; keep the old record (${d.dkim.selector}) published for a few days` } : {}) };
    }
    case 'queue list':
      return mustQueue(b).list();
    case 'queue flush':
      return mustQueue(b).flush();
    case 'queue remove':
      return mustQueue(b).remove(arg(p, 2, 'queue id'));
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
      return dir.users().map((u) => ({
        address: u.address,
        displayName: u.displayName,
        enabled: u.enabled,
        admin: u.admin,
        aliases: u.aliases,
        quotaBytes: u.quotaBytes,
        ...(isHidden(u) ? { hidden: true } : {}),
        ...(u.profile !== undefined ? { profile: u.profile } : {}),
        ...(u.source !== undefined ? { source: { ldap: u.source.config, dn: u.source.dn, id: u.source.id, disabledInLdap: u.source.disabled, goneSince: u.source.goneSince === null ? null : new Date(u.source.goneSince).toISOString() } } : {}),
      }));
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
      const again = u.source !== undefined ? `; it comes from LDAP (${u.source.config}): the next sync adds it again unless the directory or its filter drops it` : '';
      return { removed: u.address, note: `the mailbox data stays on disk${again}` };
    }
    case 'user set': {
      const address = arg(p, 2, 'address');
      const change: Partial<Record<ProfileField, string>> = {};
      for (const [flag, field] of Object.entries(PROFILE_FLAGS)) {
        const v = str(p, flag);
        if (v !== undefined) change[field] = v;
      }
      const hiddenArg = str(p, '--hidden');
      if (hiddenArg !== undefined && hiddenArg !== 'yes' && hiddenArg !== 'no') throw new UsageError('--hidden takes yes or no');
      if (Object.keys(change).length === 0 && hiddenArg === undefined) throw new UsageError(`user set needs at least one of ${[...Object.keys(PROFILE_FLAGS), '--hidden'].join(' ')}`);
      let u = mustUser(dir, address);
      if (Object.keys(change).length > 0) u = await dir.setProfile(address, change);
      if (hiddenArg !== undefined) u = await dir.setHidden(address, hiddenArg === 'yes');
      return userView(u);
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
    case 'mailbox grant':
      return dir.grantFullAccess(arg(p, 2, 'mailbox address'), arg(p, 3, 'user address'));
    case 'mailbox revoke': {
      const mailbox = arg(p, 2, 'mailbox address');
      const user = arg(p, 3, 'user address');
      await dir.revokeFullAccess(mailbox, user);
      return { revoked: { mailbox: mailbox.toLowerCase(), user: user.toLowerCase() } };
    }
    case 'mailbox grants':
      return dir.grants(p.positionals[2]);
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
    case 'directory sync': {
      const opts: SyncOptions = { prune: p.flags.has('--prune'), yes: p.flags.has('--yes'), force: p.flags.has('--force') };
      if (opts.yes === true && opts.prune !== true) throw new UsageError('--yes confirms --prune');
      const name = p.positionals[2];
      return mustDirectory(b).startJob(name !== undefined ? { ...opts, config: name } : opts);
    }
    case 'directory job':
      return mustDirectory(b).job(arg(p, 2, 'job id'));
    case 'directory status':
      return mustDirectory(b).status();
    case 'directory lookup':
      return mustDirectory(b).lookup(arg(p, 2, 'login'));
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

/** A domain as the admin commands show it: the DKIM record to publish, never the private key. */
export function domainView(d: DomainRecord): { name: string; created: number; dkim: { selector: string; created: string; dns: ReturnType<typeof dkimDnsRecord> } | null } {
  return {
    name: d.name,
    created: d.created,
    dkim: d.dkim === undefined ? null : { selector: d.dkim.selector, created: new Date(d.dkim.created).toISOString(), dns: dkimDnsRecord(d.name, d.dkim) },
  };
}

function mustDirectory(b: AdminBackend): NonNullable<AdminBackend['directory']> {
  if (b.directory === undefined) throw new DirectoryError('NOT_FOUND', 'no LDAP directory is configured ([ldap.<name>] tables in the config file)');
  return b.directory;
}

function mustQueue(b: AdminBackend): QueueAdmin {
  if (b.queue === undefined) throw new DirectoryError('NOT_FOUND', 'there is no outbound queue here');
  return b.queue;
}

function mustUser(dir: DirectoryStore, address: string): UserRecord {
  const u = dir.userByAddress(address);
  if (u === undefined) throw new DirectoryError('NOT_FOUND', `no user ${address}`);
  return u;
}
