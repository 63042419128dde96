// Several engine processes drive one run on one shared store at the same time (PostgreSQL, and SQLite): every
// task runs once, the work is shared between the engines, and the run completes with the right output.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openPlatform } from '../src/composition/platform.ts';
import { decodeShallow } from '../src/values/codec.ts';
import flow from './fixtures/multi-flow.ts';
import { driveWithEngines } from './support/engines.ts';
import { freshPostgresDatabase } from './support/postgres.ts';

const root = new URL('..', import.meta.url).pathname;
const flowFile = join(root, 'test/fixtures/multi-flow.ts');

async function threeEngines(storeUrl: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-multi-'));
  const artifacts = `file:${join(dir, 'artifacts')}`;
  const log = join(dir, 'executions.log');
  const n = 150;
  try {
    const p = await openPlatform({ store: storeUrl, artifacts, executor: 'inline' });
    const { runId } = await p.startRun(flow, { n, log, salt: String(Math.random()) }, { file: flowFile });
    const outcomes = await driveWithEngines(storeUrl, artifacts, runId, dir);
    assert.ok(outcomes.every((o) => o.status === 'succeeded'), JSON.stringify(outcomes));
    const run = await p.store.getRun(runId);
    assert.equal(run?.status, 'succeeded');
    assert.equal(await decodeShallow(run!.output!, p.artifacts), ((n - 1) * n * (2 * n - 1)) / 6);

    const attempts = await p.store.getAttempts(runId);
    const byNode = new Map<string, number>();
    for (const a of attempts) byNode.set(a.nodeId, (byNode.get(a.nodeId) ?? 0) + 1);
    assert.equal(byNode.size, n + 2, 'every task ran');
    const dup = attempts.filter((a) => (byNode.get(a.nodeId) ?? 0) > 1);
    assert.ok(dup.length === 0, `no task was dispatched twice: ${JSON.stringify(dup.slice(0, 4))}`);
    const executions = readFileSync(log, 'utf8').trim().split('\n');
    const seen = new Map<string, string[]>();
    for (const line of executions) {
      const [i, pid] = line.split(' ') as [string, string];
      seen.set(i, [...(seen.get(i) ?? []), pid]);
    }
    const twice = [...seen].filter(([, pids]) => pids.length > 1);
    if (twice.length) {
      const events = await p.store.getEvents(runId);
      const id = `multi.step[${twice[0]![0]}]`;
      console.error(JSON.stringify({ twice: twice.slice(0, 3), attempts: attempts.filter((a) => a.nodeId === id), events: events.filter((e) => e.nodeId === id) }, null, 1));
    }
    assert.equal(executions.length, n, 'each item executed exactly once');
    const owners = new Set(attempts.map((a) => a.owner));
    assert.ok(owners.size >= 2, `work was shared between engines (owners: ${[...owners].join(', ')})`);
    await p.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('three engines share one PostgreSQL store without double-dispatching', { timeout: 300_000 }, async () => {
  const db = await freshPostgresDatabase();
  try {
    await threeEngines(db.url);
  } finally {
    await db.drop();
  }
});

test('three engines share one SQLite file without double-dispatching', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-multi-sqlite-'));
  try {
    await threeEngines(`sqlite:${join(dir, 'baton.db')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
