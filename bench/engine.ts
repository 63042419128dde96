/**
 * Engine throughput on the SQLite store (a fresh temp dir per measured run, durable commits):
 *   engine.chain1k            1,000 no-op tasks in a chain (each takes the previous output), inline executor
 *   engine.chain1k.sync_full  the same with `sqlite:<tmp>/baton.db?sync=full` (fsync per commit)
 *   engine.fanout10k          1 → map over 10,000 → 1, inline executor, default config (cpus = the machine's)
 *   engine.fanout10k.cpus50   the same with cpus: 50 (50 tasks in flight, as many as the BullMQ worker runs)
 *   engine.fanout100k         the same over 100,000, in a child process so its peak RSS is its own
 *   engine.process.*          chain1k and fanout10k on the `processes` executor
 * Wall time covers startRun (graph build, validation, code snapshot, first transaction) and driving the run to its
 * end; opening the platform is excluded, and so are one-off per-process costs (task code hashes, worker start-up),
 * paid by a small warm-up run on the same platform first. Caching stays on (the default): every input carries a
 * unique salt, and every run is checked — succeeded, all task nodes ran, no node has `cachedFrom`.
 * Short benchmarks are repeated on fresh platforms and the median reported (the machine may be shared).
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import type { Platform, PlatformConfig } from '../src/composition/index.ts';
import type { ExecutorName } from '../src/sdk/index.ts';
import { commits, fmt, inlineOutput, ms, newSalt, verifyRun, withTempPlatform } from './support.ts';
import { skipped, type Benchmark, type Metric } from './types.ts';
import { chain, fanout } from './workflows.ts';

export interface Timed {
  runId: string;
  startMs: number;
  driveMs: number;
  totalMs: number;
  commits: number;
  /** Time inside store.apply (the commits). */
  commitMs: number;
  taskNodes: number;
}

async function timedRun(platform: Platform, wf: typeof chain | typeof fanout, params: { n: number; salt: string }, executor: ExecutorName, onDone?: () => void) {
  const c0 = commits(platform);
  const t0 = process.hrtime.bigint();
  const { runId, graph } = await platform.startRun(wf, params, { executor });
  const t1 = process.hrtime.bigint();
  const outcome = await platform.drive(runId, wf, graph, { executor });
  const t2 = process.hrtime.bigint();
  onDone?.();
  const c1 = commits(platform);
  return { outcome, startMs: ms(t1 - t0), driveMs: ms(t2 - t1), totalMs: ms(t2 - t0), commits: c1.count - c0.count, commitMs: c1.ms - c0.ms };
}

export async function runChain(platform: Platform, n: number, executor: ExecutorName): Promise<Timed> {
  const r = await timedRun(platform, chain, { n, salt: newSalt() }, executor);
  const check = await verifyRun(platform, r.outcome, n);
  const out = inlineOutput(r.outcome);
  if (out !== n) throw new Error(`chain of ${n} returned ${JSON.stringify(out)}, expected ${n}`);
  return { runId: r.outcome.runId, startMs: r.startMs, driveMs: r.driveMs, totalMs: r.totalMs, commits: r.commits, commitMs: r.commitMs, taskNodes: check.taskNodes };
}

/** `onDone` runs right after the run ends and before verification (which reads every node back). */
export async function runFanout(platform: Platform, n: number, executor: ExecutorName, onDone?: () => void): Promise<Timed> {
  const r = await timedRun(platform, fanout, { n, salt: newSalt() }, executor, onDone);
  const check = await verifyRun(platform, r.outcome, n + 2);
  const out = inlineOutput(r.outcome) as { count?: number; sum?: number } | undefined;
  if (out?.count !== n || out.sum !== (n * (n - 1)) / 2) throw new Error(`fan-out of ${n} returned ${JSON.stringify(out)}`);
  return { runId: r.outcome.runId, startMs: r.startMs, driveMs: r.driveMs, totalMs: r.totalMs, commits: r.commits, commitMs: r.commitMs, taskNodes: check.taskNodes };
}

const describe = (t: Timed, extra = ''): string =>
  `${t.taskNodes} tasks, 0 cache hits; ${t.commits} commits took ${t.commitMs.toFixed(0)} of ${t.totalMs.toFixed(0)} ms; startRun ${t.startMs.toFixed(0)} ms${extra ? `; ${extra}` : ''}`;

