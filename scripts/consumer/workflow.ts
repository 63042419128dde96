// A consumer's workflow, type-checked against the installed package and run with `npx baton run workflow.ts`.
// It touches each public area: tasks, map, tune, ctx.log, ctx.datasets, ctx.models.register, a feature view with a
// point-in-time join, and a validation step.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { float, map, randomSearch, task, tune, workflow, z, dataset, modelRegistration } from 'baton';
import { rowCount, range, validationTask, type ValidationSummary } from 'baton/data';
import { entity, featureView, getHistoricalFeatures } from 'baton/features';
import { defineJsModel, jsModel, type Row } from 'baton/models';

export const makeData = task({
  name: 'consumer.make-data',
  input: z.object({ rows: z.number().int().positive() }),
  output: z.object({ points: dataset() }),
  run: async ({ rows }, ctx) => {
    const lines = ['id,as_of,x'];
    for (let i = 0; i < rows; i++) lines.push(`${i % 3},2024-01-0${1 + (i % 5)}T00:00:00Z,${i}`);
    const path = join(ctx.workDir, 'points.csv');
    await writeFile(path, `${lines.join('\n')}\n`);
    ctx.log.params({ rows });
    const points = await ctx.datasets.write('points', path);
    ctx.log.metric('rows', points.dataset.rows);
    return { points };
  },
});

export const checkPoints = validationTask({ name: 'consumer.validate', suite: { name: 'points', expectations: [rowCount({ min: 5 }), range('x', { min: 0 })] } });

const point = entity({ name: 'point', joinKeys: ['id'] });

export const joinFeatures = task({
  name: 'consumer.features',
  input: z.object({ points: dataset(), passed: z.boolean() }),
  output: z.object({ rows: z.number().int(), latestX: z.array(z.number().nullable()) }),
  run: async ({ points }, ctx) => {
    const view = featureView({ name: 'point_x', entities: [point], source: { path: await ctx.datasets.path(points), format: 'csv' }, timestampField: 'as_of', ttlMs: null, features: { x: 'BIGINT' } });
    const result = await getHistoricalFeatures(await ctx.offline(), {
      entities: [0, 1, 2].map((id) => ({ id, event_timestamp: new Date('2024-01-03T12:00:00Z') })),
      features: [view],
    });
    if (result.kind !== 'rows') throw new Error('expected rows');
    const latestX = result.rows.map((r) => (r.x === null || r.x === undefined ? null : Number(r.x)));
    ctx.log.metric('feature_rows', result.rowCount);
    return { rows: result.rowCount, latestX };
  },
});

export const square = task({
  name: 'consumer.square',
  input: z.object({ n: z.number() }),
  output: z.number(),
  run: ({ n }) => n * n,
});

export const objective = task({
  name: 'consumer.objective',
  input: z.object({ params: z.object({ a: z.number() }) }),
  output: z.object({ loss: z.number() }),
  run: ({ params }, ctx) => {
    const loss = (params.a - 1) ** 2;
    ctx.report(1, loss);
    return { loss };
  },
});

class Doubler {
  predict(rows: readonly Row[]): number[] {
    return rows.map((r) => 2 * Number(r.x));
  }
  toJSON(): object {
    return {};
  }
}
defineJsModel('consumer-doubler', { load: () => new Doubler() });

export const register = task({
  name: 'consumer.register',
  input: z.object({ bestA: z.number() }),
  output: z.object({ model: modelRegistration() }),
  run: async ({ bestA }, ctx) => {
    const model = jsModel('consumer-doubler', new Doubler(), { inputs: [{ name: 'x', type: 'number' }], outputs: [{ name: 'prediction', type: 'number' }] });
    const registration = await ctx.models.register('consumer-doubler', model, { metrics: { bestA }, signature: { input: z.object({ x: z.number() }), output: z.object({ prediction: z.number() }) } });
    return { model: registration };
  },
});

export default workflow({ name: 'consumer', params: z.object({ rows: z.number().int().default(20) }) }, ({ rows }) => {
  const data = makeData({ rows });
  const checked = checkPoints({ data: data.points });
  const features = joinFeatures({ points: data.points, passed: checked.passed });
  const squares = map(square, [1, 2, 3], (n) => ({ n }));
  const study = tune(objective, { space: { a: float(-2, 3) }, direction: 'minimize', metric: 'loss', trials: 5, sampler: randomSearch(), seed: 7 });
  const registered = register({ bestA: study.best.params.a });
  return { features, squares, bestLoss: study.best.value, model: registered.model };
});

/** What `inspect.mjs` reads back through baton/client: the type a checked validation summary has. */
export type Checked = ValidationSummary;
