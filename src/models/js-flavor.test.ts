import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWeatherCsv, makeFeatures, WEATHER_LABELS } from '../../examples/weather/lib/data.ts';
import { predict as weatherPredict, trainModel, type ModelKind, type SerializedModel } from '../../examples/weather/lib/models.ts';
import { defineJsModel, jsModel, JsModel, type JsPredictor } from './js-flavor.ts';
import { loadModel, saveModel, type Row } from './model.ts';

// The weather example's models are plain JSON (trainModel -> SerializedModel); wrap one as a JS predictor that
// reads named feature columns from rows and returns weather labels.
interface WeatherState {
  model: SerializedModel;
  featureNames: string[];
}
function weatherPredictor(state: WeatherState): JsPredictor {
  return {
    predict: (rows: readonly Row[]) => {
      const X = rows.map((r) => state.featureNames.map((f) => r[f] as number));
      return weatherPredict(state.model, X).map((c) => WEATHER_LABELS[c]);
    },
    toJSON: () => state,
  };
}
defineJsModel('weather', { load: (state) => weatherPredictor(state as WeatherState) });

const features = makeFeatures(loadWeatherCsv());
const rows: Row[] = features.X.map((x) => Object.fromEntries(features.featureNames.map((f, i) => [f, x[i]])));
const train = { X: features.X.slice(0, 1000), y: features.y.slice(0, 1000), nClasses: WEATHER_LABELS.length };
const holdout = rows.slice(1000);

function weatherModel(kind: ModelKind): JsModel {
  const trained = trainModel(kind, kind === 'forest' ? { nTrees: 5 } : {}, train, 7);
  return jsModel('weather', weatherPredictor({ model: trained, featureNames: features.featureNames }), {
    inputs: features.featureNames.map((name) => ({ name, type: 'number' })),
    outputs: [{ name: 'weather', type: 'string' }],
    metadata: { algorithm: kind, trainedRows: train.X.length },
  });
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'baton-models-'));
}

for (const kind of ['tree', 'logreg', 'forest'] as const) {
  test(`js flavor: weather ${kind} save/load round trip predicts identically`, async () => {
    const dir = await tempDir();
    try {
      const model = weatherModel(kind);
      const before = await model.predict(holdout);
      assert.equal(before.weather!.length, holdout.length);
      assert.ok(before.weather!.every((w) => WEATHER_LABELS.includes(w as never)));

      const manifest = await saveModel(model, join(dir, 'm'));
      assert.deepEqual(manifest.files, ['state.json']);
      assert.deepEqual((await readdir(join(dir, 'm'))).sort(), ['model.json', 'state.json']);
      const onDisk = JSON.parse(await readFile(join(dir, 'm', 'model.json'), 'utf8'));
      assert.equal(onDisk.flavor, 'js');
      assert.equal(onDisk.format, 'baton-model/v1');
      assert.deepEqual(onDisk.metadata, { algorithm: kind, trainedRows: 1000 });

      const loaded = await loadModel(join(dir, 'm'));
      assert.ok(loaded instanceof JsModel);
      assert.equal(loaded.flavor, 'js');
      assert.deepEqual(loaded.signature, model.signature);
      assert.deepEqual(loaded.metadata, model.metadata);
      assert.deepEqual(await loaded.predict(holdout), before);
      // model.json path works too
      assert.deepEqual(await (await loadModel(join(dir, 'm', 'model.json'))).predict(holdout.slice(0, 5)), { weather: before.weather!.slice(0, 5) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('js flavor: multi-output predictors and custom kinds', async () => {
  defineJsModel('affine', {
    load: (s) => {
      const { a, b } = s as { a: number; b: number };
      return { predict: (rs: readonly Row[]) => ({ y: rs.map((r) => a * (r.x as number) + b), sign: rs.map((r) => Math.sign(a * (r.x as number) + b)) }), toJSON: () => ({ a, b }) };
    },
  });
  const make = (a: number, b: number): JsPredictor => ({ predict: (rs) => ({ y: rs.map((r) => a * (r.x as number) + b), sign: rs.map((r) => Math.sign(a * (r.x as number) + b)) }), toJSON: () => ({ a, b }) });
  const model = jsModel('affine', make(2, -1), { inputs: [{ name: 'x', type: 'number' }], outputs: [{ name: 'y', type: 'number' }, { name: 'sign', type: 'integer' }] });
  const dir = await tempDir();
  try {
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    assert.deepEqual(await loaded.predict([{ x: 0 }, { x: 3 }]), { y: [-1, 5], sign: [-1, 1] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('js flavor: errors', async () => {
  const dir = await tempDir();
  try {
    const model = weatherModel('tree');
    assert.throws(() => jsModel('never-defined', weatherPredictor({ model: model.predictor.toJSON() as never, featureNames: [] }), { inputs: [] }), /kind 'never-defined' is not defined; call defineJsModel/);
    await assert.rejects(model.predict([{ ...holdout[0], wind: undefined }]), /batch row 0 is missing input 'wind'/);
    await assert.rejects(model.predict([holdout[0]!, { ...holdout[1], wind: 'windy' }]), /batch row 1: input 'wind' must be a finite number, got "windy"/);
    await assert.rejects(model.predict({ tensors: { x: new Float32Array(3) } }), /takes a batch of rows, not tensors/);

    defineJsModel('bad-state', { load: () => ({ predict: () => [], toJSON: () => ({}) }) });
    const bad = jsModel('bad-state', { predict: () => [], toJSON: () => ({ w: [1, Number.NaN] }) }, { inputs: [] });
    await assert.rejects(saveModel(bad, join(dir, 'bad')), /not JSON-safe: state.w\[1\] is NaN/);
    const wrongLength = jsModel('bad-state', { predict: () => [1], toJSON: () => ({}) }, { inputs: [] });
    await assert.rejects(wrongLength.predict([{}, {}]), /returned 1 values for 'prediction' from 2 rows/);

    await saveModel(model, join(dir, 'ok'));
    await assert.rejects(saveModel(model, join(dir, 'ok')), /is not empty/);

    // a kind this process does not know
    const state = JSON.parse(await readFile(join(dir, 'ok', 'state.json'), 'utf8'));
    await writeFile(join(dir, 'ok', 'state.json'), JSON.stringify({ ...state, kind: 'weather-v9' }));
    await assert.rejects(loadModel(join(dir, 'ok')), /js model kind 'weather-v9' .* is not defined in this process; call defineJsModel\('weather-v9'/);

    await rm(join(dir, 'ok', 'state.json'));
    await assert.rejects(loadModel(join(dir, 'ok')), /incomplete: state.json listed in model.json is missing/);
    await assert.rejects(loadModel(join(dir, 'nope')), (e: Error & { code?: string }) => e.code === 'not_found' && /does not exist/.test(e.message));
    await assert.rejects(loadModel(dir), /has no model.json/);
    await writeFile(join(dir, 'ok', 'model.json'), JSON.stringify({ format: 'baton-model/v1', flavor: 'pickle', signature: {}, metadata: {}, files: [] }));
    await assert.rejects(loadModel(join(dir, 'ok')), /unknown model flavor 'pickle'; known flavors: js, onnx/);
    await writeFile(join(dir, 'ok', 'model.json'), '{"format":"mlflow"}');
    await assert.rejects(loadModel(join(dir, 'ok')), /is not a baton-model\/v1 manifest/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
