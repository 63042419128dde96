/**
 * Experiment tracking (src/tracking, the tracking tables of the metadata store):
 *   tracking.ingest            metric points per second written as batches (`logTracking`, 10,000 points per
 *                              transaction) into SQLite, and into PostgreSQL (a private server, scripts/services)
 *   tracking.search100k        median time of a search with OR over 100,000 tracking runs (params + metrics), and
 *                              of one on numeric params only (`.numeric_params`), in SQLite
 *   tracking.search100k_pg     the same two searches in PostgreSQL (`tracking.search100k.pg.*`)
 *   tracking.history1m         median time to read a 1,000,000-point metric downsampled to 1,000 points (LTTB)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openMetadataStore } from '../src/composition/adapters.ts';
import type { MetadataStore, Mutation } from '../src/ports/metadata.ts';
import type { TrackingRunRecord } from '../src/ports/tracking.ts';
import { textNumber } from '../src/tracking/search/evaluate.ts';
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

interface PgServer {
  url: string;
  stop(): Promise<void>;
}

/** A store on a private PostgreSQL server (scripts/services/postgres.mjs), stopped afterwards. */
async function withPostgres<T>(fn: (store: MetadataStore, url: string) => Promise<T>): Promise<T> {
  const { startPostgres } = (await import(new URL('../scripts/services/postgres.mjs', import.meta.url).href)) as { startPostgres: (o?: { quiet?: boolean }) => Promise<PgServer> };
  const pg = await startPostgres({ quiet: true });
  try {
    const store = await openMetadataStore(pg.url);
    try {
      return await fn(store, pg.url);
    } finally {
      await store.close();
    }
  } finally {
    await pg.stop();
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

/** The searches timed over 100,000 runs: the OR filter of the issue, and one on numeric params only. */
const SEARCHES = [
  { metric: 'tracking.search100k.ms', filter: `metrics.auc > 0.95 and (params.model = 'rf' or params.depth >= 10)`, target: '≤ 50' },
  { metric: 'tracking.search100k.numeric_params.ms', filter: `params.depth >= 10 and params.lr < 0.01` },
] as const;

interface BenchRun {
  run: TrackingRunRecord;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, number>;
}

/** The 100,000 runs searched: 4 models, depth 2–11, a random lr, a team tag, random auc and loss. */
function* runs100k(): Generator<BenchRun> {
  const models = ['rf', 'lr', 'gb', 'svm'];
  let seed = 1;
  const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let j = 0; j < 100_000; j++) {
    const id = `r${j.toString().padStart(6, '0')}`;
    yield {
      run: { id, experiment: `exp${j % 10}`, name: `run ${j}`, status: 'succeeded', startTime: 1_700_000_000_000 + j, endTime: 1_700_000_000_000 + j + 1000 },
      params: { model: models[j % 4]!, depth: String(2 + (j % 10)), lr: String(rnd()) },
      tags: { team: j % 3 ? 'a' : 'b' },
      metrics: { auc: rnd(), loss: rnd() },
    };
  }
}

/** Through the store's mutations, 2,000 runs per transaction (SQLite: a few seconds). */
async function load100k(store: MetadataStore): Promise<void> {
  let muts: Mutation[] = [];
  for (const r of runs100k()) {
    muts.push({ type: 'startTrackingRun', run: r.run });
    muts.push({ type: 'logTracking', batch: { runId: r.run.id, params: r.params, tags: r.tags, metrics: Object.entries(r.metrics).map(([key, value]) => ({ key, value, step: 0, ts: 0 })) } });
    if (muts.length === 4_000) {
      await store.apply(muts);
      muts = [];
    }
  }
}

/**
 * PostgreSQL: the same rows with one multi-row INSERT per table per 10,000 runs (the store's statement-per-row
 * writes take two minutes over 100,000 runs), then VACUUM ANALYZE as autovacuum would. The rows are what
 * logTracking writes, value_num included.
 */
async function load100kPg(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`INSERT INTO tracking_experiments (name, created_at) SELECT 'exp' || i, 0 FROM generate_series(0, 9) i`);
    let batch: BenchRun[] = [];
    const flush = async () => {
      const kv = (pick: (r: BenchRun) => Record<string, string | number>) => {
        const cols: [string[], string[], (string | number | null)[], (number | null)[]] = [[], [], [], []];
        for (const r of batch) {
          for (const [k, v] of Object.entries(pick(r))) {
            cols[0].push(r.run.id);
            cols[1].push(k);
            cols[2].push(v);
            cols[3].push(typeof v === 'number' ? v : textNumber(v));
          }
        }
        return cols;
      };
      await client.query(`INSERT INTO tracking_runs (id, experiment, name, status, start_time, end_time) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])`, [
        batch.map((r) => r.run.id), batch.map((r) => r.run.experiment), batch.map((r) => r.run.name), batch.map((r) => r.run.status), batch.map((r) => r.run.startTime), batch.map((r) => r.run.endTime),
      ]);
      for (const table of ['tracking_params', 'tracking_tags'] as const) {
        await client.query(`INSERT INTO ${table} (run_id, key, value, value_num) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[])`, kv((r) => (table === 'tracking_params' ? r.params : r.tags)));
      }
      const [ids, keys, values] = kv((r) => r.metrics);
      await client.query(`INSERT INTO tracking_latest_metrics (run_id, key, value, step, ts) SELECT run_id, key, value, 0, 0 FROM unnest($1::text[], $2::text[], $3::float8[]) AS m (run_id, key, value)`, [ids, keys, values]);
      batch = [];
    };
    for (const r of runs100k()) {
      batch.push(r);
      if (batch.length === 10_000) await flush();
    }
    await client.query('VACUUM ANALYZE');
  } finally {
    await client.end();
  }
}

