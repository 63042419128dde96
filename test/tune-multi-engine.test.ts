// Three engine processes drive one study at once (PostgreSQL, and SQLite): each study step is decided once (the
// others lose the compare-and-set on the study's expansion and reload), so the study ends with exactly its 60
// trials, no trial ran with params other than those stored with it, and none succeeded twice.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openPlatform } from '../src/composition/platform.ts';
import { trialParams } from '../src/engine/tune.ts';
import type { StudyResult } from '../src/sdk/index.ts';
import { decodeShallow } from '../src/values/codec.ts';
import slowFlow from './fixtures/tune-flows.ts';
import { driveWithEngines } from './support/engines.ts';
import { freshPostgresDatabase } from './support/postgres.ts';

const root = new URL('..', import.meta.url).pathname;
const flowFile = join(root, 'test/fixtures/tune-flows.ts');

async function threeEngines(storeUrl: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-tune-multi-'));
  const artifacts = `file:${join(dir, 'artifacts')}`;
  const log = join(dir, 'trials.log');
  try {
    const p = await openPlatform({ store: storeUrl, artifacts, executor: 'inline' });
    const { runId } = await p.startRun(slowFlow, { log }, { file: flowFile });
    const outcomes = await driveWithEngines(storeUrl, artifacts, runId, dir);
    assert.ok(outcomes.every((o) => o.status === 'succeeded'), JSON.stringify(outcomes));
    const nodes = await p.store.getNodes(runId);
    const trials = nodes.filter((n) => n.spec.parent === 'tune.slow-study');
    assert.equal(trials.length, 60, 'exactly the study budget of trials exists');
    assert.deepEqual(trials.map((t) => t.spec.trial).sort((a, b) => a! - b!), Array.from({ length: 60 }, (_, i) => i));
    const stored = new Map(trials.map((t) => [t.id, JSON.stringify(trialParams(t.spec))]));
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      const [, id, params] = /^(?:start|done) (\S+) (\{[^}]*\})/.exec(line)!;
      assert.equal(params, stored.get(id!), `trial ${id} ran with its stored params`);
    }
    const attempts = await p.store.getAttempts(runId);
    const ok = attempts.filter((a) => a.state === 'succeeded' && a.nodeId.startsWith('tune.slow-study['));
    assert.equal(ok.length, 60);
    assert.equal(new Set(ok.map((a) => a.nodeId)).size, 60, 'no trial succeeded twice');
    const study = nodes.find((n) => n.id === 'tune.slow-study')!;
    const result = (await decodeShallow(study.output!, p.artifacts)) as StudyResult;
    assert.equal(result.trials.length, 60);
    await p.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('three engines drive one study on PostgreSQL: every step decided once', { timeout: 300_000 }, async () => {
  const db = await freshPostgresDatabase();
  try {
    await threeEngines(db.url);
  } finally {
    await db.drop();
  }
});

test('three engines drive one study on one SQLite file: every step decided once', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-tune-multi-sqlite-'));
  try {
    await threeEngines(`sqlite:${join(dir, 'baton.db')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
