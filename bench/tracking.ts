/**
 * Experiment tracking (src/tracking, the tracking tables of the metadata store):
 *   tracking.ingest            metric points per second written as batches (`logTracking`, 10,000 points per
 *                              transaction) into SQLite, and into PostgreSQL (a private server, scripts/services)
 *   tracking.search100k        median time of a search with OR over 100,000 tracking runs (params + metrics)
 *   tracking.history1m         median time to read a 1,000,000-point metric downsampled to 1,000 points (LTTB)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadataStore } from '../src/composition/adapters.ts';
import type { MetadataStore, Mutation } from '../src/ports/metadata.ts';
import { fmt } from './support.ts';
import { skipped, type Benchmark, type BenchContext, type Metric } from './types.ts';

const BATCH = 10_000;

async function withSqlite<T>(fn: (store: MetadataStore) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-tr-'));
  const store = await openMetadataStore(`sqlite:${join(dir, 'b.db')}`);
  try {
    return await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Points per second for `total` points of 4 metrics of one run, BATCH points per transaction. */
async function ingest(store: MetadataStore, total: number): Promise<number> {
  await store.apply([{ type: 'startTrackingRun', run: { id: 'ingest', experiment: 'bench', status: 'running', startTime: Date.now() } }]);
  const keys = ['loss', 'acc', 'lr', 'grad_norm'];
  const t0 = performance.now();
  for (let i = 0; i < total; i += BATCH) {
    const metrics = Array.from({ length: BATCH }, (_, j) => ({ key: keys[j % 4]!, value: Math.random(), step: (i + j) >> 2, ts: 1_700_000_000_000 + i + j }));
    await store.apply([{ type: 'logTracking', batch: { runId: 'ingest', metrics } }]);
  }
  return total / ((performance.now() - t0) / 1000);
}

async function search100k(store: MetadataStore, ctx: BenchContext): Promise<{ ms: number; hits: number }> {
  const models = ['rf', 'lr', 'gb', 'svm'];
  let seed = 1;
  const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 100_000; i += 2_000) {
    const muts: Mutation[] = [];
    for (let j = i; j < i + 2_000; j++) {
      const id = `r${j.toString().padStart(6, '0')}`;
      muts.push({ type: 'startTrackingRun', run: { id, experiment: `exp${j % 10}`, name: `run ${j}`, status: 'succeeded', startTime: 1_700_000_000_000 + j, endTime: 1_700_000_000_000 + j + 1000 } });
      muts.push({ type: 'logTracking', batch: { runId: id, params: { model: models[j % 4]!, depth: String(2 + (j % 10)), lr: String(rnd()) }, tags: { team: j % 3 ? 'a' : 'b' }, metrics: [{ key: 'auc', value: rnd(), step: 0, ts: 0 }, { key: 'loss', value: rnd(), step: 0, ts: 0 }] } });
    }
    await store.apply(muts);
  }
  ctx.log('tracking.search100k: 100,000 runs stored; searching');
  const filter = `metrics.auc > 0.95 and (params.model = 'rf' or params.depth >= 10)`;
  const times: number[] = [];
  let hits = 0;
  for (let k = 0; k < 7; k++) {
    const t0 = performance.now();
    hits = (await store.searchRuns({ filter, orderBy: 'metrics.auc desc', limit: 100 })).runs.length;
    times.push(performance.now() - t0);
  }
  return { ms: median(times), hits };
}

async function history1m(store: MetadataStore): Promise<number> {
  await store.apply([{ type: 'startTrackingRun', run: { id: 'h', experiment: 'bench', status: 'running', startTime: 0 } }]);
  for (let i = 0; i < 1_000_000; i += 50_000) {
    const metrics = Array.from({ length: 50_000 }, (_, j) => ({ key: 'loss', value: Math.sin((i + j) / 1000) + Math.random() * 0.1, step: i + j, ts: i + j }));
    await store.apply([{ type: 'logTracking', batch: { runId: 'h', metrics } }]);
  }
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    const h = await store.getMetricHistory('h', 'loss', { maxPoints: 1_000 });
    times.push(performance.now() - t0);
    if (h.total !== 1_000_000 || h.steps.length !== 1_000) throw new Error(`history read ${h.total} points, returned ${h.steps.length}`);
  }
  return median(times);
}

export const trackingBenchmarks: Benchmark[] = [
  {
    name: 'tracking.ingest',
    description: 'batched metric points per second into SQLite and PostgreSQL',
    async run(ctx) {
      const out: Metric[] = [];
      const sqlite = await withSqlite((s) => ingest(s, 500_000));
      out.push({ metric: 'tracking.ingest.points_per_s', value: sqlite, unit: 'points/s', target: '≥ 200000', note: `500,000 points of 4 metrics, ${BATCH.toLocaleString('en')} per transaction (${fmt(sqlite / 1000)}k/s)` });
      try {
        const { startPostgres } = (await import(new URL('../scripts/services/postgres.mjs', import.meta.url).href)) as { startPostgres: (o?: { quiet?: boolean }) => Promise<{ url: string; stop(): Promise<void> }> };
        const pg = await startPostgres({ quiet: true });
        try {
          const store = await openMetadataStore(pg.url);
          try {
            const v = await ingest(store, 200_000);
            out.push({ metric: 'tracking.ingest.pg.points_per_s', value: v, unit: 'points/s', note: `200,000 points, ${BATCH.toLocaleString('en')} per transaction, local server` });
          } finally {
            await store.close();
          }
        } finally {
          await pg.stop();
        }
      } catch (err) {
        ctx.log(`tracking.ingest.pg skipped: ${String(err)}`);
        out.push(skipped('tracking.ingest.pg.points_per_s', 'points/s', `PostgreSQL unavailable: ${(err as Error).message?.split('\n')[0]}`));
      }
      return out;
    },
  },
  {
    name: 'tracking.search100k',
    description: 'a filter with OR over 100,000 tracking runs (SQLite)',
    async run(ctx) {
      const r = await withSqlite((s) => search100k(s, ctx));
      return [{ metric: 'tracking.search100k.ms', value: r.ms, unit: 'ms', target: '≤ 50', note: `median of 7; ${r.hits} hits (limit 100), ordered by metrics.auc desc` }];
    },
  },
  {
    name: 'tracking.history1m',
    description: 'downsampled history of a 1,000,000-point metric (SQLite)',
    async run() {
      const ms = await withSqlite(history1m);
      return [{ metric: 'tracking.history1m.ms', value: ms, unit: 'ms', target: '≤ 100', note: 'median of 5; LTTB to 1,000 points, read + downsample' }];
    },
  },
];
