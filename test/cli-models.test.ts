// `baton models …` through the real CLI: list, show, a gate refusing a worse model (exit 6 with the report), the
// approval flow, rollback with its history, and unknown models, versions, aliases and promotions (exit 4, the fix).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openPlatform } from '../src/composition/platform.ts';
import { EXIT_CODES } from '../src/errors.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
let dir: string;

const urls = () => ({ store: `sqlite:${join(dir, 'baton.db')}`, artifacts: `file:${join(dir, 'artifacts')}` });

function baton(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, '--store', urls().store, '--artifacts', urls().artifacts, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', USER: 'tester' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-cli-models-'));
  const p = await openPlatform({ ...urls(), cwd: dir });
  try {
    const metrics = [
      { macroF1: 0.8, latency_ms: 10 },
      { macroF1: 0.7, latency_ms: 9 },
      { macroF1: 0.85, latency_ms: 10.5 },
      { macroF1: 0.9, latency_ms: 10 },
    ];
    for (const [i, m] of metrics.entries()) {
      const art = await p.artifacts.put(`churn model ${i}`);
      await p.models.register('churn', { artifact: art.sha256, flavor: 'js', metrics: m, tags: { i: String(i) }, lineage: { runId: 'run-1', nodeId: `train[${i}]`, attempt: 1, codeHash: 'feedbeef' } });
    }
  } finally {
    await p.close();
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('promote through a gate: the first passes, a worse model is refused with a per-metric report', () => {
  const first = baton('models', 'promote', 'churn', '1', '--gate', 'macroF1:max', '--gate', 'latency_ms:min:regress=0.1', '--reason', 'baseline');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /promoted {2}churn@champion: ∅ → v1/);
  const worse = baton('models', 'promote', 'churn', '2', '--gate', 'macroF1:max', '--gate', 'latency_ms:min:regress=0.1');
  assert.equal(worse.code, EXIT_CODES.conflict);
  assert.match(worse.stderr, /REFUSED/);
  assert.match(worse.stderr, /FAIL macroF1 \(maximize\): candidate 0\.7 vs champion 0\.8 \(-0\.1 worse\)/);
  assert.match(worse.stderr, /ok {3}latency_ms/);
  const bad = baton('models', 'promote', 'churn', '2', '--gate', 'macroF1');
  assert.equal(bad.code, EXIT_CODES.usage);
  assert.match(bad.stderr, /NAME:max or NAME:min/);
  const list = baton('models', 'list');
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /churn\s+4\s+4\s+champion→1/);
});

test('approval flow: promote --require-approval, approve ID, then reject another with a reason', () => {
  const pending = baton('models', 'promote', 'churn', '3', '--gate', 'macroF1:max', '--require-approval', '--reason', 'nightly', '--json');
  assert.equal(pending.code, 0, pending.stderr);
  const outcome = JSON.parse(pending.stdout) as { status: string; promotion: { id: string } };
  assert.equal(outcome.status, 'pending');
  const listed = baton('models', 'promotions', '--status', 'pending');
  assert.match(listed.stdout, new RegExp(outcome.promotion.id));
  const approved = baton('models', 'approve', outcome.promotion.id);
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, /promoted {2}churn@champion: v1 → v3/);
  const again = baton('models', 'approve', outcome.promotion.id);
  assert.equal(again.code, EXIT_CODES.conflict);
  assert.match(again.stderr, /already approved by tester@/);

  const second = JSON.parse(baton('models', 'promote', 'churn', '4', '--require-approval', '--json').stdout) as { promotion: { id: string } };
  const noReason = baton('models', 'reject', second.promotion.id);
  assert.equal(noReason.code, EXIT_CODES.usage);
  const rejected = baton('models', 'reject', second.promotion.id, '--reason', 'wait for the A/B test');
  assert.equal(rejected.code, 0, rejected.stderr);
  assert.match(rejected.stdout, /rejected/);
  const unknown = baton('models', 'approve', 'pr-nope');
  assert.equal(unknown.code, EXIT_CODES.not_found);
  assert.match(unknown.stderr, /No promotion "pr-nope"/);
});

test('rollback moves the champion back, and show lists the history with who and why', () => {
  const noReason = baton('models', 'rollback', 'churn');
  assert.equal(noReason.code, EXIT_CODES.usage);
  assert.match(noReason.stderr, /--reason/);
  const r = baton('models', 'rollback', 'churn', '--reason', 'v3 hurt conversions');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /rolled back {2}churn@champion: v3 → v1/);
  const show = baton('models', 'show', 'churn@champion');
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /model churn@1 \(champion\)/);
  assert.match(show.stdout, /metrics {3}macroF1=0\.8 latency_ms=10/);
  assert.match(show.stdout, /lineage {3}run run-1 task train\[0\] \(attempt 1\), code feedbeef/);
  assert.match(show.stdout, /3 → 1\s+rollback\s+tester@\S+\s+v3 hurt conversions/);
  assert.match(show.stdout, /1 → 3\s+promote/);
  const versions = baton('models', 'show', 'churn', '--versions');
  assert.match(versions.stdout, /^1\s+champion\s+js/m);
  const json = JSON.parse(baton('models', 'show', 'churn@3', '--json').stdout) as { version: { version: number }; history: unknown[] };
  assert.equal(json.version.version, 3);
  assert.equal(json.history.length, 3);
});

test('unknown model, version and alias: exit 4 with what exists and the fix', () => {
  const m = baton('models', 'show', 'nope');
  assert.equal(m.code, EXIT_CODES.not_found);
  assert.match(m.stderr, /No model "nope".*Models: churn/);
  const v = baton('models', 'promote', 'churn', '9');
  assert.equal(v.code, EXIT_CODES.not_found);
  assert.match(v.stderr, /no version 9\. Its versions: 1, 2, 3, 4; see `baton models show churn`/);
  const a = baton('models', 'show', 'churn@staging');
  assert.equal(a.code, EXIT_CODES.not_found);
  assert.match(a.stderr, /no alias "staging"\. Its aliases: champion → v1\. Set one with `baton models promote churn VERSION --alias staging`/);
  const rb = baton('models', 'rollback', 'churn', '--alias', 'staging', '--reason', 'x');
  assert.equal(rb.code, EXIT_CODES.not_found);
});
