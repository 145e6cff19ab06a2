/**
 * For the outbound tests: a fake "remote MX" (smtp-server on 127.0.0.1) that records what it
 * receives and answers each recipient as told, a resolver that maps test domains to it, and a
 * DKIM verifier (RFC 6376 relaxed/relaxed, rsa-sha256) written from the RFC, not from the signer.
 */
import { createHash, verify } from 'node:crypto';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { MxResolver } from '../../../protocols/smtp/outbound/route.js';
import { SmtpDoors, type SmtpDoorContext } from '../../../protocols/smtp/smtp-door.js';

export interface Received {
  from: string;
  to: string[];
  /** RCPT parameters per recipient (NOTIFY, ORCPT), upper-case names. */
  rcptArgs: Record<string, unknown>[];
  dsn: { ret?: string | null; envid?: string | null } | undefined;
  raw: Buffer;
  secure: boolean;
  user: string | null;
}

export interface FakeMx {
  port: number;
  received: Received[];
  /** Reply to a RCPT: null accepts (250), else "550 5.1.1 text" (code, enhanced status, text). */
  rcpt: (address: string, attempt: number) => string | null;
  /** RCPT commands seen per address. */
  attempts: Map<string, number>;
  close(): Promise<void>;
}

function smtpError(line: string): Error {
  const m = /^(\d{3}) (.*)$/.exec(line)!;
  return Object.assign(new Error(m[2]), { responseCode: Number(m[1]) });
}

/**
 * The SMTP door patches smtp-server process-wide so that a reply whose text starts with an
 * enhanced status code uses that one (smtp-server would add its own in front). Tests in one file
 * run in one process, so the fake MX gets the patch too, whichever test comes first: apply it now.
 */
function applyDoorPatch(): void {
  new SmtpDoors({ hostname: 'patch', limits: { maxMessageBytes: 1, maxRecipients: 1, maxConnectionsPerIp: 1, maxAuthFailures: 1, socketTimeoutMs: 1000 }, tls: {}, allowPlaintextAuth: false } as unknown as SmtpDoorContext).close();
}

export async function startFakeMx(
  t: { teardown(fn: () => unknown): void },
  opts: { tls?: { key: string | Buffer; cert: string | Buffer }; auth?: { user: string; pass: string }; dsn?: boolean } = {},
): Promise<FakeMx> {
  applyDoorPatch();
  const fake: FakeMx = { port: 0, received: [], rcpt: () => null, attempts: new Map(), close: async () => undefined };
  const rcptArgs = new Map<string, Record<string, unknown>[]>();
  const options: SMTPServerOptions = {
    name: 'mx.remote.example',
    logger: false,
    size: 64 * 1024 * 1024,
    hideDSN: opts.dsn === false,
    hideENHANCEDSTATUSCODES: false,
    hideSTARTTLS: opts.tls === undefined,
    ...(opts.tls !== undefined ? opts.tls : {}),
    authOptional: opts.auth === undefined,
    disabledCommands: opts.auth === undefined ? ['AUTH'] : [],
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth: (auth, _session, cb) => {
      if (opts.auth !== undefined && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(Object.assign(new Error('5.7.8 bad credentials'), { responseCode: 535 }));
    },
    onRcptTo: (address, session, cb) => {
      const a = address.address;
      const n = (fake.attempts.get(a) ?? 0) + 1;
      fake.attempts.set(a, n);
      const answer = fake.rcpt(a, n);
      if (answer !== null) return cb(smtpError(answer));
      const list = rcptArgs.get(session.id) ?? [];
      list.push((address.args || {}) as Record<string, unknown>);
      rcptArgs.set(session.id, list);
      cb();
    },
    onData: (stream, session: SMTPServerSession, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        fake.received.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          rcptArgs: rcptArgs.get(session.id) ?? [],
          dsn: session.envelope.dsn as Received['dsn'],
          raw: Buffer.concat(chunks),
          secure: session.secure === true,
          user: typeof session.user === 'string' ? session.user : null,
        });
        rcptArgs.delete(session.id);
        cb(null, 'queued as fake');
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.server.address();
  fake.port = typeof a === 'object' && a !== null ? a.port : 0;
  fake.close = () => new Promise<void>((r) => server.close(() => r()));
  t.teardown(() => fake.close());
  return fake;
}

/** DNS for the tests: every name in `mx` has one MX host resolving to 127.0.0.1. */
export function testResolver(over: Partial<MxResolver> = {}): MxResolver & { mxQueries: string[] } {
  const mxQueries: string[] = [];
  const fail = (code: string) => Promise.reject(Object.assign(new Error(code), { code }));
  return {
    mxQueries,
    resolveMx: (domain) => {
      mxQueries.push(domain);
      if (domain === 'nullmx.example') return Promise.resolve([{ exchange: '', priority: 0 }]);
      if (domain === 'nx.example') return fail('ENOTFOUND');
      if (domain === 'dns-down.example') return fail('ETIMEOUT');
      return Promise.resolve([{ exchange: `mx.${domain}`, priority: 10 }]);
    },
    resolveHost: (host) => (host.endsWith('.example') ? Promise.resolve(['127.0.0.1']) : fail('ENOTFOUND')),
    ...over,
  };
}

// ---------------------------------------------------------------- DKIM verification (RFC 6376)

function splitMessage(raw: Buffer): { headers: string[]; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end + 2).toString('latin1');
  const headers: string[] = [];
  for (const line of head.split(/(?<=\r\n)/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1] += line;
    else if (line !== '') headers.push(line);
  }
  return { headers, body: raw.subarray(end + 4) };
}

