// Crash safety: SIGKILL the engine process at random points of a 2,000-task run at least 10 times, resume each
// time, and check that the run completes, that every task's output was committed exactly once, and that the
// outputs equal those of an uninterrupted run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { query, sleep } from './support/engines.ts';
import { openPlatform } from '../src/composition/platform.ts';
import crashFlow from './fixtures/crash-flow.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
const flowFile = join(root, 'test/fixtures/crash-flow.ts');

test('survives 10+ SIGKILLs at random points: completes, commits each output once, same outputs as an uninterrupted run', { timeout: 1_200_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-crash-'));
  const store = join(dir, 'baton.db');
  const log = join(dir, 'executions.log');
  const salt = 'crash-test';
  const common = ['--store', `sqlite:${store}`, '--artifacts', `file:${join(dir, 'artifacts')}`];
  try {
    let runId: string | undefined;
    let kills = 0;
    let random = 12345;
    const rand = () => ((random = (random * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let round = 0; round < 40 && kills < 10; round++) {
      const args = runId ? ['resume', runId, '-e', 'inline', '-q', ...common] : ['run', flowFile, '-e', 'inline', '--cpus', '8', '-q', '--param', `salt=${salt}`, '--param', `log=${log}`, ...common];
      const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      // Wait until this process has made progress (new events), then kill it after a random delay.
      const baseline = runId ? query<{ n: number }>(store, 'SELECT count(*) AS n FROM events WHERE run_id = ?', runId)[0]!.n : 0;
      let finished = false;
      // Waits on progress, not on the clock: a busy machine may take seconds to start the engine.
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
        await sleep(10);
        if (child.exitCode !== null) {
          finished = true;
          break;
        }
        try {
          if (!runId) runId = query<{ id: string }>(store, 'SELECT id FROM runs ORDER BY created_at DESC LIMIT 1')[0]?.id;
          if (runId && query<{ n: number }>(store, 'SELECT count(*) AS n FROM events WHERE run_id = ?', runId)[0]!.n > baseline + 5) break;
        } catch {
          /* the store may not exist yet */
        }
      }
      if (!finished) {
        await sleep(Math.floor(rand() * 120));
        if (child.exitCode === null) {
          child.kill('SIGKILL');
          kills++;
        }
      }
      const code = await exited;
      if (code !== null && code !== 0) assert.fail(`engine exited with ${code}: ${stderr}`);
      if (runId && query<{ status: string }>(store, 'SELECT status FROM runs WHERE id = ?', runId)[0]?.status === 'succeeded') break;
    }
    assert.ok(runId, 'a run was created');
    assert.ok(kills >= 10, `killed ${kills} times (need 10); make the run slower if it finishes too fast`);

    // Finish it.
    const final = spawn(process.execPath, [bin, 'resume', runId, '-e', 'inline', '-q', ...common], { cwd: dir, stdio: 'inherit' });
    const status = query<{ status: string }>(store, 'SELECT status FROM runs WHERE id = ?', runId)[0]!.status;
    const finalCode = await new Promise<number | null>((r) => final.on('exit', r));
    if (status !== 'succeeded') assert.equal(finalCode, 0);
    else assert.equal(finalCode, 6, 'resuming a succeeded run is refused');
    assert.equal(query<{ status: string }>(store, 'SELECT status FROM runs WHERE id = ?', runId)[0]!.status, 'succeeded');

    // Every task node succeeded once: one succeeded attempt, one attempt_succeeded event.
    const taskNodes = query<{ id: string; output_hash: string }>(store, "SELECT id, output_hash FROM nodes WHERE run_id = ? AND json_extract(spec, '$.kind') = 'task'", runId);
    assert.equal(taskNodes.length, 2000);
    const succeeded = query<{ node_id: string; n: number }>(store, "SELECT node_id, count(*) AS n FROM attempts WHERE run_id = ? AND state = 'succeeded' GROUP BY node_id", runId);
    assert.equal(succeeded.length, 2000);
    assert.ok(succeeded.every((s) => s.n === 1), 'exactly one succeeded attempt per task');
    const events = query<{ node_id: string; n: number }>(store, "SELECT node_id, count(*) AS n FROM events WHERE run_id = ? AND type = 'attempt_succeeded' GROUP BY node_id", runId);
    assert.equal(events.length, 2000);
    assert.ok(events.every((e) => e.n === 1), 'each output committed once');
    const executions = readFileSync(log, 'utf8').trim().split('\n').length;
    assert.ok(executions >= 1998, `every item executed at least once (${executions} executions)`);

    // The same outputs as an uninterrupted run.
    const cleanDir = mkdtempSync(join(tmpdir(), 'baton-clean-'));
    try {
      const p = await openPlatform({ cwd: cleanDir, executor: 'inline', cpus: 8 });
      const clean = await p.run(crashFlow, { salt, log: join(cleanDir, 'log') }, { file: flowFile });
      assert.equal(clean.status, 'succeeded');
      const cleanNodes = new Map((await p.store.getNodes(clean.runId)).filter((n) => n.spec.kind === 'task' && n.id !== 'crash.work' && !n.id.startsWith('crash.seeds')).map((n) => [n.id, n.output?.hash]));
      await p.close();
      for (const n of taskNodes) {
        if (n.id.startsWith('crash.seeds')) continue; // its input includes the log path, which differs
        assert.equal(n.output_hash, cleanNodes.get(n.id), `output of ${n.id}`);
      }
    } finally {
      rmSync(cleanDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
