/**
 * `baton datasets register|list|show|diff`: named, versioned datasets from the command line. Thin: parsing and
 * rendering only; the rules live in src/data/datasets/service.ts (`platform.datasets`).
 */
import { Option, type Command } from 'commander';
import type { Platform } from '../../composition/platform.ts';
import type { DatasetDetails } from '../../data/datasets/service.ts';
import type { ColumnProfile } from '../../data/profiling/index.ts';
import type { AttemptRef } from '../../ports/metadata.ts';
import { c, table, when } from '../format.ts';

type WithPlatform = (fn: (p: Platform) => Promise<void>) => Promise<void>;

const out = (s: string): void => void process.stdout.write(`${s}\n`);

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

const num = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : String(Number(n.toPrecision(4))));
const attemptText = (a: AttemptRef): string => `run ${a.runId} task ${a.nodeId} (attempt ${a.attempt})`;

/** One line per column: what its values look like. */
function columnSummary(p: ColumnProfile): string {
  if (p.numeric) return `${num(p.numeric.min)} … ${num(p.numeric.max)}, mean ${num(p.numeric.mean)}`;
  if (p.temporal) return `${p.temporal.min ?? '–'} … ${p.temporal.max ?? '–'}`;
  const top = p.top?.values[0];
  if (top) return `top ${JSON.stringify(top.value.length > 30 ? `${top.value.slice(0, 30)}…` : top.value)} (${top.count})`;
  return '';
}

export function renderDataset(d: DatasetDetails): string {
  const v = d.version;
  const lines = [
    `${c.bold(`dataset ${v.name}@${v.version}`)}${v.version === d.latest ? c.gray(' (latest)') : c.gray(` (latest is ${d.latest})`)}`,
    `sha256   ${v.sha256}`,
    `file     ${v.format}, ${bytes(v.size)}, ${v.rows} rows, ${v.schema.length} columns`,
    `created  ${when(v.createdAt)} ${d.lineage.producedBy ? `by ${attemptText(d.lineage.producedBy)}` : 'by registration (outside a workflow)'}`,
    `read by  ${d.lineage.readBy.length ? d.lineage.readBy.slice(0, 10).map(attemptText).join('\n         ') + (d.lineage.readBy.length > 10 ? `\n         … ${d.lineage.readBy.length - 10} more` : '') : c.gray('no task yet')}`,
    ...(d.featureViews?.length ? [`features ${d.featureViews.map((f) => `${f.name}@${f.version.slice(0, 12)}`).join(', ')} ${c.gray('(the feature views it was built from)')}`] : []),
    '',
  ];
  const profiles = new Map((d.profile?.columns ?? []).map((p) => [p.name, p]));
  lines.push(
    table(
      v.schema.map((col) => {
        const p = profiles.get(col.name);
        return [col.name, col.type, col.nullable ? 'yes' : 'no', p ? `${(p.nullShare * 100).toFixed(1)}%` : '–', p?.distinct === null || p === undefined ? '–' : String(p.distinct), p ? columnSummary(p) : ''];
      }),
      ['column', 'type', 'nullable', 'nulls', 'distinct', 'values'],
    ),
  );
  return lines.join('\n');
}

export function datasetCommands(program: Command, withPlatform: WithPlatform): void {
  const datasets = program.command('datasets').description('named, versioned datasets: register, list, show, diff');

  datasets
    .command('register')
    .description('register a data file as a new version of a dataset (the same content keeps its version)')
    .argument('<name>', 'dataset name, e.g. sales or raw/flights')
    .argument('<file>', 'CSV, Parquet or JSON file')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(['csv', 'parquet', 'json']))
    .option('--json', 'print the version as JSON')
    .action(async (name: string, file: string, o: { format?: string; json?: boolean }) => {
      await withPlatform(async (p) => {
        const { version, created } = await p.datasets.register(name, file, o.format ? { format: o.format } : {});
        if (o.json) return out(JSON.stringify({ ...version, created }));
        out(`${created ? c.green('registered') : c.cyan('unchanged')}  ${c.bold(`${version.name}@${version.version}`)}  ${version.rows} rows, ${version.schema.length} columns, ${bytes(version.size)}  sha256 ${version.sha256.slice(0, 12)}`);
        if (!created) out(c.gray(`The dataset already has this content as version ${version.version}; nothing new was stored.`));
      });
    });

  datasets
    .command('list')
    .description('list datasets with their latest version')
    .option('--json', 'JSON lines')
    .action(async (o: { json?: boolean }) => {
      await withPlatform(async (p) => {
        const list = await p.datasets.list();
        if (o.json) return list.forEach((d) => out(JSON.stringify(d)));
        if (list.length === 0) return out(c.gray('No datasets yet. Register one with `baton datasets register NAME FILE`, or write one in a task with ctx.datasets.write.'));
        out(table(list.map((d) => [d.name, String(d.latest), String(d.versions), when(d.updatedAt)]), ['dataset', 'latest', 'versions', 'updated']));
      });
    });

  datasets
    .command('show')
    .description('a version: schema, rows, size, sha, who produced it, which runs read it, profile summary')
    .argument('<ref>', 'NAME, NAME@VERSION, NAME@latest or NAME@SHA-PREFIX')
    .option('--json', 'the version, its lineage and its profile as JSON')
    .option('--versions', 'list every version of the dataset instead')
    .action(async (ref: string, o: { json?: boolean; versions?: boolean }) => {
      await withPlatform(async (p) => {
        if (o.versions) {
          const versions = await p.datasets.versions(ref.split('@')[0]!);
          if (o.json) return versions.forEach((v) => out(JSON.stringify(v)));
          return out(table(versions.map((v) => [String(v.version), v.sha256.slice(0, 12), String(v.rows), bytes(v.size), when(v.createdAt), v.producedBy ? `${v.producedBy.runId} ${v.producedBy.nodeId}` : c.gray('registered')]), ['version', 'sha256', 'rows', 'size', 'created', 'produced by']));
        }
        const details = await p.datasets.show(ref);
        out(o.json ? JSON.stringify(details, null, 2) : renderDataset(details));
      });
    });

  datasets
    .command('diff')
    .description('what changed between two versions: schema, row counts, per-column statistics and drift')
    .argument('<a>', 'NAME@VERSION (the reference)')
    .argument('<b>', 'NAME@VERSION, or just VERSION for the same dataset')
    .option('--json', 'the diff as JSON')
    .action(async (a: string, b: string, o: { json?: boolean }) => {
      await withPlatform(async (p) => {
        // `diff sales@1 2` compares two versions of one dataset.
        const second = a.includes('@') && /^([1-9][0-9]*|latest)$/.test(b) ? `${a.slice(0, a.lastIndexOf('@'))}@${b}` : b;
        const diff = await p.datasets.diff(a, second);
        const { formatDiff } = await import('../../data/profiling/diff.ts');
        out(o.json ? JSON.stringify(diff, null, 2) : formatDiff(diff));
      });
    });
}
