/** Terminal text for the example scripts: colours (only on a TTY, not with NO_COLOR), durations, aligned tables. */
const useColor = (): boolean => !!process.stdout.isTTY && !process.env.NO_COLOR;
const wrap = (code: number) => (s: string) => (useColor() ? `\x1b[${code}m${s}\x1b[0m` : s);
export const c = { green: wrap(32), red: wrap(31), yellow: wrap(33), gray: wrap(90), bold: wrap(1), cyan: wrap(36) };

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

// eslint-disable-next-line no-control-regex -- strips ANSI colour codes
const visible = (s: string): number => s.replace(/\x1b\[[0-9;]*m/g, '').length;

/** Rows as columns padded to their widest cell; the header in bold. */
export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header.map((h) => c.bold(h)), ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell)))).join('  ')).join('\n');
}
