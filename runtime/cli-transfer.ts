/**
 * The CLI's side of `mailbox import` and `mailbox export`: starts the job on the running server,
 * draws a progress bar from its status (on a terminal; plain progress lines otherwise), and ends
 * with the summary (imported or exported, skipped, failed with reasons).
 */
import { resolve as resolvePath } from 'node:path';
import { controlCall } from './control-client.js';
import type { TransferStatus } from './mailbox-transfer.js';

export const TRANSFER_USAGE = `  mailbox import <address> <mbox file | folder of .eml> [--folder F]   (needs the running server)
  mailbox export <address> <folder> <mbox file>`;

/** How often the CLI asks for progress. */
const POLL_MS = 250;

function bar(s: TransferStatus): string {
  const width = 30;
  const frac = s.total > 0 ? Math.min(1, s.done / s.total) : 0;
  const full = Math.round(frac * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${s.done}/${s.total} ${s.kind === 'import' ? `imported ${s.imported}` : `exported ${s.exported}`}, skipped ${s.skipped}, failed ${s.failed}`;
}

export async function runTransferCli(socket: string, rest: readonly string[]): Promise<{ summary: TransferStatus; code: number }> {
  const [verb, user, a, b, ...more] = rest;
  let args: Record<string, unknown>;
  if (verb === 'import') {
    let folder: string | undefined;
    const extra = [b, ...more].filter((x): x is string => x !== undefined);
    for (let i = 0; i < extra.length; i++) {
      if (extra[i] === '--folder' && extra[i + 1] !== undefined) folder = extra[++i];
      else throw Object.assign(new Error(`unexpected ${JSON.stringify(extra[i])}\n${TRANSFER_USAGE}`), { code: 'USAGE' });
    }
    if (user === undefined || a === undefined) throw Object.assign(new Error(`missing arguments\n${TRANSFER_USAGE}`), { code: 'USAGE' });
    args = { action: 'import', user, source: resolvePath(a), ...(folder !== undefined ? { folder } : {}) };
  } else {
    if (user === undefined || a === undefined || b === undefined || more.length > 0) throw Object.assign(new Error(`missing or extra arguments\n${TRANSFER_USAGE}`), { code: 'USAGE' });
    args = { action: 'export', user, folder: a, file: resolvePath(b) };
  }
  let s = (await controlCall(socket, 'transfer', args)) as TransferStatus;
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  while (s.state === 'running') {
    await new Promise((r) => setTimeout(r, POLL_MS));
    s = (await controlCall(socket, 'transfer', { action: 'status', job: s.job })) as TransferStatus;
    if (tty) process.stderr.write(`\r${bar(s)}`);
    else if (Date.now() - lastLine > 5000) {
      process.stderr.write(`${bar(s)}\n`);
      lastLine = Date.now();
    }
  }
  if (tty) process.stderr.write(`\r${bar(s)}\n`);
  return { summary: s, code: s.state === 'done' && s.failed === 0 ? 0 : 1 };
}
