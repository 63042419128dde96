/**
 * Hyperparameter tuning (src/tuning):
 *   tuning.tpe         mean time of one TPE suggestion given 1,000 finished trials on a 6-D space (Hartmann6's),
 *                      and the same for Optuna's TPESampler (study.ask + 6 suggest_float, in-memory storage)
 *   tuning.branin      median over 10 seeds of the best value after 25/50/100 trials, for random, TPE (ours:
 *   tuning.hartmann6   default and with normalized kernels) and Optuna's TPESampler (defaults, seed = 0..9)
 * Optuna is Debian's python3-optuna run by /usr/bin/python3 through bench/optuna_baseline.py; without it the
 * Optuna metrics are skipped with the reason. Lower is better everywhere (both functions are minimized).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { branin, hartmann6 } from '../src/tuning/functions.ts';
import { trialRng, Rng } from '../src/tuning/random.ts';
import { RandomSampler } from '../src/tuning/random-sampler.ts';
import type { Space } from '../src/tuning/space.ts';
import { TpeSampler } from '../src/tuning/tpe.ts';
import type { Sampler, Trial } from '../src/tuning/trial.ts';
import { fmt } from './support.ts';
import { skipped, type Benchmark, type Metric } from './types.ts';

const TRIALS = 100;
const SEEDS = 10;
const CHECKPOINTS = [25, 50, 100];
const PYTHON = '/usr/bin/python3';
const BASELINE = fileURLToPath(new URL('./optuna_baseline.py', import.meta.url));

interface Problem {
  name: string;
  space: Space;
  f: (p: never) => number;
  optimum: number;
}

/** Runs the Optuna baseline; resolves to its JSON output, or to the reason it could not run. */
async function optuna<T>(args: string[]): Promise<T | { unavailable: string }> {
  try {
    const { stdout } = await promisify(execFile)(PYTHON, [BASELINE, ...args], { maxBuffer: 64 << 20 });
    return JSON.parse(stdout) as T;
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message?: string };
    const why = e.code === 'ENOENT' ? `${PYTHON} not found` : (e.stderr?.trim().split('\n').at(-1) ?? e.message ?? String(err));
    return { unavailable: `Optuna baseline failed: ${why} (install Debian's python3-optuna)` };
  }
}

/** Best value after each trial of a sequential study (trial k suggested with trialRng(seed, k)). */
function curve(sampler: Sampler, problem: Problem, seed: number): number[] {
  const history: Trial[] = [];
  const out: number[] = [];
  let best = Infinity;
  for (let k = 0; k < TRIALS; k++) {
    const params = sampler.suggest(history, problem.space, trialRng(seed, k));
    const value = problem.f(params as never);
    history.push({ params, value, state: 'complete' });
    out.push((best = Math.min(best, value)));
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

function qualityMetrics(prefix: string, curves: number[][], note: string, target?: (n: number) => string | undefined): Metric[] {
  return CHECKPOINTS.map((n) => {
    const t = target?.(n);
    return { metric: `${prefix}.best_at_${n}`, value: median(curves.map((c) => c[n - 1]!)), unit: 'value', ...(t ? { target: t } : {}), note };
  });
}

function qualityBenchmark(problem: Problem): Benchmark {
  return {
    name: `tuning.${problem.name}`,
    description: `${problem.name}: median best value after ${CHECKPOINTS.join('/')} of ${TRIALS} trials over ${SEEDS} seeds (random, TPE, Optuna TPE)`,
    async run(ctx) {
      const fromOptuna = optuna<{ optuna: string; curves: number[][]; seconds: number }>(['quality', problem.name, String(TRIALS), String(SEEDS)]);
      const seeds = Array.from({ length: SEEDS }, (_, i) => i);
      const run = (sampler: Sampler) => {
        const t0 = performance.now();
        const curves = seeds.map((seed) => curve(sampler, problem, seed));
        return { curves, seconds: (performance.now() - t0) / 1000 };
      };
      const random = run(new RandomSampler());
      const tpe = run(new TpeSampler());
      const exact = run(new TpeSampler({ normalizeKernels: true }));
      ctx.log(`  ours done (${(random.seconds + tpe.seconds + exact.seconds).toFixed(1)} s); waiting for Optuna`);
      const base = await fromOptuna;
      const optimum = `optimum ${problem.optimum}`;
      const baseMetrics: Metric[] =
        'unavailable' in base
          ? CHECKPOINTS.map((n) => skipped(`tuning.${problem.name}.optuna_tpe.best_at_${n}`, 'value', base.unavailable))
          : qualityMetrics(`tuning.${problem.name}.optuna_tpe`, base.curves, `optuna ${base.optuna} TPESampler() defaults, seeds 0-${SEEDS - 1}; ${base.seconds.toFixed(1)} s; ${optimum}`);
      const optunaAt = (n: number) => ('unavailable' in base ? undefined : `≤ optuna (${fmt(median(base.curves.map((c) => c[n - 1]!)), 4)})`);
      return [
        ...qualityMetrics(`tuning.${problem.name}.random`, random.curves, `RandomSampler; ${optimum}`),
        ...qualityMetrics(`tuning.${problem.name}.tpe`, tpe.curves, `TpeSampler() defaults; ${tpe.seconds.toFixed(1)} s; ${optimum}`, optunaAt),
        ...qualityMetrics(`tuning.${problem.name}.tpe_normalized`, exact.curves, `TpeSampler({ normalizeKernels: true }) (Optuna ≥ 3.5 scoring); ${optimum}`),
        ...baseMetrics,
      ];
    },
  };
}

const speed: Benchmark = {
  name: 'tuning.tpe',
  description: 'one TPE suggestion given 1,000 finished trials on a 6-D float space (ours, and Optuna TPESampler)',
  async run() {
    const N = 1000;
    const REPS = 50;
    const rng = new Rng('tuning.tpe history');
    const history: Trial[] = [];
    for (let i = 0; i < N; i++) {
      const params = Object.fromEntries(['x1', 'x2', 'x3', 'x4', 'x5', 'x6'].map((k) => [k, rng.next()])) as Parameters<typeof hartmann6.f>[0];
      history.push({ params, value: hartmann6.f(params), state: 'complete' });
    }
    const tpe = new TpeSampler();
    for (let k = 0; k < 5; k++) tpe.suggest(history, hartmann6.space, trialRng(0, k)); // JIT warm-up
    // Three rounds of REPS suggestions (each with its own generator); the median round is reported.
    const rounds: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      for (let k = 0; k < REPS; k++) tpe.suggest(history, hartmann6.space, trialRng(r + 1, k));
      rounds.push((performance.now() - t0) / REPS);
    }
    // Optuna runs after ours, not alongside: the machine may have only two cores.
    const base = await optuna<{ optuna: string; ms_per_trial: number }>(['speed', String(N), '20']);
    return [
      {
        metric: 'tuning.tpe.ms_per_trial_at_1000',
        value: median(rounds),
        unit: 'ms',
        target: '≤ 5',
        note: `median of 3 rounds of ${REPS} suggestions (${rounds.map((x) => fmt(x)).join(', ')} ms)`,
      },
      'unavailable' in base
        ? skipped('tuning.tpe.optuna_ms_per_trial_at_1000', 'ms', base.unavailable)
        : { metric: 'tuning.tpe.optuna_ms_per_trial_at_1000', value: base.ms_per_trial, unit: 'ms', note: `optuna ${base.optuna}, in-memory storage, study.ask + 6 suggest_float, 20 suggestions` },
    ];
  },
};

export const tuningBenchmarks: Benchmark[] = [speed, qualityBenchmark(branin), qualityBenchmark(hartmann6)];
