// Samplers: determinism per seed, resume = same suggestions, TPE beats random on Branin, conditional params only
// sampled when active, Parzen estimator parity with optuna 3.1, the grid covers the grid, and the test functions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { branin, hartmann6 } from './functions.ts';
import { GridSampler } from './grid.ts';
import { defaultWeights, parzenEstimator } from './parzen.ts';
import { trialRng, Rng } from './random.ts';
import { RandomSampler } from './random-sampler.ts';
import { categorical, conditional, flattenParams, float, int, space, type Distribution, type ParamsOf, type Space } from './space.ts';
import { TpeSampler } from './tpe.ts';
import type { Sampler, Trial } from './trial.ts';

/** A sequential study: trial k is suggested with trialRng(seed, k) from trials 0..k-1. */
function study<S extends Space>(sampler: Sampler, s: S, f: (p: ParamsOf<S>) => number, n: number, seed: number, start: Trial<ParamsOf<S>>[] = []): Trial<ParamsOf<S>>[] {
  const history = [...start];
  for (let k = history.length; k < n; k++) {
    const params = sampler.suggest(history, s, trialRng(seed, k));
    history.push({ params, value: f(params), state: 'complete' });
  }
  return history;
}

const bestAfter = (h: readonly Trial[], n: number): number => Math.min(...h.slice(0, n).map((t) => t.value!));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

test('the generator is deterministic per seed and uniform enough', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 10_000 }, () => a.next());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => new Rng(43).next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.01);
  assert.notDeepEqual(trialRng(1, 0).next(), trialRng(1, 1).next());
});

test('TPE is deterministic for a seed, and a resumed study continues identically', () => {
  const tpe = new TpeSampler();
  const full = study(tpe, branin.space, branin.f, 30, 7);
  assert.deepEqual(study(tpe, branin.space, branin.f, 30, 7), full);
  // "Crash" after 17 finished trials: a new sampler object, the same seed, the finished trials.
  const resumed = study(new TpeSampler(), branin.space, branin.f, 30, 7, structuredClone(full.slice(0, 17)));
  assert.deepEqual(resumed, full);
  assert.notDeepEqual(study(tpe, branin.space, branin.f, 30, 8), full);
});

test('TPE beats random on Branin: median best after 50 trials over 10 seeds', () => {
  const seeds = Array.from({ length: 10 }, (_, i) => i);
  const tpe = median(seeds.map((seed) => bestAfter(study(new TpeSampler(), branin.space, branin.f, 50, seed), 50)));
  const rnd = median(seeds.map((seed) => bestAfter(study(new RandomSampler(), branin.space, branin.f, 50, seed), 50)));
  assert.ok(tpe < rnd, `TPE ${tpe} vs random ${rnd}`);
  assert.ok(tpe < 0.8, `TPE median best ${tpe}`);
});

test('TPE maximizes when told to, and ranks pruned trials after complete ones', () => {
  const s = space({ x: float(0, 1) });
  const f = (p: { x: number }) => -((p.x - 0.8) ** 2);
  const h = study(new TpeSampler({ direction: 'maximize' }), s, f, 40, 3);
  assert.ok(Math.max(...h.map((t) => t.value!)) > -0.001);
  // Pruned trials near x = 0 (with good-looking partial values) must not pull the search there.
  const pruned: Trial<{ x: number }>[] = Array.from({ length: 20 }, (_, i) => ({ params: { x: i / 1000 }, state: 'pruned', intermediate: [[1, 0]] }));
  const done: Trial<{ x: number }>[] = Array.from({ length: 10 }, (_, i) => ({ params: { x: 0.5 + i / 20 }, state: 'complete', value: f({ x: 0.5 + i / 20 }) }));
  const xs = Array.from({ length: 20 }, (_, k) => new TpeSampler({ direction: 'maximize' }).suggest([...pruned, ...done], s, trialRng(0, k)).x);
  assert.ok(median(xs) > 0.4, `suggestions ${xs.join(', ')}`);
});

