// Registering models from inside tasks (ctx.models.register), on SQLite and PostgreSQL, with the inline and
// processes executors: one version per successful attempt, linked to its run, task attempt, code hash and the
// dataset it read; a failed attempt registers nothing and its successful retry registers once; a cache hit
// registers nothing; misuse fails the task with the fix; `baton models show` names the producing task; `baton show`
// and the client's `run.models()` list a run's versions.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Platform } from '../src/composition/platform.ts';
import type { PlatformConfig } from '../src/composition/config.ts';
import { Client } from '../src/client/index.ts';
import { taskCodeHash } from '../src/engine/cache-key.ts';
import { orderForLocks } from '../src/engine/runner.ts';
import { BatonError } from '../src/errors.ts';
import { loadModel } from '../src/models/index.ts';
import type { Mutation } from '../src/ports/metadata.ts';
import { isModelRegistration, type ModelRegistration } from '../src/registry/index.ts';
import { artifactAccess } from '../src/runtime/artifact-access.ts';
import { decodeShallow } from '../src/values/codec.ts';
import { cachedFlow, misuseFlow, modelFlow, pointsCsv, train } from './fixtures/model-flows.ts';
import { tempPlatform } from './support/platform.ts';
import { freshPostgresDatabase } from './support/postgres.ts';

interface Target {
  platform: Platform;
  dir: string;
  dispose(): Promise<void>;
}

const stores: { name: string; open(config: PlatformConfig): Promise<Target> }[] = [
  { name: 'sqlite', open: (config) => tempPlatform(config) },
  {
    name: 'postgres',
    async open(config) {
      const db = await freshPostgresDatabase();
      try {
        const t = await tempPlatform({ ...config, store: db.url });
        return { ...t, dispose: async () => (await t.dispose(), await db.drop()) };
      } catch (err) {
        await db.drop();
        throw err;
      }
    },
  },
];

/** Registers the training data as dataset `mt-points` and returns its handle. */
async function points(t: Target, rows = 6, noise = 0) {
  const file = join(t.dir, `points-${rows}-${noise}.csv`);
  writeFileSync(file, pointsCsv(rows, noise));
  const r = await t.platform.datasets.register('mt-points', file);
  return t.platform.datasets.handle(`mt-points@${r.version.version}`);
}

async function outputOf(p: Platform, runId: string): Promise<{ model: ModelRegistration; slope: number }> {
  const r = await p.store.getRun(runId);
  return (await decodeShallow(r!.output!, p.artifacts)) as { model: ModelRegistration; slope: number };
}

async function trainNode(p: Platform, runId: string): Promise<string> {
  return (await p.store.getNodes(runId)).find((n) => n.spec.task === 'mt.train')!.id;
}

const isCode = (code: string, re: RegExp) => (err: unknown) => err instanceof BatonError && err.code === code && re.test(err.message);

