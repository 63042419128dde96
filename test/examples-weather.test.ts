// The weather training pipeline run end to end on the embedded platform (SQLite + local artifacts, inline executor).
// Run: npm test -- test/examples-weather

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPlatform, type Platform, type RunOutcome } from '../src/composition/index.ts';
import { workflow } from '../src/sdk/index.ts';
import { taskCodeHash } from '../src/engine/cache-key.ts';
import { loadModel } from '../src/models/index.ts';
import { artifactAccess } from '../src/runtime/artifact-access.ts';
import { decodeShallow } from '../src/values/codec.ts';
import { featureRows } from '../examples/weather/lib/classifier.ts';
import { evaluate } from '../examples/weather/lib/metrics.ts';
import pipeline, { DEFAULT_CANDIDATES, MODEL_NAME, REQUIRED_COLUMNS, STUDY_ID, TUNED_CANDIDATE, VALIDATION_FRACTION, WeatherParams, load, rankCandidates, register, validate } from '../examples/weather/pipeline.ts';

/** Trials of the default study. */
const TRIALS = WeatherParams.parse({}).tuneTrials;

type Summary = NonNullable<(typeof pipeline)['__output']>;

let dir: string;
let platform: Platform;
let first: RunOutcome;
let summary: Summary;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-weather-'));
  platform = await openPlatform({ cwd: dir, executor: 'inline' });
  first = await platform.run(pipeline, {});
  if (first.output) summary = (await decodeShallow(first.output, platform.artifacts)) as Summary;
});

after(async () => {
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the pipeline succeeds and the best model beats the majority-class baseline', () => {
  assert.equal(first.status, 'succeeded', first.error);
  const { best, baseline, beatsBaseline, data } = summary;
  assert.equal(data.rows, 1461);
  assert.equal(data.nTrain + data.nTest, 1461);
  assert.equal(data.nTest, Math.round(1461 * 0.2));
  assert.ok(beatsBaseline);
  assert.ok(best.metrics.macroF1 > baseline.macroF1 + 0.2, `best macro-F1 ${best.metrics.macroF1} vs baseline ${baseline.macroF1}`);
  assert.ok(best.metrics.accuracy > baseline.accuracy + 0.2, `best accuracy ${best.metrics.accuracy} vs baseline ${baseline.accuracy}`);
});

test('every candidate, and the tuned one, is trained and evaluated; the winner has the highest macro-F1', () => {
  const { best, candidates } = summary;
  assert.equal(candidates.length, DEFAULT_CANDIDATES.length + 1);
  assert.equal(candidates.filter((c) => c.name === TUNED_CANDIDATE && c.kind === 'logreg').length, 1, 'the tuned logreg is a candidate');
  assert.ok(new Set(candidates.map((c) => c.kind)).size >= 4);
  for (const c of candidates) {
    assert.ok(c.accuracy > 0 && c.accuracy <= 1, `${c.name} accuracy ${c.accuracy}`);
    assert.ok(c.macroF1 > 0 && c.macroF1 <= 1, `${c.name} macro-F1 ${c.macroF1}`);
  }
  assert.equal(new Set(candidates.map((c) => c.name)).size, candidates.length, 'candidate names are unique');
  assert.equal(best.name, candidates[0]!.name);
  assert.ok(candidates.every((c) => c.macroF1 <= best.metrics.macroF1));
  // Sorted by macro-F1, ties by accuracy.
  for (let i = 1; i < candidates.length; i++) {
    const [a, b] = [candidates[i - 1]!, candidates[i]!];
    assert.ok(a.macroF1 > b.macroF1 || (a.macroF1 === b.macroF1 && a.accuracy >= b.accuracy), `${a.name} before ${b.name}`);
  }
});

test('the split and every model are stored as artifacts, with lineage', async () => {
  const lineage = await platform.store.getLineage(first.runId);
  const writes = (prefix: string) => lineage.filter((l) => l.direction === 'write' && l.nodeId.startsWith(prefix)).map((l) => l.sha256);
  const reads = (prefix: string) => lineage.filter((l) => l.direction === 'read' && l.nodeId.startsWith(prefix)).map((l) => l.sha256);
  const nodes = await platform.store.getNodes(first.runId);
  const split = nodes.find((n) => n.id === 'weather.split')!;
  const splitHandle = (JSON.parse(split.output!.json!) as { split: { sha256: string } }).split;
  assert.ok(writes('weather.split').includes(splitHandle.sha256), 'the split task wrote the split artifact');
  for (const c of summary.candidates) {
    // weather.train[k] for the listed candidates, weather.train-tuned for the tuned one (and the same for evaluate).
    assert.ok(writes('weather.train').includes(c.model.sha256), `model of ${c.name} written by a train task`);
    assert.ok(reads('weather.evaluate').includes(c.model.sha256), `model of ${c.name} read by an evaluate task`);
    const bytes = await platform.artifacts.read(c.model.sha256);
    assert.equal(bytes.length, c.model.size);
    assert.equal((JSON.parse(bytes.toString('utf8')) as { kind: string }).kind, c.kind);
  }
  assert.ok(reads('weather.train[').includes(splitHandle.sha256), 'train tasks read the split');
});

