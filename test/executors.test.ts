/**
 * Behaviour of the thread and process executors, run against both: results, captured output and its order,
 * failures of every kind, cancellation and timeouts, crashes and recovery, metrics, concurrency and shutdown.
 * Tasks live in test/fixtures/executor-tasks.ts, which the workers import.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcessExecutor, workerExecArgv } from '../src/executors/processes/executor.ts';
import { MarkerSplitter, endMarker } from '../src/executors/processes/markers.ts';
import { ThreadExecutor } from '../src/executors/threads/executor.ts';
import type { AttemptRequest, AttemptResult, Executor } from '../src/ports/executor.ts';
import { LocalArtifactStore } from '../src/stores/artifacts/local/store.ts';
import { decodeValue, encodeInline } from '../src/values/codec.ts';
import { EXECUTOR_TASKS_MODULE, add } from './fixtures/executor-tasks.ts';
import { until } from './support/wait.ts';

interface Options {
  workers?: number;
  killGraceMs?: number;
  recycleAfter?: number;
}

interface Factory {
  name: 'threads' | 'processes';
  make(artifactsRoot: string, options: Options): Executor;
}

const factories: Factory[] = [
  {
    name: 'threads',
    make: (artifactsRoot, { workers = 1, killGraceMs }) => new ThreadExecutor({ artifactsRoot, workers, ...(killGraceMs !== undefined ? { killGraceMs } : {}) }),
  },
  {
    name: 'processes',
    make: (artifactsRoot, { workers = 1, killGraceMs, recycleAfter }) =>
      new ProcessExecutor({ artifactsRoot, workers, ...(killGraceMs !== undefined ? { killGraceMs } : {}), ...(recycleAfter !== undefined ? { recycleAfter } : {}) }),
  },
];

type Event = { type: 'log'; stream: 'stdout' | 'stderr'; text: string } | { type: 'done'; result: AttemptResult };

interface Attempt {
  req: AttemptRequest;
  events: Event[];
  done: Promise<AttemptResult>;
  doneCount: number;
  logsAfterDone: number;
}

let seq = 0;
function request(task: string, input: unknown, over: Partial<AttemptRequest> = {}): AttemptRequest {
  return {
    runId: 'run-executors-test',
    nodeId: `${task.replace('exec-fixture-', '')}-${++seq}`,
    task,
    attempt: 1,
    modules: [EXECUTOR_TASKS_MODULE],
    input: encodeInline(input),
    resources: { cpu: 1, memoryMB: 0, gpu: 0 },
    env: {},
    ...over,
  };
}

interface Harness {
  ex: Executor;
  root: string;
  store: LocalArtifactStore;
  submit(req: AttemptRequest): Attempt;
  run(req: AttemptRequest): Promise<AttemptResult>;
  output(result: AttemptResult): Promise<unknown>;
}

/** Runs fn with a fresh executor on a fresh artifact root; closes both; checks every attempt got exactly one done. */
async function withExecutor(factory: Factory, options: Options, fn: (h: Harness) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'baton-exec-test-'));
  const ex = factory.make(root, options);
  const store = new LocalArtifactStore(root);
  const attempts: Attempt[] = [];
  const submit = (req: AttemptRequest): Attempt => {
    let resolve!: (r: AttemptResult) => void;
    const a: Attempt = { req, events: [], done: new Promise((r) => (resolve = r)), doneCount: 0, logsAfterDone: 0 };
    attempts.push(a);
    ex.submit(req, {
      log: (stream, text) => {
        if (a.doneCount > 0) a.logsAfterDone++;
        a.events.push({ type: 'log', stream, text });
      },
      done: (result) => {
        a.doneCount++;
        a.events.push({ type: 'done', result });
        resolve(result);
      },
    });
    return a;
  };
  const h: Harness = {
    ex,
    root,
    store,
    submit,
    run: (req) => submit(req).done,
    output: async (result) => {
      assert.equal(result.ok, true, `expected success, got ${JSON.stringify(result)}`);
      return decodeValue((result as Extract<AttemptResult, { ok: true }>).output, store);
    },
  };
  try {
    await fn(h);
  } finally {
    await ex.close();
    await rm(root, { recursive: true, force: true });
  }
  await sleep(20); // anything late would show up now (a check that nothing happens has no event to wait on)
  for (const a of attempts) {
    assert.equal(a.doneCount, 1, `attempt ${a.req.nodeId} got ${a.doneCount} done calls`);
    assert.equal(a.logsAfterDone, 0, `attempt ${a.req.nodeId} got logs after done`);
  }
}

