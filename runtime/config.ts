/**
 * Configuration: one TOML file, every key with a default and a doc line, overridable by
 * environment variables (STOA_<SECTION>_<KEY>, e.g. STOA_RUNTIME_WORKERS=3) and by the common
 * command-line flags. Bad configuration fails at start with a message naming the key, where it
 * came from and what is wrong. `npm run cli -- config example` prints the documented file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { isIP } from 'node:net';
import { parse as parseToml } from 'smol-toml';
import { FilterParser } from 'ldapts';
import { LOG_LEVELS } from './logger.js';
import { PRESET_NAMES, parseDisabledRule } from '../storage/ldap/attribute-maps.js';

// ---------------------------------------------------------------- schema

interface FieldBase<T> {
  doc: string;
  default: T;
  /** Shown in the example file instead of the literal default (e.g. "auto"). */
  defaultNote?: string;
}
interface IntField extends FieldBase<number> {
  type: 'int';
  min: number;
  max: number;
}
interface StrField extends FieldBase<string> {
  type: 'string';
  /** Allowed values; any string when absent. */
  oneOf?: readonly string[];
}
interface BoolField extends FieldBase<boolean> {
  type: 'bool';
}
type Field = IntField | StrField | BoolField;

const int = (d: number, min: number, max: number, doc: string, defaultNote?: string): IntField => ({ type: 'int', default: d, min, max, doc, defaultNote });
const str = (d: string, doc: string, oneOf?: readonly string[], defaultNote?: string): StrField => ({ type: 'string', default: d, doc, oneOf, defaultNote });
const bool = (d: boolean, doc: string): BoolField => ({ type: 'bool', default: d, doc });

/** A listener's standard port; with --port-base N it binds N + this. */
function listener(port: number, what: string, enabled = true) {
  return {
    enabled: bool(enabled, `Serve ${what}.`),
    port: int(port, 0, 65535, `TCP port for ${what} (standard ${port}; plus server.port_base).`),
  };
}