test('the winner is registered from inside the workflow, with its metrics, tags, lineage and the data it read', async () => {
  const { best, model: registration } = summary;
  const v = await platform.models.registered(registration);
  assert.deepEqual([v.name, v.version, v.flavor], [MODEL_NAME, 1, 'js']);
  assert.deepEqual(v.lineage, { runId: first.runId, nodeId: 'weather.register', attempt: 1, codeHash: taskCodeHash(register.definition).hash });
  assert.deepEqual(v.metrics, { macroF1: best.metrics.macroF1, accuracy: best.metrics.accuracy });
  assert.deepEqual(v.tags, { kind: best.kind, candidate: best.name });
  assert.deepEqual((await platform.models.ofRun(first.runId)).map((x) => x.registrationId), [registration.registrationId], 'one version for the run');

  // Its inputs are what the register task read: the split (the data) and the winner's trained model.
  const nodes = await platform.store.getNodes(first.runId);
  const splitSha = (JSON.parse(nodes.find((n) => n.id === 'weather.split')!.output!.json!) as { split: { sha256: string } }).split.sha256;
  assert.deepEqual((await platform.models.show(`${MODEL_NAME}@1`)).inputs.map((i) => i.sha256).sort(), [splitSha, best.model.sha256].sort());
  const signature = v.signature as { input: { properties: Record<string, unknown> }; output: { properties: { weather: { enum: string[] } } } };
  assert.deepEqual(signature.output.properties.weather.enum, summary.data.labels);

  // The artifact is a saved js model: loaded back, it predicts the test days as weather.evaluate scored them.
  assert.equal(registration.artifact.$artifact, 'dir');
  const modelDir = await artifactAccess(platform.artifacts, async () => dir).dirPath(registration.artifact as Extract<typeof registration.artifact, { $artifact: 'dir' }>);
  const model = await loadModel(modelDir);
  const split = JSON.parse((await platform.artifacts.read(splitSha)).toString('utf8')) as { featureNames: string[]; labels: string[]; test: { X: number[][]; y: number[] } };
  assert.deepEqual(Object.keys(signature.input.properties), split.featureNames);
  const predicted = (await model.predict(featureRows(split.featureNames, split.test.X))).weather as string[];
  const e = evaluate(split.test.y, predicted.map((l) => split.labels.indexOf(l)), split.labels.length);
  assert.deepEqual([e.macroF1, e.accuracy], [best.metrics.macroF1, best.metrics.accuracy]);
});

test('logreg is tuned by a TPE study with median pruning on a validation fold, and its best params are a candidate', async () => {
  const { study, data } = summary;
  assert.ok(study, 'the summary has the study');
  assert.equal(study.id, STUDY_ID);
  assert.equal(study.trials, TRIALS);
  assert.equal(study.counts.complete + study.counts.pruned + study.counts.failed, TRIALS);
  assert.equal(study.counts.failed, 0);
  assert.ok(study.counts.pruned > 0, `the median pruner stopped some trials (${JSON.stringify(study.counts)})`);
  assert.ok(study.counts.complete >= 5, 'enough trials completed for the pruner to start');

  const nodes = await platform.store.getNodes(first.runId);
  const spec = nodes.find((n) => n.id === STUDY_ID)?.spec;
  assert.equal(spec?.tune?.sampler.type, 'tpe');
  assert.equal(spec?.tune?.pruner?.type, 'median');
  assert.equal(spec?.tune?.direction, 'maximize');
  const trials = nodes.filter((n) => n.spec.parent === STUDY_ID);
  assert.equal(trials.length, TRIALS, 'every trial is a node of the run');

  // Trials are scored on the last 20% of the train split only: they read the fold, never the split (with the test rows).
  assert.equal(study.best.validation.nValidation, Math.round(data.nTrain * VALIDATION_FRACTION));
  assert.equal(study.best.validation.nFit + study.best.validation.nValidation, data.nTrain);
  const lineage = await platform.store.getLineage(first.runId);
  const splitSha = (JSON.parse(nodes.find((n) => n.id === 'weather.split')!.output!.json!) as { split: { sha256: string } }).split.sha256;
  const trialReads = lineage.filter((l) => l.direction === 'read' && l.nodeId.startsWith(`${STUDY_ID}[`));
  assert.ok(trialReads.length >= TRIALS, 'every trial read its fold');
  assert.ok(trialReads.every((l) => l.sha256 !== splitSha), 'no trial read the split');

  // The best trial's params are the tuned candidate's; its validation score is the best complete trial's.
  const tuned = (await platform.store.getNode(first.runId, 'weather.train-tuned'))!;
  const trainedTuned = JSON.parse(tuned.output!.json!) as { name: string; params: Record<string, number> };
  assert.equal(trainedTuned.name, TUNED_CANDIDATE);
  assert.equal(trainedTuned.params.learningRate, study.best.params.learningRate);
  assert.equal(trainedTuned.params.l2, study.best.params.l2);
  const outcomes = trials.map((n) => JSON.parse(n.output!.json!) as { state: string; value: number | null; intermediate: [number, number][] });
  const bestValue = Math.max(...outcomes.filter((o) => o.state === 'complete').map((o) => o.value!));
  assert.equal(study.best.validation.macroF1, bestValue);
  for (const o of outcomes.filter((x) => x.state === 'pruned')) assert.ok(o.intermediate.at(-1)![0] < 300, 'a pruned trial stopped before its last iteration');
});

