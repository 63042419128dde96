import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeShallow } from '../src/values/codec.ts';
import { workflow, z } from '../src/sdk/index.ts';
import { BatonError } from '../src/errors.ts';
import { tempPlatform } from './support/platform.ts';
import { badOutput, branchFlow, countLines, double, dynamicFlow, failFlow, flaky, gpuTask, pooled, slow, sumFlow } from './fixtures/engine-flows.ts';
import { map, task } from '../src/sdk/index.ts';
import type { Platform } from '../src/composition/platform.ts';

async function outputOf(p: Platform, runId: string): Promise<unknown> {
  const run = await p.store.getRun(runId);
  return run?.output ? decodeShallow(run.output, p.artifacts) : undefined;
}

test('runs a map fan-out and fan-in and stores the typed output', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const r = await platform.run(sumFlow, { n: 10 });
    assert.equal(r.status, 'succeeded');
    assert.deepEqual(await outputOf(platform, r.runId), { total: 90, count: 10 });
    const nodes = await platform.store.getNodes(r.runId);
    assert.equal(nodes.filter((n) => n.id.startsWith('fx.double[')).length, 10);
    assert.ok(nodes.every((n) => n.state === 'succeeded'));
  } finally {
    await dispose();
  }
});

test('reuses cached outputs on a second run and re-runs only tasks whose input changed', async () => {
  const { platform, dir, dispose } = await tempPlatform();
  try {
    const counter = join(dir, 'count');
    await platform.run(sumFlow, { n: 4, counter });
    assert.equal(countLines(counter), 4);
    const again = await platform.run(sumFlow, { n: 4, counter });
    assert.equal(countLines(counter), 4, 'no task body ran again');
    const nodes = await platform.store.getNodes(again.runId);
    assert.ok(nodes.filter((n) => n.spec.kind === 'task').every((n) => n.cachedFrom), 'every task was a cache hit');
    const bigger = await platform.run(sumFlow, { n: 6, counter });
    assert.equal(countLines(counter), 6, 'only the two new items ran');
    assert.deepEqual(await outputOf(platform, bigger.runId), { total: 30, count: 6 });
  } finally {
    await dispose();
  }
});

test('retries a failing task with backoff until it succeeds', async () => {
  const { platform, dir, dispose } = await tempPlatform();
  try {
    const counter = join(dir, 'flaky');
    const wf = workflow({ name: 'fx-flaky' }, () => flaky({ counter, failTimes: 2 }));
    const r = await platform.run(wf, {});
    assert.equal(r.status, 'succeeded');
    assert.equal(await outputOf(platform, r.runId), 3);
    const attempts = await platform.store.getAttempts(r.runId, 'fx.flaky');
    assert.deepEqual(attempts.map((a) => a.state), ['failed', 'failed', 'succeeded']);
    const events = await platform.store.getEvents(r.runId);
    assert.equal(events.filter((e) => e.type === 'attempt_failed').length, 2);
  } finally {
    await dispose();
  }
});

test('gives up after the retry budget and fails the run, naming the task', async () => {
  const { platform, dir, dispose } = await tempPlatform();
  try {
    const wf = workflow({ name: 'fx-flaky-fail' }, () => flaky({ counter: join(dir, 'c'), failTimes: 10 }));
    const r = await platform.run(wf, {});
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /fx\.flaky/);
    assert.equal((await platform.store.getAttempts(r.runId, 'fx.flaky')).length, 4, 'first attempt + 3 retries');
  } finally {
    await dispose();
  }
});

test('times out an attempt that runs too long', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const wf = workflow({ name: 'fx-timeout' }, () => slow({ ms: 5_000 }));
    const r = await platform.run(wf, {});
    assert.equal(r.status, 'failed');
    const [a] = await platform.store.getAttempts(r.runId, 'fx.slow');
    assert.equal(a?.errorKind, 'timeout');
  } finally {
    await dispose();
  }
});

test('rejects an output that violates the schema without retrying', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const wf = workflow({ name: 'fx-bad-output' }, () => badOutput({}));
    const r = await platform.run(wf, {});
    assert.equal(r.status, 'failed');
    const node = await platform.store.getNode(r.runId, 'fx.bad-output');
    assert.match(node?.error ?? '', /"auc"/);
    assert.match(node?.error ?? '', /output schema/);
  } finally {
    await dispose();
  }
});

test('takes only the branch its condition chooses', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const big = await platform.run(branchFlow, { big: true });
    assert.equal(await outputOf(platform, big.runId), 200);
    assert.equal((await platform.store.getNode(big.runId, 'small'))?.state, 'skipped');
    const small = await platform.run(branchFlow, { big: false });
    assert.equal(await outputOf(platform, small.runId), 2);
    assert.equal((await platform.store.getNode(small.runId, 'fx.double'))?.state, 'skipped');
  } finally {
    await dispose();
  }
});

test('expands a dynamic sub-graph decided at run time', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const r = await platform.run(dynamicFlow, { n: 3 });
    assert.equal(r.status, 'succeeded');
    assert.deepEqual(await outputOf(platform, r.runId), { total: 30, count: 6 });
    const nodes = await platform.store.getNodes(r.runId);
    assert.equal(nodes.filter((n) => n.spec.parent === 'fanout').length, 7);
  } finally {
    await dispose();
  }
});