export const SCHEMA = {
  server: {
    hostname: str('', 'Host name announced in greetings, certificates and AutoDiscover.', undefined, 'the machine\'s host name'),
    bind: str('0.0.0.0', 'Address every listener binds to ("::" for IPv6 too, "127.0.0.1" for local only).'),
    data_dir: str('./data', 'Where mailboxes, the directory, the certificate and the control socket live.'),
    port_base: int(0, 0, 60000, 'Added to every listener port: --port-base 10000 serves IMAP on 10143, HTTPS on 10443...'),
    allow_plaintext_auth: bool(false, 'Accept passwords on connections without TLS (IMAP, POP3, SMTP AUTH, HTTP Basic).'),
  },
  runtime: {
    workers: int(0, 0, 256, 'Actor worker threads; 0 = max(1, cores - 1), since the main thread runs every socket and TLS.', 'auto'),
    uv_threadpool_size: int(8, 1, 1024, "libuv's thread pool, shared by lmdb-js commits, fs, DNS and crypto (set by npm start)."),
    max_active_actors: int(2000, 1, 1_000_000, 'Active actors per worker above which the least recently used idle ones are passivated.'),
    idle_seconds: int(300, 1, 86_400, 'An actor without session state is passivated after this long without messages.'),
    drain_seconds: int(60, 1, 3600, 'How long a move or shutdown waits for sessions and in-flight work.'),
    call_timeout_ms: int(30_000, 100, 3_600_000, 'Default deadline of a call from a door to an actor.'),
    queue_soft_limit: int(1000, 1, 1_000_000, 'Queued messages per actor that log a warning.'),
    queue_hard_limit: int(10_000, 1, 10_000_000, 'Queued messages per actor at which new ones are rejected as busy.'),
    ring_kib: int(1024, 64, 1_048_576, 'Size of each SharedArrayBuffer ring (one per worker and direction), KiB; a power of two.'),
    spin_us: int(0, 0, 10_000, 'Microseconds a worker spins on an empty ring before parking (0 = park at once; on few cores a spinning worker delays the main thread).'),
    main_spin_us: int(50, 0, 10_000, "Microseconds the main thread's receive loops spin on an empty ring before parking, after serving pending I/O first."),
  },
  storage: {
    tombstone_days: int(30, 1, 3650, 'Deletion records (tombstones) are kept this long; a client whose sync state is older resyncs the folder in full.'),
    partitions: str('', 'Comma-separated folders for mailbox data (each mailbox at <partition>/<domain>/<localpart>/); new mailboxes go to the one with most free space. Empty = <data_dir>/mailboxes.'),
  },
  cpu_pool: {
    threads: int(0, 0, 256, 'Threads of the pool for stateless CPU work (MIME, calendar expansion); 0 = 1 on <= 2 cores, else cores / 2.', 'auto'),
    min_bytes: int(256 * 1024, 0, 1 << 30, 'Smallest job (input bytes) worth sending to the pool; smaller ones run inline.'),
  },
  log: {
    level: str('info', 'Log level.', LOG_LEVELS),
  },
  tls: {
    cert: str('', 'PEM certificate chain; empty = a self-signed one made on first start in <data_dir>/tls/.'),
    key: str('', 'PEM private key matching tls.cert.'),
  },
  auth: {
    scrypt_n: int(32768, 1024, 4_194_304, 'scrypt cost N for stored passwords (a power of two); each check takes ~N * r * 128 bytes and proportional CPU, in the CPU pool.'),
    scrypt_r: int(8, 1, 64, 'scrypt block size r.'),
    scrypt_p: int(1, 1, 16, 'scrypt parallelism p.'),
    cache_seconds: int(300, 0, 86_400, 'How long a successful password check is remembered (clients send Basic credentials on every request); 0 = never.'),
    store_nt_hash: bool(true, "Also store each password's NT hash, so NTLM for Outlook Anywhere can be offered later."),
    failures_per_address: int(10, 1, 1_000_000, 'Failed SMTP AUTH and POP3 logins from one client address within auth.failure_window_seconds, after which that address is refused until the window ends (HTTP has http.auth_failure_limit; IMAP its own limit).'),
    failure_window_seconds: int(300, 1, 86_400, 'The window of auth.failures_per_address, seconds from the first failure.'),
    plaintext_without_tls: bool(false, 'Accept passwords on connections without TLS (SMTP submission AUTH, POP3 USER/PASS and AUTH, IMAP LOGIN). Off: those commands are refused and not offered until STARTTLS / STLS (RFC 8314).'),
  },
  smtp: {
    max_message_kib: int(51_200, 1, 4_194_304, 'Largest message accepted over SMTP, Submission and LMTP (KiB, announced as SIZE); larger ones are answered 552 5.3.4.'),
    max_recipients: int(100, 1, 100_000, 'Most recipients of one message (RFC 5321 asks for at least 100); more are answered 452 4.5.3.'),
    max_connections_per_ip: int(20, 1, 100_000, 'Simultaneous SMTP / Submission / LMTP connections from one client address; more are answered 421 and closed.'),
    max_auth_failures: int(3, 1, 100, 'Failed AUTH attempts on one connection before it is closed (421).'),
    idle_timeout_seconds: int(300, 10, 3600, 'An SMTP connection idle this long is closed (RFC 5321 4.5.3.2 suggests 5 minutes).'),
  },
  outbound: {
    smarthost: str('', 'Relay all mail for other domains through this "host:port" (a provider or your MTA); empty = deliver by MX lookup.'),
    smarthost_tls: str('starttls', 'TLS to the smarthost: implicit (port 465 style), starttls (required), opportunistic, or none.', ['implicit', 'starttls', 'opportunistic', 'none']),
    smarthost_user: str('', 'AUTH user at the smarthost; empty = no AUTH.'),
    smarthost_password: str('', 'AUTH password at the smarthost (better set through STOA_OUTBOUND_SMARTHOST_PASSWORD).'),
    smarthost_verify_tls: bool(true, "Check the smarthost's certificate."),
    verify_mx_tls: bool(false, "Check MX hosts' certificates (off: opportunistic TLS as most MTAs do; on: a bad certificate never falls back to plain text)."),
    expiry_hours: int(120, 1, 24 * 30, 'Mail still undelivered after this long is returned to its sender with a delivery status notification.'),
    delay_notice_hours: int(4, 0, 24 * 30, 'A "delayed" notice goes to senders who asked for one (NOTIFY=DELAY) after this long; 0 = never.'),
    max_connections: int(20, 1, 10_000, 'Simultaneous outbound SMTP connections.'),
    max_connections_per_domain: int(4, 1, 1000, 'Simultaneous outbound SMTP connections to one destination domain.'),
    connect_timeout_seconds: int(30, 1, 600, 'Time allowed to connect to a remote host.'),
  },
  pop3: {
    idle_timeout_seconds: int(600, 60, 86_400, 'A POP3 session idle this long is closed (RFC 1939 asks for at least 10 minutes).'),
  },
  http: {
    header_timeout_seconds: int(30, 1, 3600, 'A request line and its header fields must arrive within this long (slow clients are disconnected).'),
    idle_timeout_seconds: int(300, 1, 86_400, 'Default for routes that declare none: a request with no byte moving either way for this long is answered 408 (or closed mid-answer). Long polls (MAPI NotificationWait, ActiveSync Ping) declare their own; there is no global request timeout.'),
    keep_alive_seconds: int(75, 1, 3600, 'An idle keep-alive connection is closed after this long.'),
    max_body_kib: int(1024, 1, 4_194_304, 'Default largest request body (KiB) for routes that declare none; larger ones are answered 413.'),
    max_header_kib: int(16, 1, 1024, 'Largest request head (request line and header fields), KiB; larger ones are answered 431.'),
    internal_url: str('', 'Base URL of the HTTPS services for clients inside the network (AutoDiscover InternalUrl, redirects from HTTP), e.g. "https://mail.example.com". Empty = https://<server.hostname>, with the HTTPS port when it is not 443.'),
    external_url: str('', 'Base URL of the HTTPS services from outside the network (AutoDiscover ExternalUrl, ActiveSync URL, redirects). Empty = http.internal_url.'),
    auth_failure_limit: int(10, 1, 1_000_000, 'Failed HTTP logins from one client address within http.auth_failure_window_seconds, after which that address is answered 429 until the window ends.'),
    auth_failure_window_seconds: int(300, 1, 86_400, 'The window of http.auth_failure_limit, seconds from the first failure.'),
    access_log: bool(true, 'Log one structured line per HTTP request (info level).'),
  },
  metrics: {
    allow: str('127.0.0.1,::1', 'Client addresses and CIDR ranges (comma-separated) allowed to read /metrics over HTTP(S); empty = nobody.'),
  },
  autodiscover: {
    organization: str('', 'Organization name shown to mail clients (autoconfig display name). Empty = the directory\'s organization.'),
    mail_host: str('', 'Host name announced for IMAP, POP3 and SMTP in autoconfig answers. Empty = server.hostname.'),
  },
  mapi: {
    context_idle_seconds: int(1800, 5, 86400, 'A MAPI over HTTP session context unused this long expires (the client reconnects).'),
    pending_period_seconds: int(15, 1, 300, 'X-PendingPeriod: seconds between PENDING keep-alives of a request still being processed.'),
    notification_wait_seconds: int(300, 5, 1800, 'Longest NotificationWait before it answers that nothing happened.'),
    max_sessions_per_user: int(32, 1, 1024, 'Session contexts one user may hold per endpoint; the least recently used one goes beyond this.'),
  },
  control: {
    socket: str('', 'Unix socket of the local control channel (admin CLI); empty = <data_dir>/control.sock.'),
  },
  listeners: {
    imap: listener(143, 'IMAP (STARTTLS)'),
    imaps: listener(993, 'IMAP over implicit TLS'),
    pop3: listener(110, 'POP3 (STLS)'),
    pop3s: listener(995, 'POP3 over implicit TLS'),
    smtp: listener(25, 'SMTP (inbound mail, STARTTLS)'),
    submission: listener(587, 'mail submission (STARTTLS)'),
    submissions: listener(465, 'mail submission over implicit TLS'),
    lmtp: listener(24, 'LMTP (delivery from an MTA in front)'),
    http: listener(80, 'HTTP (redirects to HTTPS, ACME later)'),
    https: listener(443, 'HTTPS (MAPI/HTTP, RPC/HTTP, EAS, DAV, AutoDiscover, admin)'),
  },
} as const;

