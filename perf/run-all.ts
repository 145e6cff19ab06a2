/**
 * `npm run perf`: runs every benchmark in perf/bench and prints one summary table.
 * `npm run perf -- NAME` runs only benchmarks whose file name contains NAME.
 * BENCH_SECONDS sets the length of each timed phase (default 3).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt, type Row } from './bench/common.js';

const dir = fileURLToPath(new URL('./bench/', import.meta.url));
const filter = process.argv[2];
const HELPERS = new Set(['common.js', 'bench-actor.js', 'echo-worker.js']);
const files = readdirSync(dir).filter((f) => f.endsWith('.js') && !HELPERS.has(f) && (filter === undefined || f.includes(filter)));

const rows: Row[] = [];
for (const f of files.sort()) {
  process.stderr.write(`perf: running ${f}...\n`);
  const mod = (await import(new URL(`./bench/${f}`, import.meta.url).href)) as { run?: () => Promise<Row[]> };
  if (typeof mod.run !== 'function') continue;
  const got = await mod.run();
  for (const r of got) process.stderr.write(`  ${r.bench} | ${r.metric}: ${fmt(r.value)} ${r.unit}\n`);
  rows.push(...got);
}

const header = ['benchmark', 'metric', 'value', 'baseline (same run)', 'ratio', 'note'];
const table = rows.map((r) => [
  r.bench,
  r.metric,
  `${fmt(r.value)} ${r.unit}`,
  r.baseline === undefined ? '' : `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}`,
  r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
  r.note ?? '',
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
console.log(`\nnode ${process.version}, ${(await import('node:os')).availableParallelism()} cores, ${new Date().toISOString()}`);
console.log(line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const row of table) console.log(line(row));
process.exit(0);
