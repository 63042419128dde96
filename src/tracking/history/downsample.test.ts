// Downsampling: ends kept, extremes kept (min/max), exact small cases, identity when n >= length, and the time
// for 1,000,000 points → 1,000.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { downsamplePoints, lttb, lttbIndices, minMax, minMaxIndices } from './downsample.ts';

function series(len: number, f: (i: number) => number): { steps: Float64Array; values: Float64Array } {
  const steps = new Float64Array(len);
  const values = new Float64Array(len);
  for (let i = 0; i < len; i++) {
    steps[i] = i;
    values[i] = f(i);
  }
  return { steps, values };
}

const noisy = (i: number): number => Math.sin(i / 50) + 0.3 * Math.sin(i * 12.9898) + (i === 777 ? 5 : 0) + (i === 4321 ? -4 : 0);

test('n >= length returns a copy of the input, for both methods', () => {
  const s = series(10, (i) => i * i);
  for (const f of [lttb, minMax]) {
    for (const n of [10, 11, 1000]) {
      const r = f(s.steps, s.values, n);
      assert.deepEqual([...r.steps], [...s.steps]);
      assert.deepEqual([...r.values], [...s.values]);
      assert.notEqual(r.values, s.values);
    }
  }
  assert.deepEqual(downsamplePoints([], 5), []);
});

test('first and last points are kept, indices ascend, at most n points', () => {
  const s = series(10_000, noisy);
  for (const f of [lttbIndices, minMaxIndices]) {
    for (const n of [2, 3, 4, 5, 10, 99, 100, 1000, 9999]) {
      const idx = f(s.steps, s.values, n);
      assert.ok(idx.length <= n && idx.length >= Math.min(n, 2), `${f.name} n=${n}: ${idx.length}`);
      assert.equal(idx[0], 0);
      assert.equal(idx[idx.length - 1], 9999);
      for (let i = 1; i < idx.length; i++) assert.ok(idx[i]! > idx[i - 1]!, `${f.name} n=${n} ascending`);
    }
    assert.deepEqual([...f(s.steps, s.values, 1)], [0]);
    assert.deepEqual([...f(s.steps, s.values, 0)], []);
  }
  assert.equal(lttbIndices(s.steps, s.values, 1000).length, 1000);
});

test('min/max keeps the global extremes; LTTB keeps an isolated spike', () => {
  const s = series(10_000, noisy);
  for (const n of [4, 10, 100, 1000]) {
    const r = minMax(s.steps, s.values, n);
    assert.equal(Math.max(...r.values), Math.max(...s.values), `max kept at n=${n}`);
    assert.equal(Math.min(...r.values), Math.min(...s.values), `min kept at n=${n}`);
  }
  const idx = [...lttbIndices(s.steps, s.values, 200)];
  assert.ok(idx.includes(777) && idx.includes(4321));
});

test('exact results on small inputs', () => {
  // LTTB, 5 points to 3: one bucket [1, 4) against the last point; the peak at index 2 has the largest triangle.
  const a = series(5, (i) => [0, 1, 5, 1, 0][i]!);
  assert.deepEqual([...lttbIndices(a.steps, a.values, 3)], [0, 2, 4]);
  // 6 points to 4: buckets {1, 2} and {3, 4}.
  const b = series(6, (i) => [0, 3, 1, -2, 0, 0][i]!);
  assert.deepEqual([...lttbIndices(b.steps, b.values, 4)], [0, 1, 3, 5]);
  // Min/max, 8 points to 6: two buckets over the 6 inner points, min and max of each in step order.
  const c = series(8, (i) => [5, 1, 9, 4, 7, 2, 8, 5][i]!);
  assert.deepEqual([...minMaxIndices(c.steps, c.values, 6)], [0, 1, 2, 5, 6, 7]);
  // A flat bucket keeps one point.
  const d = series(6, () => 1);
  assert.deepEqual([...minMaxIndices(d.steps, d.values, 4)], [0, 1, 5]);
  assert.deepEqual(
    downsamplePoints(
      [
        { step: 0, value: 0 },
        { step: 10, value: 1 },
        { step: 20, value: 5 },
        { step: 30, value: 1 },
        { step: 40, value: 0 },
      ],
      3,
    ),
    [
      { step: 0, value: 0 },
      { step: 20, value: 5 },
      { step: 40, value: 0 },
    ],
  );
  assert.throws(() => lttb(new Float64Array(2), new Float64Array(3), 1), RangeError);
  assert.throws(() => minMax(new Float64Array(2), new Float64Array(2), -1), RangeError);
});

test('timing: 1,000,000 points → 1,000', (t) => {
  const s = series(1_000_000, noisy);
  for (const [name, f] of [
    ['lttb', lttb],
    ['minmax', minMax],
  ] as const) {
    f(s.steps, s.values, 1000);
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const r = f(s.steps, s.values, 1000);
      ms.push(performance.now() - start);
      assert.ok(r.steps.length <= 1000 && r.steps.length >= 999);
    }
    const median = ms.sort((a, b) => a - b)[2]!;
    t.diagnostic(`${name}: 1,000,000 → 1,000 points in ${median.toFixed(1)} ms (median of 5)`);
    assert.ok(median < 1000);
  }
});