/**
 * One LDAP directory: a TOML table `[ldap.<name>]` per directory (one per domain or organization;
 * none by default). The schema above is flat sections of fixed keys; this one is a template that
 * every named table follows, so a deployment lists as many directories as it has. Environment
 * variables STOA_LDAP_<NAME>_<KEY> override keys of the tables the file has.
 */
export const LDAP_SCHEMA = {
  preset: str('openldap', 'Ready-made attribute map: openldap (inetOrgPerson, entryUUID), ad (Active Directory: objectGUID, proxyAddresses, userAccountControl, nested groups in one search), ad-gc (AD global catalog, ports 3268 / 3269), 389ds (nsUniqueId, mailAlternateAddress, nsAccountLock).', PRESET_NAMES),
  uris: str('', 'Comma-separated ldap:// or ldaps:// URIs of the servers, tried in order (failover: new connections go to the first that answers). Required.'),
  starttls: bool(false, 'Upgrade ldap:// connections with StartTLS before any bind (use ldaps:// URIs or this: passwords cross the wire in binds).'),
  ca_file: str('', 'PEM file with the CA certificates to trust for ldaps:// and StartTLS; empty = the system\'s.'),
  verify_tls: bool(true, "Check the directory servers' certificates."),
  bind_dn: str('', 'DN the server binds as to search (a read-only service account); empty = anonymous searches.'),
  bind_password: str('', 'Password of bind_dn (better set through STOA_LDAP_<NAME>_BIND_PASSWORD).'),
  base_dn: str('', 'Where users and groups are searched (subtree). Required.'),
  user_filter: str('', 'Extra filter users must match (partial integration), ANDed with the preset\'s user class, e.g. "(memberOf=cn=mail,ou=groups,dc=example,dc=com)".'),
  group_filter: str('', 'Extra filter groups must match, ANDed with the preset\'s group class.'),
  groups: bool(true, 'Take groups with an address (distribution lists) and their members from the directory.'),
  domains: str('', 'Comma-separated mail domains whose users come from this directory (created here if missing); users and addresses of other domains are skipped. Empty = every domain served here. Local users of other domains work beside them.'),
  attr_id: str('', "Attribute holding the entry's immutable id; empty = the preset's (objectGUID, entryUUID, nsUniqueId)."),
  attr_mail: str('', "Attribute of the primary address; empty = the preset's (mail)."),
  attr_aliases: str('', "Attribute of further addresses (proxyAddresses is read as SMTP:/smtp: values); \"none\" = none; empty = the preset's."),
  attr_display_name: str('', "Comma-separated attributes for the display name, first present wins; empty = the preset's (displayName, cn)."),
  attr_login: str('', "Comma-separated attributes a login name is looked up in besides the addresses; empty = the preset's (uid; AD: sAMAccountName, userPrincipalName)."),
  attr_member: str('', "Comma-separated group member attributes (DNs); empty = the preset's (member, uniqueMember)."),
  disabled_when: str('', "When an account is disabled: attr&mask (bits set), attr=value, attr (present) or none; empty = the preset's (AD userAccountControl&2, 389 DS nsAccountLock=true, OpenLDAP pwdAccountLockedTime)."),
  group_nesting: str('', 'Nested groups: in-chain (one AD search with LDAP_MATCHING_RULE_IN_CHAIN per group) or client (walk the groups read); empty = the preset\'s.', ['', 'client', 'in-chain']),
  page_size: int(500, 1, 100_000, 'Entries per page of a paged search (RFC 2696); Active Directory answers at most 1000 a page.'),
  pool_size: int(4, 1, 256, 'Connections kept per pool (one pool for searches, one for the binds that check passwords).'),
  connect_timeout_seconds: int(5, 1, 300, 'Time allowed to connect to one server before the next URI is tried.'),
  timeout_seconds: int(10, 1, 600, 'Time allowed for one LDAP operation (a page of a search, a bind).'),
  retry_seconds: int(5, 0, 3600, 'After every server failed, logins answer "try again later" at once for this long before the servers are tried again.'),
  sync_interval_seconds: int(900, 0, 604_800, 'How often users and groups are read into the local copy the doors and the address book use; 0 = only by `directory sync`.'),
  create_on_login: bool(true, 'A user of this directory not yet synced is looked up at first login and created (with a mailbox) when the bind succeeds.'),
  keep_old_addresses: bool(true, "When a user's primary address changes, keep the old one as an alias (mail to it still arrives) until another entry claims it."),
  max_gone_percent: int(50, 0, 100, 'A sync that finds more than this share of the synced users gone (and more than 10) changes nothing and reports it, unless run with --force: a wrong filter or missing rights must not disable everyone.'),
} as const;