test('conditional params: only the active branch is sampled, and each branch learns from its own trials', () => {
  const s = space({
    model: conditional('kind', { rf: { depth: int(2, 12) }, logreg: { c: float(1e-3, 10, { log: true }), penalty: categorical(['l1', 'l2']) } }),
    lr: float(1e-4, 1, { log: true }),
  });
  const f = (p: ParamsOf<typeof s>) => (p.model.kind === 'rf' ? Math.abs(p.model.depth - 9) / 3 + 1 : Math.abs(Math.log10(p.model.c)) + (p.model.penalty === 'l1' ? 0 : 0.5)) + Math.abs(Math.log10(p.lr) + 2);
  for (const sampler of [new TpeSampler(), new RandomSampler(), new GridSampler()]) {
    const h = study(sampler, s, f, 60, 1);
    for (const t of h) {
      const keys = Object.keys(t.params.model).sort();
      assert.deepEqual(keys, t.params.model.kind === 'rf' ? ['depth', 'kind'] : ['c', 'kind', 'penalty'], `${sampler.name}: ${JSON.stringify(t.params)}`);
      assert.equal(flattenParams(s, t.params).size, t.params.model.kind === 'rf' ? 3 : 4);
    }
    if (sampler.name === 'tpe') {
      const late = h.slice(30);
      assert.ok(late.filter((t) => t.params.model.kind === 'logreg').length > 20, 'TPE should settle on the better branch');
      assert.ok(bestAfter(h, 60) < 0.4, `best ${bestAfter(h, 60)}`);
    }
  }
});

test('TPE handles int, stepped and log leaves, and ignores failed and running trials', () => {
  const s = space({ n: int(1, 1000, { log: true }), k: int(0, 20, { step: 4 }), x: float(0, 1, { step: 0.25 }), o: categorical([1, 2, 3]) });
  const h = study(new TpeSampler(), s, (p) => Math.abs(Math.log(p.n / 50)) + Math.abs(p.k - 12) + Math.abs(p.x - 0.75) + (p.o === 2 ? 0 : 1), 50, 2);
  for (const { params: p } of h) {
    assert.ok(Number.isInteger(p.n) && p.n >= 1 && p.n <= 1000);
    assert.ok([0, 4, 8, 12, 16, 20].includes(p.k));
    assert.ok([0, 0.25, 0.5, 0.75, 1].includes(p.x));
  }
  assert.ok(bestAfter(h, 50) < 1, `best ${bestAfter(h, 50)}`);
  const noise: Trial<ParamsOf<typeof s>>[] = [{ params: h[0]!.params, state: 'failed' }, { params: h[1]!.params, state: 'running' }];
  const tpe = new TpeSampler();
  assert.deepEqual(tpe.suggest([...h, ...noise], s, trialRng(9, 50)), tpe.suggest(h, s, trialRng(9, 50)));
});

