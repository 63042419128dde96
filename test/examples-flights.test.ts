// The flights feature pipeline end to end on a 20,000-flight slice of the real data (embedded platform, inline executor).
// Run: npm test -- test/examples-flights

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Platform, RunOutcome } from '../src/composition/index.ts';
import { decodeShallow } from '../src/values/codec.ts';
import { tempPlatform } from './support/platform.ts';
import pipeline, { TRAINING_COLUMNS, type FlightsSummary } from '../examples/flights/pipeline.ts';

const PARAMS = { rows: 20_000, sample: 5_000 };
const DATASETS = ['flights', 'flights_training', 'origin_daily', 'route_daily'];

let platform: Platform;
let dispose: () => Promise<void>;
let first: RunOutcome;
let summary: FlightsSummary;

before(async () => {
  ({ platform, dispose } = await tempPlatform());
  first = await platform.run(pipeline, PARAMS);
  if (first.output) summary = (await decodeShallow(first.output, platform.artifacts)) as FlightsSummary;
});

after(async () => {
  await dispose();
});

async function localPath(ref: string): Promise<string> {
  return platform.artifacts.localPath((await platform.datasets.handle(ref)).sha256);
}

test('the pipeline succeeds and registers every dataset as version 1, with its writer', async () => {
  assert.equal(first.status, 'succeeded', first.error);
  assert.deepEqual((await platform.datasets.list()).map((d) => [d.name, d.latest, d.versions]), DATASETS.map((name) => [name, 1, 1]));
  const [flights] = await platform.datasets.versions('flights');
  assert.equal(flights?.rows, 20_000);
  assert.deepEqual(flights?.schema.map((c) => [c.name, c.kind]), [['date', 'timestamp'], ['delay', 'integer'], ['distance', 'integer'], ['origin', 'string'], ['destination', 'string']]);
  assert.equal(flights?.producedBy?.runId, first.runId);
  assert.equal(summary.flights.rows, 20_000);
  assert.equal(summary.flights.sourceRows, 3_000_000);
  const [training] = await platform.datasets.versions('flights_training');
  assert.equal(training?.rows, 5_000);
  // The training set's version records the feature views (name + version) it was built from.
  assert.deepEqual((await platform.datasets.show('flights_training@1')).featureViews, summary.training.views);
  assert.deepEqual(summary.training.views.map((v) => v.name), ['origin_stats', 'route_stats']);
  // Lineage: the training task read the three inputs it joined.
  for (const name of ['flights', 'origin_daily', 'route_daily']) {
    const lineage = await platform.store.getDatasetLineage(name, 1);
    assert.ok(lineage?.readBy.some((a) => a.runId === first.runId && a.nodeId === 'flights.training'), `flights.training read ${name}`);
  }
});

