/**
 * `npm run bench [-- --json] [-- --only NAME[,NAME...]] [NAME...]`
 *
 * Runs the benchmarks of bench/registry.ts in order (or those whose name matches a filter: a benchmark name or a
 * dotted prefix of it, e.g. `engine` or `engine.chain1k`; a metric name selects the benchmark that reports it).
 * Prints a table (metric, value, unit, target, note). With --json, stdout carries only one JSON object per metric,
 * `{"metric": NAME, "value": NUMBER, "unit": STRING}`, as each benchmark finishes; everything else goes to stderr.
 * Skipped metrics have no value: they appear in the table (and on stderr in --json mode) with the reason.
 * Nothing here asserts on timings; the exit code is 1 only when a benchmark failed to run.
 */
import { benchmarks, derived } from './registry.ts';
import { fmt } from './support.ts';
import type { Benchmark, Metric } from './types.ts';

const USAGE = `Usage: npm run bench -- [--json] [--only NAME[,NAME...]] [NAME...] [--list]
Benchmarks:
${benchmarks.map((b) => `  ${b.name.padEnd(28)} ${b.description}`).join('\n')}`;

function parseArgs(argv: string[]): { json: boolean; list: boolean; filters: string[] } {
  let json = false;
  let list = false;
  const filters: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--list') list = true;
    else if (a === '--help' || a === '-h') {
      process.stderr.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a === '--only') {
      const v = argv[++i];
      if (!v) throw new Error('--only needs a benchmark name');
      filters.push(...v.split(','));
    } else if (a.startsWith('--only=')) filters.push(...a.slice('--only='.length).split(','));
    else if (a.startsWith('-')) throw new Error(`Unknown option ${a}`);
    else filters.push(...a.split(','));
  }
  return { json, list, filters: filters.map((f) => f.trim()).filter(Boolean) };
}

function select(all: Benchmark[], filters: string[]): Benchmark[] {
  if (!filters.length) return all;
  const chosen = new Set<Benchmark>();
  for (const f of filters) {
    const byPrefix = all.filter((b) => b.name === f || b.name.startsWith(`${f}.`));
    // A metric name (engine.chain1k.per_task_ms) selects the benchmark with the longest name that prefixes it.
    const owner = byPrefix.length ? [] : all.filter((b) => f.startsWith(`${b.name}.`)).sort((a, b) => b.name.length - a.name.length).slice(0, 1);
    const hit = [...byPrefix, ...owner];
    if (!hit.length) throw new Error(`No benchmark matches "${f}".`);
    for (const b of hit) chosen.add(b);
  }
  return all.filter((b) => chosen.has(b));
}

const { json, list, filters } = (() => {
  try {
    return parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
})();

if (list) {
  process.stdout.write(`${benchmarks.map((b) => b.name).join('\n')}\n`);
  process.exit(0);
}

let selected: Benchmark[];
try {
  selected = select(benchmarks, filters);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

// In --json mode stdout belongs to the JSON lines alone: anything else written to it (libraries, task output
// that escapes capture) is sent to stderr instead.
const writeStdout = process.stdout.write.bind(process.stdout) as (text: string) => boolean;
if (json) process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;

const log = (message: string) => process.stderr.write(`${message}\n`);
const results: Metric[] = [];
let failed = 0;

function record(m: Metric): void {
  const valid = m.value !== undefined && Number.isFinite(m.value);
  const metric: Metric = valid ? m : { ...m, value: undefined, skipped: m.skipped ?? `not a finite number (${m.value})` };
  results.push(metric);
  if (!json) return;
  if (metric.value === undefined) log(`skipped ${metric.metric}: ${metric.skipped}`);
  else writeStdout(`{"metric": ${JSON.stringify(metric.metric)}, "value": ${JSON.stringify(Number(metric.value.toPrecision(6)))}, "unit": ${JSON.stringify(metric.unit)}}\n`);
}

const t0 = Date.now();
for (const b of selected) {
  log(`▶ ${b.name}: ${b.description}`);
  const started = Date.now();
  try {
    const metrics = await b.run({ log });
    for (const m of metrics) record(m);
    const shown = metrics.map((m) => (m.value !== undefined ? `${m.metric}=${fmt(m.value)} ${m.unit}` : `${m.metric} skipped (${m.skipped})`));
    log(`  ${shown.join(', ')}  [${((Date.now() - started) / 1000).toFixed(1)} s]`);
  } catch (err) {
    failed++;
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`  FAILED: ${message}`);
    results.push({ metric: b.name, unit: '', skipped: `FAILED: ${message.split('\n')[0]}` });
  }
}

const measured = new Map(results.filter((m) => m.value !== undefined).map((m) => [m.metric, m.value!]));
for (const d of derived) {
  if (!selected.some((b) => d.inputs.some((i) => i === b.name || i.startsWith(`${b.name}.`)))) continue;
  const values = d.inputs.map((i) => measured.get(i));
  if (values.every((v) => v !== undefined)) record({ metric: d.metric, value: d.compute(values as number[]), unit: d.unit, ...(d.target ? { target: d.target } : {}), ...(d.note ? { note: d.note } : {}) });
  else record({ metric: d.metric, unit: d.unit, skipped: `needs ${d.inputs.filter((_, i) => values[i] === undefined).join(', ')}` });
}

function table(rows: Metric[]): string {
  const cells = rows.map((m) => [m.metric, m.value !== undefined ? fmt(m.value) : '—', m.unit, m.target ?? '', m.value !== undefined ? (m.note ?? '') : `skipped: ${m.skipped}`]);
  const head = ['metric', 'value', 'unit', 'target', 'note'];
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 4 ? x : i === 1 ? x.padStart(width[i]!) : x.padEnd(width[i]!))).join('  ').trimEnd();
  return [line(head), line(width.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

const summary = `${table(results)}\n(${((Date.now() - t0) / 1000).toFixed(0)} s, Node ${process.version}, ${selected.length} benchmark(s)${failed ? `, ${failed} FAILED` : ''})\n`;
if (json) log(summary);
else writeStdout(summary);
process.exitCode = failed ? 1 : 0;

// Everything should be closed by now; if a handle still keeps the process alive, say so and leave anyway.
setTimeout(() => {
  log('bench: some handle kept the process alive after all benchmarks finished; exiting.');
  process.exit(process.exitCode ?? 0);
}, 5_000).unref();
