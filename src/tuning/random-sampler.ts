/** The random sampler: every active leaf uniform on its internal scale (log-uniform for log leaves), like Optuna's. */
import type { Rng } from './random.ts';
import { buildParams, type Distribution, type ParamsOf, type Space } from './space.ts';
import type { Sampler, Trial } from './trial.ts';
import { fromInternal, internalBounds } from './transform.ts';

/** One uniform draw for a leaf: a number for float/int leaves, a choice index for categorical ones. */
export function sampleUniform(dist: Distribution, rng: Rng): number {
  if (dist.type === 'categorical') return rng.below(dist.choices.length);
  const b = internalBounds(dist);
  return fromInternal(dist, rng.uniform(b.low, b.high));
}

export class RandomSampler implements Sampler {
  readonly name = 'random';

  suggest<S extends Space>(_history: readonly Trial[], space: S, rng: Rng): ParamsOf<S> {
    return buildParams(space, (leaf) => sampleUniform(leaf.dist, rng)).params as ParamsOf<S>;
  }
}
