// Training sets saved as dataset versions record the feature views (name + version) they were built from: from a
// script (platform.datasets), from a task (ctx.datasets, inline executor), and through any registration of the file.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempPlatform } from '../../test/support/platform.ts';
import { renderDataset } from '../cli/commands/datasets.ts';
import type { Platform } from '../composition/platform.ts';
import { formatDiff } from '../data/profiling/index.ts';
import type { OfflineEngine } from '../ports/offline.ts';
import { dataset, task, workflow, z } from '../sdk/index.ts';
import { entity, FeatureError, featureView, getHistoricalFeatures, saveTrainingSet, type FeatureView } from './index.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 10);

let platform: Platform;
let dispose: () => Promise<void>;
let dir: string;
let engine: OfflineEngine;
let statsCsv: string;

const origin = entity({ name: 'origin', joinKeys: ['origin'] });
const csvView = (ttlMs = HOUR): FeatureView =>
  featureView({ name: 'origin_stats', entities: [origin], source: { path: statsCsv }, timestampField: 'ts', ttlMs, features: { avg_delay: 'DOUBLE' } });
const tsView = featureView({
  name: 'weather',
  entities: [origin],
  source: { transform: () => [{ origin: 'SEA', at: new Date(T0 - HOUR / 2), wind: 12.5 }, { origin: 'SFO', at: new Date(T0 + HOUR), wind: 3 }] },
  timestampField: 'at',
  ttlMs: null,
  features: { wind: 'DOUBLE' },
});
const entities = [
  { flight: 2, origin: 'SFO', event_timestamp: new Date(T0) },
  { flight: 1, origin: 'SEA', event_timestamp: new Date(T0) },
];

before(async () => {
  ({ platform, dispose, dir } = await tempPlatform());
  engine = await platform.offline();
  statsCsv = join(dir, 'stats.csv');
  writeFileSync(statsCsv, `origin,ts,avg_delay\nSEA,2024-01-09 23:30:00,4.5\nSFO,2024-01-09 23:00:00,1.5\n`);
});
after(() => dispose());

describe('saveTrainingSet', () => {
  it('from a script: registers the set with the views it used; the same inputs keep the version, a changed view makes a new one', async () => {
    const first = await saveTrainingSet(engine, platform.datasets, 'train', { entities, features: [csvView(), tsView], orderBy: ['flight'] });
    assert.equal(first.saved.created, true);
    assert.deepEqual(first.views, [{ name: 'origin_stats', version: csvView().version }, { name: 'weather', version: tsView.version }]);
    assert.deepEqual(first.columns, ['flight', 'origin', 'event_timestamp', 'avg_delay', 'wind']);
    const shown = await platform.datasets.show('train@1');
    assert.deepEqual(shown.featureViews, first.views);
    assert.deepEqual(shown.profile?.featureViews, first.views, 'kept with the profile');
    const text = renderDataset(shown);
    assert.match(text, new RegExp(`features origin_stats@${csvView().version.slice(0, 12)}, weather@${tsView.version.slice(0, 12)}`));

    const again = await saveTrainingSet(engine, platform.datasets, 'train', { entities, features: [csvView(), tsView], orderBy: ['flight'] });
    assert.deepEqual([again.saved.created, again.saved.version.version], [false, 1], 'orderBy makes the file deterministic');
    // A longer TTL gives the same values here, but the definition changed: the set is another version.
    const changed = await saveTrainingSet(engine, platform.datasets, 'train', { entities, features: [csvView(2 * HOUR), tsView], orderBy: ['flight'] });
    assert.deepEqual([changed.saved.created, changed.saved.version.version], [true, 2]);
    assert.deepEqual((await platform.datasets.show('train@2')).featureViews?.[0], { name: 'origin_stats', version: csvView(2 * HOUR).version });
    const diff = await platform.datasets.diff('train@1', 'train@2');
    assert.deepEqual(diff.featureViews, [
      { name: 'origin_stats', a: csvView().version, b: csvView(2 * HOUR).version },
      { name: 'weather', a: tsView.version, b: tsView.version },
    ]);
    assert.match(formatDiff(diff), new RegExp(`feature views: origin_stats ${csvView().version.slice(0, 12)} → ${csvView(2 * HOUR).version.slice(0, 12)}, weather ${tsView.version.slice(0, 12)} \\(unchanged\\)`));
    const rows = await engine.query(`SELECT flight, avg_delay, wind FROM read_parquet('${await platform.artifacts.localPath(changed.saved.version.sha256)}')`);
    assert.deepEqual(rows, [{ flight: 1, avg_delay: 4.5, wind: 12.5 }, { flight: 2, avg_delay: 1.5, wind: null }], 'sorted, point-in-time correct');
  });

  it('from a task: ctx.datasets records the views with the version the attempt registers', async () => {
    const build = task({
      name: 'trainset.build',
      input: z.object({ stats: z.string() }),
      output: z.object({ training: dataset(), views: z.array(z.object({ name: z.string(), version: z.string() })) }),
      run: async ({ stats }, ctx) => {
        const view = featureView({ name: 'origin_stats', entities: [origin], source: { path: stats }, timestampField: 'ts', ttlMs: HOUR, features: { avg_delay: 'DOUBLE' } });
        const { saved, views } = await saveTrainingSet(await ctx.offline(), ctx.datasets, 'task_train', { entities, features: [view], orderBy: ['flight'] }, { dir: ctx.workDir });
        return { training: saved, views };
      },
    });
    const flow = workflow({ name: 'trainset-flow', params: z.object({ stats: z.string() }) }, ({ stats }) => build({ stats }));
    const outcome = await platform.run(flow, { stats: statsCsv });
    assert.equal(outcome.status, 'succeeded', outcome.error);
    const shown = await platform.datasets.show('task_train');
    assert.deepEqual(shown.featureViews, [{ name: 'origin_stats', version: csvView().version }]);
    assert.equal(shown.lineage.producedBy?.nodeId, 'trainset.build');
  });

  it('any registration of a getHistoricalFeatures Parquet file records its views; other files record none', async () => {
    const path = join(dir, 'plain.parquet');
    await getHistoricalFeatures(engine, { entities, features: [tsView], output: { path } });
    await platform.datasets.register('plain', path);
    assert.deepEqual((await platform.datasets.show('plain')).featureViews, [{ name: 'weather', version: tsView.version }]);
    await platform.datasets.register('stats', statsCsv);
    const stats = await platform.datasets.show('stats');
    assert.equal(stats.featureViews, undefined);
    assert.doesNotMatch(renderDataset(stats), /^features /m);
  });

  it('refuses an orderBy column the set does not have', async () => {
    await assert.rejects(
      saveTrainingSet(engine, platform.datasets, 'bad', { entities, features: [tsView], orderBy: ['flight_id'] }),
      (err: unknown) => err instanceof FeatureError && err.reason === 'unknown_column' && /output\.orderBy names "flight_id", not column\(s\) of the training set \(columns: flight, origin, event_timestamp, wind\)/.test(err.message),
    );
    assert.deepEqual((await platform.datasets.list()).map((d) => d.name).includes('bad'), false);
  });
});
