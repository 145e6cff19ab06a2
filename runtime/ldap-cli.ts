/**
 * The CLI's side of `directory ...`: `directory sync` starts a sync job (on the running server, or
 * in the CLI's own process when none runs), draws a progress bar from its status (on a terminal;
 * a line every few seconds otherwise) and ends with the summary: created, updated, renamed,
 * disabled, gone (disabled, mailbox kept), conflicts, mailboxes made, groups.
 */
import type { SyncJob, SyncProgress } from './directory-sync.js';

/** How often the CLI asks for progress. */
const POLL_MS = 200;

function bar(p: SyncProgress | null): string {
  if (p === null) return 'starting...';
  const width = 30;
  if (p.phase === 'read') return `${p.config}: reading LDAP... ${p.read} entries`;
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const full = Math.round(frac * width);
  return `${p.config}: [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${p.phase} ${p.done}/${p.total} (read ${p.read})`;
}

/** Runs one `directory` command through `call` (the control socket, or the in-process admin). */
export async function runDirectoryCli(rest: readonly string[], call: (argv: string[]) => Promise<unknown>): Promise<{ out: unknown; code: number }> {
  const argv = ['directory', ...rest];
  if (rest[0] !== 'sync') return { out: await call(argv), code: 0 };
  let job = (await call(argv)) as SyncJob;
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  let lastText = '';
  while (job.state === 'running') {
    await new Promise((r) => setTimeout(r, POLL_MS));
    job = (await call(['directory', 'job', job.job])) as SyncJob;
    const text = bar(job.progress);
    if (tty) process.stderr.write(`\r${text.padEnd(lastText.length)}`);
    else if (Date.now() - lastLine > 2000 && text !== lastText) {
      process.stderr.write(`${text}\n`);
      lastLine = Date.now();
    }
    lastText = text;
  }
  if (tty) process.stderr.write('\n');
  const summaries = job.summaries.map((s) => ({
    ...s,
    users: { ...s.users, gone: s.users.gone.length > 0 ? s.users.gone : [] },
  }));
  const totals = summaries.map((s) => `${s.config}: ${s.ok ? 'ok' : `FAILED (${s.error})`}; read ${s.read}, created ${s.users.created}, updated ${s.users.updated}, unchanged ${s.users.unchanged}, renamed ${s.users.renamed.length}, disabled in LDAP ${s.users.disabled}, gone ${s.users.gone.length}${s.users.pruned.length > 0 ? `, pruned ${s.users.pruned.length}` : ''}${s.wouldPrune !== undefined ? `, would prune ${s.wouldPrune.length} (confirm with --yes)` : ''}, conflicts ${s.users.conflicts.length}, mailboxes made ${s.users.mailboxesCreated}, groups +${s.groups.created} ~${s.groups.updated} -${s.groups.removed}; ${s.ms} ms`);
  process.stderr.write(totals.join('\n') + '\n');
  return { out: { job: job.job, state: job.state, ...(job.error !== undefined ? { error: job.error } : {}), summaries }, code: job.state === 'done' ? 0 : 1 };
}