function failure(result: AttemptResult): Extract<AttemptResult, { ok: false }> {
  assert.equal(result.ok, false, `expected a failure, got ${JSON.stringify(result)}`);
  return result as Extract<AttemptResult, { ok: false }>;
}

const logs = (a: Attempt) => a.events.filter((e): e is Extract<Event, { type: 'log' }> => e.type === 'log');
const text = (a: Attempt, stream: 'stdout' | 'stderr') => logs(a).filter((e) => e.stream === stream).map((e) => e.text).join('');
/** Resolves once the attempt's task printed "started" (the sleep and busy fixtures do, first thing). */
const started = (a: Attempt) => until(() => text(a, 'stdout').includes('started\n'), `attempt ${a.req.nodeId} started`);
type Where = { pid: number; threadId: number };
const whoami = async (h: Harness) => (await h.output(await h.run(request('exec-fixture-whoami', null)))) as Where;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

test('end markers are found in pipe output however it is split into chunks', () => {
  const input = `a\u0000b${endMarker(7)}tail${endMarker(8)}`;
  for (let size = 1; size <= input.length; size++) {
    const events: string[] = [];
    const splitter = new MarkerSplitter((t) => events.push(t), (id) => events.push(`<${id}>`));
    for (let i = 0; i < input.length; i += size) splitter.push(input.slice(i, i + size));
    splitter.flush();
    const merged = events.join('|').replace(/([^>|])\|(?=[^<])/g, '$1');
    assert.equal(merged, 'a\u0000b|<7>|tail|<8>', `chunk size ${size}`);
  }
});

test('worker processes get the engine\'s execArgv without test/inspector/eval flags, and tsx by absolute URL', () => {
  const argv = workerExecArgv(['--require', '/x/node_modules/tsx/dist/preflight.cjs', '--import', 'tsx', '--test', '--test-reporter=spec', '--inspect=9229', '--input-type=module', '-e', 'code()', '--conditions', 'dev', '--enable-source-maps', '--max-old-space-size=512']);
  assert.deepEqual(argv, ['--conditions', 'dev', '--enable-source-maps', '--max-old-space-size=512', '--import', import.meta.resolve('tsx')]);
});

test('the fixture module is where the tasks are defined (what the engine puts in modules)', () => {
  assert.equal(add.definition.location?.file, EXECUTOR_TASKS_MODULE);
});

