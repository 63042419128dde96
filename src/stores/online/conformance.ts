/**
 * The OnlineStore conformance suite: every adapter (SQLite, Redis) must pass these same tests — keep-newer writes
 * (also between two racing writers), ordered reads with nulls for missing keys, feature narrowing, value types,
 * watermarks, version resets, errors.
 *
 * Usage (see test/online-conformance.test.ts): `onlineConformance('sqlite', async () => ({ store, reopen, dispose }))`;
 * `{ skip: 'why' }` as a third argument reports the whole suite as skipped with that reason.
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

export function onlineConformance(name: string, setup: () => Promise<OnlineTarget>, options: { skip?: string } = {}): void {
  const withStore = async (fn: (t: OnlineTarget) => Promise<void>) => {
    const t = await setup();
    try {
      await fn(t);
    } finally {
      await t.dispose();
    }
  };

  describe(`OnlineStore conformance: ${name}`, options.skip ? { skip: options.skip } : {}, () => {
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

    it('a newer row replaces all of the key’s values: a feature it lacks reads null', () =>
      withStore(async ({ store }) => {
        await store.write('v', 'v1', [{ key: ['k'], ts: 1, values: { a: 1, b: 2 } }]);
        await store.write('v', 'v1', [{ key: ['k'], ts: 2, values: { a: 3 } }]);
        assert.deepEqual(await store.read('v', [['k']]), [{ ts: 2, values: { a: 3 } }]);
        assert.deepEqual(await store.read('v', [['k']], ['a', 'b']), [{ ts: 2, values: { a: 3, b: null } }]);
      }));

    it('values keep their JSON type: strings that look like numbers, floats, negatives, booleans, null, unicode', () =>
      withStore(async ({ store }) => {
        const values = { s: '42', e: '', f: 0.1 + 0.2, n: -7, big: 2 ** 53 - 1, t: true, no: false, z: null, u: 'Zürich ✈ "quoted"' };
        await store.write('v', 'v1', [{ key: ['k'], ts: 1, values }]);
        assert.deepEqual(await store.read('v', [['k']]), [{ ts: 1, values }]);
        assert.deepEqual(await store.read('v', [['k']], ['s', 't', 'z']), [{ ts: 1, values: { s: '42', t: true, z: null } }]);
      }));

    it('keys are exact: parts with separators, empty and unicode parts never collide', () =>
      withStore(async ({ store }) => {
        const keys = [['a:b', 'c'], ['a', 'b:c'], ['a,b'], ['a', 'b'], [''], ['', ''], ['ü'], ['u'], ['["x"]'], ['x']];
        await store.write('v', 'v1', keys.map((key, i) => ({ key, ts: 1, values: { i } })));
        const got = await store.read('v', keys);
        assert.deepEqual(got.map((r) => r?.values.i), keys.map((_, i) => i));
      }));

    it('reads many keys in one call, in the order asked, repeats included', () =>
      withStore(async ({ store }) => {
        const rows = Array.from({ length: 2_500 }, (_, i) => ({ key: [`k${i}`], ts: i, values: { i } }));
        assert.equal(await store.write('v', 'v1', rows), 2_500);
        const asked = [...Array.from({ length: 2_500 }, (_, i) => [`k${2_499 - i}`]), ['missing'], ['k7']];
        const got = await store.read('v', asked);
        assert.equal(got.length, 2_502);
        assert.deepEqual(got[0], { ts: 2_499, values: { i: 2_499 } });
        assert.deepEqual(got[2_499], { ts: 0, values: { i: 0 } });
        assert.equal(got[2_500], null);
        assert.deepEqual(got[2_501], { ts: 7, values: { i: 7 } });
        assert.ok(got.slice(0, 2_500).every((r, j) => r?.ts === 2_499 - j));
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

    it('going back to an earlier version starts over too: its old rows never come back', () =>
      withStore(async ({ store }) => {
        await store.write('v', 'v1', [{ key: ['k'], ts: 100, values: { a: 1 } }]);
        await store.setWatermark('v', 'v2', 5);
        assert.deepEqual(await store.watermark('v'), { version: 'v2', watermark: 5 });
        await store.write('v', 'v1', [{ key: ['j'], ts: 1, values: { a: 2 } }]);
        assert.deepEqual(await store.read('v', [['k'], ['j']]), [null, { ts: 1, values: { a: 2 } }]);
        assert.equal(await store.write('v', 'v1', [{ key: ['k'], ts: 1, values: { a: 3 } }]), 1, 'an old row of the same version no longer blocks an older ts');
        assert.deepEqual(await store.read('v', [['k']]), [{ ts: 1, values: { a: 3 } }]);
      }));

    it('writers racing on the same keys never move a value back in time, and end with the newest', () =>
      withStore(async (t) => {
        if (!t.reopen) return;
        const others = [await t.reopen(), await t.reopen(), await t.reopen()];
        try {
          const KEYS = 100;
          const STEPS = 40;
          // Four instances write forward in time at once, each with its own ts offset and batch size so they drift
          // against each other, while a reader checks that no key's ts ever goes back. A store that compares and sets
          // in two steps lets a writer read an old ts, another write a newer value, then the first overwrite it with
          // its own older one (such a store fails this test in most runs; an atomic one never does).
          const writer = async (store: OnlineStore, offset: number, chunk: number) => {
            for (let step = 0; step < STEPS; step++) {
              for (let from = 0; from < KEYS; from += chunk) {
                const rows = [];
                for (let k = from; k < Math.min(KEYS, from + chunk); k++) rows.push({ key: [`k${k}`], ts: step * 10 + offset, values: { step, offset } });
                await store.write('v', 'v1', rows);
              }
            }
          };
          const keys = Array.from({ length: KEYS }, (_, k) => [`k${k}`]);
          const seen = new Array<number>(KEYS).fill(-1);
          const regressions: string[] = [];
          let writing = true;
          const reader = async () => {
            while (writing) {
              const got = await t.store.read('v', keys);
              got.forEach((r, k) => {
                const ts = r?.ts ?? -1;
                if (ts < seen[k]!) regressions.push(`k${k}: ${seen[k]} → ${ts}`);
                seen[k] = Math.max(seen[k]!, ts);
              });
              await new Promise((resolve) => setImmediate(resolve));
            }
          };
          await t.store.write('v', 'v1', []);
          const reading = reader();
          const [a, b, c] = others as [OnlineStore, OnlineStore, OnlineStore];
          await Promise.all([writer(t.store, 0, 100), writer(a, 3, 23), writer(b, 6, 11), writer(c, 9, 5)]).finally(() => (writing = false));
          await reading;
          assert.deepEqual(regressions.slice(0, 5), [], 'no key’s value ever went back in time');
          const last = (STEPS - 1) * 10 + 9;
          const got = await t.store.read('v', keys);
          const wrong = got.map((r, k) => (r?.ts === last ? null : `k${k}: ${JSON.stringify(r)}`)).filter((x) => x !== null);
          assert.deepEqual(wrong.slice(0, 5), [], `every key ends with the newest value (ts ${last})`);
        } finally {
          for (const o of others) await o.close();
        }
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
