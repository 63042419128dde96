// Reads the consumer workflow's latest run back through baton/client and checks what it produced.
import assert from 'node:assert/strict';
import { Client } from 'baton/client';

const client = await Client.open();
try {
  const runs = await client.runs({ workflow: 'consumer', limit: 5 });
  assert.ok(runs.length >= 1, 'the consumer workflow has a run');
  const run = await client.run(runs[0].id);
  const out = /** @type {{ features: { rows: number, latestX: (number | null)[] }, squares: number[], bestLoss: number, model: { name: string } }} */ (await run.output());
  assert.deepEqual(out.squares, [1, 4, 9]);
  assert.equal(out.features.rows, 3);
  assert.ok(out.features.latestX.every((x) => typeof x === 'number'), `point-in-time values for every entity: ${JSON.stringify(out.features.latestX)}`);
  assert.ok(out.bestLoss >= 0);
  const models = await run.models();
  assert.equal(models.length, 1, 'one model version registered');
  console.log(`inspected run ${run.id}: ${JSON.stringify({ squares: out.squares, features: out.features, bestLoss: out.bestLoss, models: models.map((m) => `${m.name}@${m.version}`) })}`);
} finally {
  await client.close();
}
