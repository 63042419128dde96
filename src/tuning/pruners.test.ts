// Pruners on hand-made histories: the median pruner and successive halving (ASHA) prune exactly the trials they should.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MedianPruner, percentile, SuccessiveHalvingPruner } from './pruners.ts';
import type { Trial } from './trial.ts';

/** A trial that reported `values` at steps 0, 1, 2, … (or at the given steps). */
const curve = (values: number[], state: Trial['state'] = 'complete', steps?: number[]): Trial => ({
  params: {},
  state,
  ...(state === 'complete' ? { value: values.at(-1)! } : {}),
  intermediate: values.map((v, i) => [steps?.[i] ?? i, v] as const),
});

// Five completed trials; at step 2 their values are 0.5, 0.6, 0.7, 0.8, 0.9 (median 0.7).
const completed = [0.5, 0.6, 0.7, 0.8, 0.9].map((v) => curve([v + 0.2, v + 0.1, v, v - 0.1]));

test('median pruner: prunes a trial whose best value so far is worse than the median at that step', () => {
  const p = new MedianPruner();
  const bad = curve([1.2, 1.0, 0.75], 'running');
  const good = curve([1.2, 1.0, 0.65], 'running');
  const wasGood = curve([0.3, 1.0, 0.75], 'running'); // best so far (0.3) counts, as in Optuna
  assert.equal(p.shouldPrune(bad, [...completed, bad], 2), true);
  assert.equal(p.shouldPrune(good, [...completed, good], 2), false);
  assert.equal(p.shouldPrune(wasGood, completed, 2), false);
  // Running and pruned trials do not count towards the median, nor towards startupTrials.
  const others = [curve([0, 0, 0], 'running'), curve([0, 0, 0], 'pruned')];
  assert.equal(p.shouldPrune(bad, [...completed.slice(0, 4), ...others], 2), false);
  assert.equal(p.shouldPrune(bad, [...completed, ...others], 2), true);
});

test('median pruner: startup trials, warm-up steps, interval steps, NaN, maximize', () => {
  const bad = curve([1.2, 1.0, 0.75], 'running');
  assert.equal(new MedianPruner({ startupTrials: 6 }).shouldPrune(bad, completed, 2), false);
  assert.equal(new MedianPruner({ warmupSteps: 3 }).shouldPrune(bad, completed, 2), false);
  assert.equal(new MedianPruner({ warmupSteps: 2 }).shouldPrune(bad, completed, 2), true);
  // interval 2 from warm-up 0: steps 0, 2, 4… are checked, unless an earlier report fell in the same interval.
  assert.equal(new MedianPruner({ intervalSteps: 2 }).shouldPrune(bad, completed, 2), true);
  assert.equal(new MedianPruner({ intervalSteps: 2 }).shouldPrune(curve([1.2, 1.0, 0.75, 0.9], 'running'), completed, 3), false);
  assert.equal(new MedianPruner().shouldPrune(curve([NaN, NaN, NaN], 'running'), completed, 2), true);
  assert.equal(new MedianPruner().shouldPrune(curve([1.2, NaN, 0.65], 'running'), completed, 2), false);
  // No completed trial reported at this step: nothing to compare with.
  assert.equal(new MedianPruner().shouldPrune(curve([1, 1, 1, 1, 9], 'running'), completed, 4), false);
  const up = [0.5, 0.6, 0.7, 0.8, 0.9].map((v) => curve([v - 0.2, v - 0.1, v]));
  const max = new MedianPruner({ direction: 'maximize' });
  assert.equal(max.shouldPrune(curve([0.1, 0.3, 0.65], 'running'), up, 2), true);
  assert.equal(max.shouldPrune(curve([0.1, 0.3, 0.75], 'running'), up, 2), false);
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
});

// Rungs with minResource 1, η = 3: rung 0 ends at step 1, rung 1 at step 3, rung 2 at step 9.
const sha = new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 3 });

test('successive halving: a trial continues past a rung only in the top 1/η of those that reached it', () => {
  // Six trials reached rung 0 (reported at step ≥ 1) with 0.1 … 0.6 there; the pruned ones stopped at step 1.
  const others = [
    curve([9, 0.1, 0.1, 0.05], 'complete'),
    curve([9, 0.2, 0.2, 0.1], 'complete'),
    curve([9, 0.3], 'pruned'),
    curve([9, 0.4], 'pruned'),
    curve([9, 0.5], 'pruned'),
    curve([9, 0.6], 'pruned'),
  ];
  // With 7 competitors, ⌊7/3⌋ = 2 survive: the value must be ≤ the 2nd best (0.2 or the trial's own).
  assert.equal(sha.shouldPrune(curve([9, 0.35], 'running'), others, 1), true);
  assert.equal(sha.shouldPrune(curve([9, 0.15], 'running'), others, 1), false);
  assert.equal(sha.shouldPrune(curve([9, 0.2], 'running'), others, 1), false);
  // Between rungs nothing is decided; step 0 is before the first rung.
  assert.equal(sha.shouldPrune(curve([9, 0.15, 5], 'running'), others, 2), false);
  assert.equal(sha.shouldPrune(curve([9], 'running'), others, 0), false);
  // At rung 1 (step 3) only the two trials that got there compete: with 3 values, only the best survives.
  assert.equal(sha.shouldPrune(curve([9, 0.15, 5, 0.07], 'running'), others, 3), true);
  assert.equal(sha.shouldPrune(curve([9, 0.15, 5, 0.01], 'running'), others, 3), false);
  // A trial that jumps straight to step 3 is checked at rung 0 and rung 1 with the same value.
  assert.equal(sha.shouldPrune(curve([0.07], 'running', [3]), others, 3), true);
  assert.equal(sha.shouldPrune(curve([0.01], 'running', [3]), others, 3), false);
});

test('successive halving: first trials, NaN, bootstrap, maximize and auto min resource', () => {
  assert.equal(sha.shouldPrune(curve([9, 0.5], 'running'), [], 1), false); // alone at the rung: it is the best
  assert.equal(sha.shouldPrune(curve([9, 0.5], 'running'), [curve([9, 0.4], 'running')], 1), true); // < η trials: must be the best
  assert.equal(sha.shouldPrune(curve([9, NaN], 'running'), [], 1), true);
  assert.equal(new SuccessiveHalvingPruner({ minResource: 1, bootstrapCount: 2 }).shouldPrune(curve([9, 0.1], 'running'), [curve([9, 0.4], 'running')], 1), true);
  const max = new SuccessiveHalvingPruner({ minResource: 1, direction: 'maximize' });
  assert.equal(max.shouldPrune(curve([9, 0.5], 'running'), [curve([9, 0.4], 'running')], 1), false);
  // 'auto': no completed trial yet → never prune; then minResource = max(last step of completed) / 100 = 3.
  const auto = new SuccessiveHalvingPruner();
  assert.equal(auto.shouldPrune(curve([9, 9], 'running'), [curve([0, 0], 'running')], 1), false);
  const long = curve(Array.from({ length: 301 }, () => 0.1));
  assert.equal(auto.rungStep(0, [long]), 3);
  assert.equal(auto.shouldPrune(curve([9, 9], 'running'), [long], 1), false); // step 1 < rung 0 end (3)
  assert.equal(auto.shouldPrune(curve([9, 9, 9, 9], 'running'), [long], 3), true);
  assert.throws(() => new SuccessiveHalvingPruner({ reductionFactor: 1 }), /reductionFactor must be ≥ 2/);
});
