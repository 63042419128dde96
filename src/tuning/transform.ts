/**
 * The internal (sampling) scale of a numeric leaf, as in Optuna's TPE: log-scaled leaves live in log space; stepped
 * and integer leaves widen their bounds by half a step on each side so every grid value owns an equal interval.
 */
import type { FloatParam, IntParam } from './space.ts';

export interface InternalBounds {
  low: number;
  high: number;
  /** The grid step in internal space (stepped and non-log int leaves), else undefined. */
  q: number | undefined;
}

export function internalBounds(d: FloatParam | IntParam): InternalBounds {
  if (d.type === 'float') {
    if (d.log) return { low: Math.log(d.lo), high: Math.log(d.hi), q: undefined };
    if (d.step !== undefined) return { low: d.lo - 0.5 * d.step, high: d.hi + 0.5 * d.step, q: d.step };
    return { low: d.lo, high: d.hi, q: undefined };
  }
  if (d.log) return { low: Math.log(d.lo - 0.5), high: Math.log(d.hi + 0.5), q: undefined };
  return { low: d.lo - 0.5 * d.step, high: d.hi + 0.5 * d.step, q: d.step };
}

/** External value → internal scale. */
export function toInternal(d: FloatParam | IntParam, x: number): number {
  return d.log ? Math.log(x) : x;
}

/** Internal-scale value → a valid external value (rounded to the grid, clipped to the bounds). */
export function fromInternal(d: FloatParam | IntParam, y: number): number {
  if (d.log) {
    const x = Math.exp(y);
    return d.type === 'int' ? clip(Math.round(x), d.lo, d.hi) : clip(x, d.lo, d.hi);
  }
  const step = d.step;
  if (step === undefined) return clip(y, d.lo, d.hi);
  return clip(Math.round((y - d.lo) / step) * step + d.lo, d.lo, d.hi);
}

const clip = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
