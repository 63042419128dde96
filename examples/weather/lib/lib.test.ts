// Tests for the weather example's data loading, models and metrics, on the real Seattle weather CSV.
// Run: node --import tsx --test examples/weather/lib/lib.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  WEATHER_LABELS,
  defaultWeatherCsvPath,
  holdOutLast,
  loadWeatherCsv,
  makeFeatures,
  parseWeatherCsv,
  splitTrainTest,
  validateColumns,
} from './data.ts';
import { evaluate, majorityClass } from './metrics.ts';
import { DEFAULT_PARAMS, MODEL_KINDS, predict, trainModel } from './models.ts';
import type { SerializedModel, TrainingProgress } from './models.ts';
import { mulberry32 } from './rng.ts';

const rows = loadWeatherCsv();
const features = makeFeatures(rows);
const split = splitTrainTest(features, { testFraction: 0.2, seed: 42 });
const nClasses = WEATHER_LABELS.length;
const HEADER = 'date,precipitation,temp_max,temp_min,wind,weather';

test('loads the real Seattle weather CSV from vega-datasets', () => {
  assert.match(defaultWeatherCsvPath(), /vega-datasets[\\/]data[\\/]seattle-weather\.csv$/);
  assert.equal(rows.length, 1461);
  assert.deepEqual(rows[0], {
    date: '2012-01-01',
    precipitation: 0,
    tempMax: 12.8,
    tempMin: 5,
    wind: 4.7,
    weather: 'drizzle',
  });
  assert.equal(rows.at(-1)?.date, '2015-12-31');
  const counts = Object.fromEntries(WEATHER_LABELS.map((l) => [l, rows.filter((r) => r.weather === l).length]));
  assert.deepEqual(counts, { drizzle: 53, fog: 101, rain: 641, snow: 26, sun: 640 });
});