for (const store of stores) {
  for (const executor of ['inline', 'processes'] as const) {
    test(`[${store.name}/${executor}] a task registering a model makes one version linked to its run, attempt, code and inputs`, { timeout: 300_000 }, async () => {
      const t = await store.open({ executor, workers: 1 });
      const p = t.platform;
      try {
        const data = await points(t);
        const r = await p.run(modelFlow, { data });
        assert.equal(r.status, 'succeeded', r.error);
        const nodeId = await trainNode(p, r.runId);
        const versions = await p.models.versions('mt-linear');
        assert.equal(versions.length, 1, 'exactly one version');
        const v = versions[0]!;
        assert.equal(v.version, 1);
        assert.equal(v.flavor, 'js');
        assert.deepEqual(v.lineage, { runId: r.runId, nodeId, attempt: 1, codeHash: taskCodeHash(train.definition).hash });
        assert.equal(v.registrationId, `${r.runId}/${nodeId}/1/mt-linear`);
        assert.deepEqual(v.tags, { attempt: '1', mode: 'model' });
        assert.ok(Math.abs(v.metrics.slope! - 2) < 1e-9 && v.metrics.mse! < 1e-9, JSON.stringify(v.metrics));
        // The signature is the task's zod types as JSON Schema.
        const sig = v.signature as { input: { properties: Record<string, unknown> }; output: { properties: Record<string, unknown> } };
        assert.deepEqual(Object.keys(sig.input.properties).sort(), ['data', 'failUntil', 'mode']);
        assert.deepEqual(sig.input.properties.mode, { type: 'string', enum: ['model', 'dir', 'path'], default: 'model' });
        assert.deepEqual(Object.keys(sig.output.properties).sort(), ['model', 'slope']);

        // The task got its registration back and returned it; it resolves to the committed version.
        const out = await outputOf(p, r.runId);
        assert.ok(isModelRegistration(out.model), JSON.stringify(out.model));
        assert.deepEqual({ ...out.model, artifact: out.model.artifact.sha256 }, { $model: 'registration', name: 'mt-linear', registrationId: v.registrationId, artifact: v.artifact, flavor: 'js' });
        assert.equal((await p.models.registered(out.model)).version, 1);
        assert.deepEqual((await p.models.ofRun(r.runId)).map((x) => x.version), [1]);

        // Inputs: the dataset the attempt read, named; the producer as the store has it.
        const shown = await p.models.show('mt-linear');
        assert.deepEqual(shown.inputs, [{ sha256: data.sha256, datasets: [{ name: 'mt-points', version: 1 }] }]);
        assert.deepEqual(
          (({ workflow, task, attempt, attemptState, runStatus }) => ({ workflow, task, attempt, attemptState, runStatus }))(shown.producer!),
          { workflow: 'mt-flow', task: 'mt.train', attempt: 1, attemptState: 'succeeded', runStatus: 'succeeded' },
        );
        // The artifact is the saved model: it loads and predicts y = 2x + 1.
        const dir = await artifactAccess(p.artifacts, async () => t.dir).dirPath(out.model.artifact as Extract<ModelRegistration['artifact'], { $artifact: 'dir' }>);
        assert.deepEqual(await (await loadModel(dir)).predict([{ x: 10 }]), { y: [21] });

        // Another run (no caching on this task) is the next version, linked to that run.
        const r2 = await p.run(modelFlow, { data: await points(t, 8, 0.5) });
        assert.equal(r2.status, 'succeeded', r2.error);
        const again = await p.models.versions('mt-linear');
        assert.deepEqual(again.map((x) => [x.version, x.lineage?.runId]), [[1, r.runId], [2, r2.runId]]);
        assert.deepEqual((await p.models.show('mt-linear@2')).inputs[0]?.datasets, [{ name: 'mt-points', version: 2 }]);
      } finally {
        await t.dispose();
      }
    });

    test(`[${store.name}/${executor}] a failed attempt registers nothing; its successful retry registers once`, { timeout: 300_000 }, async () => {
      const t = await store.open({ executor, workers: 1 });
      const p = t.platform;
      try {
        const data = await points(t);
        const r = await p.run(modelFlow, { data, failUntil: 1 });
        assert.equal(r.status, 'succeeded', r.error);
        const nodeId = await trainNode(p, r.runId);
        assert.deepEqual((await p.store.getAttempts(r.runId, nodeId)).map((a) => [a.attempt, a.state]), [[1, 'failed'], [2, 'succeeded']]);
        const versions = await p.models.versions('mt-linear');
        assert.equal(versions.length, 1, 'one version for the run, from the attempt that succeeded');
        assert.deepEqual(versions[0]!.lineage, { runId: r.runId, nodeId, attempt: 2, codeHash: taskCodeHash(train.definition).hash });
        assert.equal(versions[0]!.tags.attempt, '2');
        assert.equal((await outputOf(p, r.runId)).model.registrationId, `${r.runId}/${nodeId}/2/mt-linear`);
        await assert.rejects(p.models.registered(`${r.runId}/${nodeId}/1/mt-linear`), isCode('not_found', /did not succeed/));

        // Every attempt fails: the run fails and nothing more is registered.
        const failed = await p.run(modelFlow, { data, failUntil: 9 });
        assert.equal(failed.status, 'failed');
        assert.match(failed.error ?? '', /fails on purpose/);
        assert.equal((await p.store.getAttempts(failed.runId)).length, 3);
        assert.equal((await p.models.versions('mt-linear')).length, 1);
        assert.deepEqual(await p.models.ofRun(failed.runId), []);
      } finally {
        await t.dispose();
      }
    });
  }
}