test('validation passes with the real data’s delay below −100 min logged as a warning', async () => {
  assert.deepEqual(summary.validation, { passed: true, failed: 0, warnings: 1, warned: [{ name: 'delay >= -100 min', violations: 1 }] });
  const logs = (await platform.store.getLogs(first.runId, { nodeId: 'flights.validate' })).map((l) => l.text).join('');
  assert.match(logs, /Validation "flights" of dataset "flights" \(flights\.parquet\): PASSED — 0 failed, 1 warning/);
  assert.match(logs, /! WARN delay >= -100 min: expected delay ≥ -100; 1 of 20,000 rows violate \(0\.005%\)\n\s+e\.g\. \{[^\n]*"delay":-1116/);
});

test('the training set has the entity columns, label and features, a sane class balance and coverage', () => {
  const t = summary.training;
  assert.deepEqual(t.columns, TRAINING_COLUMNS);
  assert.equal(t.rows, 5_000);
  assert.ok(t.positiveShare > 0.1 && t.positiveShare < 0.35, `late share ${t.positiveShare}`);
  assert.ok(t.coverage.origin_flights_30d! > 0.9, `origin coverage ${t.coverage.origin_flights_30d}`);
  assert.ok(t.coverage.route_flights_30d! > 0.5, `route coverage ${t.coverage.route_flights_30d}`);
  assert.deepEqual(t.views.map((v) => v.name), ['origin_stats', 'route_stats']);
  assert.equal(t.leakage.violations, 0);
  assert.ok(t.leakage.maxFeatureLagMs !== null && t.leakage.maxFeatureLagMs <= 0);
});

test('every feature equals the statistic recomputed from flights strictly before the flight’s day (no leakage, TTL 3 days)', async () => {
  const engine = await platform.offline();
  const training = await engine.relation({ path: await localPath('flights_training@1'), format: 'parquet' });
  const flights = await engine.relation({ path: await localPath('flights@1'), format: 'parquet' });
  const [row] = await engine.query(`
    WITH t AS (SELECT *, CAST(event_timestamp AS DATE) AS d FROM ${training}),
    f AS (SELECT origin, destination, CAST(date AS DATE) AS day, delay FROM ${flights}),
    expected AS (
      SELECT t.flight_id,
        (SELECT avg(delay) FROM f WHERE f.origin = t.origin AND f.day BETWEEN t.d - 7 AND t.d - 1) AS o7,
        (SELECT avg(delay) FROM f WHERE f.origin = t.origin AND f.day BETWEEN t.d - 30 AND t.d - 1) AS o30,
        (SELECT avg(delay) FROM f WHERE f.origin = t.origin AND f.destination = t.destination AND f.day BETWEEN t.d - 30 AND t.d - 1) AS r30
      FROM t)
    SELECT count(*) AS n,
      count(*) FILTER (WHERE t.origin_as_of > t.event_timestamp OR t.route_as_of > t.event_timestamp) AS late_stamps,
      count(*) FILTER (WHERE t.origin_as_of <> CAST(t.d AS TIMESTAMP) OR t.route_as_of <> CAST(t.d AS TIMESTAMP)) AS not_previous_day,
      count(*) FILTER (WHERE (t.origin_delay_7d IS NULL) <> (e.o7 IS NULL) OR abs(t.origin_delay_7d - e.o7) > 1e-9) AS o7_wrong,
      count(*) FILTER (WHERE (t.origin_delay_30d IS NULL) <> (e.o30 IS NULL) OR abs(t.origin_delay_30d - e.o30) > 1e-9) AS o30_wrong,
      count(*) FILTER (WHERE (t.route_delay_30d IS NULL) <> (e.r30 IS NULL) OR abs(t.route_delay_30d - e.r30) > 1e-9) AS r30_wrong,
      count(*) FILTER (WHERE t.route_delay_30d IS NOT NULL) AS r30_present
    FROM t JOIN expected e USING (flight_id)`);
  assert.equal(Number(row?.n), 5_000);
  assert.equal(Number(row?.late_stamps), 0, 'no feature stamped after its flight');
  assert.equal(Number(row?.not_previous_day), 0, 'every present feature is the previous day’s (stamped at the midnight starting the flight’s day)');
  assert.equal(Number(row?.o7_wrong), 0);
  assert.equal(Number(row?.o30_wrong), 0);
  assert.equal(Number(row?.r30_wrong), 0);
  assert.ok(Number(row?.r30_present) > 1_000);
});

test('a second run is served entirely from the cache and registers nothing new', async () => {
  const second = await platform.run(pipeline, PARAMS);
  assert.equal(second.status, 'succeeded', second.error);
  const tasks = (await platform.store.getNodes(second.runId)).filter((n) => n.spec.kind === 'task');
  assert.equal(tasks.length, 6);
  assert.deepEqual(tasks.filter((n) => !n.cachedFrom).map((n) => n.id), [], 'tasks that were not cached');
  assert.equal(second.output?.hash, first.output?.hash);
  assert.deepEqual((await platform.datasets.list()).map((d) => d.versions), [1, 1, 1, 1]);
});
