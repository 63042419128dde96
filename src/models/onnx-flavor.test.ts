import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOnnxModel, OnnxModel } from './onnx-flavor.ts';
import { loadModel, saveModel } from './model.ts';

// Fixtures made by test/fixtures/models/make_linear.py:
//   linear.onnx:   y = x @ [0.5, -2, 0.25] + 1          x: float32[N, 3]
//   logistic.onnx: logit = x @ [1, -1]; prob = sigmoid   x: float32[N, 2]
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/models/', import.meta.url));
const LINEAR = join(FIXTURES, 'linear.onnx');
const LOGISTIC = join(FIXTURES, 'logistic.onnx');

test('onnx: signature is read from the file', async () => {
  const linear = await loadOnnxModel(LINEAR);
  assert.equal(linear.flavor, 'onnx');
  assert.deepEqual(linear.signature, {
    kind: 'tensors',
    inputs: [{ name: 'x', type: 'float32', shape: ['N', 3] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['N', 1] }],
  });
  const logistic = await loadOnnxModel(LOGISTIC);
  assert.deepEqual(logistic.signature.outputs.map((o) => o.name), ['prob', 'logit']);
  assert.deepEqual(logistic.signature.inputs, [{ name: 'x', type: 'float32', shape: ['N', 2] }]);
  await linear.close();
  await logistic.close();
});

test('onnx: predict rows, named-input rows and tensors with exact outputs', async () => {
  const model = await loadOnnxModel(LINEAR, { features: ['a', 'b', 'c'], metadata: { trainedIn: 'python' } });
  assert.deepEqual(model.metadata, { trainedIn: 'python', features: ['a', 'b', 'c'] });
  const rows = [{ a: 1, b: 2, c: 3 }, { a: 0, b: 0, c: 0 }, { c: -2, b: 0.5, a: 4, extra: 'ignored' }];
  assert.deepEqual(await model.predict(rows), { y: [-1.75, 1, 1.5] });
  assert.deepEqual(await model.predict({ tensors: { x: { data: Float32Array.from([1, 2, 3, 0, 0, 0]), dims: [2, 3] } } }), { y: [-1.75, 1] });
  assert.deepEqual(await model.predict({ tensors: { x: Float32Array.from([4, 0.5, -2]) } }), { y: [1.5] });
  assert.deepEqual(await model.predict({ tensors: { x: { data: [1, 2, 3], dims: [1, 3] } } }), { y: [-1.75] });

  const plain = await loadOnnxModel(await readFile(LINEAR)); // from bytes, no feature map
  assert.deepEqual(await plain.predict([{ x: [1, 2, 3] }, { x: [4, 0.5, -2] }]), { y: [-1.75, 1.5] });

  const logistic = await loadOnnxModel(LOGISTIC, { features: { x: ['u', 'v'] } });
  const out = await logistic.predict([{ u: 0, v: 0 }, { u: 2, v: 1 }, { u: 0, v: 3 }]);
  assert.deepEqual(out.logit, [0, 1, -3]);
  assert.equal(out.prob![0], 0.5);
  const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
  assert.ok(Math.abs((out.prob![1] as number) - sigmoid(1)) < 1e-6);
  assert.ok(Math.abs((out.prob![2] as number) - sigmoid(-3)) < 1e-6);
  await Promise.all([model.close(), plain.close(), logistic.close()]);
});