test('a second run is served entirely from the cache', async () => {
  const second = await platform.run(pipeline, {});
  assert.equal(second.status, 'succeeded', second.error);
  const tasks = (await platform.store.getNodes(second.runId)).filter((n) => n.spec.kind === 'task');
  // load, validate, features, split, select, register; train + evaluate per candidate; the fold, the trials, the tuned candidate.
  assert.equal(tasks.length, 6 + 2 * DEFAULT_CANDIDATES.length + 1 + TRIALS + 3);
  assert.deepEqual(tasks.filter((n) => !n.cachedFrom).map((n) => n.id), [], 'tasks that were not cached');
  assert.equal(second.output?.hash, first.output?.hash);
  // The cached register task registered nothing: its output is the first run's registration, whose version stands.
  assert.deepEqual(await platform.models.ofRun(second.runId), []);
  const out = (await decodeShallow(second.output!, platform.artifacts)) as Summary;
  assert.equal(out.model.registrationId, summary.model.registrationId);
  assert.deepEqual((await platform.models.versions(MODEL_NAME)).map((v) => [v.version, v.lineage?.runId]), [[1, first.runId]]);
});

test('a different seed reuses loading and features but re-splits and retrains; tuneTrials 0 skips tuning', async () => {
  const candidates = [{ kind: 'tree' as const, params: { maxDepth: 4 } }, { kind: 'naive-bayes' as const, params: {} }];
  const run = await platform.run(pipeline, { seed: 7, candidates, tuneTrials: 0 });
  assert.equal(run.status, 'succeeded', run.error);
  const nodes = await platform.store.getNodes(run.runId);
  const cached = nodes.filter((n) => n.spec.kind === 'task' && n.cachedFrom).map((n) => n.id);
  assert.deepEqual(cached, ['weather.load', 'weather.validate', 'weather.features']);
  assert.ok(!nodes.some((n) => n.id.startsWith('weather.tune') || n.id.endsWith('-tuned')), 'no study, no tuned candidate');
  const out = (await decodeShallow(run.output!, platform.artifacts)) as Summary;
  assert.equal(out.study, null);
  assert.deepEqual(out.candidates.map((c) => c.name).sort(), ['naive-bayes', 'tree maxDepth=4']);
  // Another winner, another version, linked to this run.
  const v = await platform.models.registered(out.model);
  assert.deepEqual([v.version, v.lineage?.runId, v.tags.candidate], [2, run.runId, out.best.name]);
});

test('missing columns fail the validate task with a clear message', async () => {
  const broken = workflow({ name: 'weather-validate-missing' }, () => validate({ rows: load({}).rows, required: [...REQUIRED_COLUMNS, 'humidity'] }));
  const run = await platform.run(broken, {});
  assert.equal(run.status, 'failed');
  const node = await platform.store.getNode(run.runId, 'weather.validate');
  assert.equal(node?.state, 'failed');
  assert.match(node?.error ?? '', /missing required column\(s\) "humidity" \(it has "date", "precipitation", /);
});

test('bad parameters are rejected before the run starts', async () => {
  await assert.rejects(platform.run(pipeline, { candidates: [{ kind: 'svm' }] }), /parameter "candidates\.0\.kind"/);
  await assert.rejects(platform.run(pipeline, { testFraction: 1 }), /parameter "testFraction"/);
  await assert.rejects(platform.run(pipeline, { tuneTrials: -1 }), /parameter "tuneTrials"/);
});

test('rankCandidates orders by macro-F1, then accuracy', () => {
  const m = (name: string, macroF1: number, accuracy: number) => ({ name, metrics: { macroF1, accuracy } });
  assert.deepEqual(rankCandidates([m('a', 0.5, 0.7), m('b', 0.6, 0.1), m('c', 0.5, 0.9)]).map((r) => r.name), ['b', 'c', 'a']);
});