type FieldValue<F> = F extends IntField ? number : F extends StrField ? string : F extends BoolField ? boolean : never;
type SectionOf<S> = { -readonly [K in keyof S]: S[K] extends Field ? FieldValue<S[K]> : SectionOf<S[K]> };
export type LdapConfig = SectionOf<typeof LDAP_SCHEMA>;
export type Config = SectionOf<typeof SCHEMA> & { ldap: Record<string, LdapConfig> };
/** Names of [ldap.<name>] tables: lower-case letters, digits and _ (they appear in environment variables). */
const LDAP_NAME_RE = /^[a-z][a-z0-9_]{0,31}$/;
export type ListenerName = keyof Config['listeners'];
export const LISTENER_NAMES = Object.keys(SCHEMA.listeners) as ListenerName[];

// ---------------------------------------------------------------- loading

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface CliFlags {
  config?: string;
  data?: string;
  workers?: string;
  portBase?: string;
  logLevel?: string;
}

export interface LoadedConfig {
  config: Config;
  /** The config file read, or null when none was given and the default was absent. */
  file: string | null;
}

function isField(v: unknown): v is Field {
  return typeof v === 'object' && v !== null && 'type' in v && 'default' in v;
}

type Tree = { [k: string]: Tree | Field };

function defaultsOf(tree: Tree): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tree)) out[k] = isField(v) ? v.default : defaultsOf(v);
  return out;
}