test('Parzen estimator log densities equal optuna 3.1 (TPESampler defaults) on fixed observations', () => {
  // Computed with Debian's python3-optuna 3.1.0: _ParzenEstimator({'x': obs}, {'x': dist}, defaults).log_pdf(xs).
  const cases: [Distribution, number[], number[], number[]][] = [
    [float(-5, 10), [-4.2, 0.3, 2.9, 3.3, 7.5, 9.9], [-5, -1, 3, 8, 10], [-1.300236244, -1.081473859, -0.925207163, -1.048723441, -1.102159732]],
    [float(1e-3, 10, { log: true }), [0.002, 0.05, 0.3, 2.0], [0.001, 0.01, 1, 10], [-1.009365868, -0.854016545, -0.808385245, -1.214074738]],
    [float(0, 1, { step: 0.1 }), [0.1, 0.4, 0.5, 0.9], [0, 0.3, 1], [-2.674126096, -2.198340857, -2.939372435]],
    [int(1, 20), [2, 5, 11, 19], [1, 6, 20], [-2.742043758, -2.802893149, -3.380959688]],
    [categorical(['a', 'b', 'c']), [0, 2, 2], [0, 1, 2], [-1.098612289, -1.658228077, -0.741937345]],
  ];
  const options = { priorWeight: 1, considerMagicClip: true, considerEndpoints: false, weights: defaultWeights, normalizeKernels: false };
  for (const [dist, obs, xs, expected] of cases) {
    const got = parzenEstimator(dist, obs, options).logPdf(xs);
    got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `${JSON.stringify(dist)} at ${xs[i]}: ${v} vs ${expected[i]}`));
  }
  // Normalized kernels are true densities: they integrate to 1 over the range.
  const pe = parzenEstimator(float(-5, 10), [-4.2, 0.3, 2.9, 3.3, 7.5, 9.9], { ...options, normalizeKernels: true });
  const grid = Array.from({ length: 15_001 }, (_, i) => -5 + i / 1000);
  const integral = pe.logPdf(grid).reduce((s, v) => s + Math.exp(v) / 1000, 0);
  assert.ok(Math.abs(integral - 1) < 2e-3, `integral ${integral}`);
});

test('Parzen samples stay in range and follow the observations', () => {
  const pe = parzenEstimator(float(0, 100), [10, 11, 12, 13, 14, 15, 90], { priorWeight: 1, considerMagicClip: true, considerEndpoints: false, weights: defaultWeights, normalizeKernels: false });
  const xs = pe.sample(new Rng(1), 5000);
  assert.ok(xs.every((x) => x >= 0 && x <= 100));
  // 6 of the 8 components sit in [10, 15] (σ ≥ 100 / 9 by the magic clip): far more mass there than uniform's 15%.
  const near = xs.filter((x) => x > 5 && x < 20).length / xs.length;
  assert.ok(near > 0.35 && near < 0.7, `share near the cluster: ${near}`);
});

test('the grid covers the grid exactly once, then starts over', () => {
  const s = space({ o: categorical(['a', 'b']), n: int(1, 3), x: float(1, 100, { log: true }), m: conditional('kind', { p: { q: int(0, 1) }, r: {} }) });
  const grid = new GridSampler({ floatPoints: 3 });
  const pts = grid.points(s);
  assert.equal(pts.length, 2 * 3 * 3 * 3);
  assert.deepEqual([...new Set(pts.map((p) => p.x))].sort((a, b) => a - b), [1, 10.000000000000002, 100].sort((a, b) => a - b));
  const h = study(grid, s, () => 0, pts.length, 5);
  const seen = new Set(h.map((t) => JSON.stringify(t.params)));
  assert.equal(seen.size, pts.length);
  assert.deepEqual(seen, new Set(pts.map((p) => JSON.stringify(p))));
  assert.equal(grid.remaining(h, s), 0);
  assert.equal(grid.remaining(h.slice(0, 10), s), pts.length - 10);
  assert.ok(seen.has(JSON.stringify(grid.suggest(h, s, trialRng(5, 999))))); // exhausted: any grid point again
  // Running trials count as used, so parallel workers do not repeat a point.
  const running = h.slice(0, 53).map((t) => ({ ...t, state: 'running' as const, value: undefined }));
  const next = JSON.stringify(grid.suggest(running, s, trialRng(5, 53)));
  assert.ok(!running.some((t) => JSON.stringify(t.params) === next));
  assert.throws(() => new GridSampler().points(space({ n: int(0, 10_000_000) })), /narrow its range/);
});

test('test functions reach their known optima', () => {
  assert.ok(Math.abs(branin.f(branin.argmin) - 0.397887) < 1e-6);
  assert.ok(Math.abs(branin.f({ x1: -Math.PI, x2: 12.275 }) - 0.397887) < 1e-6);
  assert.ok(Math.abs(hartmann6.f(hartmann6.argmin) - -3.32237) < 1e-5);
  assert.equal(branin.optimum, 0.397887);
  assert.equal(hartmann6.optimum, -3.32237);
});
