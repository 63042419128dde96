/**
 * Downsampling of a metric's history for charts: a million points answer as ~1,000 that look the same.
 *
 * - lttb: Largest-Triangle-Three-Buckets (Steinarsson 2013). Keeps the first and last point; splits the rest into
 *   n - 2 buckets by index and keeps, per bucket, the point forming the largest triangle with the point kept before
 *   it and the average of the next bucket. Best visual fidelity for line charts.
 * - minMax: per bucket, the minimum and the maximum (in step order), plus the first and last point. Never loses a
 *   spike or a dip: the global min and max always survive. Best for noisy loss curves.
 *
 * Both take parallel typed arrays (no per-point objects: a million points cost two Float64Arrays), assume steps
 * ascending, return at most n points, return a copy of the input when n >= its length, and run in O(length).
 * NaN values should be dropped by the caller first. `downsamplePoints` wraps them for `{ step, value }[]`.
 */

export interface Series {
  steps: Float64Array;
  values: Float64Array;
}

export interface Point {
  step: number;
  value: number;
}

function check(steps: ArrayLike<number>, values: ArrayLike<number>, n: number): void {
  if (steps.length !== values.length) throw new RangeError(`steps (${steps.length}) and values (${values.length}) differ in length`);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`invalid point count ${n}: give a whole number of at least 0`);
}

function copy(steps: ArrayLike<number>, values: ArrayLike<number>): Series {
  return { steps: Float64Array.from(steps), values: Float64Array.from(values) };
}

function pick(steps: ArrayLike<number>, values: ArrayLike<number>, idx: Int32Array | number[], count: number): Series {
  const s = new Float64Array(count);
  const v = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    s[i] = steps[idx[i]!]!;
    v[i] = values[idx[i]!]!;
  }
  return { steps: s, values: v };
}

/** Indices LTTB keeps (ascending). */
export function lttbIndices(steps: ArrayLike<number>, values: ArrayLike<number>, n: number): Int32Array {
  check(steps, values, n);
  const len = steps.length;
  if (n >= len) return Int32Array.from({ length: len }, (_, i) => i);
  if (n === 0) return new Int32Array(0);
  if (n === 1) return Int32Array.of(0);
  if (n === 2) return Int32Array.of(0, len - 1);
  const out = new Int32Array(n);
  const every = (len - 2) / (n - 2);
  let a = 0;
  out[0] = 0;
  for (let i = 0; i < n - 2; i++) {
    // The next bucket's average (the last bucket's "next" is the last point).
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, len);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += steps[j]!;
      avgY += values[j]!;
    }
    const count = nextEnd - nextStart;
    avgX /= count;
    avgY /= count;
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const ax = steps[a]!;
    const ay = values[a]!;
    let best = -1;
    let bestIdx = start;
    for (let j = start; j < end; j++) {
      const area = Math.abs((ax - avgX) * (values[j]! - ay) - (ax - steps[j]!) * (avgY - ay));
      if (area > best) {
        best = area;
        bestIdx = j;
      }
    }
    out[i + 1] = bestIdx;
    a = bestIdx;
  }
  out[n - 1] = len - 1;
  return out;
}

export function lttb(steps: ArrayLike<number>, values: ArrayLike<number>, n: number): Series {
  if (n >= steps.length) {
    check(steps, values, n);
    return copy(steps, values);
  }
  const idx = lttbIndices(steps, values, n);
  return pick(steps, values, idx, idx.length);
}

/** Indices min/max-per-bucket keeps (ascending): first, last, and per bucket its min and max. */
export function minMaxIndices(steps: ArrayLike<number>, values: ArrayLike<number>, n: number): Int32Array {
  check(steps, values, n);
  const len = steps.length;
  if (n >= len) return Int32Array.from({ length: len }, (_, i) => i);
  if (n === 0) return new Int32Array(0);
  if (n === 1) return Int32Array.of(0);
  if (n < 4) return n === 2 ? Int32Array.of(0, len - 1) : Int32Array.of(0, argExtreme(values, 1, len - 1), len - 1);
  const buckets = Math.floor((n - 2) / 2);
  const inner = len - 2;
  const out = new Int32Array(2 + 2 * buckets);
  let k = 0;
  out[k++] = 0;
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    if (start >= end) continue;
    let lo = start;
    let hi = start;
    for (let j = start + 1; j < end; j++) {
      const v = values[j]!;
      if (v < values[lo]!) lo = j;
      if (v > values[hi]!) hi = j;
    }
    if (lo === hi) out[k++] = lo;
    else if (lo < hi) {
      out[k++] = lo;
      out[k++] = hi;
    } else {
      out[k++] = hi;
      out[k++] = lo;
    }
  }
  out[k++] = len - 1;
  return out.subarray(0, k);
}

/** The interior point farthest from the mean (for n = 3: one point besides the ends). */
function argExtreme(values: ArrayLike<number>, start: number, end: number): number {
  let sum = 0;
  for (let j = start; j < end; j++) sum += values[j]!;
  const mean = sum / (end - start);
  let best = start;
  for (let j = start; j < end; j++) if (Math.abs(values[j]! - mean) > Math.abs(values[best]! - mean)) best = j;
  return best;
}

export function minMax(steps: ArrayLike<number>, values: ArrayLike<number>, n: number): Series {
  if (n >= steps.length) {
    check(steps, values, n);
    return copy(steps, values);
  }
  const idx = minMaxIndices(steps, values, n);
  return pick(steps, values, idx, idx.length);
}

import type { Method } from '../../ports/tracking.ts';

export type { Method };

/** The `{ step, value }[]` form: converts to typed arrays, downsamples, converts back. */
export function downsamplePoints(points: readonly Point[], n: number, method: Method = 'lttb'): Point[] {
  const steps = new Float64Array(points.length);
  const values = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) {
    steps[i] = points[i]!.step;
    values[i] = points[i]!.value;
  }
  const r = method === 'lttb' ? lttb(steps, values, n) : minMax(steps, values, n);
  return Array.from(r.steps, (step, i) => ({ step, value: r.values[i]! }));
}