/** Walks the schema, calling fn with each dotted key path and its field. */
export function forEachField(fn: (path: string[], field: Field) => void, tree: Tree = SCHEMA as unknown as Tree, path: string[] = []): void {
  for (const [k, v] of Object.entries(tree)) {
    if (isField(v)) fn([...path, k], v);
    else forEachField(fn, v, [...path, k]);
  }
}

function coerce(field: Field, raw: unknown, key: string, source: string, fromText: boolean): number | string | boolean {
  const where = `${key} (from ${source})`;
  switch (field.type) {
    case 'int': {
      let n: number;
      if (typeof raw === 'number' || typeof raw === 'bigint') n = Number(raw);
      else if (fromText && typeof raw === 'string' && /^-?\d+$/.test(raw.trim())) n = Number(raw.trim());
      else throw new ConfigError(`config error: ${where}: must be a whole number from ${field.min} to ${field.max}, got ${JSON.stringify(raw)}`);
      if (!Number.isInteger(n) || n < field.min || n > field.max) {
        throw new ConfigError(`config error: ${where}: must be a whole number from ${field.min} to ${field.max}, got ${String(raw)}`);
      }
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (fromText && typeof raw === 'string') {
        const t = raw.trim().toLowerCase();
        if (['1', 'true', 'yes', 'on'].includes(t)) return true;
        if (['0', 'false', 'no', 'off'].includes(t)) return false;
      }
      throw new ConfigError(`config error: ${where}: must be true or false, got ${JSON.stringify(raw)}`);
    }
    case 'string': {
      if (typeof raw !== 'string') throw new ConfigError(`config error: ${where}: must be a string, got ${JSON.stringify(raw)}`);
      if (field.oneOf !== undefined && !field.oneOf.includes(raw)) {
        throw new ConfigError(`config error: ${where}: must be one of ${field.oneOf.join(', ')}, got ${JSON.stringify(raw)}`);
      }
      return raw;
    }
  }
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[path[path.length - 1]!] = value;
}

