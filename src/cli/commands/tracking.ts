/**
 * `baton runs search "FILTER"` and `baton runs compare A B C`: tracking runs from the command line. Thin: parsing
 * and rendering only; search and details come from the metadata store. A malformed filter is a usage error (exit
 * 2) whose message points at the mistake with a caret. Compare (also for one run) shows params, latest metrics,
 * tags and logged artifacts.
 */
import type { Command } from 'commander';
import type { Platform } from '../../composition/platform.ts';
import { BatonError } from '../../errors.ts';
import type { TrackingRunDetails } from '../../ports/tracking.ts';
import { c, duration, stateLabel, table, when } from '../format.ts';
import { bytes } from './datasets.ts';
import { positiveInt } from '../params.ts';

type WithPlatform = (fn: (p: Platform) => Promise<void>) => Promise<void>;

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const num = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));

/** Params and latest metrics of several runs side by side; rows whose values differ are marked with `*`. */
export function renderCompare(runs: TrackingRunDetails[]): string {
  const rows: string[][] = [];
  const section = (title: string, values: (r: TrackingRunDetails) => Record<string, string>) => {
    const keys = [...new Set(runs.flatMap((r) => Object.keys(values(r))))].sort();
    if (!keys.length) return;
    rows.push([c.bold(title), ...runs.map(() => '')]);
    for (const k of keys) {
      const cells = runs.map((r) => values(r)[k] ?? '–');
      const differs = new Set(cells).size > 1;
      rows.push([`${differs ? c.yellow('*') : ' '} ${k}`, ...cells.map((v) => (differs ? c.yellow(v) : v))]);
    }
  };
  rows.push(['  experiment', ...runs.map((r) => r.experiment)], ['  status', ...runs.map((r) => stateLabel(r.status))], ['  took', ...runs.map((r) => duration(r.endTime === undefined ? undefined : r.endTime - r.startTime))]);
  section('params', (r) => r.params);
  section('metrics', (r) => Object.fromEntries(Object.entries(r.metrics).map(([k, m]) => [k, num(m.value)])));
  section('tags', (r) => r.tags);
  section('artifacts', (r) => Object.fromEntries(Object.entries(r.artifacts ?? {}).map(([k, a]) => [k, artifactCell(a.handle)])));
  return `${table(rows, ['', ...runs.map((r) => r.name ? `${r.id} (${r.name})` : r.id)])}\n${c.gray('* values differ')}`;
}

/** `dataset flights@3 3f2a…c1 (1.2 MiB)`, `file 3f2a…c1 (1.2 MiB)`, `dir 3f2a…c1 (12 files, 1.2 MiB)`: equal cells mean equal content. */
function artifactCell(h: TrackingRunDetails['artifacts'][string]['handle']): string {
  const sha = `${h.sha256.slice(0, 12)}`;
  if ('dataset' in h) return `dataset ${h.dataset.name}${h.dataset.version !== undefined ? `@${h.dataset.version}` : ''} ${sha} (${bytes(h.size)})`;
  if (h.$artifact === 'dir') return `dir ${sha} (${h.files} files, ${bytes(h.size)})`;
  return `file ${sha} (${bytes(h.size)})`;
}

/**
 * `baton runs` has its own -n/--limit and --json, and commander gives a parent's option to the parent wherever it
 * appears on the line: `runs search F -n 5 --json` sets the parent's. Take the parent's value when it came from
 * the command line.
 */
function opt<T>(cmd: Command, name: string, local: T): T {
  const parent = cmd.parent;
  return parent && parent.getOptionValueSource(name) === 'cli' ? (parent.getOptionValue(name) as T) : local;
}

export function trackingCommands(runs: Command, withPlatform: WithPlatform): void {
  runs
    .command('search')
    .description(`search tracking runs, e.g. "metrics.auc > 0.8 and (params.model = 'rf' or params.depth >= 6)"`)
    .argument('[filter]', 'filter over metrics., params., tags. and attributes.', '')
    .option('--order-by <terms>', 'e.g. "metrics.auc desc, attributes.start_time"')
    .option('-e, --experiment <name>', 'only runs of this experiment (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('-n, --limit <n>', 'how many', positiveInt('--limit'), 50)
    .option('--page-token <token>', 'the next page, as printed by the previous one')
    .option('--json', 'JSON lines (runs with params and metrics)')
    .action(async (filter: string, local: { orderBy?: string; experiment: string[]; limit: number; pageToken?: string; json?: boolean }, cmd: Command) => {
      const o = { ...local, limit: opt(cmd, 'limit', local.limit), json: opt(cmd, 'json', local.json) };
      await withPlatform(async (p) => {
        const page = await p.store.searchRuns({
          filter,
          limit: o.limit,
          ...(o.orderBy ? { orderBy: o.orderBy } : {}),
          ...(o.experiment.length ? { experiments: o.experiment } : {}),
          ...(o.pageToken ? { pageToken: o.pageToken } : {}),
        });
        if (o.json) {
          for (const r of page.runs) out(JSON.stringify(await p.store.getTrackingRun(r.id)));
          if (page.nextPageToken) out(JSON.stringify({ nextPageToken: page.nextPageToken }));
          return;
        }
        if (!page.runs.length) return out(c.gray('No tracking runs match.'));
        out(table(page.runs.map((r) => [r.id, r.experiment, r.name ?? '', stateLabel(r.status), when(r.startTime), duration(r.endTime === undefined ? undefined : r.endTime - r.startTime)]), ['run', 'experiment', 'name', 'status', 'started', 'took']));
        if (page.nextPageToken) out(c.gray(`more: --page-token ${page.nextPageToken}`));
      });
    });

  runs
    .command('compare')
    .description('params, latest metrics, tags and artifacts of tracking runs side by side, differences marked')
    .argument('<runs...>', 'tracking run ids (a workflow run id, or RUN/TASK/ATTEMPT for a task attempt)')
    .option('--json', 'the runs as JSON')
    .action(async (ids: string[], local: { json?: boolean }, cmd: Command) => {
      const o = { json: opt(cmd, 'json', local.json) };
      await withPlatform(async (p) => {
        const found = await Promise.all(ids.map((id) => p.store.getTrackingRun(id)));
        const missing = ids.filter((_, i) => !found[i]);
        if (missing.length) throw new BatonError('not_found', `No tracking run ${missing.map((m) => `"${m}"`).join(', ')}. Find ids with \`baton runs search\`.`);
        const details = found as TrackingRunDetails[];
        if (o.json) return out(JSON.stringify(details, null, 2));
        out(renderCompare(details));
      });
    });
}