test('marks dependents of a failed task upstream_failed, runs independent ones, and resume reuses successes', async () => {
  const { platform, dir, dispose } = await tempPlatform();
  try {
    const failFile = join(dir, 'fail');
    const counter = join(dir, 'count');
    writeFileSync(failFile, '');
    const r = await platform.run(failFlow, { failFile, counter });
    assert.equal(r.status, 'failed');
    const state = async (id: string) => (await platform.store.getNode(r.runId, id))?.state;
    assert.equal(await state('fx.maybe-fail'), 'failed');
    assert.equal(await state('after'), 'upstream_failed');
    assert.equal(await state('independent'), 'succeeded');
    assert.equal(countLines(counter), 2);
    rmSync(failFile);
    const resumed = await platform.resume(r.runId, { workflow: failFlow });
    assert.equal(resumed.status, 'succeeded');
    assert.deepEqual(await outputOf(platform, r.runId), { c: 6, d: 10 });
    assert.equal(countLines(counter), 3, 'only "after" ran again');
    const a = await platform.store.getAttempts(r.runId, 'fx.double');
    assert.equal(a.length, 1, 'the succeeded upstream task was not re-run');
  } finally {
    await dispose();
  }
});

test('never runs more GPU tasks than GPUs, nor more pool tasks than the pool allows', async () => {
  const { platform, dir, dispose } = await tempPlatform({ cpus: 8, gpus: 2, pools: { db: 1 } });
  try {
    const glog = join(dir, 'gpu.log');
    const plog = join(dir, 'pool.log');
    const wf = workflow({ name: 'fx-gpu' }, () => ({
      g: map(gpuTask, [0, 1, 2, 3, 4, 5], (i) => ({ i, log: glog })),
      p: map(pooled, [0, 1, 2, 3], (i) => ({ i, log: plog })),
    }));
    const r = await platform.run(wf, {});
    assert.equal(r.status, 'succeeded');
    const maxConcurrent = (file: string) => {
      let cur = 0;
      let max = 0;
      for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
        cur += line.startsWith('start') ? 1 : -1;
        max = Math.max(max, cur);
      }
      return max;
    };
    assert.equal(maxConcurrent(glog), 2);
    assert.equal(maxConcurrent(plog), 1);
  } finally {
    await dispose();
  }
});

test('refuses to start a workflow whose GPU request cannot be met, naming the task and the fix', async () => {
  const { platform, dir, dispose } = await tempPlatform({ gpus: 0 });
  try {
    const wf = workflow({ name: 'fx-no-gpu' }, () => gpuTask({ i: 1, log: join(dir, 'x') }));
    await assert.rejects(platform.run(wf, {}), (err: unknown) => err instanceof BatonError && err.code === 'workflow_invalid' && /fx\.gpu/.test(err.message) && /--gpus/.test(err.message));
  } finally {
    await dispose();
  }
});

test('explains parameter errors by name', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    await assert.rejects(platform.run(sumFlow, { n: 'many' }), (err: unknown) => err instanceof BatonError && err.code === 'params_invalid' && /"n"/.test(err.message));
  } finally {
    await dispose();
  }
});

test('captures what tasks print, per attempt', async () => {
  const { platform, dispose } = await tempPlatform();
  try {
    const { task } = await import('../src/sdk/index.ts');
    const talk = task({ name: 'fx.talk', input: z.object({ x: z.number() }), output: z.number(), cache: false, run: ({ x }) => (console.log(`out ${x}`), console.error(`err ${x}`), x) });
    const r = await platform.run(workflow({ name: 'fx-talk' }, () => talk({ x: 7 })), {});
    const logs = await platform.store.getLogs(r.runId, { nodeId: 'fx.talk' });
    assert.equal(logs.filter((l) => l.stream === 'stdout').map((l) => l.text).join(''), 'out 7\n');
    assert.equal(logs.filter((l) => l.stream === 'stderr').map((l) => l.text).join(''), 'err 7\n');
    void double;
  } finally {
    await dispose();
  }
});

test('a BatonError thrown inside a task keeps its code and is not retried; a plain error is retried as the user\'s', async () => {
  const { platform, dir, dispose } = await tempPlatform();
  try {
    const counter = join(dir, 'refused');
    const refuses = task({
      name: 'fx.refuses',
      input: z.object({ counter: z.string() }),
      output: z.number(),
      retries: { retries: 3, backoffMs: 1 },
      run: ({ counter }) => {
        writeFileSync(counter, 'x', { flag: 'a' });
        throw new BatonError('data_invalid', 'the file has no header row');
      },
    });
    const r = await platform.run(workflow({ name: 'fx-refuses' }, () => refuses({ counter })), {});
    assert.equal(r.status, 'failed');
    const attempts = await platform.store.getAttempts(r.runId, 'fx.refuses');
    assert.equal(attempts.length, 1, 'a platform refusal is not retried');
    assert.equal(attempts[0]?.errorKind, 'platform');
    assert.equal(readFileSync(counter, 'utf8'), 'x');
    const failed = (await platform.store.getEvents(r.runId)).find((e) => e.type === 'attempt_failed');
    assert.equal((failed?.data as { code?: string }).code, 'data_invalid');
    assert.match((await platform.store.getNode(r.runId, 'fx.refuses'))?.error ?? '', /no header row/);

    const plain = join(dir, 'plain');
    const throwsPlain = task({
      name: 'fx.throws-plain',
      input: z.object({ counter: z.string() }),
      output: z.number(),
      retries: { retries: 2, backoffMs: 1 },
      run: ({ counter }) => {
        writeFileSync(counter, 'x', { flag: 'a' });
        throw new Error('boom');
      },
    });
    const p2 = await platform.run(workflow({ name: 'fx-throws-plain' }, () => throwsPlain({ counter: plain })), {});
    assert.equal(p2.status, 'failed');
    const a2 = await platform.store.getAttempts(p2.runId, 'fx.throws-plain');
    assert.deepEqual(a2.map((a) => a.errorKind), ['user', 'user', 'user']);
  } finally {
    await dispose();
  }
});
