// End-to-end happy paths of the real `baton` CLI: cache explain, replay, resume, cancel, logs (and --follow), runs
// and show, the non-TTY progress display, command tasks with file outputs, and the threads / processes executors.
// Every test works in its own temporary folder, holding copies of the fixtures in test/fixtures/cli (with the SDK
// import made absolute) so that tests can edit them between runs.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '../src/errors.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
const fixtures = join(root, 'test/fixtures/cli');
// The fixtures import 'baton'; copied out of the repo they import the compiled entry that the CLI under test runs.
const sdkImport = "from 'baton'";
const hello = join(root, 'examples/hello/hello.ts');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Started {
  /** Resolves when the process exits. */
  done: Promise<Result & { endedAt: number }>;
  /** Resolves with the first match of `re` in stderr (rejects when the process exits first). */
  waitStderr(re: RegExp): Promise<RegExpMatchArray>;
  /** Each stdout chunk with the time it arrived. */
  chunks: { at: number; text: string }[];
}

interface RunOutcome {
  runId: string;
  status: string;
  output?: unknown;
  error?: string;
}

interface ShowJson {
  run: { id: string; status: string };
  nodes: { id: string; state: string; attempts: number; cachedFrom?: string }[];
  attempts: { nodeId: string; attempt: number; state: string; executor: string }[];
}

// The CLI is configured by flags only: BATON_* variables of the calling shell must not leak in.
const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BATON_'))),
  NO_COLOR: '1',
  ...extra,
});

