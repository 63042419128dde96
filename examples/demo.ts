/**
 * `npm run demo`: trains and compares weather classifiers with Baton, embedded in this process (tuning one of them
 * with TPE and median pruning); the workflow registers the winner (task weather.register) and this script promotes
 * it to champion through a gate, then says where the results are and how to look at them. Everything is stored under .baton/ in the current directory; run it twice
 * and the second run is served entirely from the cache.
 *
 *   npm run demo                       # default executor (worker processes)
 *   BATON_EXECUTOR=inline npm run demo # everything in this process
 */
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GateRefused, messageOf } from 'baton';
import { decodeOutput, interruptible, openPlatform, Progress, type Platform, type RunOutcome } from 'baton/platform';
import { c, duration, table } from './term.ts';
import pipeline, { MODEL_NAME, TUNED_CANDIDATE } from './weather/pipeline.ts';

type Summary = NonNullable<(typeof pipeline)['__output']>;

const pipelineFile = fileURLToPath(new URL('./weather/pipeline.ts', import.meta.url));
/** A path relative to the working directory when it is below it, else absolute. */
const show = (p: string): string => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p) || '.');
const out = (s = ''): void => void process.stdout.write(`${s}\n`);
const pct = (x: number): string => x.toFixed(3);
/** Hyper-parameters as `k=v`, tuned floats to 3 significant digits. */
const paramsText = (params: Record<string, number>): string =>
  Object.entries(params).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : Number(v.toPrecision(3))}`).join(' ');

async function demo(platform: Platform): Promise<number> {
  const { cwd } = platform.config;
  const folder = show(join(cwd, '.baton'));
  out(c.bold('Baton demo: which model best predicts Seattle weather?'));
  out(c.gray(`Workflow ${show(pipelineFile)} · executor ${platform.config.executor} · results in ${folder}/`));
  out();

  const started = Date.now();
  const { runId, graph } = await platform.startRun(pipeline, {}, { file: pipelineFile });
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
  const nodes = await platform.store.getNodes(runId);
  const tasks = nodes.filter((n) => n.spec.kind === 'task');
  const cached = tasks.filter((n) => n.cachedFrom);
  out();

  const explore = (): void => {
    out(c.bold('Explore'));
    out(`  npx baton show ${runId}                 ${c.gray('# the graph: states, durations, cache hits, models')}`);
    out(`  npx baton logs ${runId}                 ${c.gray('# what every task printed')}`);
    out(`  npx baton logs ${runId} 'weather.train[0]'  ${c.gray('# one task')}`);
    out(`  npx baton runs                                       ${c.gray('# every run in this folder')}`);
    if (outcome.status !== 'succeeded') out(`  npx baton resume ${runId}               ${c.gray('# re-run what failed, keep the rest')}`);
    else out(`  npm run demo                                         ${c.gray('# again: served from the cache')}`);
  };

  if (outcome.status !== 'succeeded' || !outcome.output) {
    out(c.red(`Run ${runId} ${outcome.status} after ${duration(took)}.`));
    if (outcome.error) out(c.red(outcome.error));
    for (const n of nodes.filter((x) => x.state === 'failed')) out(c.red(`  ${n.id}: ${(n.error ?? '').split('\n')[0]}`));
    out();
    explore();
    return outcome.status === 'cancelled' ? 130 : 1;
  }

  const summary = (await decodeOutput(outcome.output, platform.artifacts)) as Summary;
  const { best, candidates, baseline, data, study } = summary;

  out(`${c.green('Run succeeded')} in ${duration(took)}: ${c.bold(runId)}`);
  out(
    cached.length === tasks.length
      ? c.cyan(`All ${tasks.length} tasks were cached (results reused from run ${[...new Set(cached.map((n) => n.cachedFrom!.split('/')[0]))].join(', ')}); nothing was recomputed.`)
      : `${cached.length} of ${tasks.length} tasks were cached${cached.length ? '' : ' (first run: everything was computed; run the demo again to see the cache at work)'}.`,
  );
  out(c.gray(`Metadata ${platform.store.url} · artifacts ${platform.config.artifacts}`));
  out();

  if (study) {
    // Trials are scored on a validation fold cut from the training days: the test days never chose the params.
    const { counts, iterations, best: top } = study;
    const saved = iterations.budget > 0 ? Math.round((100 * (iterations.budget - iterations.run)) / iterations.budget) : 0;
    out(c.bold(`Tuning logreg (TPE sampler, median pruner) on ${top.validation.nValidation} validation days cut from the training days`));
    out(`  ${study.trials} trials: ${c.green(`${counts.complete} complete`)}, ${c.yellow(`${counts.pruned} pruned`)} early${counts.failed ? `, ${c.red(`${counts.failed} failed`)}` : ''} ${c.gray(`(pruning skipped ${saved}% of the training iterations)`)}`);
    out(`  best     #${top.number}: validation macro-F1 ${c.bold(pct(top.validation.macroF1))}  ${paramsText(top.params)}  ${c.gray(`→ candidate "${TUNED_CANDIDATE}"`)}`);
    out(`  ${c.gray(`npx baton study ${runId}   # every trial: params, reports, pruned or not`)}`);
    out();
  }

  out(c.bold(`Candidates (${candidates.length}), best first by macro-F1 on ${data.nTest} held-out days (trained on ${data.nTrain})`));
  out(
    table(
      candidates.map((r, i) => [
        i === 0 ? c.green('★') : String(i + 1),
        i === 0 ? c.green(r.name) : r.name,
        pct(r.macroF1),
        pct(r.accuracy),
        `${r.trainMs}ms`,
        c.gray(r.model.sha256.slice(0, 12)),
      ]),
      ['#', 'model', 'macro-F1', 'accuracy', 'train', 'model artifact'],
    ),
  );
  out(c.gray(`Baseline (always "${baseline.label}"): macro-F1 ${pct(baseline.macroF1)}, accuracy ${pct(baseline.accuracy)}`));
  out();

  out(`${c.bold('Winner')}: ${c.green(best.name)}  macro-F1 ${c.bold(pct(best.metrics.macroF1))}  accuracy ${c.bold(pct(best.metrics.accuracy))}`);
  out(`  params   ${paramsText(best.params)}`);
  out(`  F1       ${Object.entries(best.metrics.f1).map(([k, v]) => `${k} ${pct(v)}`).join(' · ')}`);
  const modelPath = await platform.artifacts.localPath(best.model.sha256).catch(() => best.model.sha256);
  out(`  model    ${show(modelPath)} ${c.gray(`(${(best.model.size / 1024).toFixed(1)} KiB, JSON)`)}`);
  out();

  // The workflow registered the winner (weather.register). A cached register task registered nothing new: its
  // output is the registration of the run that trained, whose version stands. The version becomes `champion` only
  // through a gate: not worse on macro-F1 than the current champion (a worse winner is refused, and recorded).
  const registered = await platform.models.registered(summary.model);
  const ref = `${MODEL_NAME}@${registered.version}`;
  const by = registered.lineage?.runId;
  const origin = `  registered by ${registered.lineage?.nodeId ?? 'weather.register'} ${by === runId ? 'in this run' : `in run ${by} (this run reused its result from the cache)`}`;
  try {
    const promoted = await platform.models.promote(MODEL_NAME, registered.version, {
      gate: { metrics: [{ name: 'macroF1', direction: 'maximize', minDelta: 0 }] },
      reason: `winner of run ${runId}`,
    });
    const verb = promoted.status === 'unchanged' ? 'is already' : 'is now';
    out(`${c.bold('Registry')}: ${ref} ${verb} ${c.green('champion')} ${c.gray('(gate: macro-F1 not worse than the previous champion)')}`);
  } catch (err) {
    if (!(err instanceof GateRefused)) throw err;
    out(`${c.bold('Registry')}: ${ref} registered; the gate kept the current champion: ${err.message.split('\n')[0]}`);
  }
  out(c.gray(origin));
  out(c.gray(`  npx baton models show ${MODEL_NAME}@champion   # metrics, lineage (run, task, code, inputs), alias history`));
  out();
  explore();
  return 0;
}

const platform = await openPlatform();
try {
  process.exitCode = await demo(platform);
} catch (err) {
  process.stderr.write(`${c.red('The demo failed:')} ${messageOf(err)}\n`);
  process.exitCode = 1;
} finally {
  await platform.close();
}