/**
 * A tiny run of each workflow first, on the same platform and executor: pays the one-off costs (task code hashes,
 * which are computed once per process, the workflow code snapshot's esbuild start, JIT, worker start-up) so the
 * measured run shows the per-task cost. Its inputs are salted too, so it warms no cache for the measured run.
 */
export async function warmUp(p: Platform, executor: ExecutorName): Promise<void> {
  await runChain(p, 3, executor);
  await runFanout(p, Math.max(4, p.config.workers * 4), executor);
}

class Unavailable extends Error {}

const PROCESS_EXECUTOR = fileURLToPath(new URL('../src/executors/processes/executor.ts', import.meta.url));

/** Loads the executor (its workers start only with the first attempt); throws Unavailable when it cannot. */
async function requireExecutor(p: Platform, executor: ExecutorName): Promise<void> {
  if (executor === 'processes' && !existsSync(PROCESS_EXECUTOR)) throw new Unavailable('src/executors/processes/executor.ts does not exist yet');
  try {
    await p.executor(executor);
  } catch (err) {
    throw new Unavailable(`the ${executor} executor failed to load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

interface Measured {
  median: Timed;
  all: Timed[];
  workers: number;
}

/**
 * `reps` repetitions, each on a fresh platform in a fresh temp dir: warm-up, then the measured run. The machine
 * may be shared (2 cores), so the median is reported and the spread goes in the note.
 */
async function measure(reps: number, config: PlatformConfig, executor: ExecutorName, body: (p: Platform) => Promise<Timed>): Promise<Measured> {
  const all: Timed[] = [];
  let workers = 0;
  for (let i = 0; i < reps; i++) {
    all.push(
      await withTempPlatform(config, async (p) => {
        await requireExecutor(p, executor);
        workers = p.config.workers;
        await warmUp(p, executor);
        return body(p);
      }),
    );
  }
  const sorted = [...all].sort((a, b) => a.totalMs - b.totalMs);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, all, workers };
}

const spread = (m: Measured, scale: (t: Timed) => number, digits = 3): string =>
  m.all.length > 1 ? `median of ${m.all.length} (${m.all.map(scale).sort((a, b) => a - b).map((v) => fmt(v, digits)).join(', ')})` : '1 run';

function chainMetrics(prefix: string, m: Measured, n: number, options: { target?: string; extra?: string } = {}): Metric[] {
  const t = m.median;
  const note = [describe(t), spread(m, (x) => x.totalMs / n), options.extra].filter(Boolean).join('; ');
  return [
    { metric: `${prefix}.per_task_ms`, value: t.totalMs / n, unit: 'ms', ...(options.target ? { target: options.target } : {}), note },
    { metric: `${prefix}.tasks_per_s`, value: n / (t.totalMs / 1000), unit: 'tasks/s' },
  ];
}

function fanoutMetrics(prefix: string, m: Measured, n: number, options: { target?: string; extra?: string } = {}): Metric[] {
  const t = m.median;
  const note = [describe(t), spread(m, (x) => x.totalMs / 1000), options.extra].filter(Boolean).join('; ');
  return [
    { metric: `${prefix}.seconds`, value: t.totalMs / 1000, unit: 's', ...(options.target ? { target: options.target } : {}), note },
    { metric: `${prefix}.tasks_per_s`, value: (n + 2) / (t.totalMs / 1000), unit: 'tasks/s' },
  ];
}

/** Runs body; an Unavailable error becomes the given skipped metrics instead of a failure. */
async function orSkip(metrics: [string, string][], body: () => Promise<Metric[]>): Promise<Metric[]> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof Unavailable) return metrics.map(([name, unit]) => skipped(name, unit, err.message));
    throw err;
  }
}

const chain1k: Benchmark = {
  name: 'engine.chain1k',
  description: '1,000 chained no-op tasks, inline executor, SQLite (WAL, synchronous=NORMAL)',
  run: async () => chainMetrics('engine.chain1k', await measure(5, {}, 'inline', (p) => runChain(p, 1000, 'inline')), 1000, { target: '≤ 0.2' }),
};

const chain1kSyncFull: Benchmark = {
  name: 'engine.chain1k.sync_full',
  description: 'chain1k with store sqlite:<tmp>/baton.db?sync=full (fsync every commit)',
  run: async () => {
    const m = await measure(5, { store: 'sqlite:<tmp>/baton.db?sync=full' }, 'inline', (p) => runChain(p, 1000, 'inline'));
    return chainMetrics('engine.chain1k.sync_full', m, 1000, { extra: `${(m.median.commitMs / m.median.commits).toFixed(2)} ms/commit` }).filter((x) => x.metric.endsWith('.per_task_ms'));
  },
};

const fanout10k: Benchmark = {
  name: 'engine.fanout10k',
  description: '1 → map over 10,000 no-op tasks → 1, inline executor (default cpus: at most that many tasks in flight)',
  run: async () => fanoutMetrics('engine.fanout10k', await measure(3, {}, 'inline', (p) => runFanout(p, 10_000, 'inline')), 10_000, { target: '≤ 2', extra: `cpus=${availableParallelism()}` }),
};

const fanout10kCpus50: Benchmark = {
  name: 'engine.fanout10k.cpus50',
  description: 'fanout10k with cpus: 50 (50 tasks in flight, like the BullMQ worker\'s concurrency): more tasks per commit',
  run: async () =>
    fanoutMetrics('engine.fanout10k.cpus50', await measure(3, { cpus: 50 }, 'inline', (p) => runFanout(p, 10_000, 'inline')), 10_000).filter((x) => x.metric.endsWith('.seconds')),
};

/** What bench/fanout-child.ts sends back. */
export interface ChildReport {
  timed?: Timed;
  peakRssMb?: number;
  /** RSS after warm-up, just before the measured run. */
  rssBeforeMb?: number;
  /** Heap in use after a full GC right after the run: what the run really keeps alive. */
  liveHeapMb?: number;
  error?: string;
}

const fanout100k: Benchmark = {
  name: 'engine.fanout100k',
  description: '1 → map over 100,000 → 1, inline executor, in a child process (peak RSS of that process alone)',
  async run(ctx) {
    const n = 100_000;
    const report = await new Promise<ChildReport>((resolve, reject) => {
      let got: ChildReport | undefined;
      // Inherits --import tsx from process.execArgv; the child's stdout goes to our stderr (stdout is for results).
      // --expose-gc only lets the child measure its live heap after the run (peak RSS is read before that GC).
      const child = fork(fileURLToPath(new URL('./fanout-child.ts', import.meta.url)), [String(n), 'inline'], {
        stdio: ['ignore', 2, 2, 'ipc'],
        execArgv: [...process.execArgv, '--expose-gc'],
      });
      child.on('message', (m) => {
        got = m as ChildReport;
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (got) resolve(got);
        else reject(new Error(`fan-out child exited (${signal ?? `code ${code}`}) without a report`));
      });
    });
    if (report.error || !report.timed) throw new Error(`fan-out child failed: ${report.error ?? 'no timing'}`);
    const mib = (v: number | undefined) => (v === undefined ? '?' : v.toFixed(0));
    ctx.log(`  child RSS before the run ${mib(report.rssBeforeMb)} MiB, peak ${mib(report.peakRssMb)} MiB, live heap after GC ${mib(report.liveHeapMb)} MiB`);
    return [
      ...fanoutMetrics('engine.fanout100k', { median: report.timed, all: [report.timed], workers: 0 }, n),
      { metric: 'engine.fanout100k.peak_rss_mb', value: report.peakRssMb!, unit: 'MiB', target: '≤ 1024', note: `maxRSS of the child process; RSS before the run ${mib(report.rssBeforeMb)} MiB; heap live after the run (after a full GC) ${mib(report.liveHeapMb)} MiB` },
    ];
  },
};

const processChain1k: Benchmark = {
  name: 'engine.process.chain1k',
  description: 'chain1k on the processes executor (after a warm-up run on the same platform)',
  run: () =>
    orSkip([['engine.process.chain1k.per_task_ms', 'ms']], async () => {
      const m = await measure(3, {}, 'processes', (p) => runChain(p, 1000, 'processes'));
      return chainMetrics('engine.process.chain1k', m, 1000, { extra: `${m.workers} worker processes` });
    }),
};

const processFanout10k: Benchmark = {
  name: 'engine.process.fanout10k',
  description: 'fanout10k on the processes executor (after a warm-up run on the same platform)',
  run: () =>
    orSkip([['engine.process.fanout10k.seconds', 's']], async () => {
      const m = await measure(1, {}, 'processes', (p) => runFanout(p, 10_000, 'processes'));
      return fanoutMetrics('engine.process.fanout10k', m, 10_000, { extra: `${m.workers} worker processes` });
    }),
};

export const engineBenchmarks: Benchmark[] = [chain1k, chain1kSyncFull, fanout10k, fanout10kCpus50, fanout100k, processChain1k, processFanout10k];
