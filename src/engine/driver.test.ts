// The run driver on virtual time: a fake clock and timers that jump to the next due timer when nothing else is
// pending, a fake executor whose attempts the test scripts, and a real SQLite store. No sleeps: these tests take
// milliseconds however long the virtual run lasts, and their outcome does not depend on the machine's load.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openArtifactStore, openMetadataStore } from '../composition/adapters.ts';
import { resolveConfig } from '../composition/config.ts';
import { Platform } from '../composition/platform.ts';
import type { Clock, Host, Timers } from '../ports/clock.ts';
import type { AttemptRequest, AttemptResult, AttemptSink, Executor } from '../ports/executor.ts';
import type { MetadataStore, Mutation } from '../ports/metadata.ts';
import { task, workflow, z } from '../sdk/index.ts';
import type { Workflow } from '../sdk/workflow.ts';
import { encodeValue } from '../values/codec.ts';
import { RunDriver } from './runner.ts';

/** Virtual time: a timer fires when nothing else is pending (one macrotask later), at its due time. */
class VirtualTime implements Clock, Timers {
  private t = 1_000_000;
  private seq = 0;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  set(ms: number, fn: () => void): () => void {
    const id = this.seq++;
    this.due.set(id, { at: this.t + ms, fn });
    setImmediate(() => this.fireEarliest());
    return () => this.due.delete(id);
  }
  private fireEarliest(): void {
    let first: [number, { at: number; fn: () => void }] | undefined;
    for (const e of this.due) if (!first || e[1].at < first[1].at) first = e;
    if (!first) return;
    this.due.delete(first[0]);
    this.t = Math.max(this.t, first[1].at);
    first[1].fn();
  }
}

type Behaviour = (req: AttemptRequest) => Promise<AttemptResult> | 'hang';