test('a saved directory (handle or path) keeps its flavor; a signature may come from another task or zod types', async () => {
  const t = await tempPlatform();
  try {
    const data = await points(t);
    const dirRun = await t.platform.run(modelFlow, { data, mode: 'dir' });
    assert.equal(dirRun.status, 'succeeded', dirRun.error);
    const pathRun = await t.platform.run(modelFlow, { data, mode: 'path' });
    assert.equal(pathRun.status, 'succeeded', pathRun.error);
    const [fromDir, fromPath] = await t.platform.models.versions('mt-linear');
    assert.deepEqual([fromDir?.flavor, fromDir?.description, fromPath?.flavor], ['js', 'from a saved directory', 'js']);
    assert.equal(fromDir?.artifact, fromPath?.artifact, 'the same saved model, stored once');
    assert.deepEqual(fromDir?.signature, {
      input: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { x: { type: 'number' } }, required: ['x'] },
      output: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { y: { type: 'number' } }, required: ['y'] },
    });
    assert.deepEqual(Object.keys(fromPath?.signature ?? {}), ['input']);
  } finally {
    await t.dispose();
  }
});

test('a run answered from the cache registers nothing: the version of the run that trained stands', async () => {
  const t = await tempPlatform();
  try {
    const data = await points(t);
    const first = await t.platform.run(cachedFlow, { data });
    const second = await t.platform.run(cachedFlow, { data });
    assert.equal(second.status, 'succeeded', second.error);
    assert.equal((await t.platform.store.getNode(second.runId, 'train-cached'))?.cachedFrom, `${first.runId}/train-cached`);
    const versions = await t.platform.models.versions('mt-linear');
    assert.deepEqual(versions.map((v) => v.lineage?.runId), [first.runId]);
    const parts = (await t.platform.store.getNode(first.runId, 'train-cached'))?.cacheParts as { code: { hash: string } };
    assert.equal(versions[0]!.lineage?.codeHash, parts.code.hash, 'the code hash of the cache key');
  } finally {
    await t.dispose();
  }
});