/** 3.4.2: lower-case name, unfold, runs of WSP to one SP, no WSP around the colon or at the end. */
function relaxedHeader(field: string): string {
  const colon = field.indexOf(':');
  const name = field.slice(0, colon).trim().toLowerCase();
  const value = field
    .slice(colon + 1)
    .replace(/\r\n(?=[ \t])/g, '')
    .replace(/\r\n$/, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${name}:${value}`;
}

/** 3.4.4: no WSP at line ends, runs of WSP to one SP, no empty lines at the end, CRLF at the end. */
function relaxedBody(body: Buffer): Buffer {
  let s = body
    .toString('latin1')
    .split('\r\n')
    .map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
    .join('\r\n');
  s = s.replace(/(\r\n)*$/, '');
  return Buffer.from(s === '' ? '' : `${s}\r\n`, 'latin1');
}

export interface DkimCheck {
  ok: boolean;
  bodyHashOk: boolean;
  tags: Record<string, string>;
  signedHeaders: string[];
}

/** Verifies the top DKIM-Signature of `raw` with the public key of the DNS record (p=, base64 SPKI). */
export function verifyDkim(raw: Buffer, publicKeyB64: string): DkimCheck {
  const { headers, body } = splitMessage(raw);
  const sigIndex = headers.findIndex((h) => /^dkim-signature:/i.test(h));
  if (sigIndex < 0) return { ok: false, bodyHashOk: false, tags: {}, signedHeaders: [] };
  const sigField = headers[sigIndex]!;
  const tags: Record<string, string> = {};
  for (const part of sigField.slice(sigField.indexOf(':') + 1).split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags[part.slice(0, eq).trim()] = part.slice(eq + 1).replace(/\s+/g, '');
  }
  const bh = createHash('sha256').update(relaxedBody(body)).digest('base64');
  const bodyHashOk = bh === tags.bh;
  // 5.4.2: each name in h= takes the next instance from the bottom.
  const names = (tags.h ?? '').split(':').map((n) => n.trim().toLowerCase());
  const used = new Set<number>();
  let data = '';
  for (const n of names) {
    for (let i = headers.length - 1; i >= 0; i--) {
      if (i === sigIndex || used.has(i)) continue;
      if (headers[i]!.slice(0, headers[i]!.indexOf(':')).trim().toLowerCase() === n) {
        used.add(i);
        data += relaxedHeader(headers[i]!) + '\r\n';
        break;
      }
    }
  }
  // 3.7: the signature field itself with an empty b=, without its final CRLF.
  data += relaxedHeader(sigField.replace(/(;\s*b=)[^;]*$/s, '$1').replace(/(;\s*b=)[^;]*;/s, '$1;'));
  const ok = bodyHashOk && verify('sha256', Buffer.from(data, 'latin1'), { key: Buffer.from(publicKeyB64, 'base64'), format: 'der', type: 'spki' }, Buffer.from(tags.b ?? '', 'base64'));
  return { ok, bodyHashOk, tags, signedHeaders: names };
}
