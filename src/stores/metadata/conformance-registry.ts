/**
 * Conformance tests for the model registry (part of the MetadataStore suite, run on every adapter): version
 * numbering and idempotent registration, registrations racing from several connections, alias moves with their
 * history (who, when, why) and compare-and-set guards, and promotions decided only from pending.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetadataStore } from '../../ports/metadata.ts';
import type { AliasMove, NewModelVersion, PromotionRecord } from '../../ports/registry.ts';
import type { ConformanceTarget } from './conformance.ts';

const sha = (n: number): string => n.toString(16).padStart(64, '0');

function model(name: string, n: number, over: Partial<NewModelVersion> = {}): NewModelVersion {
  return { name, registrationId: `${name}-reg-${n}`, artifact: sha(n), flavor: 'js', metrics: { f1: n / 10 }, tags: { n: String(n) }, createdAt: 1_000 + n, ...over };
}

const register = (store: MetadataStore, v: NewModelVersion) => store.apply([{ type: 'registerModelVersion', version: v }]);
const move = (name: string, alias: string, version: number, over: Partial<AliasMove> = {}): AliasMove => ({ name, alias, version, kind: 'set', actor: 'ann@host', reason: `to ${version}`, at: 2_000 + version, ...over });
const setAlias = (store: MetadataStore, m: AliasMove) => store.apply([{ type: 'moveModelAlias', move: m }]);

function promotion(id: string, name: string, version: number, over: Partial<PromotionRecord> = {}): PromotionRecord {
  return { id, name, alias: 'champion', version, status: 'pending', requestedBy: 'bob@host', reason: 'better f1', gateReport: { passed: true }, createdAt: 3_000, ...over };
}

export function registryConformance(name: string, withStore: (fn: (t: ConformanceTarget) => Promise<void>) => Promise<void>): void {
  test(`[${name}] model versions are numbered per name; a retried registration keeps its version`, () =>
    withStore(async ({ store }) => {
      const full = model('clf', 1, { signature: { input: { type: 'object' } }, description: 'first', lineage: { runId: 'r1', nodeId: 'train', attempt: 2, codeHash: 'c0de' } });
      assert.deepEqual(await register(store, full), [true]);
      assert.deepEqual(await register(store, model('clf', 2)), [true]);
      assert.deepEqual(await register(store, model('clf', 2, { createdAt: 9_999 })), [false], 'same registration id: no new version');
      assert.deepEqual(await register(store, model('clf', 3, { artifact: sha(1) })), [true], 'the same artifact registered again is a new version');
      assert.deepEqual(await register(store, model('other', 1, { registrationId: 'other-1' })), [true]);
      const versions = await store.getModelVersions('clf');
      assert.deepEqual(versions.map((v) => v.version), [1, 2, 3]);
      assert.deepEqual(versions[0], { ...full, version: 1 });
      assert.deepEqual(await store.getModelVersion('clf', 2), { ...model('clf', 2), version: 2 });
      assert.equal(await store.getModelVersion('clf', 4), undefined);
      assert.deepEqual(await store.getModelVersions('nope'), []);
      await setAlias(store, move('clf', 'champion', 2));
      assert.deepEqual(await store.listModels(), [
        { name: 'clf', latest: 3, versions: 3, aliases: { champion: 2 }, createdAt: 1_001, updatedAt: 1_003 },
        { name: 'other', latest: 1, versions: 1, aliases: {}, createdAt: 1_001, updatedAt: 1_001 },
      ]);
    }));

  test(`[${name}] concurrent model registrations from several connections get distinct, gapless versions`, () =>
    withStore(async ({ store, open }) => {
      const others = await Promise.all([open(), open(), open()]);
      try {
        const stores = [store, ...others];
        const results = await Promise.all(stores.map(async (s, i) => {
          const applied: boolean[] = [];
          for (let j = 0; j < 8; j++) applied.push((await register(s, model('race', 1 + i * 8 + j)))[0]!);
          return applied;
        }));
        assert.equal(results.flat().filter(Boolean).length, 32);
        const versions = await store.getModelVersions('race');
        assert.deepEqual(versions.map((v) => v.version), Array.from({ length: 32 }, (_, i) => i + 1));
        assert.equal(new Set(versions.map((v) => v.registrationId)).size, 32);
      } finally {
        for (const o of others) await o.close();
      }
    }));

  test(`[${name}] alias moves are recorded with who, when and why; guards refuse stale or impossible moves`, () =>
    withStore(async ({ store }) => {
      for (const n of [1, 2, 3]) await register(store, model('m', n));
      assert.deepEqual(await setAlias(store, move('m', 'champion', 1, { ifCurrent: null })), [true]);
      assert.deepEqual(await setAlias(store, move('m', 'champion', 2, { ifCurrent: null })), [false], 'the alias exists now');
      assert.deepEqual(await setAlias(store, move('m', 'champion', 2, { ifCurrent: 1, kind: 'promote', actor: 'bob@ci', reason: 'f1 up' })), [true]);
      assert.deepEqual(await setAlias(store, move('m', 'champion', 3, { ifCurrent: 1 })), [false], 'stale compare-and-set');
      assert.deepEqual(await setAlias(store, move('m', 'champion', 7)), [false], 'no such version');
      assert.deepEqual(await setAlias(store, move('nope', 'champion', 1)), [false], 'no such model');
      assert.deepEqual(await setAlias(store, move('m', 'challenger', 3)), [true]);
      assert.deepEqual(await store.getModelAliases('m'), [
        { name: 'm', alias: 'challenger', version: 3, updatedAt: 2_003 },
        { name: 'm', alias: 'champion', version: 2, updatedAt: 2_002 },
      ]);
      const history = await store.getAliasHistory('m', 'champion');
      assert.deepEqual(history.map(({ seq: _, ...h }) => h), [
        { name: 'm', alias: 'champion', toVersion: 1, kind: 'set', actor: 'ann@host', reason: 'to 1', at: 2_001 },
        { name: 'm', alias: 'champion', fromVersion: 1, toVersion: 2, kind: 'promote', actor: 'bob@ci', reason: 'f1 up', at: 2_002 },
      ]);
      assert.ok(history[0]!.seq < history[1]!.seq);
      assert.equal((await store.getAliasHistory('m')).length, 3);
    }));

  test(`[${name}] concurrent compare-and-set alias moves: exactly one wins`, () =>
    withStore(async ({ store, open }) => {
      for (const n of [1, 2, 3, 4, 5]) await register(store, model('cas', n));
      await setAlias(store, move('cas', 'champion', 1));
      const others = await Promise.all([open(), open(), open()]);
      try {
        const results = await Promise.all([store, ...others].map((s, i) => setAlias(s, move('cas', 'champion', 2 + i, { ifCurrent: 1 }))));
        assert.equal(results.flat().filter(Boolean).length, 1);
        assert.equal((await store.getAliasHistory('cas', 'champion')).length, 2);
      } finally {
        for (const o of others) await o.close();
      }
    }));

  test(`[${name}] promotions are approved or rejected only from pending; approval moves the alias`, () =>
    withStore(async ({ store }) => {
      for (const n of [1, 2, 3]) await register(store, model('p', n));
      await setAlias(store, move('p', 'champion', 1));
      await store.apply([{ type: 'requestModelPromotion', promotion: promotion('pr1', 'p', 2) }, { type: 'requestModelPromotion', promotion: promotion('pr2', 'p', 3) }]);
      assert.equal((await store.listPromotions({ status: 'pending' })).length, 2);
      const approve = (id: string, version: number, ifCurrent?: number) =>
        store.apply([{ type: 'decideModelPromotion', id, status: 'approved', actor: 'carol@host', at: 4_000, reason: 'ok', move: move('p', 'champion', version, { kind: 'promote', actor: 'carol@host', reason: 'approved', at: 4_000, ...(ifCurrent !== undefined ? { ifCurrent } : {}) }) }]);
      assert.deepEqual(await approve('pr1', 2, 7), [false], 'guard failed: still pending, alias unmoved');
      assert.equal((await store.getPromotion('pr1'))?.status, 'pending');
      assert.deepEqual(await approve('pr1', 2, 1), [true]);
      assert.deepEqual(await approve('pr1', 2), [false], 'already approved');
      assert.deepEqual((await store.getModelAliases('p')).map((a) => a.version), [2]);
      assert.deepEqual(await store.getPromotion('pr1'), { ...promotion('pr1', 'p', 2), status: 'approved', decidedBy: 'carol@host', decidedAt: 4_000, decisionReason: 'ok' });
      const reject = (id: string) => store.apply([{ type: 'decideModelPromotion', id, status: 'rejected', actor: 'dan@host', at: 5_000, reason: 'not now' }]);
      assert.deepEqual(await reject('pr1'), [false], 'an approved promotion cannot be rejected');
      assert.deepEqual(await reject('pr2'), [true]);
      assert.deepEqual(await reject('pr2'), [false]);
      assert.deepEqual(await reject('nope'), [false]);
      assert.equal((await store.getPromotion('pr2'))?.status, 'rejected');
      assert.deepEqual((await store.getModelAliases('p')).map((a) => a.version), [2], 'a rejection moves nothing');
      assert.deepEqual((await store.listPromotions({ name: 'p' })).map((x) => x.id).sort(), ['pr1', 'pr2']);
      assert.deepEqual(await store.listPromotions({ status: 'pending' }), []);
      assert.equal((await store.getAliasHistory('p', 'champion')).at(-1)?.actor, 'carol@host');
    }));

  test(`[${name}] a task attempt's registration applies only if its finish committed; its inputs name dataset versions`, () =>
    withStore(async ({ store }) => {
      const run = { id: 'wf-m', workflow: 'wf', status: 'running' as const, file: '', params: {}, options: {}, outputBinding: { ref: 'b' }, cancelRequested: false, createdAt: 1 };
      const node = { runId: 'wf-m', id: 'train', seq: 0, spec: { id: 'train', kind: 'task' as const, task: 't', input: { lit: {} } }, state: 'pending' as const, attempts: 0, retryBase: 0 };
      await store.apply([{ type: 'insertRun', run }, { type: 'insertNodes', nodes: [node] }]);
      const claim = (attempt: number) => store.apply([{ type: 'claim', runId: 'wf-m', nodeId: 'train', attempt, owner: 'e1', leaseUntil: 10_000, now: 5, deadOwners: [], executor: 'inline' }]);
      const finish = (attempt: number, owner: string, ok: boolean) => ({ type: 'finish' as const, runId: 'wf-m', nodeId: 'train', attempt, owner, nodeState: ok ? ('succeeded' as const) : ('retrying' as const), attemptState: ok ? ('succeeded' as const) : ('failed' as const), at: 9 });
      const reg = (attempt: number) => {
        const ref = { runId: 'wf-m', nodeId: 'train', attempt };
        return { type: 'registerModelVersion' as const, version: model('task-model', attempt, { registrationId: `wf-m/train/${attempt}/task-model`, lineage: { ...ref, codeHash: 'c0de' } }), ifAttempt: ref };
      };
      assert.deepEqual(await claim(1), [true]);
      assert.deepEqual(await store.apply([finish(1, 'e1', false), reg(1)]), [true, false], 'a failed attempt registers nothing');
      assert.deepEqual(await claim(2), [true]);
      assert.deepEqual(await store.apply([finish(2, 'other', true), reg(2)]), [false, false], 'a fenced-out finish registers nothing');
      assert.deepEqual(await store.listModels(), [], 'not even the model\'s name');
      const sha = 'd'.repeat(64);
      await store.apply([
        { type: 'lineage', records: [{ runId: 'wf-m', nodeId: 'train', attempt: 2, sha256: sha, direction: 'read' }, { runId: 'wf-m', nodeId: 'train', attempt: 2, sha256: 'e'.repeat(64), direction: 'read' }, { runId: 'wf-m', nodeId: 'train', attempt: 1, sha256: 'f'.repeat(64), direction: 'read' }] },
        { type: 'putDatasetVersion', version: { name: 'events', sha256: sha, format: 'csv', size: 1, rows: 1, schema: [], createdAt: 1 } },
      ]);
      assert.deepEqual(await store.apply([finish(2, 'e1', true), reg(2)]), [true, true]);
      assert.deepEqual(await store.apply([reg(2)]), [false], 'the same registration again: no new version');
      const v = await store.getModelVersionByRegistration('wf-m/train/2/task-model');
      assert.deepEqual([v?.version, v?.lineage], [1, { runId: 'wf-m', nodeId: 'train', attempt: 2, codeHash: 'c0de' }]);
      assert.equal(await store.getModelVersionByRegistration('wf-m/train/1/task-model'), undefined);
      assert.deepEqual((await store.getModelVersionsOfRun('wf-m')).map((x) => x.registrationId), ['wf-m/train/2/task-model']);
      assert.deepEqual(await store.getModelVersionsOfRun('wf-m', 'other'), []);
      assert.deepEqual(await store.getModelInputs('task-model', 1), [{ sha256: sha, datasets: [{ name: 'events', version: 1 }] }, { sha256: 'e'.repeat(64), datasets: [] }], 'reads of the registering attempt only');
      await register(store, model('plain', 1));
      assert.deepEqual(await store.getModelInputs('plain', 1), [], 'registered outside a workflow: no inputs');
    }));
}