/** Median of 7 searches (first page of 100, ordered by metrics.auc desc) per filter of SEARCHES. */
async function search100k(store: MetadataStore, ctx: BenchContext, pgUrl?: string): Promise<{ ms: number; hits: number }[]> {
  await (pgUrl ? load100kPg(pgUrl) : load100k(store));
  ctx.log(`tracking.search100k: 100,000 runs stored in ${store.dialect}; searching`);
  const out: { ms: number; hits: number }[] = [];
  for (const { filter } of SEARCHES) {
    const times: number[] = [];
    let hits = 0;
    for (let k = 0; k < 7; k++) {
      const t0 = performance.now();
      hits = (await store.searchRuns({ filter, orderBy: 'metrics.auc desc', limit: 100 })).runs.length;
      times.push(performance.now() - t0);
    }
    out.push({ ms: median(times), hits });
  }
  return out;
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
        const v = await withPostgres((store) => ingest(store, 200_000));
        out.push({ metric: 'tracking.ingest.pg.points_per_s', value: v, unit: 'points/s', note: `200,000 points, ${BATCH.toLocaleString('en')} per transaction, local server` });
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
      return SEARCHES.map((s, i) => ({ metric: s.metric, value: r[i]!.ms, unit: 'ms', ...('target' in s ? { target: s.target } : {}), note: `median of 7; ${s.filter}; ${r[i]!.hits} hits (limit 100), by metrics.auc desc` }));
    },
  },
  {
    name: 'tracking.search100k_pg',
    description: 'the same searches over 100,000 tracking runs in PostgreSQL (a private local server)',
    async run(ctx) {
      try {
        const r = await withPostgres((s, url) => search100k(s, ctx, url));
        return SEARCHES.map((s, i) => ({ metric: s.metric.replace('search100k.', 'search100k.pg.'), value: r[i]!.ms, unit: 'ms', note: `median of 7; ${r[i]!.hits} hits (limit 100)` }));
      } catch (err) {
        ctx.log(`tracking.search100k_pg skipped: ${String(err)}`);
        return SEARCHES.map((s) => skipped(s.metric.replace('search100k.', 'search100k.pg.'), 'ms', `PostgreSQL unavailable: ${(err as Error).message?.split('\n')[0]}`));
      }
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
