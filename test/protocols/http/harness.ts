/**
 * A real HTTP door for tests: the door as the server builds it (makeHttpDoor from a loaded
 * config), a temp directory with users, the CPU pool and authenticator, behind a real TLS listener
 * and a plain TCP one on loopback. Extra routes and config can be given per test.
 */
import { createServer as createTcpServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { loadConfig } from '../../../runtime/config.js';
import { CpuPool } from '../../../runtime/cpu-pool.js';
import { Authenticator } from '../../../runtime/auth.js';
import { DirectoryStore } from '../../../storage/directory-store.js';
import { loadTlsIdentity, type TlsIdentity } from '../../../protocols/shared/tls.js';
import { makeHttpDoor } from '../../../protocols/http/make-door.js';
import type { HttpDoor } from '../../../protocols/http/door.js';
import type { Route } from '../../../protocols/http/router.js';
import { quietLog, tempDir } from '../../helpers.js';

export const PASSWORD = 'correct horse battery';

let identity: Promise<TlsIdentity> | null = null;
/** One self-signed identity per test process (made once: RSA key generation takes a while). */
function tlsIdentity(): Promise<TlsIdentity> {
  identity ??= (async () => {
    const d = tempDir('stoa-tls-');
    return loadTlsIdentity(loadConfig({ data: d.path }, {}, d.path).config, 'localhost');
  })();
  return identity;
}

export interface Harness {
  door: HttpDoor;
  dir: DirectoryStore;
  auth: Authenticator;
  httpsPort: number;
  httpPort: number;
  guidCalls: string[];
  close(): Promise<void>;
}

export async function startDoor(opts: { env?: Record<string, string>; routes?: Route[]; users?: string[]; cacheMs?: number } = {}): Promise<Harness> {
  const d = tempDir();
  const config = loadConfig({ data: d.path }, { STOA_SERVER_HOSTNAME: 'mail.example.test', ...opts.env }, d.path).config;
  const dir = DirectoryStore.open(join(d.path, 'directory'));
  const pool = new CpuPool({ threads: 1, minBytes: 0 });
  const auth = new Authenticator(dir, pool, await dir.secret(), { scrypt: { n: 1024, r: 8, p: 1 }, cacheMs: opts.cacheMs ?? 300_000, storeNtHash: false });
  await dir.addDomain('example.test');
  for (const u of opts.users ?? ['alice@example.test', 'bob@example.test']) {
    await dir.addUser({ address: u, displayName: u.split('@')[0]!.replace(/^./, (c) => c.toUpperCase()), ...(await auth.hash(PASSWORD)) });
  }
  const guidCalls: string[] = [];
  const door = makeHttpDoor({
    config,
    hostname: 'mail.example.test',
    log: quietLog,
    dir,
    auth,
    health: async () => ({ ok: true, detail: { workers: [] } }),
    samples: async () => [{ name: 'stoa_test_gauge', help: 'A test sample.', type: 'gauge', values: [{ value: 7 }] }],
    deploymentId: '00000000-0000-4000-8000-000000000001',
    fetchMailboxGuid: async (address) => {
      guidCalls.push(address);
      return `1234abcd-0000-4000-8000-${Buffer.from(address).toString('hex').slice(0, 12).padEnd(12, '0')}`;
    },
    extraRoutes: opts.routes ?? [],
  });
  const tls = await tlsIdentity();
  const servers: Server[] = [
    createTlsServer({ cert: tls.cert, key: tls.key, ALPNProtocols: ['http/1.1'] }, (s) => door.handleConnection(s, 'https')),
    createTcpServer((s) => door.handleConnection(s, 'http')),
  ];
  const sockets = new Set<import('node:net').Socket>();
  for (const s of servers) s.on('connection', (c) => (sockets.add(c), c.once('close', () => sockets.delete(c))));
  const ports = await Promise.all(servers.map((s) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)))));
  return {
    door,
    dir,
    auth,
    httpsPort: ports[0]!,
    httpPort: ports[1]!,
    guidCalls,
    async close() {
      for (const c of sockets) c.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      await pool.close();
      await dir.close();
      d.remove();
    },
  };
}
