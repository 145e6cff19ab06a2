/**
 * Where mail for a domain goes: a configured smarthost, or the domain's MX hosts (RFC 5321 5.1):
 * MX records by preference (equal preferences in random order), the domain itself as an implicit
 * MX when it has none (its A / AAAA records), a null MX (RFC 7505: one MX of "." ) a permanent
 * failure, a domain that does not exist a permanent failure, and any other DNS trouble temporary.
 *
 * DNS goes through a resolver that tests replace (no network there).
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { QueueReply } from '../../../storage/outbound-queue.js';

export interface MxResolver {
  /** MX records; rejects with a node:dns error code (ENODATA, ENOTFOUND, ETIMEOUT, ...). */
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>;
  /** A and AAAA addresses of a host; rejects like resolveMx. */
  resolveHost(host: string): Promise<string[]>;
}

/** node:dns. */
export const systemResolver: MxResolver = {
  resolveMx: (domain) => dns.resolveMx(domain),
  async resolveHost(host) {
    const [v4, v6] = await Promise.allSettled([dns.resolve4(host), dns.resolve6(host)]);
    const out = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (out.length > 0) return out;
    // Both failed: the first one's reason says why (ENOTFOUND, ETIMEOUT, ...).
    throw v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : Object.assign(new Error(`${host}: no address`), { code: 'ENODATA' });
  },
};

/** How the connection to a host is secured. */
export type TlsMode =
  /** TLS from the first byte (port 465). */
  | 'implicit'
  /** STARTTLS required: no mail goes in plain text. */
  | 'starttls'
  /** STARTTLS when offered, plain text otherwise or when the handshake fails (MX default, RFC 3207 / 7435). */
  | 'opportunistic'
  /** Never TLS. */
  | 'none';

export interface Smarthost {
  host: string;
  port: number;
  tls: TlsMode;
  /** Verify the smarthost's certificate (default true). */
  rejectUnauthorized?: boolean;
  auth?: { user: string; pass: string } | null;
}

/** One host to try, with its addresses (already resolved, so the injected resolver decides everything). */
export interface RouteHost {
  /** The host's name (TLS SNI and certificate name, Remote-MTA in DSNs). */
  name: string;
  addresses: string[];
  port: number;
  tls: TlsMode;
  rejectUnauthorized: boolean;
  auth: { user: string; pass: string } | null;
}

export type Route = { ok: true; hosts: RouteHost[] } | { ok: false; reply: QueueReply };

/** MX hosts tried per attempt (RFC 5321 5.1 asks for at least two when there are). */
export const MAX_MX_HOSTS = 5;
/** Addresses tried per host. */
export const MAX_ADDRESSES_PER_HOST = 2;

export interface RouteOptions {
  resolver: MxResolver;
  smarthost: Smarthost | null;
  /** Port of MX hosts: 25; tests aim it at their own listener. */
  mxPort: number;
  /** Verify MX certificates (off by default: opportunistic TLS to MX hosts rarely has names that match). */
  mxRejectUnauthorized: boolean;
}

const temp = (text: string): QueueReply => ({ code: 451, status: '4.4.3', text });

function dnsCode(err: unknown): string {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : '';
}

/** Where to deliver mail for `domain` (lower case, ASCII or A-label). */
export async function resolveRoute(domain: string, o: RouteOptions): Promise<Route> {
  if (o.smarthost !== null) {
    const s = o.smarthost;
    const addresses = isIP(s.host) !== 0 ? [s.host] : await o.resolver.resolveHost(s.host).catch(() => null);
    if (addresses === null) return { ok: false, reply: temp(`cannot resolve the smarthost ${s.host}`) };
    return { ok: true, hosts: [{ name: s.host, addresses, port: s.port, tls: s.tls, rejectUnauthorized: s.rejectUnauthorized ?? true, auth: s.auth ?? null }] };
  }
  // A domain literal ([192.0.2.1]) names the host itself (RFC 5321 4.1.3).
  const literal = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(domain);
  if (literal !== null) {
    if (isIP(literal[1]!) === 0) return { ok: false, reply: { code: 553, status: '5.1.2', text: `bad address literal ${domain}` } };
    return { ok: true, hosts: [mxHost(literal[1]!, [literal[1]!], o)] };
  }
  let mx: { exchange: string; priority: number }[];
  try {
    mx = await o.resolver.resolveMx(domain);
  } catch (err) {
    const code = dnsCode(err);
    if (code === 'ENOTFOUND') return { ok: false, reply: { code: 550, status: '5.1.2', text: `the domain ${domain} does not exist` } };
    if (code !== 'ENODATA') return { ok: false, reply: temp(`DNS lookup of ${domain} failed (${code || 'error'})`) };
    mx = []; // no MX records: the implicit MX below
  }
  // RFC 7505 3: a single MX of "." (node:dns gives "") means the domain takes no mail.
  if (mx.length === 1 && (mx[0]!.exchange === '' || mx[0]!.exchange === '.')) {
    return { ok: false, reply: { code: 556, status: '5.1.10', text: `${domain} does not accept mail (null MX)` } };
  }
  // RFC 5321 5.1: no MX records → the domain itself, as one MX of preference 0.
  const names = mx.length === 0 ? [domain] : orderMx(mx).filter((n) => n !== '' && n !== '.');
  const hosts: RouteHost[] = [];
  let lastErr = '';
  for (const name of names.slice(0, MAX_MX_HOSTS)) {
    try {
      const addresses = isIP(name) !== 0 ? [name] : await o.resolver.resolveHost(name);
      if (addresses.length > 0) hosts.push(mxHost(name, addresses.slice(0, MAX_ADDRESSES_PER_HOST), o));
    } catch (err) {
      lastErr = dnsCode(err);
      if (mx.length === 0 && lastErr === 'ENOTFOUND') return { ok: false, reply: { code: 550, status: '5.1.2', text: `the domain ${domain} does not exist` } };
    }
  }
  if (hosts.length === 0) {
    if (mx.length === 0 && (lastErr === 'ENODATA' || lastErr === '')) return { ok: false, reply: { code: 550, status: '5.1.2', text: `${domain} has no mail exchanger and no address` } };
    return { ok: false, reply: temp(`no address for the mail exchangers of ${domain} (${lastErr || 'none'})`) };
  }
  return { ok: true, hosts };
}

function mxHost(name: string, addresses: string[], o: RouteOptions): RouteHost {
  return { name, addresses, port: o.mxPort, tls: 'opportunistic', rejectUnauthorized: o.mxRejectUnauthorized, auth: null };
}

/** Exchanges by preference, ties shuffled (RFC 5321 5.1), each name once. */
function orderMx(mx: { exchange: string; priority: number }[]): string[] {
  const shuffled = mx.map((m) => ({ m, r: Math.random() })).sort((a, b) => a.m.priority - b.m.priority || a.r - b.r);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const { m } of shuffled) {
    const n = m.exchange.toLowerCase().replace(/\.$/, '');
    if (!seen.has(n)) {
      seen.add(n);
      out.push(n);
    }
  }
  return out;
}
