/**
 * `diffProfiles(a, b)`: what changed from profile `a` (the reference, e.g. the previous dataset version or the
 * training data) to profile `b`: schema (added / removed / retyped columns), row count, per-column statistics, and
 * a drift score per column. `formatDiff` renders it for humans (`baton datasets diff`).
 *
 * Drift, as in Evidently / whylogs: the Population Stability Index, PSI = Σ (q − p) · ln(q / p) over bins, with
 * empty bins smoothed to `epsilon` (0 … 0.1 none, 0.1 … 0.2 moderate, ≥ 0.2 significant: the default threshold),
 * and the Jensen–Shannon distance (√ of the base-2 JS divergence, in [0, 1], no smoothing needed).
 * - Numeric columns: over a's histogram bins plus one bin below and one above a's range. When b was profiled with
 *   `binsFrom: a` the bins are identical and the score is exact; otherwise b's histogram is re-binned onto a's
 *   edges assuming values spread uniformly within each of b's bins.
 * - String / boolean columns: over the union of both top-k lists plus an "other" bucket. Exact when both columns
 *   have at most k distinct values; beyond that a value outside one side's top-k is counted in that side's "other".
 * Nulls are left out of both distributions; their change shows in `nullShare`.
 */
import type { ColumnKind } from '../../ports/offline.ts';
import { PROFILE_VERSION, ProfileError, QUANTILES, type ColumnProfile, type DatasetProfile, type Histogram, type QuantileKey } from './profile.ts';

export interface DiffOptions {
  /** PSI at or above which a column counts as drifted. @default 0.2 */
  psiThreshold?: number;
  /** Share substituted for empty bins in PSI. @default 1e-4 */
  epsilon?: number;
}

/** A statistic in a and in b; `delta` is b − a when both are known. */
export interface Change {
  a: number | null;
  b: number | null;
  delta: number | null;
}

export interface Drift {
  /** What the distributions were built from. */
  basis: 'histogram' | 'top_values';
  psi: number;
  jensenShannon: number;
  drifted: boolean;
  /** Bins compared (histogram bins + below + above, or categories + other). */
  bins: number;
}

export interface ColumnDiff {
  name: string;
  kind: { a: ColumnKind; b: ColumnKind };
  count: Change;
  nullShare: Change;
  distinct: Change;
  min?: Change;
  max?: Change;
  mean?: Change;
  std?: Change;
  quantiles?: Record<QuantileKey, Change>;
  temporal?: { min: { a: string | null; b: string | null }; max: { a: string | null; b: string | null } };
  /** null when the column is empty on either side or its kinds cannot be compared (e.g. numeric → string). */
  drift: Drift | null;
}

export interface SchemaColumn {
  name: string;
  type: string;
  kind: ColumnKind;
}

export interface ProfileDiff {
  version: typeof PROFILE_VERSION;
  a: { source: string; rows: number };
  b: { source: string; rows: number };
  rows: Change;
  schema: { added: SchemaColumn[]; removed: SchemaColumn[]; retyped: { name: string; from: SchemaColumn; to: SchemaColumn }[] };
  /** Columns present in both, in b's order. */
  columns: ColumnDiff[];
  /** Names of columns whose PSI reached the threshold. */
  drifted: string[];
  psiThreshold: number;
  /** Training sets: the version of each feature view in a and in b (null where one was not used). */
  featureViews?: { name: string; a: string | null; b: string | null }[];
}


const change = (a: number | null | undefined, b: number | null | undefined): Change => {
  const x = a ?? null;
  const y = b ?? null;
  return { a: x, b: y, delta: x === null || y === null ? null : y - x };
};

function check(profile: DatasetProfile, which: string): void {
  if (!profile || profile.version !== PROFILE_VERSION || !Array.isArray(profile.columns)) {
    throw new ProfileError('invalid_profile', `Profile ${which} is not a version ${PROFILE_VERSION} DatasetProfile (from profileSource); got version ${String((profile as { version?: unknown } | undefined)?.version)}.`);
  }
}

export function diffProfiles(a: DatasetProfile, b: DatasetProfile, options: DiffOptions = {}): ProfileDiff {
  check(a, 'a');
  check(b, 'b');
  const psiThreshold = options.psiThreshold ?? 0.2;
  const epsilon = options.epsilon ?? 1e-4;
  if (!(psiThreshold > 0) || !(epsilon > 0 && epsilon < 1)) throw new ProfileError('invalid_options', `psiThreshold must be > 0 and epsilon in (0, 1); got ${psiThreshold} and ${epsilon}.`);

  const schemaOf = (c: ColumnProfile): SchemaColumn => ({ name: c.name, type: c.type, kind: c.kind });
  const inA = new Map(a.columns.map((c) => [c.name, c]));
  const inB = new Map(b.columns.map((c) => [c.name, c]));
  const added = b.columns.filter((c) => !inA.has(c.name)).map(schemaOf);
  const removed = a.columns.filter((c) => !inB.has(c.name)).map(schemaOf);
  const retyped: ProfileDiff['schema']['retyped'] = [];
  const columns: ColumnDiff[] = [];
  for (const cb of b.columns) {
    const ca = inA.get(cb.name);
    if (!ca) continue;
    if (ca.type !== cb.type || ca.kind !== cb.kind) retyped.push({ name: cb.name, from: schemaOf(ca), to: schemaOf(cb) });
    columns.push(diffColumn(ca, cb, psiThreshold, epsilon));
  }
  return {
    version: PROFILE_VERSION,
    a: { source: a.source, rows: a.rows },
    b: { source: b.source, rows: b.rows },
    rows: change(a.rows, b.rows),
    schema: { added, removed, retyped },
    columns,
    drifted: columns.filter((c) => c.drift?.drifted).map((c) => c.name),
    psiThreshold,
    ...(a.featureViews || b.featureViews ? { featureViews: diffViews(a.featureViews ?? [], b.featureViews ?? []) } : {}),
  };
}

