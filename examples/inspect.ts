/**
 * Inspecting past runs from code with the typed client. Run `npm run demo` first, then:
 *   node --import tsx examples/inspect.ts
 */
import { Client } from 'baton/client';
import weather, { train } from './weather/pipeline.ts';

const client = await Client.open(); // same defaults and BATON_* environment as the CLI
try {
  const run = await client.latestRun(weather, { status: 'succeeded' });
  const summary = await run.output(); // typed by the workflow's output
  console.log(`run ${run.id}: best model ${summary.best.name} (macro-F1 ${summary.best.metrics.macroF1.toFixed(3)})`);
  for (const t of await run.tasksOf(train)) {
    const out = await t.output(); // typed by the task's output schema
    const [attempt] = await t.attemptsList();
    console.log(`  ${t.id.padEnd(22)} ${t.cached ? 'cached' : t.state}  ${out.name.padEnd(28)} model ${out.model.sha256.slice(0, 12)}  cpu ${attempt?.cpuMs?.toFixed(0) ?? '-'} ms`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await client.close();
}
