/**
 * `baton study RUN [STUDY]`: a hyperparameter study of a run (finished or running) — its set-up, progress, best
 * trial, the trial table and the optimization history (best value after each finished trial). Thin: the reading
 * lives in src/studies/read.ts.
 */
import type { Command } from 'commander';
import type { Platform } from '../../composition/platform.ts';
import { BatonError } from '../../errors.ts';
import type { StudyView, TrialRow } from '../../studies/read.ts';
import { c, duration, stateLabel, table } from '../format.ts';
import { positiveInt } from '../params.ts';

type WithPlatform = (fn: (p: Platform) => Promise<void>) => Promise<void>;

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const num = (n: number | undefined): string => (n === undefined ? '-' : String(Number(n.toPrecision(6))));

function paramsText(p: Record<string, unknown>, prefix = ''): string {
  return Object.entries(p)
    .map(([k, v]) => (v !== null && typeof v === 'object' ? paramsText(v as Record<string, unknown>, `${prefix}${k}.`) : `${prefix}${k}=${typeof v === 'number' ? num(v) : String(v)}`))
    .join(' ');
}

const trialState = (s: TrialRow['state']): string => (s === 'complete' ? c.green('complete') : s === 'pruned' || s === 'cancelled' ? c.yellow(s) : s === 'failed' ? c.red('failed') : c.blue(s));

export function renderStudy(v: StudyView, options: { sort?: 'number' | 'value'; limit?: number; history?: boolean } = {}): string {
  const s = v.spec;
  const sampler = Object.entries(s.sampler).map(([k, x]) => (k === 'type' ? String(x) : `${k}=${String(x)}`)).join(' ');
  const pruner = s.pruner ? Object.entries(s.pruner).map(([k, x]) => (k === 'type' ? String(x) : `${k}=${String(x)}`)).join(' ') : 'none';
  const done = v.counts.complete + v.counts.pruned + v.counts.failed;
  const lines = [
    `${c.bold(`study ${v.id}`)} of run ${v.runId} (${stateLabel(v.state)})`,
    `objective  task ${v.task}, ${s.direction} ${s.metric ?? 'its output'}`,
    `sampler    ${sampler}, seed ${String(s.seed)}`,
    `pruner     ${pruner}`,
    `trials     ${done}/${s.trials} finished: ${v.counts.complete} complete, ${v.counts.pruned} pruned, ${v.counts.failed} failed${v.counts.cancelled ? `, ${v.counts.cancelled} cancelled` : ''}${v.counts.running + v.counts.pending ? `; ${v.counts.running + v.counts.pending} running` : ''} (parallelism ${s.parallelism})`,
    v.best ? `best       #${v.best.number} ${c.bold(num(v.best.value))}  ${paramsText(v.best.params)}` : `best       ${c.gray('no complete trial yet')}`,
    '',
  ];
  const bestSoFar = new Map(v.history.map((h) => [h.number, h.best]));
  let rows = [...v.trials];
  if (options.sort === 'value') {
    const sign = s.direction === 'minimize' ? 1 : -1;
    rows.sort((a, b) => (a.value === undefined ? 1 : b.value === undefined ? -1 : sign * (a.value - b.value)) || a.number - b.number);
  }
  if (options.limit !== undefined) rows = rows.slice(0, options.limit);
  lines.push(
    table(
      rows.map((t) => [
        `${t.number === v.best?.number ? c.bold('*') : ' '}${t.number}`,
        trialState(t.state),
        num(t.value),
        num(bestSoFar.get(t.number)),
        t.intermediate.length ? String(t.intermediate.at(-1)![0]) : '-',
        t.startedAt !== undefined && t.endedAt !== undefined ? duration(t.endedAt - t.startedAt) : '-',
        paramsText(t.params) + (t.error ? c.red(`  ${t.error.split('\n')[0]}`) : ''),
      ]),
      ['#', 'state', 'value', 'best so far', 'last step', 'time', 'params'],
    ),
  );
  if (options.history) {
    lines.push('', c.bold('optimization history (best value after each finished trial)'));
    const finished = v.history.filter((h) => h.best !== undefined);
    const values = finished.map((h) => h.best!);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    for (const h of finished) {
      const width = hi === lo ? 40 : Math.round(((h.best! - lo) / (hi - lo)) * 39) + 1;
      lines.push(`${String(h.number).padStart(4)} ${num(h.best).padStart(10)} ${'█'.repeat(width)}`);
    }
  }
  return lines.join('\n');
}

export function studyCommands(program: Command, withPlatform: WithPlatform): void {
  program
    .command('study')
    .description('show a hyperparameter study of a run: best trial, trial table, optimization history')
    .argument('<run>', 'run id (or a unique prefix)')
    .argument('[study]', "the study's node id (needed when the run has several)")
    .option('--sort <key>', 'order trials by number or value', 'number')
    .option('--limit <n>', 'show at most n trials', positiveInt('--limit'))
    .option('--history', 'also draw the best value after each trial')
    .option('--json', 'print the study as JSON')
    .action(async (id: string, studyId: string | undefined, o: { sort: string; limit?: number; history?: boolean; json?: boolean }) => {
      if (o.sort !== 'number' && o.sort !== 'value') throw new BatonError('usage', `--sort ${o.sort}: sort trials by "number" or "value".`);
      await withPlatform(async (p) => {
        const runId = await p.resolveRunId(id);
        const { readStudy } = await import('../../studies/read.ts');
        const view = await readStudy(p.store, p.artifacts, runId, studyId);
        if (o.json) return out(JSON.stringify(view, null, 2));
        out(renderStudy(view, { sort: o.sort === 'value' ? 'value' : 'number', ...(o.limit !== undefined ? { limit: o.limit } : {}), ...(o.history ? { history: true } : {}) }));
      });
    });
}
