// A study survives SIGKILL: kill the engine at random points of a 60-trial TPE study with pruning, resume each
// time, and check that it ends with exactly 60 trials, that no trial was ever re-drawn (every execution of a trial
// used the params stored with it) and that no trial finished before a kill was run again after it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sleep, storeQuery } from './support/engines.ts';
import { freshPostgresDatabase } from './support/postgres.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
const flowFile = join(root, 'test/fixtures/tune-flows.ts');

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

async function killAndResume(storeUrl: string, dir: string): Promise<void> {
  const q = storeQuery(storeUrl);
  const log = join(dir, 'trials.log');
  const common = ['--store', storeUrl, '--artifacts', `file:${join(dir, 'artifacts')}`];
  const study = 'tune.slow-study';
  try {
    let runId: string | undefined;
    let kills = 0;
    let random = 4242;
    const rand = () => ((random = (random * 1103515245 + 12345) % 2147483648) / 2147483648);
    /** After each kill: trials committed as finished, and how many log lines existed. */
    const snapshots: { done: Map<string, string>; offset: number }[] = [];
    for (let round = 0; round < 30 && kills < 5; round++) {
      const args = runId ? ['resume', runId, '-e', 'inline', '-q', ...common] : ['run', flowFile, '-e', 'inline', '--cpus', '4', '-q', '--param', `log=${log}`, ...common];
      const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const baseline = lines(log).length;
      let finished = false;
      // Waits on progress, not on the clock: a busy machine may take seconds to start the engine.
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
        await sleep(10);
        if (child.exitCode !== null) {
          finished = true;
          break;
        }
        try {
          if (!runId) runId = (await q<{ id: string }>('SELECT id FROM runs ORDER BY created_at DESC LIMIT 1'))[0]?.id;
        } catch {
          /* the store may not exist yet */
        }
        if (runId && lines(log).length > baseline + 4) break;
      }
      if (!finished) {
        await sleep(Math.floor(rand() * 150));
        if (child.exitCode === null) {
          child.kill('SIGKILL');
          kills++;
        }
      }
      const code = await exited;
      if (code !== null && code !== 0) assert.fail(`engine exited with ${code}: ${stderr}`);
      if (runId) {
        const done = (await q<{ id: string; output_hash: string }>("SELECT id, output_hash FROM nodes WHERE run_id = ? AND state = 'succeeded' AND id LIKE ?", runId, `${study}[%`));
        snapshots.push({ done: new Map(done.map((d) => [d.id, d.output_hash])), offset: lines(log).length });
        if ((await q<{ status: string }>('SELECT status FROM runs WHERE id = ?', runId))[0]?.status === 'succeeded') break;
      }
    }
    assert.ok(runId, 'a run was created');
    assert.ok(kills >= 3, `killed ${kills} times (need 3); make the trials slower if the study finishes too fast`);
    if ((await q<{ status: string }>('SELECT status FROM runs WHERE id = ?', runId))[0]!.status !== 'succeeded') {
      const final = spawn(process.execPath, [bin, 'resume', runId, '-e', 'inline', '-q', ...common], { cwd: dir, stdio: 'inherit' });
      assert.equal(await new Promise<number | null>((r) => final.on('exit', r)), 0);
    }
    assert.equal((await q<{ status: string }>('SELECT status FROM runs WHERE id = ?', runId))[0]!.status, 'succeeded');

    // Exactly 60 trials, numbered 0..59, each with one succeeded attempt.
    const trials = (await q<{ id: string; spec: string; output_hash: string }>('SELECT id, spec, output_hash FROM nodes WHERE run_id = ? AND id LIKE ?', runId, `${study}[%`));
    assert.equal(trials.length, 60);
    assert.deepEqual(trials.map((t) => (JSON.parse(t.spec) as { trial: number }).trial).sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i));
    const succeeded = (await q<{ node_id: string; n: number }>("SELECT node_id, count(*) AS n FROM attempts WHERE run_id = ? AND state = 'succeeded' AND node_id LIKE ? GROUP BY node_id", runId, `${study}[%`));
    assert.equal(succeeded.length, 60);
    assert.ok(succeeded.every((s) => Number(s.n) === 1), 'one succeeded attempt per trial');

    // Never re-drawn: every execution of a trial used the params stored with its node.
    const paramsOf = (spec: string) => {
      const input = (JSON.parse(spec) as { input: { obj?: { params: { lit: unknown } }; lit?: { params: unknown } } }).input;
      return JSON.stringify(input.obj ? input.obj.params.lit : input.lit!.params);
    };
    const stored = new Map(trials.map((t) => [t.id, paramsOf(t.spec)]));
    const all = lines(log);
    for (const line of all) {
      const [, id, params] = /^(?:start|done) (\S+) (\{[^}]*\})/.exec(line)!;
      assert.equal(params, stored.get(id!), `trial ${id} ran with its stored params`);
    }
    // Never repeated: a trial committed as finished before a kill did not start again, and kept its outcome.
    for (const s of snapshots) {
      const later = all.slice(s.offset).filter((l) => l.startsWith('start ')).map((l) => l.split(' ')[1]!);
      for (const id of later) assert.ok(!s.done.has(id), `trial ${id} finished before a kill and ran again`);
      for (const [id, hash] of s.done) assert.equal(trials.find((t) => t.id === id)!.output_hash, hash, `trial ${id} kept its outcome`);
    }
    // The study's result covers the 60 trials.
    const out = JSON.parse((await q<{ output_json: string }>('SELECT output_json FROM nodes WHERE run_id = ? AND id = ?', runId, study))[0]!.output_json) as { counts: Record<string, number>; trials: unknown[] };
    assert.equal(out.trials.length, 60);
    assert.equal(out.counts.complete! + out.counts.pruned!, 60);
  } finally {
    await q.close();
  }
}

test('a study resumed after SIGKILLs keeps every finished trial and re-draws none (SQLite)', { timeout: 1_200_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-tune-crash-'));
  try {
    await killAndResume(`sqlite:${join(dir, 'baton.db')}`, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a study resumed after SIGKILLs keeps every finished trial and re-draws none (PostgreSQL)', { timeout: 1_200_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-tune-crash-pg-'));
  const db = await freshPostgresDatabase();
  try {
    await killAndResume(db.url, dir);
  } finally {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
