import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BatonError, Client, type RunHandle, type TaskHandle } from '../src/client/index.ts';
import { bytes, file, task, workflow, z, type FileHandle } from '../src/sdk/index.ts';
import { tempPlatform } from './support/platform.ts';
import { double, failFlow, flaky, range, sum, sumFlow } from './fixtures/engine-flows.ts';

/** Compile-time check: `expectType<Equal<A, B>>(true)` fails to compile unless A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok: T): void {}

const trainModel = task({
  name: 'client.train',
  input: z.object({ rows: z.number() }),
  output: z.object({ model: file(), raw: bytes(), curve: z.array(z.number()), tag: z.string().default('v1') }),
  run: async ({ rows }, ctx) => {
    console.log(`training on ${rows} rows`);
    console.error('warning: tiny data set');
    const model = await ctx.artifacts.putBytes(`weights for ${rows} rows`, 'model.bin');
    // `curve` is large enough to be stored as an artifact rather than inline.
    return { model, raw: Buffer.from('raw bytes'), curve: Array.from({ length: 20_000 }, (_, i) => i / 7) };
  },
});

const scoreModel = task({
  name: 'client.score',
  input: z.object({ model: file() }),
  output: z.object({ auc: z.number() }),
  run: async ({ model }, ctx) => ({ auc: (await ctx.artifacts.read(model)).length / 100 }),
});

const modelFlow = workflow({ name: 'client-model', params: z.object({ rows: z.number().default(10) }) }, ({ rows }) => {
  const trained = trainModel({ rows });
  const score = scoreModel({ model: trained.model });
  return { auc: score.auc, raw: trained.raw };
});

const bump = task({
  name: 'client.bump',
  input: z.object({ n: z.number().transform((n) => n * 10) }),
  output: z.object({ n: z.number().transform((n) => n + 1), label: z.string().default('bumped') }),
  run: ({ n }) => ({ n }),
});
const bumpFlow = workflow({ name: 'client-bump' }, () => bump({ n: 1 }));

let client: Client;
let dir: string;
let dispose: () => Promise<void>;
const ids = { sum: '', sumCached: '', flaky: '', failed: '', model: '', bump: '' };
let flakyFlow: ReturnType<typeof makeFlakyFlow>;

function makeFlakyFlow(counter: string) {
  return workflow({ name: 'client-flaky' }, () => flaky({ counter, failTimes: 2 }));
}

before(async () => {
  const t = await tempPlatform();
  dir = t.dir;
  dispose = t.dispose;
  const p = t.platform;
  ids.sum = (await p.run(sumFlow, { n: 4 })).runId;
  ids.sumCached = (await p.run(sumFlow, { n: 4 })).runId;
  flakyFlow = makeFlakyFlow(join(dir, 'flaky-count'));
  ids.flaky = (await p.run(flakyFlow, {})).runId;
  const failFile = join(dir, 'fail');
  writeFileSync(failFile, 'fail');
  ids.failed = (await p.run(failFlow, { failFile, counter: join(dir, 'fail-count') })).runId;
  ids.model = (await p.run(modelFlow, { rows: 12 })).runId;
  ids.bump = (await p.run(bumpFlow, {})).runId;
  client = new Client(p);
});

after(async () => {
  await client.close(); // does not close a platform it did not open
  await dispose();
});

test('lists runs newest first, filtered by workflow object or name, status and limit', async () => {
  const all = await client.runs();
  assert.deepEqual(all.map((r) => r.id), [ids.bump, ids.model, ids.failed, ids.flaky, ids.sumCached, ids.sum]);
  const sums = await client.runs({ workflow: sumFlow });
  assert.deepEqual(sums.map((r) => r.id), [ids.sumCached, ids.sum]);
  expectType<Equal<typeof sums, RunHandle<{ total: number; count: number }>[]>>(true);
  assert.deepEqual((await client.runs({ workflow: 'fx-sum', limit: 1 })).map((r) => r.id), [ids.sumCached]);
  assert.deepEqual((await client.runs({ status: 'failed' })).map((r) => r.id), [ids.failed]);
  const cut = all[2]!.createdAt;
  assert.deepEqual((await client.runs({ before: new Date(cut) })).map((r) => r.id), all.filter((r) => r.createdAt < cut).map((r) => r.id));
});

test('opens a run by id or unique prefix and exposes its record', async () => {
  const run = await client.run(ids.sum.slice(0, -2));
  assert.equal(run.id, ids.sum);
  assert.equal(run.workflow, 'fx-sum');
  assert.equal(run.status, 'succeeded');
  assert.deepEqual(run.params, { n: 4 });
  assert.ok(run.createdAt > 0 && run.endedAt! >= run.createdAt);
  assert.equal(run.error, undefined);
  const failed = await client.run(ids.failed);
  assert.equal(failed.status, 'failed');
  assert.match(failed.error ?? '', /fx\.maybe-fail/);
});

test('types a run output by its workflow: latestRun(workflow), output<typeof flow>(), output(flow)', async () => {
  const latest = await client.latestRun(sumFlow, { status: 'succeeded' });
  assert.equal(latest.id, ids.sumCached);
  const out = await latest.output();
  expectType<Equal<typeof out, { total: number; count: number }>>(true);
  assert.deepEqual(out, { total: 12, count: 4 });

  const byName = await client.latestRun('fx-sum');
  assert.equal(byName.id, ids.sumCached);
  const untyped = await byName.output();
  expectType<Equal<typeof untyped, unknown>>(true);
  assert.deepEqual(untyped, { total: 12, count: 4 });
  const typed = await byName.output<typeof sumFlow>();
  const total: number = typed.total;
  assert.equal(total, 12);
  assert.deepEqual(await byName.output(sumFlow), out);

  const checked = await client.run(ids.sum, sumFlow);
  const c: { total: number; count: number } = await checked.output();
  assert.equal(c.count, 4);
  await assert.rejects(byName.output(modelFlow), (e: BatonError) => e.code === 'usage' && /"fx-sum", not "client-model"/.test(e.message));
  await assert.rejects(client.run(ids.sum, modelFlow), (e: BatonError) => e.code === 'usage');
});

test('decodes outputs with the artifact store: bytes become Buffers, large values are fetched, handles are typed', async () => {
  const run = await client.latestRun(modelFlow);
  const out = await run.output();
  expectType<Equal<typeof out, { auc: number; raw: Uint8Array }>>(true);
  assert.ok(Buffer.isBuffer(out.raw));
  assert.equal(out.raw.toString(), 'raw bytes');
  assert.equal(out.auc, Buffer.byteLength('weights for 12 rows') / 100);

  const train = await run.task(trainModel);
  expectType<Equal<typeof train, TaskHandle<{ model: FileHandle; raw: Uint8Array; curve: number[]; tag: string }, { rows: number }>>>(true);
  assert.equal(train.record.output?.json, undefined, 'the output is large enough to be stored by reference');
  const trained = await train.output();
  const model: FileHandle = trained.model;
  assert.equal(model.name, 'model.bin');
  assert.equal((await client.artifacts.read(model.sha256)).toString(), 'weights for 12 rows');
  assert.equal(trained.curve.length, 20_000);
  assert.equal(trained.tag, 'v1', 'schema defaults are in the output');
  assert.ok(Buffer.isBuffer(trained.raw));
  const input = await train.input();
  const rows: number = input.rows;
  assert.equal(rows, 12);
});

test('applies input schemas to the recorded input, but never re-applies output transforms', async () => {
  const t = await (await client.run(ids.bump)).task(bump);
  const input = await t.input();
  expectType<Equal<typeof input, { n: number }>>(true);
  assert.deepEqual(input, { n: 10 }, 'the input as the task received it, after its schema');
  assert.deepEqual(await t.output(), { n: 11, label: 'bumped' }, 'the output as stored: transformed once');
  assert.equal(await (await client.run(ids.bump)).output<typeof bumpFlow>().then((o) => o.n), 11);
});

test('reads a task\'s logs by stream and attempt, and its lineage', async () => {
  const run = await client.run(ids.model);
  const train = await run.task(trainModel);
  assert.equal(await train.logs({ stream: 'stdout' }), 'training on 12 rows\n');
  assert.equal(await train.logs({ stream: 'stderr' }), 'warning: tiny data set\n');
  assert.match(await train.logs(), /training on 12 rows\n[\s\S]*warning: tiny data set/);
  assert.equal(await train.logs({ attempt: 2 }), '');

  const model = (await train.output()).model;
  const trainLineage = await train.lineage();
  assert.ok(trainLineage.written.includes(model.sha256));
  const score = await run.task(scoreModel);
  const scoreLineage = await score.lineage();
  assert.deepEqual(scoreLineage.read, [model.sha256]);
  assert.deepEqual(scoreLineage.written, []);
  assert.deepEqual(await score.lineage({ attempt: 2 }), { read: [], written: [] });
  assert.ok((await score.events()).some((e) => e.type === 'attempt_succeeded'));
});

test('lists tasks in graph order, map items included, and looks them up by task object or node id', async () => {
  const run = await client.run(ids.sum);
  const tasks = await run.tasks();
  assert.deepEqual(tasks.map((t) => t.id), ['fx.range', 'fx.double[0]', 'fx.double[1]', 'fx.double[2]', 'fx.double[3]', 'fx.sum']);
  assert.deepEqual(tasks.map((t) => t.task), ['fx.range', 'fx.double', 'fx.double', 'fx.double', 'fx.double', 'fx.sum']);
  assert.ok(tasks.every((t) => t.state === 'succeeded' && t.attempts === 1 && !t.cached && t.startedAt! <= t.endedAt!));
  assert.equal(tasks[1]!.parent, 'fx.double');

  const xs = await (await run.task(range)).output();
  expectType<Equal<typeof xs, number[]>>(true);
  assert.deepEqual(xs, [0, 1, 2, 3]);
  const s = await run.task(sum).then((t) => t.output());
  const totalAndCount: { total: number; count: number } = s;
  assert.deepEqual(totalAndCount, { total: 12, count: 4 });

  const items = await run.tasksOf(double);
  assert.deepEqual(items.map((t) => t.id), ['fx.double[0]', 'fx.double[1]', 'fx.double[2]', 'fx.double[3]']);
  const doubled = await Promise.all(items.map((t) => t.output()));
  expectType<Equal<typeof doubled, number[]>>(true);
  assert.deepEqual(doubled, [0, 2, 4, 6]);
  const itemInput = await items[3]!.input();
  expectType<Equal<typeof itemInput, { x: number; counter?: string | undefined }>>(true);
  assert.deepEqual(itemInput, { x: 3 });

  const byId = await run.task('fx.double[2]');
  const raw = await byId.output();
  expectType<Equal<typeof raw, unknown>>(true);
  assert.equal(raw, 4);
  const byIdTyped = await run.task('fx.double[2]', double);
  const four: number = await byIdTyped.output();
  assert.equal(four, 4);
  assert.deepEqual(await run.tasksOf(flaky), []);

  await assert.rejects(run.task(double), (e: BatonError) => e.code === 'usage' && e.message.includes('fx.double[0], fx.double[1], fx.double[2], fx.double[3]') && e.message.includes('tasksOf'));
  await assert.rejects(run.task('fx.double'), (e: BatonError) => e.code === 'usage' && /map node, not a task; its tasks are: fx\.double\[0\]/.test(e.message));
  await assert.rejects(run.task('fx.range', double), (e: BatonError) => e.code === 'usage' && /runs task "fx\.range", not "fx\.double"/.test(e.message));
});

test('shows cache hits and leads to the task that computed them', async () => {
  const run = await client.run(ids.sumCached);
  const t = await run.task('fx.double[1]', double);
  assert.equal(t.cached, true);
  assert.deepEqual(t.cachedFrom, { runId: ids.sum, nodeId: 'fx.double[1]' });
  assert.equal(t.attempts, 0);
  assert.deepEqual(await t.attemptsList(), []);
  assert.equal(await t.output(), 2);
  const origin = await t.origin();
  assert.equal(origin.runId, ids.sum);
  assert.equal((await origin.attemptsList()).length, 1);
  assert.equal(await origin.output(), 2);
  const fresh = await (await client.run(ids.sum)).task(range);
  assert.equal(await fresh.origin(), fresh);
});

test('lists the attempts of a retried task with their errors and metrics, and the run events', async () => {
  const run = await client.latestRun(flakyFlow);
  assert.equal(await run.output(), 3);
  const t = await run.task(flaky);
  assert.equal(t.attempts, 3);
  const attempts = await t.attemptsList();
  assert.deepEqual(attempts.map((a) => [a.attempt, a.state]), [[1, 'failed'], [2, 'failed'], [3, 'succeeded']]);
  assert.match(attempts[0]!.error ?? '', /flaky failure 1/);
  assert.ok(attempts.every((a) => typeof a.cpuMs === 'number' && a.executor === 'inline'));
  const events = await run.events();
  assert.equal(events[0]!.type, 'run_started');
  assert.equal(events.filter((e) => e.type === 'attempt_failed').length, 2);
  assert.deepEqual((await t.events()).filter((e) => e.type === 'attempt_failed').map((e) => e.attempt), [1, 2]);
});

test('a failed run: its output and failed tasks have none, with a message saying why', async () => {
  const run = await client.latestRun(failFlow, { status: 'failed' });
  assert.equal(run.id, ids.failed);
  await assert.rejects(run.output(), (e: BatonError) => e.code === 'conflict' && e.message.includes(`Run ${ids.failed} failed`) && e.message.includes('run.tasks()'));
  const states = Object.fromEntries((await run.tasks()).map((t) => [t.id, t.state]));
  assert.deepEqual(states, { 'fx.double': 'succeeded', 'fx.maybe-fail': 'failed', after: 'upstream_failed', independent: 'succeeded' });
  const failed = await run.task('fx.maybe-fail');
  assert.match(failed.error ?? '', /told to fail/);
  await assert.rejects(failed.output(), (e: BatonError) => e.code === 'conflict' && /Task "fx\.maybe-fail" of run .* failed: .*told to fail/.test(e.message));
  const after = await run.task('after', double);
  await assert.rejects(after.input(), (e: BatonError) => e.code === 'conflict' && /never got its input \(it is upstream_failed\)/.test(e.message));
  assert.equal(await (await run.task('independent', double)).output(), 10);
});

test('not found: unknown runs, tasks and workflows name what exists', async () => {
  await assert.rejects(client.run('19990101-000000'), (e: BatonError) => e instanceof BatonError && e.code === 'not_found' && /No run "19990101-000000"/.test(e.message) && /baton runs/.test(e.message));
  await assert.rejects(client.run(''), (e: BatonError) => e.code === 'usage');
  const run = await client.run(ids.sum);
  await assert.rejects(run.task('fx.double[9]'), (e: BatonError) => e.code === 'not_found' && e.message === `Run ${ids.sum} (fx-sum) has no task "fx.double[9]"; its tasks are: fx.range, fx.double[0], fx.double[1], fx.double[2], fx.double[3], fx.sum.`);
  await assert.rejects(run.task(flaky), (e: BatonError) => e.code === 'not_found' && /has no node of task "fx\.flaky"; its tasks are: fx\.range/.test(e.message));
  await assert.rejects(client.latestRun('no-such-flow'), (e: BatonError) => e.code === 'not_found' && /Workflow "no-such-flow" has no runs .*; workflows with runs: client-bump, client-flaky, client-model, fx-fail, fx-sum\./.test(e.message));
  await assert.rejects(client.latestRun(sumFlow, { status: 'failed' }), (e: BatonError) => e.code === 'not_found' && e.message.includes(`has no failed run`) && e.message.includes(`latest run is ${ids.sumCached} (succeeded)`));
});

test('Client.open reads the store the CLI would use in a folder', async () => {
  const own = await Client.open({ cwd: dir });
  try {
    const latest = await own.latestRun(modelFlow);
    assert.equal(latest.id, ids.model);
    assert.equal((await latest.output()).raw.toString(), 'raw bytes');
  } finally {
    await own.close();
  }
});