function diffViews(a: { name: string; version: string }[], b: { name: string; version: string }[]): NonNullable<ProfileDiff['featureViews']> {
  const names = [...new Set([...a, ...b].map((v) => v.name))];
  return names.map((name) => ({ name, a: a.find((v) => v.name === name)?.version ?? null, b: b.find((v) => v.name === name)?.version ?? null }));
}

function diffColumn(a: ColumnProfile, b: ColumnProfile, threshold: number, epsilon: number): ColumnDiff {
  const d: ColumnDiff = {
    name: b.name,
    kind: { a: a.kind, b: b.kind },
    count: change(a.count, b.count),
    nullShare: change(a.nullShare, b.nullShare),
    distinct: change(a.distinct, b.distinct),
    drift: null,
  };
  let dist: [number[], number[]] | null = null;
  let basis: Drift['basis'] = 'histogram';
  if (a.numeric && b.numeric) {
    const [x, y] = [a.numeric, b.numeric];
    d.min = change(x.min, y.min);
    d.max = change(x.max, y.max);
    d.mean = change(x.mean, y.mean);
    d.std = change(x.std, y.std);
    d.quantiles = Object.fromEntries((Object.keys(QUANTILES) as QuantileKey[]).map((k) => [k, change(x.quantiles[k], y.quantiles[k])])) as Record<QuantileKey, Change>;
    dist = histogramDistributions(x.histogram, y.histogram);
  } else if (a.top && b.top) {
    basis = 'top_values';
    dist = categoryDistributions(a, b);
  }
  if (a.temporal && b.temporal) d.temporal = { min: { a: a.temporal.min, b: b.temporal.min }, max: { a: a.temporal.max, b: b.temporal.max } };
  if (dist) {
    const [p, q] = dist;
    const psi = populationStabilityIndex(p, q, epsilon);
    const js = jensenShannonDistance(p, q);
    if (psi !== null && js !== null) d.drift = { basis, psi, jensenShannon: js, drifted: psi >= threshold, bins: p.length };
  }
  return d;
}

const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);

/** a's bins as [below, ...counts, above]; b's counts on the same bins. null when a has no bins. */
function histogramDistributions(a: Histogram, b: Histogram): [number[], number[]] | null {
  if (a.edges.length < 2) return null;
  const p = [a.below, ...a.counts, a.above];
  if (b.edges.length < 2) return [p, new Array<number>(p.length).fill(0)];
  const same = a.edges.length === b.edges.length && a.edges.every((e, i) => e === b.edges[i]);
  return [p, same ? [b.below, ...b.counts, b.above] : rebin(b, a.edges)];
}

/**
 * Moves b's counts onto `edges` (length n + 1), returning n + 2 counts: below, the n bins, above. Each of b's bins
 * is spread uniformly over its width (a zero-width bin is a point); b's own below/above go to the nearest end.
 */
export function rebin(b: Histogram, edges: number[]): number[] {
  const n = edges.length - 1;
  const lo = edges[0]!;
  const hi = edges[n]!;
  const width = (hi - lo) / n;
  const out = new Array<number>(n + 2).fill(0);
  const point = (x: number, count: number) => {
    if (x < lo) out[0]! += count;
    else if (x > hi) out[n + 1]! += count;
    else out[1 + (width === 0 ? 0 : Math.min(Math.floor((x - lo) / width), n - 1))]! += count;
  };
  const bLo = b.edges[0]!;
  const bHi = b.edges[b.edges.length - 1]!;
  point(bLo <= lo ? -Infinity : bLo, b.below);
  point(bHi >= hi ? Infinity : bHi, b.above);
  for (let i = 0; i < b.counts.length; i++) {
    const count = b.counts[i]!;
    if (!count) continue;
    const l = b.edges[i]!;
    const h = b.edges[i + 1]!;
    if (h <= l) {
      point(l, count);
      continue;
    }
    const share = (from: number, to: number) => Math.max(0, Math.min(h, to) - Math.max(l, from)) / (h - l);
    out[0]! += count * share(-Infinity, lo);
    out[n + 1]! += count * share(hi, Infinity);
    for (let j = 0; j < n; j++) out[j + 1]! += count * share(edges[j]!, edges[j + 1]!);
  }
  return out;
}