/** A temporary folder with its own store, artifacts and copies of the fixtures. */
class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'baton-flows-'));
  readonly store = join(this.dir, 'baton.db');
  readonly artifacts = join(this.dir, 'artifacts');
  private readonly children = new Set<ChildProcess>();

  constructor() {
    // Workflow files are ES modules: without "type": "module" tsx loads them as CommonJS.
    writeFileSync(join(this.dir, 'package.json'), '{ "type": "module" }\n');
    for (const name of readdirSync(fixtures)) {
      const text = readFileSync(join(fixtures, name), 'utf8');
      writeFileSync(join(this.dir, name), text.replaceAll(sdkImport, `from ${JSON.stringify(join(root, 'dist/public/index.js'))}`));
    }
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Replaces `from` (which must occur exactly once) in a copied fixture. */
  edit(name: string, from: string, to: string): void {
    const text = readFileSync(this.path(name), 'utf8');
    assert.equal(text.split(from).length, 2, `${name} contains ${JSON.stringify(from)} once`);
    writeFileSync(this.path(name), text.replace(from, to));
  }

  start(args: string[], env: Record<string, string> = {}): Started {
    const child = spawn(process.execPath, [bin, '--store', `sqlite:${this.store}`, '--artifacts', `file:${this.artifacts}`, ...args], {
      cwd: this.dir,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    let stdout = '';
    let stderr = '';
    const chunks: { at: number; text: string }[] = [];
    const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
      chunks.push({ at: Date.now(), text: t });
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      for (const w of [...waiters]) {
        const m = stderr.match(w.re);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    const done = new Promise<Result & { endedAt: number }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        this.children.delete(child);
        resolve({ code, stdout, stderr, endedAt: Date.now() });
      });
    });
    const waitStderr = (re: RegExp) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const m = stderr.match(re);
        if (m) return resolve(m);
        waiters.push({ re, resolve });
        void done.then((r) => reject(new Error(`process exited (${r.code}) before stderr matched ${re}:\n${r.stderr}`)));
      });
    return { done, waitStderr, chunks };
  }

  baton(...args: string[]): Promise<Result> {
    return this.start(args).done;
  }

  /** `baton run … --json`, expecting `code`; returns the parsed outcome. */
  async run(file: string, args: string[], code: number = EXIT_CODES.ok): Promise<RunOutcome> {
    const r = await this.baton('run', file, '-e', 'inline', '--json', ...args);
    assert.equal(r.code, code, `run ${file} ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    return JSON.parse(r.stdout.trim()) as RunOutcome;
  }

  async show(runId: string): Promise<ShowJson> {
    const r = await this.baton('show', runId, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ShowJson;
  }

  async explain(runId: string, node: string): Promise<string> {
    const r = await this.baton('cache', 'explain', runId, node);
    assert.equal(r.code, 0, `cache explain ${runId} ${node}: ${r.stderr}`);
    return r.stdout;
  }

  dispose(): void {
    for (const child of this.children) child.kill('SIGKILL'); // only when a test failed half-way
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function inSandbox(fn: (s: Sandbox) => Promise<void>): Promise<void> {
  const s = new Sandbox();
  try {
    await fn(s);
  } finally {
    s.dispose();
  }
}

const node = (show: ShowJson, id: string) => {
  const n = show.nodes.find((x) => x.id === id);
  assert.ok(n, `node ${id} in ${show.nodes.map((x) => x.id).join(', ')}`);
  return n;
};
const changedLines = (explain: string): string[] => explain.split('\n').filter((l) => l.startsWith('  - '));

describe('baton CLI flows', { concurrency: 2, timeout: 300_000 }, () => {
  it('cache explain: a changed parameter is a miss naming the input field; an unaffected task is a hit from the earlier run', () =>
    inSandbox(async (s) => {
      const a = await s.run('flows.ts', ['-w', 'cli-cache', '--param', 'name=world']);
      const b = await s.run('flows.ts', ['-w', 'cli-cache', '--param', 'name=Bob']);
      assert.deepEqual(b.output, { greeting: '~Bob~', count: 6, versioned: 4, uncached: 2 });
      const [greet, count] = await Promise.all([s.explain(b.runId, 'cli.greet'), s.explain(b.runId, 'cli.count')]);
      assert.match(greet, /^miss: "cli\.greet" \(task cli\.greet\) had key [0-9a-f]{16}, which was not in the cache\./);
      assert.match(greet, new RegExp(`Closest cached result: ${a.runId}/cli\\.greet`));
      assert.deepEqual(changedLines(greet), ['  - input "name" changed']);
      assert.equal(count, `hit: "cli.count" reused the output of ${a.runId}/cli.count (key ${count.match(/key ([0-9a-f]{16})/)?.[1]}).\n`);
    }));

  it('cache explain: helper-module edits, unrelated edits in the same file, version bumps and cache: false', () =>
    inSandbox(async (s) => {
      const a = await s.run('flows.ts', ['-w', 'cli-cache']);
      assert.deepEqual(a.output, { greeting: '~world~', count: 6, versioned: 4, uncached: 2 });

      // Edit the helper module that cli.greet calls: only cli.greet misses, and the explanation names the module.
      s.edit('helper.ts', '`~${name}~`', '`<<${name}>>`');
      const b = await s.run('flows.ts', ['-w', 'cli-cache']);
      assert.deepEqual(b.output, { greeting: '<<world>>', count: 6, versioned: 4, uncached: 2 });
      const [greetB, countB, versionedB] = await Promise.all([s.explain(b.runId, 'cli.greet'), s.explain(b.runId, 'cli.count'), s.explain(b.runId, 'cli.versioned')]);
      assert.match(greetB, /^miss: "cli\.greet"/);
      assert.deepEqual(changedLines(greetB), ['  - code: imported module helper.ts changed']);
      assert.match(countB, new RegExp(`^hit: "cli\\.count" reused the output of ${a.runId}/cli\\.count`));
      assert.match(versionedB, new RegExp(`^hit: "cli\\.versioned" reused the output of ${a.runId}/cli\\.versioned`));

      // Edit another task of the same file and bump a version: cli.greet stays cached.
      s.edit('flows.ts', 'run: ({ n }) => n * 2,', 'run: ({ n }) => n * 2 + 0,');
      s.edit('flows.ts', "version: '1',", "version: '2',");
      const c = s.start(['run', 'flows.ts', '-w', 'cli-cache', '-e', 'inline']);
      const cr = await c.done;
      assert.equal(cr.code, 0, cr.stderr);
      assert.match(cr.stderr, /^ {2}cached {2}cli\.greet$/m);
      assert.match(cr.stderr, /^ {2}done {2}cli\.count$/m);
      const runC = cr.stderr.match(/^run (\S+) \(cli-cache\) started$/m)?.[1] ?? assert.fail(cr.stderr);
      const [greetC, countC, versionedC, uncachedC] = await Promise.all([s.explain(runC, 'cli.greet'), s.explain(runC, 'cli.count'), s.explain(runC, 'cli.versioned'), s.explain(runC, 'cli.uncached')]);
      assert.match(greetC, new RegExp(`^hit: "cli\\.greet" reused the output of ${b.runId}/cli\\.greet`));
      assert.match(countC, /^miss: "cli\.count"/);
      assert.deepEqual(changedLines(countC), ['  - code: definition of the task changed']);
      assert.match(versionedC, /^miss: "cli\.versioned"/);
      assert.deepEqual(changedLines(versionedC), ['  - code: version 1 → version 2']);
      assert.equal(uncachedC, '"cli.uncached" ran with caching disabled (cache: false).\n');
    }));

  it('replay: re-executes a task with its recorded input and says the output is the same; a task that never started is a conflict (exit 6)', (t) =>
    inSandbox(async (s) => {
      const a = await s.run('flows.ts', ['-w', 'cli-cache', '--param', 'n=5']);
      const r = await s.baton('replay', a.runId, 'cli.count');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`replaying cli\\.count \\(task cli\\.count\\) of run ${a.runId} with its recorded input [0-9a-f]{12}`));
      const [value, ...rest] = r.stdout.trim().split('\n');
      assert.equal(JSON.parse(value!), (a.output as { count: number }).count);
      assert.deepEqual(rest, ['same output as in the run']);
      await t.test('replay of a task that prints', async () => {
        const p = await s.baton('replay', a.runId, 'cli.greet');
        assert.equal(p.code, 0, p.stderr);
        assert.match(p.stdout, /^greeting world$/m);
        assert.match(p.stdout, /same output as in the run/);
      });

      writeFileSync(s.path('marker'), '');
      const f = await s.run('flows.ts', ['-w', 'cli-resume', '--param', `marker=${s.path('marker')}`], EXIT_CODES.run_failed);
      const never = await s.baton('replay', f.runId, 'last');
      assert.equal(never.code, EXIT_CODES.conflict, never.stderr);
      assert.equal(never.stderr, `error: Task "last" of run ${f.runId} never got its input (it did not start), so there is nothing to replay.\n`);
      assert.equal(never.stdout, '');
    }));

  it('resume: a run failed by a marker file completes after the marker is removed, without re-running finished tasks', () =>
    inSandbox(async (s) => {
      const marker = s.path('marker');
      writeFileSync(marker, '');
      const f = await s.run('flows.ts', ['-w', 'cli-resume', '--param', `marker=${marker}`], EXIT_CODES.run_failed);
      assert.equal(f.status, 'failed');
      assert.match(f.error ?? '', /cli\.guarded.*marker .*marker exists/);
      const before = await s.show(f.runId);
      assert.deepEqual(
        before.nodes.map((n) => [n.id, n.state, n.attempts]),
        [['first', 'succeeded', 1], ['side', 'succeeded', 1], ['cli.guarded', 'failed', 1], ['last', 'upstream_failed', 0]],
      );

      rmSync(marker);
      const r = await s.baton('resume', f.runId.slice(0, 18), '--json');
      assert.equal(r.code, 0, r.stderr);
      const resumed = JSON.parse(r.stdout.trim()) as RunOutcome;
      assert.deepEqual(resumed, { runId: f.runId, status: 'succeeded', output: { side: 4, last: 204 } });
      const after = await s.show(f.runId);
      assert.equal(after.run.status, 'succeeded');
      assert.deepEqual(
        after.nodes.map((n) => [n.id, n.state, n.attempts]),
        [['first', 'succeeded', 1], ['side', 'succeeded', 1], ['cli.guarded', 'succeeded', 2], ['last', 'succeeded', 1]],
      );
      for (const id of ['first', 'side']) assert.equal(after.attempts.filter((x) => x.nodeId === id).length, 1, `${id} ran once`);

      const again = await s.baton('resume', f.runId);
      assert.equal(again.code, EXIT_CODES.conflict);
      assert.match(again.stderr, new RegExp(`error: Run ${f.runId} already succeeded; there is nothing to resume\\. Start a new run with \`baton run\`\\.`));
    }));

  it('cancel from a second process: the run exits 130, is listed cancelled, and resume completes it', async (t) => {
    const s = new Sandbox();
    try {
      const run = s.start(['run', 'flows.ts', '-w', 'cli-slow', '-e', 'inline', '--cpus', '1', '--param', 'count=20', '--param', 'ms=300']);
      const runId = (await run.waitStderr(/^run (\S+) \(cli-slow\) started$/m))[1]!;
      await run.waitStderr(/^ {2}done {2}cli\.sleepy\[0\]$/m);
      const cancel = await s.baton('cancel', runId);
      assert.equal(cancel.code, 0, cancel.stderr);
      assert.equal(cancel.stdout, `run ${runId}: cancelling\n`);
      const ran = await run.done;
      assert.equal(ran.code, EXIT_CODES.cancelled, ran.stderr);
      assert.match(ran.stdout, new RegExp(`^cancelled {2}run ${runId} \\(cli-slow\\)`, 'm'));
      assert.match(ran.stdout, new RegExp(`Resume: baton resume ${runId}`));
      assert.doesNotMatch(ran.stderr, /done {2}cli\.sleepy\[19\]/, 'cancelled before the end');

      const runs = await s.baton('runs', '--json');
      const listed = runs.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; status: string });
      assert.deepEqual(listed.map((x) => [x.id, x.status]), [[runId, 'cancelled']]);

      const resumed = s.start(['resume', runId, '--json'], { BATON_CPUS: '16' });
      const r = await resumed.done;
      assert.equal(r.code, 0, r.stderr);
      const outcome = JSON.parse(r.stdout.trim()) as RunOutcome;
      assert.equal(outcome.status, 'succeeded');
      assert.deepEqual(outcome.output, Array.from({ length: 20 }, (_, i) => i * 10));
      const show = await s.show(runId);
      assert.equal(show.run.status, 'succeeded');
      assert.equal(node(show, 'cli.sleepy[0]').attempts, 1, 'finished items are not run again');
      for (let i = 0; i < 20; i++) assert.equal(node(show, `cli.sleepy[${i}]`).state, 'succeeded');
      await t.test('every node of the resumed run is succeeded', () => {
        assert.equal(node(show, 'cli.sleepy').state, 'succeeded');
      });
    } finally {
      s.dispose();
    }
  });

  it('logs: prefixed by node and attempt; one task without prefix; --attempt; unknown task is exit 4', () =>
    inSandbox(async (s) => {
      const r = await s.run('flows.ts', ['-w', 'cli-logs', '--param', `counter=${s.path('counter')}`]);
      assert.deepEqual(r.output, { greeting: '~logs~', flaky: 2 });
      const [all, flaky, second, greet, unknown] = await Promise.all([
        s.baton('logs', r.runId),
        s.baton('logs', r.runId, 'cli.flaky'),
        s.baton('logs', r.runId, 'cli.flaky', '--attempt', '2'),
        s.baton('logs', r.runId, 'cli.greet'),
        s.baton('logs', r.runId, 'nope'),
      ]);
      assert.equal(all.code, 0, all.stderr);
      assert.deepEqual(all.stdout.trim().split('\n').sort(), ['[cli.flaky#1] flaky attempt 1 (execution 1)', '[cli.flaky#2] flaky attempt 2 (execution 2)', '[cli.greet#1] greeting logs']);
      assert.match(all.stderr, /^\[cli\.greet#1\] note for logs$/m);
      assert.match(all.stderr, /^\[cli\.flaky#1\] Error: flaky failure 1$/m);
      assert.equal(flaky.stdout, 'flaky attempt 1 (execution 1)\nflaky attempt 2 (execution 2)\n');
      assert.equal(second.stdout, 'flaky attempt 2 (execution 2)\n');
      assert.equal(second.stderr, '');
      assert.equal(greet.stdout, 'greeting logs\n');
      assert.equal(greet.stderr, 'note for logs\n');
      assert.equal(unknown.code, EXIT_CODES.not_found);
      assert.match(unknown.stderr, /has no task "nope"/);
    }));

  it('logs --follow: streams lines while the run goes and exits when it ends', () =>
    inSandbox(async (s) => {
      const run = s.start(['run', 'flows.ts', '-w', 'cli-slow', '-e', 'inline', '--cpus', '1', '--param', 'count=12', '--param', 'ms=300']);
      const runId = (await run.waitStderr(/^run (\S+) \(cli-slow\) started$/m))[1]!;
      const follow = s.start(['logs', runId, '--follow']);
      const [ran, followed] = await Promise.all([run.done, follow.done]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(followed.code, 0, followed.stderr);
      const expected = Array.from({ length: 12 }, (_, i) => [`[cli.sleepy[${i}]#1] tick ${i} start`, `[cli.sleepy[${i}]#1] tick ${i} end`]).flat();
      assert.deepEqual(followed.stdout.trim().split('\n'), expected);
      const early = follow.chunks.filter((c) => c.at < ran.endedAt);
      assert.ok(early.length >= 2, `lines arrived while the run was going (${early.length} chunks before it ended)`);
      assert.ok(followed.endedAt >= ran.endedAt, 'follow ends after the run');
      assert.ok(followed.endedAt - ran.endedAt < 5000, `follow exited ${followed.endedAt - ran.endedAt} ms after the run ended`);
    }));

  it('runs filters by status and workflow; show lists nodes with states; run --json has runId, status, output', () =>
    inSandbox(async (s) => {
      writeFileSync(s.path('marker'), '');
      const ok1 = await s.run('flows.ts', ['-w', 'cli-cache']);
      const failed = await s.run('flows.ts', ['-w', 'cli-resume', '--param', `marker=${s.path('marker')}`], EXIT_CODES.run_failed);
      const ok2 = await s.run('flows.ts', ['-w', 'cli-cache', '--param', 'n=4']);
      assert.deepEqual(Object.keys(ok1).sort(), ['output', 'runId', 'status']);
      assert.equal(ok1.status, 'succeeded');
      assert.match(ok1.runId, /^\d{8}-\d{6}-[0-9a-f]{6}$/);
      assert.deepEqual(ok2.output, { greeting: '~world~', count: 8, versioned: 5, uncached: 3 });
      assert.deepEqual(Object.keys(failed).sort(), ['error', 'runId', 'status']);
      assert.equal(failed.status, 'failed');

      const lines = (r: Result) => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; workflow: string; status: string; error?: string });
      const [all, onlyFailed, onlyCache, text, show, showFailed] = await Promise.all([
        s.baton('runs', '--json'),
        s.baton('runs', '--status', 'failed', '--json'),
        s.baton('runs', '--workflow', 'cli-cache', '--json'),
        s.baton('runs'),
        s.baton('show', ok1.runId),
        s.baton('show', failed.runId.slice(0, 20)),
      ]);
      assert.deepEqual(lines(all).map((r) => r.id), [ok2.runId, failed.runId, ok1.runId], 'newest first');
      assert.deepEqual(lines(onlyFailed).map((r) => [r.id, r.workflow, r.status]), [[failed.runId, 'cli-resume', 'failed']]);
      assert.match(lines(onlyFailed)[0]!.error ?? '', /cli\.guarded/);
      assert.deepEqual(lines(onlyCache).map((r) => [r.id, r.status]), [[ok2.runId, 'succeeded'], [ok1.runId, 'succeeded']]);
      assert.match(text.stdout, /^run\s+workflow\s+status\s+started\s+took\s+error$/m);
      assert.match(text.stdout, new RegExp(`^${failed.runId}\\s+cli-resume\\s+failed\\s`, 'm'));

      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, new RegExp(`^run\\s+${ok1.runId}$`, 'm'));
      assert.match(show.stdout, /^workflow\s+cli-cache\s/m);
      assert.match(show.stdout, /^status\s+succeeded$/m);
      assert.match(show.stdout, /^node\s+state\s+task\s+took\s+attempts\s+inputs$/m);
      for (const n of ['cli.greet', 'cli.count', 'cli.versioned', 'cli.uncached']) assert.match(show.stdout, new RegExp(`^${n.replace('.', '\\.')}\\s+succeeded\\s+${n.replace('.', '\\.')}\\s+\\S+\\s+1\\s*$`, 'm'));

      assert.equal(showFailed.code, 0, showFailed.stderr);
      assert.match(showFailed.stdout, /^status\s+failed$/m);
      assert.match(showFailed.stdout, /^first\s+succeeded\s+cli\.count\s/m);
      assert.match(showFailed.stdout, /^cli\.guarded\s+failed\s+cli\.guarded\s/m);
      assert.match(showFailed.stdout, /^\s+Task "cli\.guarded" failed: marker .*marker exists$/m);
      assert.match(showFailed.stdout, /^last\s+upstream_failed\s+cli\.count\s+-\s+0\s+← cli\.guarded$/m);
    }));

  it('progress (non-TTY): one line per finished task and a summary; the second run shows cached counts', (t) =>
    inSandbox(async (s) => {
      const first = await s.baton('run', 'flows.ts', '-w', 'cli-cache', '-e', 'inline');
      assert.equal(first.code, 0, first.stderr);
      const id1 = first.stderr.match(/^run (\S+) \(cli-cache\) started$/m)?.[1];
      assert.ok(id1, first.stderr);
      for (const n of ['cli.greet', 'cli.count', 'cli.versioned', 'cli.uncached']) assert.match(first.stderr, new RegExp(`^ {2}done {2}${n.replace('.', '\\.')}$`, 'm'));
      assert.match(first.stderr, new RegExp(`^cli-cache ${id1} {2}4/4 done {2}\\d+(ms|\\.\\d+s)\\n$`, 'm'));
      assert.doesNotMatch(first.stderr, /^ {2}cached |\d cached/m);
      assert.match(first.stdout, new RegExp(`^succeeded {2}run ${id1} \\(cli-cache\\) in `, 'm'));

      const second = await s.baton('run', 'flows.ts', '-w', 'cli-cache', '-e', 'inline');
      assert.equal(second.code, 0, second.stderr);
      const id2 = second.stderr.match(/^run (\S+) \(cli-cache\) started$/m)?.[1];
      for (const n of ['cli.greet', 'cli.count', 'cli.versioned']) assert.match(second.stderr, new RegExp(`^ {2}cached {2}${n.replace('.', '\\.')}$`, 'm'));
      assert.match(second.stderr, /^ {2}done {2}cli\.uncached$/m);
      assert.match(second.stderr, new RegExp(`^cli-cache ${id2} {2}4/4 done {2}3 cached {2}\\d+(ms|\\.\\d+s)\\n$`, 'm'));
      await t.test('run --quiet prints no progress', async () => {
        const q = await s.baton('run', 'flows.ts', '-w', 'cli-cache', '-e', 'inline', '-q', '--param', 'n=7');
        assert.equal(q.code, 0, q.stderr);
        assert.equal(q.stderr, '');
      });
    }));

  it('command tasks: $BATON_OUTPUT with a {"$file"} output becomes a file handle in the artifact store; $BATON_INPUT gives its path; stdout is in the logs', () =>
    inSandbox(async (s) => {
      const r = await s.run('commands.ts', []);
      const out = r.output as { report: { $artifact: string; sha256: string; size: number; name: string }; words: number; bytes: number };
      assert.equal(r.status, 'succeeded');
      assert.equal(out.words, 4);
      assert.equal(out.bytes, 18);
      assert.deepEqual({ ...out.report, sha256: undefined }, { $artifact: 'file', name: 'out.txt', size: 18, sha256: undefined });
      const blob = join(s.artifacts, out.report.sha256.slice(0, 2), out.report.sha256.slice(2, 4), out.report.sha256);
      assert.ok(existsSync(blob), `artifact at ${blob}`);
      const content = readFileSync(blob);
      assert.equal(content.toString('utf8'), 'hello from a shell');
      assert.equal(createHash('sha256').update(content).digest('hex'), out.report.sha256);
      assert.equal(readFileSync(s.path('out.txt'), 'utf8'), 'hello from a shell', 'the command ran in the folder of its task file');

      const [logs, one] = await Promise.all([s.baton('logs', r.runId), s.baton('logs', r.runId, 'cli.cmd-read')]);
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, /^\[cli\.cmd-write#1\] writing report$/m);
      assert.match(logs.stdout, /^\[cli\.cmd-read#1\] read: hello from a shell$/m);
      assert.equal(one.stdout, 'read: hello from a shell\n');
      const show = await s.show(r.runId);
      assert.deepEqual(show.nodes.map((n) => [n.id, n.state]), [['cli.cmd-write', 'succeeded'], ['cli.cmd-read', 'succeeded']]);
    }));

  for (const executor of ['threads', 'processes'] as const) {
    it(`the ${executor} executor runs examples/hello end to end`, () =>
      inSandbox(async (s) => {
        const r = await s.baton('run', hello, '-e', executor, '--param', 'name=Ada', '--json');
        assert.equal(r.code, 0, r.stderr);
        const outcome = JSON.parse(r.stdout.trim()) as RunOutcome;
        assert.deepEqual(outcome.output, { message: 'Hello, Ada!', shouted: 'ADA' });
        const [show, logs] = await Promise.all([s.show(outcome.runId), s.baton('logs', outcome.runId, 'hello.greet')]);
        assert.ok(show.attempts.length >= 5, `${show.attempts.length} attempts`);
        assert.deepEqual([...new Set(show.attempts.map((a) => `${a.executor}:${a.state}`))], [`${executor}:succeeded`]);
        assert.equal(logs.stdout, 'greeting Ada\n');
      }));
  }
});
