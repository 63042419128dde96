/**
 * The flights feature pipeline with a progress display and a short report, embedded in this process (results under
 * .baton/ in the current directory). Run it twice: the second run is served from the cache.
 *
 *   node --import tsx examples/flights/run.ts                  # 200,000 flights (seeded sample of the 3M)
 *   node --import tsx examples/flights/run.ts --rows 3000000   # all of them
 *   node --import tsx examples/flights/run.ts --seed 7 --sample 20000
 *   BATON_EXECUTOR=inline node --import tsx examples/flights/run.ts
 */
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { messageOf } from 'baton';
import { decodeOutput, interruptible, openPlatform, Progress, type Platform, type RunOutcome } from 'baton/platform';
import { c, duration, table } from '../term.ts';
import pipeline, { FlightsParams, type FlightsSummary } from './pipeline.ts';

const pipelineFile = fileURLToPath(new URL('./pipeline.ts', import.meta.url));
const show = (p: string): string => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p) || '.');
const out = (s = ''): void => void process.stdout.write(`${s}\n`);
const int = (n: number): string => n.toLocaleString('en-US');
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function params(): unknown {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, seed: { type: 'string' }, sample: { type: 'string' } } });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v.replaceAll('_', '').replaceAll(',', '')));
  return FlightsParams.parse(Object.fromEntries(Object.entries({ rows: num(values.rows), seed: num(values.seed), sample: num(values.sample) }).filter(([, v]) => v !== undefined)));
}

async function main(platform: Platform): Promise<number> {
  const p = params();
  out(c.bold('Baton: flight-delay features with a point-in-time-correct training set'));
  out(c.gray(`Workflow ${show(pipelineFile)} · params ${JSON.stringify(p)} · executor ${platform.config.executor} · results in ${show(join(platform.config.cwd, '.baton'))}/`));
  out();

  const started = Date.now();
  const { runId, graph } = await platform.startRun(pipeline, p, { file: pipelineFile });
  const progress = new Progress(runId, pipeline.name);
  const sig = interruptible();
  let outcome: RunOutcome;
  try {
    outcome = await platform.drive(runId, pipeline, graph, { onEvent: progress.onEvent, signal: sig.signal });
  } finally {
    sig.dispose();
    progress.stop();
  }
  const took = Date.now() - started;
  const tasks = (await platform.store.getNodes(runId)).filter((n) => n.spec.kind === 'task');
  const cached = tasks.filter((n) => n.cachedFrom);
  out();

  const explore = (): void => {
    out(c.bold('Explore'));
    out(`  npx baton datasets list                     ${c.gray('# flights, origin_daily, route_daily, flights_training')}`);
    out(`  npx baton datasets show flights             ${c.gray('# schema, rows, profile, who wrote and read it')}`);
    out(`  npx baton datasets show flights_training    ${c.gray('# the training set, and the feature-view versions it was built from')}`);
    out(`  npx baton show ${runId}    ${c.gray('# the graph: states, durations, cache hits')}`);
    out(`  npx baton logs ${runId} flights.validate   ${c.gray('# the validation report')}`);
    if (outcome.status !== 'succeeded') out(`  npx baton resume ${runId}  ${c.gray('# re-run what failed, keep the rest')}`);
  };

  if (outcome.status !== 'succeeded' || !outcome.output) {
    out(c.red(`Run ${runId} ${outcome.status} after ${duration(took)}.`));
    for (const n of tasks.filter((x) => x.state === 'failed')) out(c.red(`  ${n.id}: ${n.error ?? ''}`));
    if (!tasks.some((x) => x.state === 'failed') && outcome.error) out(c.red(outcome.error));
    out();
    explore();
    return outcome.status === 'cancelled' ? 130 : 1;
  }

  const s = (await decodeOutput(outcome.output, platform.artifacts)) as FlightsSummary;
  out(`${c.green('Run succeeded')} in ${duration(took)}: ${c.bold(runId)}`);
  out(cached.length === tasks.length ? c.cyan(`All ${tasks.length} tasks were cached; nothing was recomputed.`) : `${cached.length} of ${tasks.length} tasks were cached${cached.length ? '' : ' (run it again to see the cache at work)'}.`);
  out();

  out(`${c.bold('Flights')}  ${int(s.flights.rows)} of ${int(s.flights.sourceRows)} (vega-datasets flights-3m.parquet, Jan–Jun 2001)`);
  const v = s.validation;
  out(`${c.bold('Validation')}  ${v.passed ? c.green('passed') : c.red('failed')}, ${v.warnings} warning${v.warnings === 1 ? '' : 's'}${v.warned.map((w) => c.yellow(` · ${w.name}: ${w.violations ?? '?'} flight(s)`)).join('')}`);
  out(`${c.bold('Features')}  origin_daily ${int(s.features.originDailyRows)} rows (${s.features.origins} airports) · route_daily ${int(s.features.routeDailyRows)} rows (${int(s.features.routes)} routes) · TTL ${s.features.ttlDays} days`);
  const t = s.training;
  out(`${c.bold('Training set')}  ${int(t.rows)} flights × ${t.columns.length} columns · late (> 15 min) ${int(t.positives)} (${pct(t.positiveShare)}) · ` +
    (t.leakage.violations === 0 ? c.green('no feature newer than its flight') : c.red(`${t.leakage.violations} leaking rows`)));
  out();
  const features = t.columns.filter((f) => f in t.coverage && !f.endsWith('_as_of'));
  out(table(features.map((f) => [f, pct(t.coverage[f]!)]), ['feature', 'coverage']));
  out(c.gray(`Feature views: ${t.views.map((x) => `${x.name}@${x.version.slice(0, 12)}`).join(', ')}`));
  out();
  const rows = await Promise.all((await platform.datasets.list()).map(async (d) => {
    const latest = (await platform.datasets.versions(d.name)).at(-1);
    return [`${d.name}@${d.latest}`, int(latest?.rows ?? 0), `${((latest?.size ?? 0) / 2 ** 20).toFixed(1)} MiB`, c.gray(latest?.sha256.slice(0, 12) ?? '')];
  }));
  out(c.bold('Datasets'));
  out(table(rows, ['version', 'rows', 'size', 'sha256']));
  out();
  explore();
  return 0;
}

const platform = await openPlatform();
try {
  process.exitCode = await main(platform);
} catch (err) {
  process.stderr.write(`${c.red('The flights demo failed:')} ${messageOf(err)}\n`);
  process.exitCode = 1;
} finally {
  await platform.close();
}
