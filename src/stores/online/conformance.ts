/**
 * The OnlineStore conformance suite: every adapter (SQLite now, Redis later) must pass these same tests — keep-newer
 * writes, ordered reads with nulls for missing keys, feature narrowing, watermarks, version resets, errors.
 *
 * Usage (see sqlite/store.test.ts): `onlineConformance('sqlite', async () => ({ store, dispose }))`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatonError } from '../../errors.ts';
import type { OnlineStore } from '../../ports/online.ts';

export interface OnlineTarget {
  store: OnlineStore;
  /** Opens another instance on the same data (for persistence tests); omit when the adapter has no such notion. */
  reopen?(): Promise<OnlineStore>;
  dispose(): Promise<void>;
}

const isCode = (code: string) => (err: unknown) => {
  assert.ok(err instanceof BatonError, `expected a BatonError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return true;
};

export function onlineConformance(name: string, setup: () => Promise<OnlineTarget>): void {
  const withStore = async (fn: (t: OnlineTarget) => Promise<void>) => {
    const t = await setup();
    try {
      await fn(t);
    } finally {
      await t.dispose();
    }
  };

  describe(`OnlineStore conformance: ${name}`, () => {
    it('reads back written rows in key order, null for keys never written', () =>
      withStore(async ({ store }) => {
        assert.equal(await store.write('v', 'v1', [
          { key: ['SEA'], ts: 10, values: { a: 1, b: 'x' } },
          { key: ['SFO'], ts: 20, values: { a: 2, b: null } },
        ]), 2);
        const got = await store.read('v', [['SFO'], ['JFK'], ['SEA']]);
        assert.deepEqual(got, [{ ts: 20, values: { a: 2, b: null } }, null, { ts: 10, values: { a: 1, b: 'x' } }]);
      }));

    it('keeps a row only if newer: older and equal timestamps never overwrite', () =>
      withStore(async ({ store }) => {
        await store.write('v', 'v1', [{ key: ['k'], ts: 100, values: { a: 1 } }]);
        assert.equal(await store.write('v', 'v1', [{ key: ['k'], ts: 50, values: { a: 0 } }]), 0);
        assert.equal(await store.write('v', 'v1', [{ key: ['k'], ts: 100, values: { a: 9 } }]), 0);
        assert.deepEqual(await store.read('v', [['k']]), [{ ts: 100, values: { a: 1 } }]);
        assert.equal(await store.write('v', 'v1', [{ key: ['k'], ts: 101, values: { a: 2 } }]), 1);
        assert.deepEqual(await store.read('v', [['k']]), [{ ts: 101, values: { a: 2 } }]);
      }));

    it('within one batch the newest row per key wins whatever the order', () =>
      withStore(async ({ store }) => {
        await store.write('v', 'v1', [
          { key: ['k'], ts: 3, values: { a: 3 } },
          { key: ['k'], ts: 1, values: { a: 1 } },
          { key: ['k'], ts: 2, values: { a: 2 } },
        ]);
        assert.deepEqual(await store.read('v', [['k']]), [{ ts: 3, values: { a: 3 } }]);
      }));

    it('composite keys are distinct by every part; features narrows the values (missing → null)', () =>
      withStore(async ({ store }) => {
        await store.write('route', 'r1', [
          { key: ['SEA', 'SFO'], ts: 1, values: { a: 1, b: 2 } },
          { key: ['SEA', 'JFK'], ts: 1, values: { a: 3, b: 4 } },
        ]);
        assert.deepEqual(await store.read('route', [['SEA', 'JFK'], ['SEA', 'SFO']], ['b', 'zz']), [
          { ts: 1, values: { b: 4, zz: null } },
          { ts: 1, values: { b: 2, zz: null } },
        ]);
      }));

    it('views are separate namespaces', () =>
      withStore(async ({ store }) => {
        await store.write('a', '1', [{ key: ['k'], ts: 1, values: { x: 'a' } }]);
        await store.write('b', '1', [{ key: ['k'], ts: 1, values: { x: 'b' } }]);
        assert.deepEqual((await store.read('a', [['k']]))[0]?.values, { x: 'a' });
        assert.deepEqual((await store.read('b', [['k']]))[0]?.values, { x: 'b' });
      }));

    it('watermarks: null before, set per view, kept across writes', () =>
      withStore(async ({ store }) => {
        assert.equal(await store.watermark('v'), null);
        await store.write('v', 'v1', []);
        assert.deepEqual(await store.watermark('v'), { version: 'v1', watermark: null });
        await store.setWatermark('v', 'v1', 1234);
        await store.write('v', 'v1', [{ key: ['k'], ts: 5, values: {} }]);
        assert.deepEqual(await store.watermark('v'), { version: 'v1', watermark: 1234 });
      }));

    it('a new version drops the view’s rows and watermark', () =>
      withStore(async ({ store }) => {
        await store.write('v', 'v1', [{ key: ['k'], ts: 100, values: { a: 1 } }]);
        await store.setWatermark('v', 'v1', 100);
        await store.write('v', 'v2', [{ key: ['j'], ts: 1, values: { a: 2 } }]);
        assert.deepEqual(await store.watermark('v'), { version: 'v2', watermark: null });
        assert.deepEqual(await store.read('v', [['k'], ['j']]), [null, { ts: 1, values: { a: 2 } }]);
      }));

    it('errors: unknown view → not_found; bad rows → data_invalid; closed → store', () =>
      withStore(async ({ store }) => {
        await assert.rejects(store.read('nope', [['k']]), isCode('not_found'));
        await assert.rejects(store.write('v', 'v1', [{ key: [1 as unknown as string], ts: 1, values: {} }]), isCode('data_invalid'));
        await assert.rejects(store.write('v', 'v1', [{ key: ['k'], ts: Number.NaN, values: {} }]), isCode('data_invalid'));
        await assert.rejects(store.setWatermark('v', 'v1', Number.POSITIVE_INFINITY), isCode('data_invalid'));
        await store.close();
        await store.close();
        await assert.rejects(store.read('v', [['k']]), isCode('store'));
      }));

    it('persists across instances', () =>
      withStore(async (t) => {
        if (!t.reopen) return;
        await t.store.write('v', 'v1', [{ key: ['k'], ts: 7, values: { a: true } }]);
        await t.store.setWatermark('v', 'v1', 7);
        const other = await t.reopen();
        try {
          assert.deepEqual(await other.read('v', [['k']]), [{ ts: 7, values: { a: true } }]);
          assert.deepEqual(await other.watermark('v'), { version: 'v1', watermark: 7 });
        } finally {
          await other.close();
        }
      }));
  });
}
