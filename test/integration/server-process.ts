/** Runs the real server (build/runtime/main.js) or CLI as a child process for integration tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../runtime/main.js', import.meta.url));
const CLI = fileURLToPath(new URL('../../runtime/cli.js', import.meta.url));

export interface ServerProcess {
  proc: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Env for test servers: loopback only, quiet logs unless asked. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, STOA_SERVER_BIND: '127.0.0.1', STOA_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info', ...extra };
}

export function spawnServer(args: string[], env: NodeJS.ProcessEnv = testEnv(), command: string[] = [process.execPath, MAIN]): ServerProcess {
  const proc = spawn(command[0]!, [...command.slice(1), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, stderr: () => err, stdout: () => out, exited };
}

/** Waits until the server printed its start banner; rejects if it exits first. */
export async function waitStarted(s: ServerProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void s.exited.then(() => (exited = true));
  while (!/control socket .*Ctrl-C stops/.test(s.stderr())) {
    if (exited) throw new Error(`server exited during start:\n${s.stderr()}`);
    if (Date.now() > deadline) throw new Error(`server did not start in time:\n${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = testEnv()): Promise<CliResult> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    proc.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A started server on a fresh data folder and port base, torn down with the test (SIGKILL and
 * the folder removed). `cli` runs the admin CLI on the same data folder.
 */
export async function startedServer(
  t: { teardown(fn: () => unknown): void },
  env: NodeJS.ProcessEnv,
  extraArgs: string[] = [],
): Promise<{ data: string; base: number; server: ServerProcess; cli: (...args: string[]) => Promise<CliResult> }> {
  const { tempDir } = await import('../helpers.js');
  const { freePortBase } = await import('../ports.js');
  const dir = tempDir();
  t.teardown(dir.remove);
  const base = await freePortBase();
  const server = spawnServer(['--data', dir.path, '--port-base', String(base), '--workers', '1', ...extraArgs], env);
  t.teardown(() => server.proc.kill('SIGKILL'));
  await waitStarted(server);
  return { data: dir.path, base, server, cli: (...args: string[]) => runCli(['--data', dir.path, ...args], env) };
}
