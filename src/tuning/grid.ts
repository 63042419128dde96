/**
 * The grid sampler: every combination of grid values, each tried once, in a random order. Categorical leaves use
 * every choice, int leaves every value (lo, lo + step, …, hi), stepped floats every step, other floats `floatPoints`
 * evenly spaced values (geometric on a log scale); a conditional contributes the grids of each of its branches.
 * Stateless: the next point is a uniformly drawn one among those no trial (of any state, running included) has
 * used yet; once all were used it draws from the whole grid again. `remaining(history, space)` says how many are left.
 */
import { BatonError } from '../errors.ts';
import type { Rng } from './random.ts';
import { flattenParams, type FlatParams, type ParamsOf, type Shape, type Space } from './space.ts';
import type { Sampler, Trial } from './trial.ts';

export interface GridOptions {
  /** Values per float leaf without a step. Default 5. */
  floatPoints?: number;
  /** Refuse grids larger than this (a typo such as int(0, 1e9) would otherwise hang). Default 1,000,000. */
  maxPoints?: number;
}

export class GridSampler implements Sampler {
  readonly name = 'grid';
  readonly floatPoints: number;
  readonly maxPoints: number;
  #cache = new WeakMap<Space, Record<string, unknown>[]>();

  constructor(options: GridOptions = {}) {
    this.floatPoints = options.floatPoints ?? 5;
    this.maxPoints = options.maxPoints ?? 1_000_000;
    if (!(this.floatPoints >= 2) || !Number.isInteger(this.floatPoints)) throw new BatonError('workflow_invalid', `GridSampler: floatPoints must be an integer ≥ 2, got ${this.floatPoints}`);
  }

  /** Every grid point, in a fixed order (the cache only saves recomputation: it is a pure function of the space). */
  points<S extends Space>(space: S): ParamsOf<S>[] {
    let pts = this.#cache.get(space);
    if (!pts) {
      pts = this.expand(space.shape, '');
      this.#cache.set(space, pts);
    }
    return pts as ParamsOf<S>[];
  }

  remaining<S extends Space>(history: readonly Trial[], space: S): number {
    return this.unused(history, space).length;
  }

  suggest<S extends Space>(history: readonly Trial[], space: S, rng: Rng): ParamsOf<S> {
    const unused = this.unused(history, space);
    const pool = unused.length ? unused : this.points(space);
    return structuredClone(pool[rng.below(pool.length)]!);
  }

  private unused<S extends Space>(history: readonly Trial[], space: S): ParamsOf<S>[] {
    const used = new Set(history.map((t) => key(flattenParams(space, t.params))));
    return this.points(space).filter((p) => !used.has(key(flattenParams(space, p))));
  }

  private expand(shape: Shape, prefix: string): Record<string, unknown>[] {
    let out: Record<string, unknown>[] = [{}];
    for (const [name, param] of Object.entries(shape)) {
      const path = prefix ? `${prefix}.${name}` : name;
      let values: unknown[];
      if (param.type === 'conditional') {
        values = Object.entries(param.branches).flatMap(([branch, sub]) => this.expand(sub, `${path}.${branch}`).map((p) => ({ [param.key]: branch, ...p })));
      } else if (param.type === 'categorical') {
        values = [...param.choices];
      } else if (param.type === 'int' || param.step !== undefined) {
        const step = param.step!;
        const n = Math.round((param.hi - param.lo) / step) + 1;
        this.check(path, n * out.length);
        values = Array.from({ length: n }, (_, i) => Math.min(param.hi, param.lo + i * step));
      } else {
        const k = this.floatPoints;
        values = Array.from({ length: k }, (_, i) =>
          i === k - 1 ? param.hi : param.log ? Math.exp(Math.log(param.lo) + ((Math.log(param.hi) - Math.log(param.lo)) * i) / (k - 1)) : param.lo + ((param.hi - param.lo) * i) / (k - 1),
        );
      }
      this.check(path, values.length * out.length);
      out = out.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
    }
    return out;
  }

  private check(path: string, n: number): void {
    if (n > this.maxPoints) throw new BatonError('workflow_invalid', `GridSampler: the grid reaches ${n} points at parameter "${path}" (limit ${this.maxPoints}); narrow its range, add a step, or use TpeSampler.`);
  }
}

const key = (flat: FlatParams): string => JSON.stringify([...flat].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