/** Counts over the union of both top-k lists, plus each side's remaining non-null values as "other". */
function categoryDistributions(a: ColumnProfile, b: ColumnProfile): [number[], number[]] {
  const ca = new Map(a.top!.values.map((v) => [v.value, v.count]));
  const cb = new Map(b.top!.values.map((v) => [v.value, v.count]));
  const keys = [...new Set([...ca.keys(), ...cb.keys()])];
  const p = keys.map((k) => ca.get(k) ?? 0);
  const q = keys.map((k) => cb.get(k) ?? 0);
  p.push(Math.max(0, a.count - sum(p)));
  q.push(Math.max(0, b.count - sum(q)));
  return [p, q];
}

/** PSI of q against the reference p (counts), empty bins smoothed to `epsilon`; null if either side is empty. */
export function populationStabilityIndex(p: number[], q: number[], epsilon = 1e-4): number | null {
  const sp = sum(p);
  const sq = sum(q);
  if (!(sp > 0) || !(sq > 0)) return null;
  let psi = 0;
  for (let i = 0; i < p.length; i++) {
    const x = Math.max(p[i]! / sp, epsilon);
    const y = Math.max((q[i] ?? 0) / sq, epsilon);
    psi += (y - x) * Math.log(y / x);
  }
  return Math.max(0, psi);
}

/** √(JS divergence, base 2) of two count vectors: 0 for identical distributions, 1 for disjoint ones. */
export function jensenShannonDistance(p: number[], q: number[]): number | null {
  const sp = sum(p);
  const sq = sum(q);
  if (!(sp > 0) || !(sq > 0)) return null;
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const x = p[i]! / sp;
    const y = (q[i] ?? 0) / sq;
    const m = (x + y) / 2;
    if (x > 0) js += 0.5 * x * Math.log2(x / m);
    if (y > 0) js += 0.5 * y * Math.log2(y / m);
  }
  return Math.sqrt(Math.min(1, Math.max(0, js)));
}

// ——— formatting ———

const fmt = (x: number | null | undefined): string => {
  if (x === null || x === undefined) return '–';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toLocaleString('en-US');
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e9) ? x.toExponential(2) : String(Number(x.toPrecision(4)));
};
const pct = (x: number | null): string => (x === null ? '–' : `${Number((x * 100).toPrecision(3))}%`);
const arrow = (c: Change | undefined, f: (x: number | null) => string = fmt): string => (!c ? '' : c.a === c.b ? f(c.a) : `${f(c.a)} → ${f(c.b)}`);

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A plain-text report: header with row counts, schema changes, then one line per shared column. */
export function formatDiff(diff: ProfileDiff): string {
  const out: string[] = [];
  const r = diff.rows;
  const rel = r.a ? ` (${r.delta! >= 0 ? '+' : ''}${Number(((r.delta! / r.a) * 100).toPrecision(3))}%)` : '';
  out.push(`${diff.a.source} → ${diff.b.source}`);
  out.push(`rows: ${arrow(r)}${r.delta ? rel : ' (unchanged)'}`);
  const { added, removed, retyped } = diff.schema;
  if (!added.length && !removed.length && !retyped.length) out.push('schema: unchanged');
  else {
    out.push('schema:');
    for (const c of added) out.push(`  + ${c.name} ${c.type}`);
    for (const c of removed) out.push(`  - ${c.name} ${c.type}`);
    for (const c of retyped) out.push(`  ~ ${c.name} ${c.from.type} → ${c.to.type}`);
  }
  if (diff.featureViews) {
    const v = (version: string | null) => (version === null ? '∅' : version.slice(0, 12));
    out.push(`feature views: ${diff.featureViews.map((f) => (f.a === f.b ? `${f.name} ${v(f.a)} (unchanged)` : `${f.name} ${v(f.a)} → ${v(f.b)}`)).join(', ')}`);
  }
  if (diff.columns.length) {
    out.push('');
    const rows = diff.columns.map((c) => [
      c.drift?.drifted ? `! ${c.name}` : `  ${c.name}`,
      arrow(c.nullShare, pct),
      arrow(c.distinct),
      c.mean ? arrow(c.mean) : c.temporal ? `${c.temporal.min.b ?? '–'} … ${c.temporal.max.b ?? '–'}` : '',
      c.quantiles ? arrow(c.quantiles.p50) : '',
      c.drift ? fmt(c.drift.psi) : '–',
      c.drift ? fmt(c.drift.jensenShannon) : '–',
    ]);
    out.push(...table(['  column', 'nulls', 'distinct', 'mean / range', 'p50', 'PSI', 'JS'], rows));
  }
  out.push('');
  out.push(diff.drifted.length ? `drift (PSI ≥ ${diff.psiThreshold}): ${diff.drifted.join(', ')}` : `no column drifted (PSI < ${diff.psiThreshold})`);
  return out.join('\n');
}
