/**
 * `npm start -- [--config FILE] [--data DIR] [--workers N] [--port-base N] [--log-level L]`
 *
 * Starts the whole server. Exit codes: 0 after a clean stop (Ctrl-C / SIGTERM / control
 * `shutdown`), 2 for bad flags or configuration, 1 when the start fails otherwise
 * (for example a port that cannot be bound).
 */
import { parseArgs } from 'node:util';
import { ConfigError, cpuPoolThreads, loadConfig, workerCount, type CliFlags, type LoadedConfig } from './config.js';
import { makeLogger } from './logger.js';
import { PortBindError } from '../protocols/shared/listeners.js';

const USAGE = `usage: npm start -- [--config FILE] [--data DIR] [--workers N] [--port-base N] [--log-level LEVEL]`;

function parseFlags(argv: string[]): CliFlags {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      data: { type: 'string' },
      workers: { type: 'string' },
      'port-base': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  return { config: values.config, data: values.data, workers: values.workers, portBase: values['port-base'], logLevel: values['log-level'] };
}

let flags: CliFlags;
let loaded: LoadedConfig;
try {
  flags = parseFlags(process.argv.slice(2));
  loaded = loadConfig(flags);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `stoa: ${(err as Error).message}\n${USAGE}`}\n`);
  process.exit(2);
}

// Before anything touches libuv's pool (lmdb-js commits, fs, DNS and crypto share it).
process.env.UV_THREADPOOL_SIZE = String(loaded.config.runtime.uv_threadpool_size);

const log = makeLogger(loaded.config.log.level);
const { startServer } = await import('./server.js');

let server: Awaited<ReturnType<typeof startServer>>;
try {
  server = await startServer(loaded, flags, log);
} catch (err) {
  const msg = err instanceof PortBindError || err instanceof Error ? err.message : String(err);
  log.fatal({ err }, 'start failed');
  process.stderr.write(`stoa: start failed: ${msg}\n`);
  process.exit(1);
}

const c = server.config;
log.info(
  {
    version: process.env.npm_package_version,
    node: process.version,
    config: loaded.file,
    data: c.server.data_dir,
    workers: workerCount(c),
    cpuPoolThreads: cpuPoolThreads(c),
    uvThreadpool: c.runtime.uv_threadpool_size,
    listeners: server.listeners.bound,
  },
  'server started',
);
const lines = [
  `stoa: started on ${server.hostname} (pid ${process.pid}), ${workerCount(c)} actor worker(s), data in ${c.server.data_dir}`,
  `stoa: TLS certificate ${server.tls.certPath} (${server.tls.source}), SHA-256 ${server.tls.fingerprint256}`,
  ...server.listeners.bound.map((b) => `stoa: listening  ${b.name.padEnd(12)} ${b.address}:${b.port}${b.tls ? '  (TLS)' : ''}`),
  ...(server.firstAdmin === null
    ? []
    : [`stoa: first admin login: ${server.firstAdmin.address} / ${server.firstAdmin.password} (also in ${server.firstAdmin.file}; change it with npm run cli -- user passwd ${server.firstAdmin.address})`]),
  `stoa: control socket ${server.control.path}; Ctrl-C stops.`,
];
process.stderr.write(lines.join('\n') + '\n');

let signals = 0;
const onStop = (sig: string) => {
  signals++;
  if (signals > 1) {
    process.stderr.write(`stoa: ${sig} again, exiting at once\n`);
    process.exit(130);
  }
  process.stderr.write(`stoa: ${sig}: stopping...\n`);
  void server.stop();
};
process.on('SIGINT', () => onStop('SIGINT'));
process.on('SIGTERM', () => onStop('SIGTERM'));
process.on('SIGHUP', () => {
  server.reload().catch((err: unknown) => log.error({ err: (err as Error).message }, 'reload failed; keeping the running configuration'));
});

await server.stopped;
process.stderr.write('stoa: stopped cleanly\n');
log.flush();
process.exit(0);