for (const f of factories) {
  // Generous: on a loaded 2-core machine each process start takes seconds; the timeout only turns a hang into a failure.
  describe(`${f.name} executor`, { timeout: 600_000 }, () => {
    test('runs a task and returns its output; workers are long-lived', () =>
      withExecutor(f, {}, async (h) => {
        assert.equal(h.ex.name, f.name);
        const result = await h.run(request('exec-fixture-add', { a: 2, b: 3 }));
        const out = (await h.output(result)) as { sum: number } & Where;
        assert.equal(out.sum, 5);
        if (f.name === 'processes') assert.notEqual(out.pid, process.pid);
        else assert.notEqual(out.threadId, 0);
        assert.ok(result.ok && typeof result.cpuMs === 'number' && result.cpuMs >= 0);
        assert.ok(typeof result.peakRssMb === 'number' && result.peakRssMb > 0);
        const again = (await h.output(await h.run(request('exec-fixture-add', { a: 1, b: 1 })))) as { sum: number } & Where;
        assert.deepEqual({ pid: again.pid, threadId: again.threadId }, { pid: out.pid, threadId: out.threadId });
      }));

    test('delivers console output in order, before done', () =>
      withExecutor(f, {}, async (h) => {
        const a = h.submit(request('exec-fixture-print', { n: 3 }));
        assert.equal(await h.output(await a.done), 'printed');
        assert.deepEqual(
          a.events.map((e) => (e.type === 'log' ? `${e.stream}:${e.text}` : 'done')),
          ['stdout:out 1\n', 'stderr:err 1\n', 'stdout:out 2\n', 'stderr:err 2\n', 'stdout:out 3\n', 'stderr:err 3\n', 'stdout:last line', 'done'],
        );
      }));

    test('captures output written straight to fd 1/2 before done', { skip: f.name === 'threads' && 'threads share the engine\'s file descriptors' }, () =>
      withExecutor(f, {}, async (h) => {
        for (let i = 0; i < 20; i++) {
          const a = h.submit(request('exec-fixture-native-print', { tag: String(i) }));
          await a.done;
          assert.equal(a.events.at(-1)?.type, 'done');
          assert.equal(text(a, 'stdout'), `native out ${i}\n`);
          assert.equal(text(a, 'stderr'), `native err ${i}\n`);
        }
      }));

    test('a thrown error is a user failure with its message', () =>
      withExecutor(f, {}, async (h) => {
        const r = failure(await h.run(request('exec-fixture-throw', { message: 'boom from fixture' })));
        assert.equal(r.kind, 'user');
        assert.equal(r.retryable, true);
        assert.match(r.message, /boom from fixture/);
        assert.match(r.stack ?? '', /executor-tasks\.ts/);
      }));

    test('a task missing from its modules is a non-retryable crash', () =>
      withExecutor(f, {}, async (h) => {
        const r = failure(await h.run(request('exec-fixture-nonexistent', null)));
        assert.equal(r.kind, 'crash');
        assert.equal(r.retryable, false);
        assert.match(r.message, /^Task "exec-fixture-nonexistent" is not defined in .*executor-tasks\.ts/);
        const missing = join(tmpdir(), 'baton-no-such-module.ts');
        const r2 = failure(await h.run(request('exec-fixture-add', { a: 1, b: 1 }, { modules: [missing] })));
        assert.equal(r2.kind, 'crash');
        assert.equal(r2.retryable, false);
        assert.ok(r2.message.startsWith(`Task "exec-fixture-add" could not be loaded: importing ${missing} failed:`), r2.message);
      }));

    test('declared environment variables are visible to the task', () =>
      withExecutor(f, {}, async (h) => {
        const r = await h.run(request('exec-fixture-env', { name: 'EXEC_FIXTURE_VAR' }, { env: { EXEC_FIXTURE_VAR: 'forty-two' } }));
        assert.equal(await h.output(r), 'forty-two');
        assert.equal(await h.output(await h.run(request('exec-fixture-env', { name: 'EXEC_FIXTURE_VAR' }))), null);
      }));

    test('writes file artifacts to the shared store', () =>
      withExecutor(f, {}, async (h) => {
        const r = await h.run(request('exec-fixture-artifact', { text: 'hello artifact' }));
        const out = (await h.output(r)) as { greeting: { sha256: string; name: string; size: number } };
        assert.equal(out.greeting.name, 'greeting.txt');
        assert.equal((await h.store.read(out.greeting.sha256)).toString('utf8'), 'hello artifact');
        assert.ok(r.written?.includes(out.greeting.sha256));
      }));

    test('cancel stops a cooperative task without killing its worker', () =>
      withExecutor(f, {}, async (h) => {
        const before = await whoami(h);
        const a = h.submit(request('exec-fixture-sleep', { ms: 20_000 }));
        await started(a);
        h.ex.cancel(a.req.runId, a.req.nodeId, a.req.attempt, 'cancelled');
        const r = failure(await a.done);
        assert.equal(r.kind, 'cancelled');
        assert.equal(r.retryable, false);
        assert.deepEqual(await whoami(h), before);
      }));

    test('a timed-out task that ignores its signal is killed after the grace period; the pool recovers', () =>
      withExecutor(f, { killGraceMs: 300 }, async (h) => {
        const before = await whoami(h);
        const a = h.submit(request('exec-fixture-busy', { ms: 20_000 }, { timeoutMs: 100 }));
        await started(a);
        const t0 = Date.now();
        h.ex.cancel(a.req.runId, a.req.nodeId, a.req.attempt, 'timeout');
        const r = failure(await a.done);
        const elapsed = Date.now() - t0;
        assert.equal(r.kind, 'timeout');
        assert.equal(r.retryable, true);
        assert.match(r.message, /timed out after 100 ms/);
        assert.ok(elapsed < 10_000, `reported after ${elapsed} ms, not when the 20 s task ended`);
        const after = await whoami(h);
        assert.notDeepEqual(after, before, 'the worker was replaced');
      }));

    test('cancelling a queued attempt reports it at once; the running one is unaffected', () =>
      withExecutor(f, { workers: 1 }, async (h) => {
        const first = h.submit(request('exec-fixture-sleep', { ms: 300 }));
        const second = h.submit(request('exec-fixture-sleep', { ms: 300 }));
        h.ex.cancel(second.req.runId, second.req.nodeId, second.req.attempt, 'cancelled');
        const r = failure(await second.done);
        assert.equal(r.kind, 'cancelled');
        assert.match(r.message, /before it started/);
        assert.equal((await first.done).ok, true);
      }));

    test('process.exit in a task is a retryable crash; the pool recovers', () =>
      withExecutor(f, {}, async (h) => {
        const req = request('exec-fixture-exit', { code: 3 });
        const r = failure(await h.run(req));
        assert.equal(r.kind, 'crash');
        assert.equal(r.retryable, true);
        assert.match(r.message, new RegExp(`^worker (thread|process) \\d+ exited with code 3 while running "${req.nodeId}"`));
        const out = (await h.output(await h.run(request('exec-fixture-add', { a: 20, b: 22 })))) as { sum: number };
        assert.equal(out.sum, 42);
      }));

    test('an uncaught exception in a worker is a retryable crash', () =>
      withExecutor(f, {}, async (h) => {
        const a = h.submit(request('exec-fixture-uncaught', null));
        const r = failure(await a.done);
        assert.equal(r.kind, 'crash');
        assert.equal(r.retryable, true);
        assert.match(r.message, /exited with code 1 while running/);
        // Threads report the error in the message; a process prints it on stderr, delivered before done.
        assert.match(r.message + text(a, 'stderr'), /uncaught fixture error/);
        assert.equal((await h.run(request('exec-fixture-add', { a: 1, b: 2 }))).ok, true);
      }));

    test('a worker killed from outside mid-attempt is a crash; queued attempts continue', { skip: f.name === 'threads' && 'a thread cannot be killed from outside' }, () =>
      withExecutor(f, { workers: 1 }, async (h) => {
        const { pid } = await whoami(h);
        const a = h.submit(request('exec-fixture-sleep', { ms: 20_000 }));
        const b = h.submit(request('exec-fixture-add', { a: 1, b: 1 }));
        await started(a);
        process.kill(pid, 'SIGKILL');
        const r = failure(await a.done);
        assert.equal(r.kind, 'crash');
        assert.equal(r.retryable, true);
        assert.match(r.message, new RegExp(`^worker process ${pid} exited with signal SIGKILL while running "${a.req.nodeId}"`));
        assert.equal((await b.done).ok, true);
      }));

    test('measures peak memory of a 100 MB allocation', () =>
      withExecutor(f, {}, async (h) => {
        const r = await h.run(request('exec-fixture-alloc', { mb: 100, holdMs: 200 }));
        assert.equal(await h.output(r), 100 * 1024 * 1024);
        assert.ok((r.peakRssMb ?? 0) >= 80, `peakRssMb = ${r.peakRssMb}`);
      }));

    test('runs at most `workers` attempts at once, on that many workers', () =>
      withExecutor(f, { workers: 2 }, async (h) => {
        const results = await Promise.all([1, 2, 3, 4].map(() => h.run(request('exec-fixture-sleep', { ms: 200 }))));
        const runs = (await Promise.all(results.map((r) => h.output(r)))) as ({ start: number; end: number } & Where)[];
        const edges = runs.flatMap((r) => [
          { t: r.start, d: 1 },
          { t: r.end, d: -1 },
        ]);
        edges.sort((x, y) => x.t - y.t || x.d - y.d); // an end before a start at the same instant
        let now = 0;
        let max = 0;
        for (const e of edges) max = Math.max(max, (now += e.d));
        assert.ok(max <= 2, `${max} attempts overlapped`);
        assert.equal(new Set(runs.map((r) => `${r.pid}/${r.threadId}`)).size, 2);
      }));

    test('close() cancels running attempts and stops every worker', () =>
      withExecutor(f, { workers: 2, killGraceMs: 300 }, async (h) => {
        const workers = await Promise.all([1, 2].map(async () => (await h.output(await h.run(request('exec-fixture-sleep', { ms: 150 })))) as Where));
        const running = h.submit(request('exec-fixture-busy', { ms: 20_000 }));
        await started(running);
        const t0 = Date.now();
        await h.ex.close();
        assert.ok(Date.now() - t0 < 10_000, `close took ${Date.now() - t0} ms, as if it waited for the 20 s task`);
        assert.equal(failure(await running.done).kind, 'cancelled');
        if (f.name === 'processes') {
          assert.equal(new Set(workers.map((w) => w.pid)).size, 2);
          for (const w of workers) assert.equal(isAlive(w.pid), false, `worker process ${w.pid} is still running`);
        }
        const late = failure(await h.run(request('exec-fixture-add', { a: 1, b: 1 })));
        assert.equal(late.kind, 'cancelled');
      }));

    if (f.name === 'processes') {
      test('recycleAfter replaces a process after that many attempts', () =>
        withExecutor(f, { recycleAfter: 2 }, async (h) => {
          const a = await whoami(h);
          const b = await whoami(h);
          const c = await whoami(h);
          assert.equal(a.pid, b.pid);
          assert.notEqual(c.pid, a.pid);
          await until(() => !isAlive(a.pid), `the recycled process ${a.pid} exited`);
        }));
    }

    test('no-op round trip on a warm worker', async (t: TestContext) =>
      withExecutor(f, { workers: 1 }, async (h) => {
        const req = request('exec-fixture-noop', null);
        for (let i = 0; i < 100; i++) await h.run({ ...req, attempt: i + 1 });
        const n = 1000;
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await h.run({ ...req, attempt: 1000 + i });
        const mean = (performance.now() - t0) / n;
        t.diagnostic(`${f.name}: ${mean.toFixed(3)} ms per no-op attempt (mean of ${n}, one warm worker)`);
        // Loose on purpose (figures belong in bench/): it catches a round trip that polls or starts a worker per
        // attempt (tens of ms), and holds with two CPU-bound processes beside the tests (`npm run test:busy`).
        assert.ok(mean < 25, `${mean} ms per attempt`);
      }));
  });
}