/** Applies a parsed TOML document onto the config, rejecting unknown keys and wrong types. */
function applyFile(cfg: Record<string, unknown>, doc: Record<string, unknown>, source: string, tree: Tree = SCHEMA as unknown as Tree, path: string[] = []): void {
  for (const [k, v] of Object.entries(doc)) {
    const key = [...path, k].join('.');
    if (path.length === 0 && k === 'ldap') {
      applyLdapTables(cfg, v, source);
      continue;
    }
    const node = tree[k];
    if (node === undefined) throw new ConfigError(`config error: ${key} (from ${source}): unknown key`);
    if (isField(node)) {
      setPath(cfg, [...path, k], coerce(node, v, key, source, false));
    } else {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`config error: ${key} (from ${source}): must be a table ([${key}])`);
      applyFile(cfg, v as Record<string, unknown>, source, node, [...path, k]);
    }
  }
}

function applyLdapTables(cfg: Record<string, unknown>, v: unknown, source: string): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`config error: ldap (from ${source}): must be tables [ldap.<name>], one per directory`);
  const all = cfg.ldap as Record<string, unknown>;
  for (const [name, table] of Object.entries(v as Record<string, unknown>)) {
    if (!LDAP_NAME_RE.test(name)) throw new ConfigError(`config error: ldap.${name} (from ${source}): a directory's name has lower-case letters, digits and _ (it names environment variables)`);
    if (typeof table !== 'object' || table === null || Array.isArray(table)) throw new ConfigError(`config error: ldap.${name} (from ${source}): must be a table ([ldap.${name}])`);
    all[name] = defaultsOf(LDAP_SCHEMA as unknown as Tree);
    applyFile(cfg, table as Record<string, unknown>, source, LDAP_SCHEMA as unknown as Tree, ['ldap', name]);
  }
}

export function envName(path: string[]): string {
  return `STOA_${path.join('_').toUpperCase()}`;
}

/**
 * Loads the configuration: defaults, then the file, then STOA_* environment variables, then
 * flags. `baseDir` resolves relative paths in flags and environment (the file's own relative
 * paths resolve against the file's folder).
 */
