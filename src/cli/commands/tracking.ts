/**
 * `baton runs search "FILTER"` and `baton runs compare A B C`: tracking runs from the command line. Thin: parsing
 * and rendering only; search and details come from the metadata store. A malformed filter is a usage error (exit
 * 2) whose message points at the mistake with a caret.
 */
import type { Command } from 'commander';
import type { Platform } from '../../composition/platform.ts';
import { BatonError } from '../../errors.ts';
import type { TrackingRunDetails } from '../../ports/tracking.ts';
import { c, duration, stateLabel, table, when } from '../format.ts';

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
  return `${table(rows, ['', ...runs.map((r) => r.name ? `${r.id} (${r.name})` : r.id)])}\n${c.gray('* values differ')}`;
}

export function trackingCommands(runs: Command, withPlatform: WithPlatform): void {
  runs
    .command('search')
    .description(`search tracking runs, e.g. "metrics.auc > 0.8 and (params.model = 'rf' or params.depth >= 6)"`)
    .argument('[filter]', 'filter over metrics., params., tags. and attributes.', '')
    .option('--order-by <terms>', 'e.g. "metrics.auc desc, attributes.start_time"')
    .option('-e, --experiment <name>', 'only runs of this experiment (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('-n, --limit <n>', 'how many', Number, 50)
    .option('--page-token <token>', 'the next page, as printed by the previous one')
    .option('--json', 'JSON lines (runs with params and metrics)')
    .action(async (filter: string, o: { orderBy?: string; experiment: string[]; limit: number; pageToken?: string; json?: boolean }) => {
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
    .description('params and latest metrics of tracking runs side by side, differences marked')
    .argument('<runs...>', 'tracking run ids (a workflow run id, or RUN/TASK/ATTEMPT for a task attempt)')
    .option('--json', 'the runs as JSON')
    .action(async (ids: string[], o: { json?: boolean }) => {
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
