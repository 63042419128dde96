// Run search through the real store on SQLite and PostgreSQL, against the reference evaluator: generated runs with
// awkward values are written with the store's own mutations, then hand-picked and random filters (AND/OR/NOT, IN,
// LIKE/ILIKE, IS NULL, numeric and string params, missing keys) with order-bys and keyset paging must return exactly
// the runs, in exactly the order, src/tracking/search/evaluate.ts gives. BATON_TEST_SEARCH_SEED=n tries another seed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openMetadataStore } from '../src/composition/adapters.ts';
import type { MetadataStore, Mutation } from '../src/ports/metadata.ts';
import type { TrackingStatus } from '../src/ports/tracking.ts';
import { searchInMemory, type RunRecord } from '../src/tracking/search/evaluate.ts';
import { FILTERS, generateRuns, ORDER_BYS, randomFilter, rng } from '../src/tracking/search/generate.ts';
import { parseFilter, parseOrderBy } from '../src/tracking/search/parser.ts';
import { freshPostgresDatabase } from './support/postgres.ts';

const SEED = Number(process.env.BATON_TEST_SEARCH_SEED ?? 20240101);
const RUNS = 600;
const RANDOM_FILTERS = 400;

async function load(store: MetadataStore, runs: RunRecord[]): Promise<void> {
  for (let i = 0; i < runs.length; i += 200) {
    const muts: Mutation[] = runs.slice(i, i + 200).flatMap((r): Mutation[] => [
      {
        type: 'startTrackingRun',
        run: { id: r.id, experiment: r.experiment, status: r.status as TrackingStatus, startTime: r.startTime, ...(r.name !== null ? { name: r.name } : {}), ...(r.endTime !== null ? { endTime: r.endTime } : {}) },
      },
      { type: 'logTracking', batch: { runId: r.id, params: r.params, tags: r.tags, metrics: Object.entries(r.metrics).map(([key, value]) => ({ key, value, step: 0, ts: r.startTime })) } },
    ]);
    await store.apply(muts);
  }
}

async function search(store: MetadataStore, filter: string, orderBy: string): Promise<string[]> {
  return (await store.searchRuns({ filter, orderBy, limit: RUNS })).runs.map((r) => r.id);
}

function suite(dialect: string, open: () => Promise<{ store: MetadataStore; dispose(): Promise<void> }>): void {
  test(`[${dialect}] search: hand-picked and ${RANDOM_FILTERS} random filters return the reference evaluator's runs in its order (seed ${SEED})`, { timeout: 600_000 }, async () => {
    const { store, dispose } = await open();
    try {
      const runs = generateRuns(RUNS, SEED, true);
      await load(store, runs);
      const r = rng(SEED + 1);
      const filters = [...FILTERS, ...Array.from({ length: RANDOM_FILTERS }, () => randomFilter(r))];
      let strict = 0;
      for (const [i, filter] of filters.entries()) {
        const orderBy = ORDER_BYS[i % ORDER_BYS.length]!;
        const expected = searchInMemory(runs, parseFilter(filter), parseOrderBy(orderBy)).map((x) => x.id);
        const got = await search(store, filter, orderBy);
        assert.deepEqual(got, expected, `filter ${JSON.stringify(filter)} order by ${JSON.stringify(orderBy)}`);
        if (expected.length > 0 && expected.length < runs.length) strict++;
      }
      // The random filters must mostly select something and leave something out, or they test little.
      assert.ok(strict >= filters.length * 0.6, `${strict} of ${filters.length} filters select a strict, non-empty subset`);
    } finally {
      await dispose();
    }
  });

  test(`[${dialect}] search: keyset pages over every kind of order-by join up to the reference order`, { timeout: 600_000 }, async () => {
    const { store, dispose } = await open();
    try {
      const runs = generateRuns(300, SEED + 2, true);
      await load(store, runs);
      for (const orderBy of ORDER_BYS) {
        const filter = "not params.model = 'lr'";
        const expected = searchInMemory(runs, parseFilter(filter), parseOrderBy(orderBy)).map((x) => x.id);
        const got: string[] = [];
        let pageToken: string | undefined;
        for (let page = 0; page < 50; page++) {
          const p = await store.searchRuns({ filter, orderBy, limit: 23, ...(pageToken ? { pageToken } : {}) });
          got.push(...p.runs.map((x) => x.id));
          if (!p.nextPageToken) break;
          pageToken = p.nextPageToken;
        }
        assert.deepEqual(got, expected, `order by ${orderBy}`);
      }
    } finally {
      await dispose();
    }
  });

  test(`[${dialect}] search: a filter error is the same usage error on every store`, async () => {
    const { store, dispose } = await open();
    try {
      await assert.rejects(store.searchRuns({ filter: "params.model = 'rf' and" }), (e: Error & { code?: string }) => e.code === 'usage' && /position 23/.test(e.message));
    } finally {
      await dispose();
    }
  });
}

suite('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-search-'));
  const store = await openMetadataStore(`sqlite:${join(dir, 'b.db')}`);
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

suite('postgres', async () => {
  const db = await freshPostgresDatabase();
  const store = await openMetadataStore(db.url);
  return {
    store,
    dispose: async () => {
      await store.close();
      await db.drop();
    },
  };
});