export function loadConfig(flags: CliFlags = {}, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): LoadedConfig {
  const cfg = defaultsOf(SCHEMA as unknown as Tree) as Record<string, unknown>;
  cfg.ldap = {};
  const explicit = flags.config ?? env.STOA_CONFIG;
  const file = explicit !== undefined ? resolve(baseDir, explicit) : null;
  let fileDir = baseDir;
  if (file !== null) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`config error: cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`config error: ${file} is not valid TOML: ${(err as Error).message.split('\n')[0]}`);
    }
    applyFile(cfg, doc, file);
    fileDir = resolve(file, '..');
    const server = cfg.server as Record<string, unknown>;
    if (doc.server !== undefined && (doc.server as Record<string, unknown>).data_dir !== undefined) server.data_dir = resolve(fileDir, server.data_dir as string);
  }
  forEachField((path, field) => {
    const name = envName(path);
    const raw = env[name];
    if (raw !== undefined) setPath(cfg, path, coerce(field, raw, path.join('.'), `environment ${name}`, true));
  });
  for (const ldapName of Object.keys(cfg.ldap as object)) {
    forEachField((p, field) => {
      const path = ['ldap', ldapName, ...p];
      const raw = env[envName(path)];
      if (raw !== undefined) setPath(cfg, path, coerce(field, raw, path.join('.'), `environment ${envName(path)}`, true));
    }, LDAP_SCHEMA as unknown as Tree);
    const l = (cfg.ldap as Record<string, LdapConfig>)[ldapName]!;
    if (l.ca_file !== '') l.ca_file = resolve(fileDir, l.ca_file);
  }
  const flag = (value: string | undefined, path: string[], name: string) => {
    if (value === undefined) return;
    const field = (path.reduce<unknown>((t, p) => (t as Tree)[p], SCHEMA) as Field);
    setPath(cfg, path, coerce(field, value, path.join('.'), `flag ${name}`, true));
  };
  if (flags.data !== undefined) (cfg.server as Record<string, unknown>).data_dir = flags.data;
  flag(flags.workers, ['runtime', 'workers'], '--workers');
  flag(flags.portBase, ['server', 'port_base'], '--port-base');
  flag(flags.logLevel, ['log', 'level'], '--log-level');
  const config = cfg as unknown as Config;
  validateCrossField(config);
  config.server.data_dir = isAbsolute(config.server.data_dir) ? config.server.data_dir : resolve(baseDir, config.server.data_dir);
  return { config, file };
}

function validateCrossField(c: Config): void {
  const n = c.auth.scrypt_n;
  if ((n & (n - 1)) !== 0) throw new ConfigError(`config error: auth.scrypt_n: must be a power of two, got ${n}`);
  const kib = c.runtime.ring_kib;
  if ((kib & (kib - 1)) !== 0) throw new ConfigError(`config error: runtime.ring_kib: must be a power of two, got ${kib}`);
  if (c.runtime.queue_soft_limit > c.runtime.queue_hard_limit) {
    throw new ConfigError(`config error: runtime.queue_soft_limit (${c.runtime.queue_soft_limit}) must not exceed runtime.queue_hard_limit (${c.runtime.queue_hard_limit})`);
  }
  if ((c.tls.cert === '') !== (c.tls.key === '')) throw new ConfigError('config error: tls.cert and tls.key: set both or neither');
  for (const name of LISTENER_NAMES) {
    const l = c.listeners[name];
    if (l.enabled && l.port + c.server.port_base > 65535) {
      throw new ConfigError(`config error: listeners.${name}.port: ${l.port} + server.port_base ${c.server.port_base} is above 65535`);
    }
  }
  for (const key of ['internal_url', 'external_url'] as const) {
    const v = c.http[key];
    if (v === '') continue;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new ConfigError(`config error: http.${key}: not a URL: ${JSON.stringify(v)}`);
    }
    if (u.protocol !== 'https:' || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
      throw new ConfigError(`config error: http.${key}: must be an https:// base URL without query or credentials, got ${JSON.stringify(v)}`);
    }
  }
  for (const entry of c.metrics.allow.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const [addr, bits, extra] = entry.split('/');
    const family = isIP(addr!);
    const maxBits = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits))) {
      throw new ConfigError(`config error: metrics.allow: not an IP address or CIDR range: ${JSON.stringify(entry)}`);
    }
  }
  validateLdap(c);
  const ports = new Map<number, string>();
  for (const name of LISTENER_NAMES) {
    const l = c.listeners[name];
    if (!l.enabled || l.port === 0) continue;
    const other = ports.get(l.port);
    if (other !== undefined) throw new ConfigError(`config error: listeners.${name}.port: ${l.port} is also listeners.${other}.port`);
    ports.set(l.port, name);
  }
}

