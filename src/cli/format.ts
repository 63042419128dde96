/** Small text helpers for the CLI: durations, colours (only on a TTY), tables, state symbols. */
import type { NodeState } from '../ports/metadata.ts';

const useColor = (): boolean => !!process.stdout.isTTY && !process.env.NO_COLOR;

const wrap = (code: number) => (s: string) => (useColor() ? `\x1b[${code}m${s}\x1b[0m` : s);
export const c = { green: wrap(32), red: wrap(31), yellow: wrap(33), blue: wrap(34), gray: wrap(90), bold: wrap(1), cyan: wrap(36) };

export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}

export function when(at: number | undefined): string {
  if (at === undefined) return '-';
  return new Date(at).toISOString().replace('T', ' ').slice(0, 19);
}

export function stateLabel(state: NodeState | string, cached = false): string {
  switch (state) {
    case 'succeeded':
      return cached ? c.cyan('cached') : c.green('succeeded');
    case 'failed':
      return c.red('failed');
    case 'upstream_failed':
      return c.red('upstream_failed');
    case 'running':
      return c.blue('running');
    case 'retrying':
      return c.yellow('retrying');
    case 'cancelled':
      return c.yellow('cancelled');
    case 'skipped':
      return c.gray('skipped');
    default:
      return c.gray(String(state));
  }
}

// eslint-disable-next-line no-control-regex -- strips ANSI colour codes
const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header.map((h) => c.bold(h)), ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, strip(cell).length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - strip(cell).length))).join('  ')).join('\n');
}