test('a bad row throws an error naming the line, column and expectation', () => {
  const good = ['2012-01-01,0.0,12.8,5.0,4.7,drizzle', '2012-01-02,10.9,10.6,2.8,4.5,rain'];
  const csv = (bad: string): string => [HEADER, ...good, bad, '2012-01-04,20.3,12.2,5.6,4.7,rain', ''].join('\n');
  // The bad row is the 4th line of the file (header is line 1).
  assert.throws(() => parseWeatherCsv(csv('2012-01-03,0.8,11.7,7.2,windy,rain'), 'w.csv'), {
    message: 'w.csv line 4, column "wind": expected a non-negative number, got "windy"',
  });
  assert.throws(() => parseWeatherCsv(csv('2012-01-03,0.8,11.7,7.2,2.3,hail')), /line 4, column "weather": expected one of drizzle, fog, rain, snow, sun/);
  assert.throws(() => parseWeatherCsv(csv('2012-02-30,0.8,11.7,7.2,2.3,rain')), /line 4, column "date": expected a valid date/);
  assert.throws(() => parseWeatherCsv(csv('2012-01-03,-1,11.7,7.2,2.3,rain')), /line 4, column "precipitation"/);
  assert.throws(() => parseWeatherCsv(csv('2012-01-03,0.8,1.7,7.2,2.3,rain')), /line 4, column "temp_min": expected a value <= temp_max/);
  assert.throws(() => parseWeatherCsv(csv('2012-01-03,0.8,11.7,,2.3,rain')), /line 4, column "temp_min": expected a finite number, got ""/);
  assert.throws(() => parseWeatherCsv(csv('2012-01-03,0.8,11.7,7.2,rain')), /line 4: expected 6 comma-separated columns, got 5/);
  assert.throws(() => parseWeatherCsv('date,precip\n'), /line 1: expected header/);
  // CRLF line endings and a trailing newline are accepted.
  assert.equal(parseWeatherCsv([HEADER, ...good, ''].join('\r\n')).length, 2);

  // Same through loadWeatherCsv with a real file: the message names the file and line.
  const dir = mkdtempSync(join(tmpdir(), 'weather-csv-'));
  try {
    const path = join(dir, 'broken.csv');
    const real = readFileSync(defaultWeatherCsvPath(), 'utf8').split('\n');
    real[100] = '2012-04-09,0.0,13.9,oops,4.4,sun';
    writeFileSync(path, real.join('\n'));
    assert.throws(() => loadWeatherCsv(path), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.ok(err.message.startsWith(`${path} line 101, column "temp_min"`), err.message);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validateColumns lists missing and empty values', () => {
  assert.deepEqual(validateColumns(rows, ['date', 'wind']), []);
  assert.deepEqual(validateColumns<Record<string, unknown>>([{ a: 1, b: '' }, { a: Number.NaN }], ['a', 'b']), [
    'row 0: column "b" is empty',
    'row 1: column "a" is empty',
    'row 1: missing column "b"',
  ]);
  assert.deepEqual(validateColumns([], ['a']), ['no rows']);
});

test('makeFeatures builds a consistent design matrix without leaking the label', () => {
  const { X, y, labels, featureNames, dates } = features;
  assert.equal(X.length, 1461);
  assert.equal(y.length, 1461);
  assert.deepEqual(labels, [...WEATHER_LABELS]);
  assert.ok(X.every((row) => row.length === featureNames.length && row.every(Number.isFinite)));
  assert.equal(new Set(featureNames).size, featureNames.length);
  // prev_weather_* one-hots equal the previous day's label; day 0 has no previous day.
  const prevStart = featureNames.indexOf('prev_weather_drizzle');
  assert.deepEqual(X[0]?.slice(prevStart), [0, 0, 0, 0, 0]);
  for (let i = 1; i < X.length; i++) {
    const onehot = X[i]?.slice(prevStart, prevStart + nClasses) ?? [];
    assert.equal(onehot.indexOf(1), y[i - 1], `row ${i} (${dates[i]})`);
  }
  // Rows come out sorted by date, whatever the input order.
  assert.deepEqual(makeFeatures([...rows].reverse()), features);
});

test('splitTrainTest is a deterministic partition', () => {
  const n = features.X.length;
  assert.equal(split.test.X.length, Math.round(n * 0.2));
  assert.equal(split.train.X.length + split.test.X.length, n);
  assert.deepEqual([...split.trainIndex, ...split.testIndex].sort((a, b) => a - b), [...Array(n).keys()]);
  assert.deepEqual(split.test.y, split.testIndex.map((i) => features.y[i]));
  assert.deepEqual(splitTrainTest(features, { testFraction: 0.2, seed: 42 }), split);
  assert.notDeepEqual(splitTrainTest(features, { testFraction: 0.2, seed: 43 }).testIndex, split.testIndex);
  const chrono = splitTrainTest(features, { testFraction: 0.25, seed: 0, strategy: 'chronological' });
  assert.deepEqual(chrono.testIndex, [...Array(365).keys()].map((i) => n - 365 + i));
  assert.throws(() => splitTrainTest(features, { testFraction: 1, seed: 1 }), /testFraction/);
  assert.throws(() => splitTrainTest(features, { testFraction: 0.2, seed: 1.5 }), /seed must be an integer/);
  // mulberry32 is a pure function of its seed.
  const a = mulberry32(7);
  const b = mulberry32(7);
  assert.deepEqual([a(), a(), a()], [b(), b(), b()]);
});

test('metrics on a small hand-computed example', () => {
  // Confusion (rows = true, cols = predicted):
  //   [[2, 1, 0],      class 0: P = 2/3, R = 2/3, F1 = 2/3
  //    [0, 1, 1],      class 1: P = 1/2, R = 1/2, F1 = 1/2
  //    [1, 0, 0]]      class 2: P = 0,   R = 0,   F1 = 0
  const yTrue = [0, 0, 0, 1, 1, 2];
  const yPred = [0, 0, 1, 1, 2, 0];
  const e = evaluate(yTrue, yPred, 3);
  assert.deepEqual(e.confusion, [
    [2, 1, 0],
    [0, 1, 1],
    [1, 0, 0],
  ]);
  assert.equal(e.accuracy, 3 / 6);
  assert.ok(Math.abs(e.macroF1 - (2 / 3 + 1 / 2 + 0) / 3) < 1e-12);
  assert.deepEqual(e.perClass.map((c) => c.support), [3, 2, 1]);
  // A class absent from both yTrue and yPred is left out of the macro average.
  const perfect = evaluate([0, 1, 1], [0, 1, 1], 3);
  assert.equal(perfect.accuracy, 1);
  assert.equal(perfect.macroF1, 1);
  assert.equal(majorityClass([2, 1, 1, 2, 0]), 1);
  assert.throws(() => evaluate([0], [3], 3), /yPred\[0\] = 3/);
  assert.throws(() => evaluate([0, 1], [0], 3), /yTrue has 2 labels but yPred has 1/);
});

const trained = new Map<string, { model: SerializedModel; ms: number }>();
for (const kind of MODEL_KINDS) {
  const t0 = performance.now();
  const model = trainModel(kind, {}, { ...split.train, nClasses }, 7);
  trained.set(kind, { model, ms: performance.now() - t0 });
}

test('every model kind trains quickly and beats the majority-class baseline', (t) => {
  const majority = majorityClass(split.train.y);
  const baseline = evaluate(split.test.y, split.test.y.map(() => majority), nClasses);
  t.diagnostic(`baseline (always ${WEATHER_LABELS[majority]}): accuracy ${baseline.accuracy.toFixed(3)}, macroF1 ${baseline.macroF1.toFixed(3)}`);
  for (const kind of MODEL_KINDS) {
    const { model, ms } = trained.get(kind) ?? assert.fail(kind);
    const e = evaluate(split.test.y, predict(model, split.test.X), nClasses);
    t.diagnostic(
      `${kind.padEnd(11)} accuracy ${e.accuracy.toFixed(3)}  macroF1 ${e.macroF1.toFixed(3)}  train ${ms.toFixed(0)} ms  json ${(JSON.stringify(model).length / 1024).toFixed(0)} KB`,
    );
    assert.equal(model.kind, kind);
    assert.deepEqual(model.params, { ...DEFAULT_PARAMS[kind] });
    assert.ok(ms < 2000, `${kind} took ${ms.toFixed(0)} ms to train`);
    assert.ok(e.accuracy > baseline.accuracy + 0.1, `${kind} accuracy ${e.accuracy} vs baseline ${baseline.accuracy}`);
    assert.ok(e.macroF1 > baseline.macroF1, `${kind} macroF1 ${e.macroF1} vs baseline ${baseline.macroF1}`);
  }
});

test('models survive a JSON round-trip with identical predictions', () => {
  for (const kind of MODEL_KINDS) {
    const { model } = trained.get(kind) ?? assert.fail(kind);
    const reloaded = JSON.parse(JSON.stringify(model)) as SerializedModel;
    assert.deepEqual(reloaded, model, `${kind}: model is not plain JSON data`);
    assert.deepEqual(predict(reloaded, split.test.X), predict(model, split.test.X), kind);
    assert.deepEqual(predict(reloaded, features.X), predict(model, features.X), kind);
  }
});

test('training is deterministic for a given seed', () => {
  for (const kind of MODEL_KINDS) {
    const { model } = trained.get(kind) ?? assert.fail(kind);
    assert.deepEqual(trainModel(kind, {}, { ...split.train, nClasses }, 7), model, kind);
  }
  // The forest actually uses its seed: a different seed grows different trees.
  const forest = trained.get('forest')?.model;
  assert.notDeepEqual(trainModel('forest', {}, { ...split.train, nClasses }, 8), forest);
  // Feature-subsampled single trees are seeded too.
  const params = { maxFeatures: 0.5 };
  assert.deepEqual(trainModel('tree', params, split.train, 3), trainModel('tree', params, split.train, 3));
});

test('trainModel and predict reject bad input', () => {
  assert.throws(() => trainModel('tree', { depth: 3 }, split.train, 1), /unknown parameter "depth" for tree; allowed: maxDepth/);
  assert.throws(() => trainModel('knn', { k: 0 }, split.train, 1), /"k" must be a positive integer/);
  assert.throws(() => trainModel('svm' as never, {}, split.train, 1), /unknown model kind "svm"/);
  assert.throws(() => trainModel('logreg', {}, { X: [[1, 2]], y: [0, 1] }, 1), /1 rows but train.y has 2/);
  assert.throws(() => trainModel('logreg', {}, { X: [[1, Number.NaN]], y: [0] }, 1), /train.X\[0\]\[1\] is not a finite number/);
  const { model } = trained.get('tree') ?? assert.fail('tree');
  assert.throws(() => predict(model, [[1, 2, 3]]), /X\[0\] has 3 features, expected 15/);
});

test('holdOutLast keeps the last rows of the training set as the validation fold', () => {
  const { fit, validation } = holdOutLast(split.train, 0.2);
  const n = split.train.X.length;
  assert.equal(validation.X.length, Math.round(n * 0.2));
  assert.equal(fit.X.length + validation.X.length, n);
  assert.deepEqual([...fit.X, ...validation.X], split.train.X);
  assert.deepEqual([...fit.y, ...validation.y], split.train.y);
  assert.equal(holdOutLast({ X: [[1], [2]], y: [0, 1] }, 0.01).validation.X.length, 1, 'at least one validation row');
  assert.throws(() => holdOutLast(split.train, 1), /fraction must be in \(0, 1\)/);
});

test('logreg reports progress every N iterations without changing the model', () => {
  const data = { ...split.train, nClasses };
  const params = { iterations: 110 };
  const seen: { iteration: number; iterations: number; predictions: number[] }[] = [];
  const model = trainModel('logreg', params, data, 7, {
    progressEvery: 25,
    onProgress: ({ iteration, iterations, predict: now }: TrainingProgress) => seen.push({ iteration, iterations, predictions: now(split.test.X) }),
  });
  assert.deepEqual(model, trainModel('logreg', params, data, 7), 'the callback does not change the model');
  assert.deepEqual(seen.map((s) => s.iteration), [25, 50, 75, 100, 110], 'every 25 iterations and after the last');
  assert.ok(seen.every((s) => s.iterations === 110));
  assert.deepEqual(seen.at(-1)?.predictions, predict(model, split.test.X), 'the last progress predicts as the final model');
  assert.notDeepEqual(seen[0]?.predictions, seen.at(-1)?.predictions, 'progress predicts with the weights of the moment');
});

test('a throw from onProgress stops training; other kinds reject onProgress', () => {
  let calls = 0;
  const stop = new Error('stop here');
  assert.throws(
    () =>
      trainModel('logreg', {}, split.train, 1, {
        progressEvery: 10,
        onProgress: ({ iteration }) => {
          calls++;
          if (iteration === 30) throw stop;
        },
      }),
    (err: unknown) => err === stop,
  );
  assert.equal(calls, 3);
  assert.throws(() => trainModel('tree', {}, split.train, 1, { onProgress: () => undefined }), /onProgress is only supported for logreg/);
  assert.throws(() => trainModel('logreg', {}, split.train, 1, { onProgress: () => undefined, progressEvery: 0 }), /progressEvery must be a positive integer/);
});