function validateLdap(c: Config): void {
  const claimed = new Map<string, string>();
  for (const [name, l] of Object.entries(c.ldap)) {
    const bad = (key: string, what: string) => new ConfigError(`config error: ldap.${name}.${key}: ${what}`);
    const uris = l.uris.split(',').map((u) => u.trim()).filter((u) => u !== '');
    if (uris.length === 0) throw bad('uris', 'at least one ldap:// or ldaps:// URI is needed');
    for (const u of uris) {
      let url: URL;
      try {
        url = new URL(u);
      } catch {
        throw bad('uris', `not a URI: ${JSON.stringify(u)}`);
      }
      if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') throw bad('uris', `${JSON.stringify(u)} is not ldap:// or ldaps://`);
      if (url.protocol === 'ldaps:' && l.starttls) throw bad('starttls', `StartTLS is for ldap:// URIs; ${u} is TLS already`);
    }
    if (l.base_dn.trim() === '') throw bad('base_dn', 'required: where users and groups are searched');
    if (l.bind_dn !== '' && l.bind_password === '') throw bad('bind_password', `required with bind_dn (set STOA_LDAP_${name.toUpperCase()}_BIND_PASSWORD)`);
    for (const key of ['user_filter', 'group_filter'] as const) {
      const f = l[key].trim();
      if (f === '') continue;
      try {
        const wrapped = f.startsWith('(') ? f : `(${f})`;
        // ldapts's parser forgives unbalanced parentheses; the server would not.
        let depth = 0;
        for (const ch of wrapped.replace(/\\[0-9a-fA-F]{2}/g, '')) {
          depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
          if (depth < 0) break;
        }
        if (depth !== 0) throw new Error('unbalanced parentheses');
        FilterParser.parseString(wrapped);
      } catch (err) {
        throw bad(key, `not an LDAP filter (RFC 4515): ${(err as Error).message}`);
      }
    }
    if (l.disabled_when.trim() !== '') {
      try {
        parseDisabledRule(l.disabled_when);
      } catch (err) {
        throw bad('disabled_when', (err as Error).message);
      }
    }
    for (const d of l.domains.split(',').map((x) => x.trim().toLowerCase()).filter((x) => x !== '')) {
      if (!/^(?=.{1,255}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(d)) throw bad('domains', `not a domain name: ${JSON.stringify(d)}`);
      const other = claimed.get(d);
      if (other !== undefined) throw bad('domains', `${d} is also served by ldap.${other}: a domain has one directory`);
      claimed.set(d, name);
    }
    if (l.ca_file !== '' && !existsSync(l.ca_file)) throw bad('ca_file', `no such file: ${l.ca_file}`);
  }
}

/** The mailbox data partitions, absolute. */
export function partitions(c: Config): string[] {
  const list = c.storage.partitions
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return list.length === 0 ? [resolve(c.server.data_dir, 'mailboxes')] : list.map((p) => resolve(c.server.data_dir, p));
}

/** The resolved worker count (0 = auto). */
export function workerCount(c: Config): number {
  return c.runtime.workers > 0 ? c.runtime.workers : Math.max(1, availableParallelism() - 1);
}

export function cpuPoolThreads(c: Config): number {
  if (c.cpu_pool.threads > 0) return c.cpu_pool.threads;
  const cores = availableParallelism();
  return cores <= 2 ? 1 : Math.floor(cores / 2);
}

/** The documented config file with every key at its default (`npm run cli -- config example`). */
export function exampleConfig(): string {
  const lines: string[] = [
    '# Stoa configuration. Every key is optional; the values shown are the defaults.',
    '# Environment variables override the file: STOA_<SECTION>_<KEY>, for example',
    '# STOA_RUNTIME_WORKERS=3 or STOA_LISTENERS_IMAP_PORT=1143. Flags override both:',
    '# --config FILE, --data DIR, --workers N, --port-base N, --log-level LEVEL.',
  ];
  let section = '';
  forEachField((path, field) => {
    const sec = path.slice(0, -1).join('.');
    if (sec !== section) {
      section = sec;
      lines.push('', `[${sec}]`);
    }
    const allowed = field.type === 'string' && field.oneOf !== undefined ? ` One of: ${field.oneOf.join(', ')}.` : '';
    const range = field.type === 'int' ? ` (${field.min}..${field.max})` : '';
    lines.push(`# ${field.doc}${range}${allowed} Env: ${envName(path)}.`);
    if (field.defaultNote !== undefined) lines.push(`# Default: ${field.defaultNote}.`);
    const v = field.type === 'string' ? JSON.stringify(field.default) : String(field.default);
    lines.push(`${path[path.length - 1]} = ${v}`);
  });
  lines.push(
    '',
    '# LDAP directories: one table [ldap.<name>] per directory (users, passwords checked by bind,',
    '# addresses, display names and groups; local users work beside them). None by default: uncomment',
    '# and fill in a table to use one. Environment variables STOA_LDAP_<NAME>_<KEY> override keys of',
    '# the tables the file has (e.g. STOA_LDAP_CORP_BIND_PASSWORD).',
    '# [ldap.corp]',
  );
  forEachField((path, field) => {
    const allowed = field.type === 'string' && field.oneOf !== undefined ? ` One of: ${field.oneOf.map((o) => JSON.stringify(o)).join(', ')}.` : '';
    const range = field.type === 'int' ? ` (${field.min}..${field.max})` : '';
    lines.push(`# # ${field.doc}${range}${allowed}`);
    const v = field.type === 'string' ? JSON.stringify(field.default) : String(field.default);
    lines.push(`# ${path[path.length - 1]} = ${v}`);
  }, LDAP_SCHEMA as unknown as Tree);
  return lines.join('\n') + '\n';
}