/** Runs attempts as the test says; records submissions and cancellations with their virtual times. */
class ScriptedExecutor implements Executor {
  readonly name = 'fake';
  readonly submitted: { nodeId: string; attempt: number; at: number }[] = [];
  readonly cancelled: { nodeId: string; reason: string; at: number }[] = [];
  private readonly hanging = new Map<string, AttemptSink>();
  constructor(
    private readonly clock: Clock,
    private readonly behave: Behaviour,
  ) {}
  submit(req: AttemptRequest, sink: AttemptSink): void {
    this.submitted.push({ nodeId: req.nodeId, attempt: req.attempt, at: this.clock.now() });
    const r = this.behave(req);
    if (r === 'hang') this.hanging.set(`${req.nodeId}/${req.attempt}`, sink);
    else void r.then((result) => sink.done(result));
  }
  cancel(_runId: string, nodeId: string, attempt: number, reason: 'cancelled' | 'timeout'): void {
    this.cancelled.push({ nodeId, reason, at: this.clock.now() });
    const sink = this.hanging.get(`${nodeId}/${attempt}`);
    this.hanging.delete(`${nodeId}/${attempt}`);
    sink?.done({ ok: false, kind: reason, retryable: reason === 'timeout', message: `${nodeId} ${reason}` });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const host: Host = { hostname: 'test-host', pid: 4242, isProcessAlive: () => true };

async function withDriver<T>(wf: Workflow, behave: Behaviour, fn: (ctx: { driver: RunDriver; executor: ScriptedExecutor; time: VirtualTime; store: MetadataStore; runId: string; commits: Mutation[][] }) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-driver-'));
  const time = new VirtualTime();
  const config = resolveConfig({ cwd: dir, cpus: 2, executor: 'inline' }, {});
  const real = await openMetadataStore(config.store);
  const commits: Mutation[][] = [];
  // The store as the driver sees it, with every commit recorded.
  const store: MetadataStore = Object.assign(Object.create(real) as MetadataStore, {
    apply: (muts: Mutation[]) => {
      commits.push(muts);
      return real.apply(muts);
    },
  });
  const platform = new Platform(config, store, openArtifactStore(config.artifacts), time, host, time);
  try {
    const { runId, graph } = await platform.startRun(wf, {});
    const executor = new ScriptedExecutor(time, behave);
    const driver = new RunDriver(runId, {
      store,
      artifacts: platform.artifacts,
      executors: { fake: executor },
      defaultExecutor: 'fake',
      clock: time,
      timers: time,
      host,
      owner: 'engine-1',
      capacity: { cpu: 2, memoryMB: 1000, gpu: 0 },
      pools: {},
      tasks: graph.tasks,
      dynamicBuilders: graph.dynamicBuilders,
      workflowName: wf.name,
      env: {},
    });
    return await fn({ driver, executor, time, store: real, runId, commits });
  } finally {
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ok = async (value: unknown, artifacts = openArtifactStore('file:/nonexistent')): Promise<AttemptResult> => ({ ok: true, output: (await encodeValue(value, artifacts)).stored });

const step = task({ name: 'drv.step', input: z.object({ i: z.number() }), output: z.number(), retries: { retries: 2, backoffMs: 60_000, factor: 2, maxBackoffMs: 600_000 }, run: ({ i }) => i });
const timed = task({ name: 'drv.timed', input: z.object({}), output: z.number(), timeoutMs: 300_000, run: () => 1 });

test('retries wait their backoff on the injected clock: 60 s then 120 s of virtual time, in milliseconds of real time', async () => {
  const wf = workflow({ name: 'drv-retry' }, () => step({ i: 1 }));
  let calls = 0;
  await withDriver(wf, (req) => (++calls < 3 ? Promise.resolve({ ok: false, kind: 'user', retryable: true, message: `fail ${req.attempt}` }) : ok(7)), async ({ driver, executor, store, runId }) => {
    const outcome = await driver.drive();
    assert.equal(outcome.status, 'succeeded');
    const at = executor.submitted.map((s) => s.at);
    assert.deepEqual(executor.submitted.map((s) => s.attempt), [1, 2, 3]);
    assert.ok(at[1]! - at[0]! >= 60_000 && at[1]! - at[0]! < 61_000, `first retry after ${at[1]! - at[0]!} ms of virtual time`);
    assert.ok(at[2]! - at[1]! >= 120_000 && at[2]! - at[1]! < 121_000, `second retry after ${at[2]! - at[1]!} ms`);
    assert.deepEqual((await store.getAttempts(runId, 'drv.step')).map((a) => a.state), ['failed', 'failed', 'succeeded']);
  });
});

test('a task past its timeout is cancelled through the timers port and fails as a timeout', async () => {
  const wf = workflow({ name: 'drv-timeout' }, () => timed({}));
  await withDriver(wf, () => 'hang', async ({ driver, executor, store, runId }) => {
    const outcome = await driver.drive();
    assert.equal(outcome.status, 'failed');
    assert.equal(executor.cancelled.length, 1);
    assert.equal(executor.cancelled[0]!.reason, 'timeout');
    assert.equal(executor.cancelled[0]!.at - executor.submitted[0]!.at, 300_000, 'cancelled exactly at the timeout, in virtual time');
    const [attempt] = await store.getAttempts(runId, 'drv.timed');
    assert.equal(attempt?.errorKind, 'timeout');
  });
});

test('a chain of tasks shares commits: dependents start speculatively while their dependency\'s success is still buffered', async () => {
  const n = 30;
  const wf = workflow({ name: 'drv-chain' }, () => {
    let prev = step({ i: 0 });
    for (let i = 1; i < n; i++) prev = step.with({ id: `s${i}` })({ i: prev });
    return prev;
  });
  await withDriver(wf, (req) => ok(Number(req.nodeId.replace(/\D/g, '') || 0)), async ({ driver, executor, commits }) => {
    const outcome = await driver.drive();
    assert.equal(outcome.status, 'succeeded');
    assert.equal(executor.submitted.length, n);
    // Without speculative starts every task would need its own claim commit and finish commit (2n).
    assert.ok(commits.length < n, `${commits.length} commits for ${n} chained tasks`);
    const finishes = commits.flat().filter((m) => m.type === 'finish').length;
    assert.equal(finishes, n, 'each task finished once');
  });
});
