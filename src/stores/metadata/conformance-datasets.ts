/**
 * Conformance tests for dataset versions (part of the MetadataStore suite, run on every adapter): numbering per
 * name, idempotence on content, lookups by number / latest / sha prefix, fencing by the producing attempt,
 * lineage, and registrations racing from several connections.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatonError } from '../../errors.ts';
import type { MetadataStore, NewDatasetVersion } from '../../ports/metadata.ts';
import type { ConformanceTarget } from './conformance.ts';

const sha = (n: number): string => n.toString(16).padStart(64, '0');

function version(name: string, n: number, over: Partial<NewDatasetVersion> = {}): NewDatasetVersion {
  return { name, sha256: sha(n), format: 'csv', size: 100 + n, rows: 10 * n, schema: [{ name: 'x', type: 'BIGINT', kind: 'integer', nullable: false }], profileRef: sha(1000 + n), createdAt: 1_000 + n, ...over };
}

const put = (store: MetadataStore, v: NewDatasetVersion) => store.apply([{ type: 'putDatasetVersion', version: v }]);

export function datasetConformance(name: string, withStore: (fn: (t: ConformanceTarget) => Promise<void>) => Promise<void>): void {
  test(`[${name}] dataset versions are numbered per name, and equal content keeps its version`, () =>
    withStore(async ({ store }) => {
      assert.deepEqual(await put(store, version('sales', 1)), [true]);
      assert.deepEqual(await put(store, version('sales', 2)), [true]);
      assert.deepEqual(await put(store, version('sales', 1, { createdAt: 9_999 })), [false], 'same content: no new version');
      assert.deepEqual(await put(store, version('users', 1)), [true], 'same content under another name is its own version');
      const versions = await store.getDatasetVersions('sales');
      assert.deepEqual(versions.map((v) => [v.version, v.sha256]), [[1, sha(1)], [2, sha(2)]]);
      assert.deepEqual(versions[0], { ...version('sales', 1), version: 1 });
      assert.deepEqual(await store.listDatasets(), [
        { name: 'sales', latest: 2, versions: 2, updatedAt: 1_002 },
        { name: 'users', latest: 1, versions: 1, updatedAt: 1_001 },
      ]);
      assert.deepEqual(await store.getDatasetVersions('nope'), []);
    }));

  test(`[${name}] a dataset version is found by number, latest, or a unique sha prefix`, () =>
    withStore(async ({ store }) => {
      await put(store, version('d', 0xabc1));
      await put(store, version('d', 0xabc2));
      await put(store, version('d', 0x1234));
      assert.equal((await store.getDatasetVersion('d', 2))?.sha256, sha(0xabc2));
      assert.equal((await store.getDatasetVersion('d', 'latest'))?.version, 3);
      assert.equal((await store.getDatasetVersion('d', sha(0x1234).slice(0, 62)))?.version, 3);
      assert.equal(await store.getDatasetVersion('d', 4), undefined);
      assert.equal(await store.getDatasetVersion('d', 'ffff'), undefined);
      assert.equal(await store.getDatasetVersion('nope', 'latest'), undefined);
      await assert.rejects(store.getDatasetVersion('d', '0000'), (err: unknown) => err instanceof BatonError && err.code === 'usage' && /matches 3 versions/.test(err.message));
    }));

  test(`[${name}] a version produced by an attempt is recorded only if that attempt's finish committed`, () =>
    withStore(async ({ store }) => {
      const runId = `ds-run-${name}`;
      await store.apply([
        { type: 'insertRun', run: { id: runId, workflow: 'wf', status: 'running', file: '/x.ts', params: {}, options: {}, outputBinding: { lit: 1 }, cancelRequested: false, createdAt: 1 } },
        { type: 'insertNodes', nodes: ['a', 'b'].map((id, seq) => ({ runId, id, seq, spec: { id, kind: 'task', task: 't', input: { lit: 1 } }, state: 'pending', attempts: 0, retryBase: 0 })) },
        { type: 'claim', runId, nodeId: 'a', attempt: 1, owner: 'e1', leaseUntil: 10_000, now: 5_000, deadOwners: [], executor: 'inline' },
        { type: 'claim', runId, nodeId: 'b', attempt: 1, owner: 'e1', leaseUntil: 10_000, now: 5_000, deadOwners: [], executor: 'inline' },
      ]);
      const finish = (nodeId: string, owner: string) => ({ type: 'finish' as const, runId, nodeId, attempt: 1, owner, nodeState: 'succeeded' as const, attemptState: 'succeeded' as const, at: 6_000, output: { json: '1', hash: 'h' } });
      const fenced = await store.apply([finish('a', 'someone-else'), { type: 'putDatasetVersion', version: version('out', 1, { producedBy: { runId, nodeId: 'a', attempt: 1 } }) }]);
      assert.deepEqual(fenced, [false, false], 'a fenced-out attempt registers nothing');
      const ok = await store.apply([finish('b', 'e1'), { type: 'putDatasetVersion', version: version('out', 2, { producedBy: { runId, nodeId: 'b', attempt: 1 } }) }]);
      assert.deepEqual(ok, [true, true]);
      const [v] = await store.getDatasetVersions('out');
      assert.deepEqual([v?.version, v?.producedBy], [1, { runId, nodeId: 'b', attempt: 1 }]);
      await store.apply([{ type: 'lineage', records: [{ runId: 'r2', nodeId: 'reader', attempt: 2, sha256: sha(2), direction: 'read' }, { runId: 'r2', nodeId: 'writer', attempt: 1, sha256: sha(2), direction: 'write' }, { runId: 'r3', nodeId: 'other', attempt: 1, sha256: sha(9), direction: 'read' }] }]);
      assert.deepEqual(await store.getDatasetLineage('out', 1), { producedBy: { runId, nodeId: 'b', attempt: 1 }, readBy: [{ runId: 'r2', nodeId: 'reader', attempt: 2 }] });
      assert.equal(await store.getDatasetLineage('out', 7), undefined);
    }));

  test(`[${name}] concurrent registrations from several connections get distinct, gapless versions`, () =>
    withStore(async ({ store, open }) => {
      const others = await Promise.all([open(), open(), open()]);
      try {
        const stores = [store, ...others];
        // Every connection registers 10 distinct contents, plus one content all of them register.
        const results = await Promise.all(stores.map(async (s, i) => {
          const applied: boolean[] = [];
          for (let j = 0; j < 10; j++) {
            const [a] = await put(s, version('race', 1 + i * 10 + j));
            applied.push(a!);
            if (j === 4) applied.push((await put(s, version('race', 999)))[0]!);
          }
          return applied;
        }));
        assert.equal(results.flat().filter(Boolean).length, 41, 'each distinct content registered once');
        const versions = await store.getDatasetVersions('race');
        assert.deepEqual(versions.map((v) => v.version), Array.from({ length: 41 }, (_, i) => i + 1));
        assert.equal(new Set(versions.map((v) => v.sha256)).size, 41);
      } finally {
        for (const o of others) await o.close();
      }
    }));
}
