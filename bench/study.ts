/**
 * Studies in the engine (src/engine/tune.ts), on the embedded SQLite store, inline executor:
 *   tuning.study200   a 200-trial study of a trivial objective (parallelism 8) with the random sampler and with
 *                     TPE + the median pruner (each trial reports 5 steps), against a plain `map` of the same
 *                     task over 200 params in the same run: the per-trial cost of the study machinery (a step of
 *                     the study per finished trial, the sampler, the pruner in the worker) over a task's.
 * Each configuration runs on a fresh platform after a small warm-up; inputs are salted, so nothing is cached.
 */
import { map, medianPruner, float, randomSearch, task, tpe, tune, workflow, z } from '../src/sdk/index.ts';
import { fmt, ms, newSalt, withTempPlatform } from './support.ts';
import type { Benchmark, Metric } from './types.ts';

const objective = task({
  name: 'bench.objective',
  input: z.object({ params: z.object({ x: z.number(), y: z.number() }), salt: z.string(), steps: z.number().int() }),
  output: z.number(),
  run: ({ params: { x, y }, steps }, ctx) => {
    for (let s = 0; s < steps; s++) ctx.report(s, (x - 0.3) ** 2 + (y + 0.1) ** 2 + 1 / (s + 1));
    return (x - 0.3) ** 2 + (y + 0.1) ** 2;
  },
});

const P = z.object({ n: z.number().int(), salt: z.string(), sampler: z.enum(['random', 'tpe']) });

const studyFlow = workflow({ name: 'bench-study', params: P }, ({ n, salt, sampler }) =>
  tune(objective, {
    space: { x: float(-1, 1), y: float(-1, 1) },
    direction: 'minimize',
    trials: n,
    parallelism: 8,
    sampler: sampler === 'tpe' ? tpe() : randomSearch(),
    ...(sampler === 'tpe' ? { pruner: medianPruner() } : {}),
    inputs: { salt, steps: sampler === 'tpe' ? 5 : 0 },
  }).best.value,
);

const mapFlow = workflow({ name: 'bench-study-map', params: z.object({ n: z.number().int(), salt: z.string() }) }, ({ n, salt }) =>
  map(
    objective,
    Array.from({ length: n }, (_, i) => ({ x: i / n, y: -i / n })),
    (params) => ({ params, salt, steps: 0 }),
  ),
);

async function timed(kind: 'map' | 'random' | 'tpe', n: number): Promise<number> {
  return withTempPlatform({ executor: 'inline', cpus: 8 }, async (p) => {
    const go = async (size: number) => {
      const t0 = process.hrtime.bigint();
      const r = kind === 'map' ? await p.run(mapFlow, { n: size, salt: newSalt() }) : await p.run(studyFlow, { n: size, salt: newSalt(), sampler: kind });
      const took = ms(process.hrtime.bigint() - t0);
      if (r.status !== 'succeeded') throw new Error(`${kind} run ${r.status}: ${r.error}`);
      return took;
    };
    await go(8); // warm-up: code hashes, JIT
    return go(n);
  });
}

const study: Benchmark = {
  name: 'tuning.study200',
  description: 'a 200-trial study (random; TPE + median pruner) vs a map of the same 200 tasks',
  async run(ctx) {
    const n = 200;
    ctx.log('map of 200');
    const base = await timed('map', n);
    ctx.log('study of 200, random');
    const random = await timed('random', n);
    ctx.log('study of 200, TPE + median pruner');
    const tpeMs = await timed('tpe', n);
    const metrics: Metric[] = [
      { metric: 'baseline.map200.per_task_ms', value: base / n, unit: 'ms', note: 'the objective as 200 map items (parallelism = 8 CPUs)' },
      { metric: 'tuning.study200.random.per_trial_ms', value: random / n, unit: 'ms', note: `${fmt(random / base, 3)}× the map's time: one study step per finished trial` },
      { metric: 'tuning.study200.tpe.per_trial_ms', value: tpeMs / n, unit: 'ms', note: `${fmt(tpeMs / base, 3)}× the map's time; TPE suggestions and median pruning on 5 reports per trial included` },
    ];
    return metrics;
  },
};

export const studyBenchmarks: Benchmark[] = [study];