test('workers run TypeScript when the engine registered tsx through its API (no --import in execArgv)', { timeout: 120_000 }, async () => {
  const url = (p: string) => new URL(p, import.meta.url).href;
  const code = `
    import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};
    register();
    const { ThreadExecutor } = await import(${JSON.stringify(url('../src/executors/threads/executor.ts'))});
    const { ProcessExecutor } = await import(${JSON.stringify(url('../src/executors/processes/executor.ts'))});
    const { encodeInline } = await import(${JSON.stringify(url('../src/values/codec.ts'))});
    const { mkdtempSync, rmSync } = await import('node:fs');
    const root = mkdtempSync(${JSON.stringify(join(tmpdir(), 'baton-exec-api-'))});
    const out = {};
    for (const Ex of [ThreadExecutor, ProcessExecutor]) {
      const ex = new Ex({ artifactsRoot: root, workers: 1 });
      out[ex.name] = await new Promise((done) => ex.submit({
        runId: 'r', nodeId: 'n', task: 'exec-fixture-add', attempt: 1, modules: [${JSON.stringify(EXECUTOR_TASKS_MODULE)}],
        input: encodeInline({ a: 40, b: 2 }), resources: { cpu: 1, memoryMB: 0, gpu: 0 }, env: {},
      }, { log() {}, done }));
      await ex.close();
    }
    rmSync(root, { recursive: true, force: true });
    console.log(JSON.stringify(out));
  `;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  // baton-source: the fixture's `import 'baton'` must reach the same src/ modules as the executors imported here.
  const child = spawn(process.execPath, ['--conditions=baton-source', '--input-type=module', '-e', code], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(exitCode, 0, stderr);
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, { ok: boolean; output: { json: string } }>;
  for (const name of ['threads', 'processes']) {
    assert.equal(out[name]?.ok, true, `${name}: ${JSON.stringify(out[name])}`);
    assert.equal((JSON.parse(out[name].output.json) as { sum: number }).sum, 42);
  }
});
