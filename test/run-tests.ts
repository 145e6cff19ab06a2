/**
 * `npm test`: runs every test file with ava (TAP reporter), streams its output, and ends with the
 * closing line `N passed, N failed[, N skipped]`. Extra arguments go to ava (e.g. a file glob).
 * Exit code: ava's, and non-zero when ava produced no summary (a crash).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const avaCli = join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
const child = spawn(process.execPath, [avaCli, '--tap', ...process.argv.slice(2)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });

const counts = { pass: -1, fail: -1, skip: 0, todo: 0 };
let pending = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk: string) => {
  process.stdout.write(chunk);
  pending += chunk;
  let nl: number;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    const m = /^# (pass|fail|skip|todo) (\d+)$/.exec(line);
    if (m !== null) counts[m[1] as keyof typeof counts] = Number(m[2]);
  }
});

child.on('close', (code) => {
  const sawSummary = counts.pass >= 0;
  const passed = Math.max(0, counts.pass);
  // A run that ended without a summary counts as one failure, so it can never read as green.
  const failed = sawSummary ? Math.max(0, counts.fail) : Math.max(1, counts.fail);
  const skipped = counts.skip + counts.todo;
  process.stdout.write(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
  process.exit(code !== 0 ? (code ?? 1) : failed > 0 ? 1 : 0);
});
