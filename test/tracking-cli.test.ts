// `baton runs search` and `baton runs compare` through the real CLI, on runs logged with the script API.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EXIT_CODES } from '../src/errors.ts';
import { openTracking } from '../src/composition/tracking.ts';

const bin = join(new URL('..', import.meta.url).pathname, 'bin/baton.mjs');
let dir: string;
const ids: string[] = [];

function baton(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, '--store', `sqlite:${join(dir, 'b.db')}`, '--artifacts', `file:${join(dir, 'artifacts')}`, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-trcli-'));
  const t = await openTracking({ store: `sqlite:${join(dir, 'b.db')}`, artifacts: `file:${join(dir, 'artifacts')}` });
  writeFileSync(join(dir, 'model-rf.bin'), 'rf weights');
  writeFileSync(join(dir, 'model-lr.bin'), 'lr weights, longer');
  for (const [name, model, auc] of [['a', 'rf', 0.9], ['b', 'lr', 0.8], ['c', 'rf', 0.7]] as const) {
    const r = await t.startRun({ experiment: 'cli', name });
    r.logParams({ model, seed: 1 });
    r.logMetric('auc', auc);
    await r.logArtifact('model', join(dir, `model-${model}.bin`));
    await r.end();
    ids.push(r.id);
  }
  await t.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('runs search filters with OR and orders', () => {
  const r = baton('runs', 'search', `params.model = 'lr' or metrics.auc > 0.85`, '--order-by', 'metrics.auc desc', '-e', 'cli');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').slice(1);
  assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), [ids[0], ids[1]]);
});

test('runs search takes -n and --json after the filter (not the plain `runs` list options)', () => {
  const r = baton('runs', 'search', `params.model = 'rf'`, '--order-by', 'metrics.auc', '-n', '1', '--json');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id?: string; nextPageToken?: string });
  assert.deepEqual(lines.map((l) => l.id ?? 'token'), [ids[2], 'token']);
});

test('runs search with a malformed filter prints the caret message and exits 2', () => {
  const r = baton('runs', 'search', 'metrics.auc > and');
  assert.equal(r.code, EXIT_CODES.usage);
  assert.match(r.stderr, /invalid filter: .*\n\s+metrics\.auc > and\n\s+\^/);
});

test('runs search refuses filters too deep or too large with exit 2 and the position, and runs one at the limits', () => {
  const ors = (n: number): string => Array.from({ length: n }, (_, i) => `metrics.m${i} = ${i}`).join(' or ');
  const cases: [string, RegExp][] = [
    ['('.repeat(10_000), /invalid filter: parentheses and NOTs nest more than 32 deep at position 32/],
    [`${'not '.repeat(3000)}metrics.auc > 0`, /invalid filter: the filter is 12015 characters long, over the limit of 10000 at position 10000/],
    [ors(1000), /over the limit of 10000/],
    [ors(300), /more than 256 conditions: the one at position \d+ is over the limit/],
  ];
  for (const [filter, message] of cases) {
    const r = baton('runs', 'search', filter);
    assert.equal(r.code, EXIT_CODES.usage, `${filter.slice(0, 40)}…: ${r.stderr.slice(0, 300)}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /Maximum call stack|^\s+at /m);
  }
  const atLimits = `${'not ('.repeat(16)}metrics.auc > 0.85 or ${ors(255)}${')'.repeat(16)}`;
  const ok = baton('runs', 'search', atLimits, '-e', 'cli');
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(ok.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]), [ids[0]]);
});

test('runs compare shows params and metrics side by side and marks differences', () => {
  const r = baton('runs', 'compare', ...ids);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\* model\s+rf\s+lr\s+rf/);
  assert.match(r.stdout, /\* auc\s+0\.9\s+0\.8\s+0\.7/);
  assert.match(r.stdout, /\n {2}seed\s+1\s+1\s+1/);
  // Artifacts: kind, short sha256 and size; equal content in runs a and c, so the row is marked.
  const rf = /\* model\s+file ([0-9a-f]{12}) \(10 B\)\s+file ([0-9a-f]{12}) \(18 B\)\s+file ([0-9a-f]{12}) \(10 B\)/.exec(r.stdout);
  assert.ok(rf, r.stdout);
  assert.equal(rf[1], rf[3]);
  assert.notEqual(rf[1], rf[2]);
  const json = baton('runs', 'compare', ids[0]!, '--json');
  assert.equal((JSON.parse(json.stdout) as { artifacts: { model: { handle: { name: string } } } }[])[0]!.artifacts.model.handle.name, 'model-rf.bin');
  assert.equal(baton('runs', 'compare', 'nope').code, EXIT_CODES.not_found);
  assert.equal(baton('runs', '-n', '5').code, 0, 'plain `runs` still lists workflow runs');
});
