// `baton study` through the real CLI on a study run by the CLI, and the same study through the client API.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '../src/client/index.ts';
import { EXIT_CODES } from '../src/errors.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
let dir: string;
let runId: string;

const urls = () => ({ store: `sqlite:${join(dir, 'baton.db')}`, artifacts: `file:${join(dir, 'artifacts')}` });

function baton(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, '--store', urls().store, '--artifacts', urls().artifacts, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-cli-study-'));
  const r = baton('run', join(root, 'test/fixtures/tune-flows.ts'), '-e', 'inline', '--cpus', '4', '-q', '--param', `log=${join(dir, 'log')}`);
  assert.equal(r.code, 0, r.stderr);
  runId = baton('runs', '--json').stdout.match(/"id":\s*"([^"]+)"/)![1]!;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('baton study shows the set-up, the best trial, the trial table and the history', () => {
  const r = baton('study', runId, '--history');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /study tune\.slow-study of run \S+ \(succeeded\)/);
  assert.match(r.stdout, /objective {2}task tune\.slow, minimize value/);
  assert.match(r.stdout, /sampler {4}tpe, seed 7/);
  assert.match(r.stdout, /pruner {5}median startupTrials=5/);
  assert.match(r.stdout, /trials {5}60\/60 finished: \d+ complete, \d+ pruned, 0 failed \(parallelism 3\)/);
  const rows = r.stdout.split('\n').filter((l) => /^[ *]\d+ +(complete|pruned)/.test(l));
  assert.equal(rows.length, 60);
  assert.match(r.stdout, /optimization history/);
  const json = JSON.parse(baton('study', runId, '--json').stdout) as { best: { number: number; value: number }; trials: { number: number; state: string; value?: number }[] };
  const complete = json.trials.filter((t) => t.state === 'complete');
  assert.equal(json.best.value, Math.min(...complete.map((t) => t.value!)));
  assert.match(r.stdout, new RegExp(`best {7}#${json.best.number} `));
  const top = baton('study', runId, '--sort', 'value', '--limit', '3').stdout.split('\n').filter((l) => /^[ *]\d+ +/.test(l));
  assert.equal(top.length, 3);
  assert.ok(top[0]!.startsWith(`*${json.best.number} `), `the best trial comes first: ${top[0]}`);
});

test('baton study names what is wrong: unknown study, bad sort', () => {
  const r = baton('study', runId, 'nope');
  assert.equal(r.code, EXIT_CODES.not_found);
  assert.match(r.stderr, /has no study "nope"\. Its studies: tune\.slow-study/);
  const s = baton('study', runId, '--sort', 'speed');
  assert.equal(s.code, EXIT_CODES.usage);
  assert.match(s.stderr, /sort trials by "number" or "value"/);
});

test('the client reads the same study: best trial, trial table and history', async () => {
  const client = await Client.open({ ...urls(), cwd: dir });
  try {
    const run = await client.run(runId);
    const study = await run.study<{ x: number; y: number }>();
    assert.equal(study.trials.length, 60);
    assert.equal(study.history.length, 60);
    const best = study.history.at(-1)!.best!;
    assert.equal(study.best!.value, best);
    assert.ok(study.history.every((h, i) => i === 0 || h.best === undefined || h.best <= study.history[i - 1]!.best!), 'the best so far never gets worse');
    assert.equal(typeof study.best!.params.x, 'number');
  } finally {
    await client.close();
  }
});