test('misusing ctx.models.register fails the task with what to fix, and registers nothing', async () => {
  const t = await tempPlatform();
  try {
    const cases = [
      ['twice', /Model "mt-twice" was already registered by this attempt .*one version per model name/],
      ['bare-file', /Model "mt-file": cannot tell how to load the file "weights\.json"\. Pass \{ flavor/],
      ['nan-metric', /Model "mt-nan": metric "f1" must be a finite number/],
      ['bad-name', /Model name "bad name" is not valid/],
      ['not-a-model', /takes a Model object, a saved model directory .* got number/],
      ['no-manifest', /the directory "plain" has no model\.json .* pass \{ flavor \}/],
    ] as const;
    for (const [what, message] of cases) {
      const r = await t.platform.run(misuseFlow, { what });
      assert.equal(r.status, 'failed', what);
      assert.match(r.error ?? '', message, what);
    }
    assert.deepEqual(await t.platform.models.list(), []);
  } finally {
    await t.dispose();
  }
});

test('registrations commit after the other mutations of a commit, datasets then models, each sorted by name', () => {
  const model = (name: string): Mutation => ({ type: 'registerModelVersion', version: { name, registrationId: name, artifact: 'a', flavor: 'js', metrics: {}, tags: {}, createdAt: 1 } });
  const ds = (name: string): Mutation => ({ type: 'putDatasetVersion', version: { name, sha256: name, format: 'csv', size: 1, rows: 1, schema: [], createdAt: 1 } });
  const ev = (type: string): Mutation => ({ type: 'events', events: [{ runId: 'r', at: 1, type }] });
  const muts = [ev('a'), model('zeta'), ds('beta'), model('alpha'), ev('b')];
  const { batch, position } = orderForLocks(muts);
  assert.deepEqual(batch.map((m) => (m.type === 'events' ? m.events[0]!.type : `${m.type === 'putDatasetVersion' ? 'ds' : 'model'}:${(m as { version: { name: string } }).version.name}`)), ['a', 'b', 'ds:beta', 'model:alpha', 'model:zeta']);
  for (let i = 0; i < muts.length; i++) assert.equal(batch[position[i]!], muts[i]);
});

test('baton models show names the workflow, task and attempt that registered a version, and its input dataset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-models-show-'));
  try {
    const t = await tempPlatform({ store: `sqlite:${join(dir, 'baton.db')}`, artifacts: `file:${join(dir, 'artifacts')}` });
    let runId: string;
    try {
      const r = await t.platform.run(modelFlow, { data: await points(t), failUntil: 1 });
      assert.equal(r.status, 'succeeded', r.error);
      runId = r.runId;
    } finally {
      await t.dispose();
    }
    const bin = new URL('../bin/baton.mjs', import.meta.url).pathname;
    const show = spawnSync(process.execPath, [bin, '--store', `sqlite:${join(dir, 'baton.db')}`, '--artifacts', `file:${join(dir, 'artifacts')}`, 'models', 'show', 'mt-linear'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`lineage {3}run ${runId} task mt\\.train \\(attempt 2\\), code [0-9a-f]{12}`));
    assert.match(show.stdout, new RegExp(`producer {2}workflow mt-flow, task mt\\.train, attempt 2 succeeded \\d{4}-\\d\\d-\\d\\d [\\d:]{8} \\(run ${runId} succeeded\\)`));
    assert.match(show.stdout, /inputs {4}mt-points@1 \([0-9a-f]{12}\)/);
    assert.match(show.stdout, /signature input \(data: object, failUntil: integer, mode: "model" \| "dir" \| "path"\) → output \(model: object, slope: number\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('baton show and run.models() list the versions a run registered; a cache hit lists the version it reused', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-show-models-'));
  const flags = ['--store', `sqlite:${join(dir, 'baton.db')}`, '--artifacts', `file:${join(dir, 'artifacts')}`];
  try {
    const t = await tempPlatform({ store: `sqlite:${join(dir, 'baton.db')}`, artifacts: `file:${join(dir, 'artifacts')}` });
    const ids = { trained: '', cached: '', other: '', none: '' };
    try {
      const p = t.platform;
      const data = await points(t);
      ids.trained = (await p.run(cachedFlow, { data })).runId;
      ids.cached = (await p.run(cachedFlow, { data })).runId;
      ids.other = (await p.run(modelFlow, { data })).runId;
      ids.none = (await p.run(modelFlow, { data, failUntil: 9 })).runId;
      await p.models.promote('mt-linear', 1);
      await p.models.setAlias('mt-linear', 'challenger', 2);

      const client = new Client(p);
      const versionsOf = async (id: string) => (await (await client.run(id)).models()).map((v) => [`${v.name}@${v.version}`, v.lineage?.runId, v.lineage?.nodeId]);
      assert.deepEqual(await versionsOf(ids.trained), [['mt-linear@1', ids.trained, 'train-cached']]);
      assert.deepEqual(await versionsOf(ids.cached), [], 'a cache hit registers nothing');
      assert.deepEqual(await versionsOf(ids.other), [['mt-linear@2', ids.other, 'mt.train']]);
      assert.deepEqual(await versionsOf(ids.none), [], 'a failed run registers nothing');
    } finally {
      await t.dispose();
    }

    const bin = new URL('../bin/baton.mjs', import.meta.url).pathname;
    const baton = (...args: string[]) => {
      const r = spawnSync(process.execPath, [bin, ...flags, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    /** The lines of the models table under the graph (none when the section is absent). */
    const modelLines = (stdout: string) => stdout.split('\nmodels\n')[1]?.trim().split('\n').map((l) => l.trim().split(/ {2,}/)) ?? [];
    assert.deepEqual(modelLines(baton('show', ids.trained)), [['model', 'node', 'aliases', 'registered by'], ['mt-linear@1', 'train-cached', 'champion', 'attempt 1']]);
    assert.deepEqual(modelLines(baton('show', ids.cached)).slice(1), [['mt-linear@1', 'train-cached', 'champion', `run ${ids.trained} (cache hit)`]]);
    assert.deepEqual(modelLines(baton('show', ids.other)).slice(1), [['mt-linear@2', 'mt.train', 'challenger', 'attempt 1']]);
    assert.deepEqual(modelLines(baton('show', ids.none)), [], 'no models section for a run without models');

    type ShowModel = { name: string; version: number; node: string; aliases: string[]; cachedFrom?: string; registrationId: string };
    const json = (id: string) => (JSON.parse(baton('show', id, '--json')) as { models: ShowModel[] }).models;
    const [own] = json(ids.trained);
    assert.deepEqual([own?.name, own?.version, own?.node, own?.aliases, own?.cachedFrom, own?.registrationId], ['mt-linear', 1, 'train-cached', ['champion'], undefined, `${ids.trained}/train-cached/1/mt-linear`]);
    assert.deepEqual(json(ids.cached).map((m) => [m.version, m.node, m.cachedFrom]), [[1, 'train-cached', `${ids.trained}/train-cached`]]);
    assert.deepEqual(json(ids.none), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