test('onnx: save/load round trip through a model directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'baton-onnx-'));
  try {
    const model = await loadOnnxModel(LINEAR, { features: ['a', 'b', 'c'], metadata: { source: 'make_linear.py' } });
    const manifest = await saveModel(model, dir);
    assert.equal(manifest.flavor, 'onnx');
    assert.deepEqual(manifest.files, ['model.onnx']);
    assert.deepEqual(await readFile(join(dir, 'model.onnx')), await readFile(LINEAR));
    const loaded = await loadModel(dir);
    assert.ok(loaded instanceof OnnxModel);
    assert.deepEqual(loaded.signature, model.signature);
    assert.deepEqual(loaded.metadata, { source: 'make_linear.py', features: ['a', 'b', 'c'] });
    assert.deepEqual(await loaded.predict([{ a: 1, b: 2, c: 3 }]), { y: [-1.75] });
    await Promise.all([model.close(), loaded.close()]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('onnx: clear errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'baton-onnx-'));
  try {
    await assert.rejects(loadOnnxModel(join(dir, 'missing.onnx')), (e: Error & { code?: string }) => e.code === 'not_found' && /ONNX model file not found/.test(e.message));
    await writeFile(join(dir, 'junk.onnx'), 'this is not a protobuf');
    await assert.rejects(loadOnnxModel(join(dir, 'junk.onnx')), /junk.onnx is not a valid ONNX model: .*protobuf/);
    await writeFile(join(dir, 'empty.onnx'), '');
    await assert.rejects(loadOnnxModel(join(dir, 'empty.onnx')), /is not an ONNX model: it is empty/);
    await assert.rejects(loadModel(LINEAR), /not a saved model: .*use loadOnnxModel/);
    await assert.rejects(loadOnnxModel(LINEAR, { features: ['a', 'b'] }), /2 features given for ONNX input 'x' of shape \[N, 3\].*it takes 3/);
    await assert.rejects(loadOnnxModel(LINEAR, { features: { z: ['a', 'b', 'c'] } }), /features name ONNX input 'z', but the model inputs are x/);

    const model = await loadOnnxModel(LINEAR, { features: ['a', 'b', 'c'] });
    await assert.rejects(model.predict({ tensors: { z: Float32Array.from([1, 2, 3]) } }), /unknown ONNX input 'z'; model inputs: x float32\[N, 3\]/);
    await assert.rejects(model.predict({ tensors: {} }), /missing ONNX input 'x'/);
    await assert.rejects(model.predict({ tensors: { x: { data: Float32Array.from([1, 2]), dims: [1, 2] } } }), /input 'x' has shape \[1, 2\] but the model expects float32\[N, 3\]/);
    await assert.rejects(model.predict({ tensors: { x: { data: Float32Array.from([1, 2]), dims: [1, 3] } } }), /input 'x' has 2 values, but shape \[1, 3\] needs 3/);
    await assert.rejects(model.predict({ tensors: { x: Float32Array.from([1, 2]) } }), /2 values, not a multiple of 3/);
    await assert.rejects(model.predict([{ a: 1, b: 2 }]), /batch row 0: feature 'c' \(input 'x'\) must be a number, got nothing/);
    await assert.rejects(model.predict([]), /empty batch/);
    const plain = await loadOnnxModel(LINEAR);
    await assert.rejects(plain.predict([{ a: 1 }]), /batch row 0 has no input 'x'/);
    await assert.rejects(plain.predict([{ x: [1, 2] }]), /input 'x' has shape \[1, 2\] but the model expects/);
    await Promise.all([model.close(), plain.close()]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('without onnxruntime-node installed, loading an ONNX model is a BatonError naming the install command', async () => {
  const { spawnSync } = await import('node:child_process');
  // A resolve hook makes onnxruntime-node unresolvable in the child, exactly as when it is not installed.
  const hook = `export async function resolve(s, c, next) { if (s === 'onnxruntime-node') { const e = new Error("Cannot find package 'onnxruntime-node' imported from " + c.parentURL); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }`;
  const code = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const { loadOnnxModel } = await import(${JSON.stringify(new URL('./onnx-flavor.ts', import.meta.url).href)});
    try { await loadOnnxModel(${JSON.stringify(LINEAR)}); console.log('loaded'); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  const err = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { name?: string; code?: string; message?: string };
  assert.equal(err.name, 'BatonError', r.stderr);
  assert.equal(err.code, 'data_invalid');
  assert.match(err.message!, /onnxruntime-node.*not installed.*ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node/);
});
