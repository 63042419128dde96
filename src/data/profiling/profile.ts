/**
 * `profileSource(engine, source)`: per-column statistics of a data file, as a plain JSON object stored next to each
 * dataset version and used later by monitoring as the reference distribution.
 *
 * Modelled on TFDV's NumericStatistics / StringStatistics and whylogs' column profiles (counts, nulls, cardinality,
 * distribution, frequent items), computed in SQL through the OfflineEngine port in at most three scans:
 *   1. ONE aggregate pass: row count, and per column non-null count, distinct count (exact, or HyperLogLog),
 *      numeric min/max/mean/std/zeros/quantiles, string lengths, temporal min/max;
 *   2. ONE histogram pass for all numeric columns: equal-width bins between min and max (or the bin edges of a
 *      reference profile, `binsFrom`, so two profiles share bins and drift is computed exactly);
 *   3. ONE top-k pass for all string and boolean columns (an UNPIVOT + GROUP BY, counts of the k most frequent
 *      values); 2 and 3 run concurrently.
 *
 * Conventions: nulls are counted and left out of every distribution; for FLOAT/DOUBLE columns NaN and ±Infinity are
 * counted in `nonFinite` and left out of the numeric stats and the histogram, so the histogram's counts plus `below`
 * and `above` sum to `count - nonFinite`. `std` is the population standard deviation. An empty file with a header
 * profiles as 0 rows (every column's stats null, histograms and top-k empty): an empty version is a valid version,
 * and diffing against it shows the drop. A 0-byte file is an OfflineError from the engine.
 */
import { BatonError } from '../../errors.ts';
import type { FeatureViewRef } from '../datasets/feature-views.ts';
import { sourcePath, type Cell, type ColumnInfo, type ColumnKind, type OfflineEngine, type Row, type Source } from '../../ports/offline.ts';

export const PROFILE_VERSION = 1;

export const QUANTILES = { p1: 0.01, p5: 0.05, p25: 0.25, p50: 0.5, p75: 0.75, p95: 0.95, p99: 0.99 } as const;
export type QuantileKey = keyof typeof QUANTILES;
const QUANTILE_KEYS = Object.keys(QUANTILES) as QuantileKey[];

/** Equal-width bins: `counts[i]` values lie in [edges[i], edges[i+1]) (the last bin includes its upper edge). */
export interface Histogram {
  edges: number[];
  counts: number[];
  /** Values below edges[0] / above the last edge: only non-zero when the edges came from a reference (`binsFrom`). */
  below: number;
  above: number;
}

export interface NumericStats {
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Population standard deviation. */
  std: number | null;
  zeros: number;
  /** NaN and ±Infinity (FLOAT/DOUBLE only), left out of every other numeric stat. */
  nonFinite: number;
  quantiles: Record<QuantileKey, number | null>;
  histogram: Histogram;
}

export interface StringStats {
  minLength: number | null;
  maxLength: number | null;
  meanLength: number | null;
  /** Empty strings (not nulls). */
  empty: number;
}

export interface TopValues {
  /** The k most frequent non-null values, most frequent first (ties by value); booleans as 'true' / 'false'. */
  values: { value: string; count: number }[];
  /** Non-null values outside `values`. */
  other: number;
}

export interface ColumnProfile {
  name: string;
  /** The engine's type name, e.g. BIGINT (for messages). */
  type: string;
  kind: ColumnKind;
  /** Non-null values. */
  count: number;
  nulls: number;
  /** nulls / rows; 0 when there are no rows. */
  nullShare: number;
  /** Exact unless `distinct: 'approx'` (HyperLogLog); null for kinds it is not computed for (maps, unions…). */
  distinct: number | null;
  /** integer, float and decimal columns. */
  numeric?: NumericStats;
  /** string columns. */
  strings?: StringStats;
  /** string and boolean columns. */
  top?: TopValues;
  /** date, timestamp and time columns: ISO 8601 (date: YYYY-MM-DD; time: HH:MM:SS[.ffffff]). */
  temporal?: { min: string | null; max: string | null };
}

export interface DatasetProfile {
  version: typeof PROFILE_VERSION;
  /** The source's path as given. */
  source: string;
  rows: number;
  settings: { bins: number; topK: number; quantiles: 'exact' | 'approx'; distinct: 'exact' | 'approx' };
  columns: ColumnProfile[];
  /** For a training set: the feature views (name + version) it was built from, as its file records them. */
  featureViews?: FeatureViewRef[];
}

export interface ProfileOptions {
  /** Equal-width histogram bins per numeric column. @default 20 */
  bins?: number;
  /** Most frequent values kept per string/boolean column. @default 20 */
  topK?: number;
  /** Only these columns, in this order. @default every column */
  columns?: string[];
  /** `quantile_cont` (exact, sorts) or `approx_quantile` (t-digest). @default 'exact' */
  quantiles?: 'exact' | 'approx';
  /** `count(DISTINCT …)` or `approx_count_distinct` (HyperLogLog: cheaper memory on huge data, but DuckDB's is ~10% off even on 1.5k values). @default 'exact' */
  distinct?: 'exact' | 'approx';
  /** A reference profile whose histogram edges are reused for the numeric columns it shares with this one. */
  binsFrom?: DatasetProfile;
}

export type ProfileErrorReason = 'invalid_options' | 'unknown_column' | 'invalid_profile';

/** A profile request that cannot run as written (bad options, unknown columns, a reference that is not a profile). */
export class ProfileError extends BatonError {
  override readonly name = 'ProfileError';
  constructor(
    readonly reason: ProfileErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('data_invalid', message, options);
  }
}

const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const NUMERIC: ReadonlySet<ColumnKind> = new Set(['integer', 'float', 'decimal']);
const TEMPORAL: ReadonlySet<ColumnKind> = new Set(['date', 'timestamp', 'time']);
const CATEGORICAL: ReadonlySet<ColumnKind> = new Set(['string', 'boolean']);

const num = (cell: Cell | undefined): number | null => {
  if (cell === null || cell === undefined) return null;
  const n = Number(cell);
  return Number.isFinite(n) ? n : null;
};
const int = (cell: Cell | undefined): number => num(cell) ?? 0;

function temporal(cell: Cell | undefined, kind: ColumnKind): string | null {
  if (cell === null || cell === undefined) return null;
  if (cell instanceof Date) {
    if (Number.isNaN(cell.getTime())) return null;
    const iso = cell.toISOString();
    return kind === 'date' ? iso.slice(0, 10) : iso;
  }
  return String(cell);
}

function positiveInt(value: number | undefined, fallback: number, name: string, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new ProfileError('invalid_options', `Profile option ${name} must be a whole number from 1 to ${max}; got ${String(value)}.`);
  return value;
}

/** The reference's histogram edges per column, checked to be equal-width and finite. */
function referenceEdges(reference: DatasetProfile | undefined): Map<string, number[]> {
  const edges = new Map<string, number[]>();
  if (!reference) return edges;
  if (reference.version !== PROFILE_VERSION || !Array.isArray(reference.columns)) {
    throw new ProfileError('invalid_profile', `binsFrom must be a version ${PROFILE_VERSION} DatasetProfile (from profileSource); got version ${String((reference as { version?: unknown }).version)}.`);
  }
  for (const c of reference.columns) {
    const e = c.numeric?.histogram.edges;
    if (e && e.length >= 2 && e.every(Number.isFinite)) edges.set(c.name, e);
  }
  return edges;
}

export async function profileSource(engine: OfflineEngine, source: Source, options: ProfileOptions = {}): Promise<DatasetProfile> {
  const bins = positiveInt(options.bins, 20, 'bins', 1000);
  const topK = positiveInt(options.topK, 20, 'topK', 10_000);
  const quantileMode = options.quantiles ?? 'exact';
  const distinctMode = options.distinct ?? 'exact';
  if (quantileMode !== 'exact' && quantileMode !== 'approx') throw new ProfileError('invalid_options', `Profile option quantiles must be 'exact' or 'approx'; got ${String(quantileMode)}.`);
  if (distinctMode !== 'exact' && distinctMode !== 'approx') throw new ProfileError('invalid_options', `Profile option distinct must be 'exact' or 'approx'; got ${String(distinctMode)}.`);
  const refEdges = referenceEdges(options.binsFrom);

  const relation = await engine.relation(source);
  const all = await engine.describe(source);
  let columns: ColumnInfo[] = all;
  if (options.columns) {
    const byName = new Map(all.map((c) => [c.name, c]));
    const unknown = options.columns.filter((n) => !byName.has(n));
    if (unknown.length) {
      throw new ProfileError('unknown_column', `Cannot profile ${unknown.map((n) => `"${n}"`).join(', ')}: not a column of "${sourcePath(source)}". Its columns are: ${all.map((c) => c.name).join(', ')}.`);
    }
    columns = [...new Set(options.columns)].map((n) => byName.get(n)!);
  }

  // (1) The aggregate pass.
  const selects = ['count(*) AS "rows"'];
  columns.forEach((c, i) => {
    const col = ident(c.name);
    selects.push(`count(${col}) AS n${i}`);
    if (c.kind !== 'other') selects.push(`${distinctMode === 'exact' ? `count(DISTINCT ${col})` : `approx_count_distinct(${col})`} AS d${i}`);
    if (NUMERIC.has(c.kind)) {
      const finite = c.kind === 'float' ? ` FILTER (WHERE isfinite(${col}))` : '';
      const q = `[${QUANTILE_KEYS.map((k) => QUANTILES[k]).join(', ')}]`;
      selects.push(
        `min(${col})${finite} AS min${i}`,
        `max(${col})${finite} AS max${i}`,
        `avg(${col}::DOUBLE)${finite} AS mean${i}`,
        `stddev_pop(${col}::DOUBLE)${finite} AS std${i}`,
        `count(*) FILTER (WHERE ${col} = 0) AS zeros${i}`,
        `${quantileMode === 'exact' ? 'quantile_cont' : 'approx_quantile'}(${col}::DOUBLE, ${q})${finite} AS q${i}`,
      );
      if (c.kind === 'float') selects.push(`count(*) FILTER (WHERE NOT isfinite(${col})) AS nf${i}`);
    } else if (c.kind === 'string') {
      selects.push(`min(length(${col})) AS minlen${i}`, `max(length(${col})) AS maxlen${i}`, `avg(length(${col})) AS meanlen${i}`, `count(*) FILTER (WHERE ${col} = '') AS empty${i}`);
    } else if (TEMPORAL.has(c.kind)) {
      const cast = c.kind === 'time' ? '::VARCHAR' : '';
      selects.push(`min(${col})${cast} AS min${i}`, `max(${col})${cast} AS max${i}`);
    }
  });
  const [totals = {} as Row] = await engine.query(`SELECT ${selects.join(', ')} FROM ${relation}`);
  const rows = int(totals.rows);

  const profiles: ColumnProfile[] = columns.map((c, i) => {
    const count = int(totals[`n${i}`]);
    const nulls = rows - count;
    const p: ColumnProfile = { name: c.name, type: c.type, kind: c.kind, count, nulls, nullShare: rows ? nulls / rows : 0, distinct: c.kind === 'other' ? null : int(totals[`d${i}`]) };
    if (NUMERIC.has(c.kind)) {
      const q = totals[`q${i}`];
      const qs = Array.isArray(q) ? q : [];
      p.numeric = {
        min: num(totals[`min${i}`]),
        max: num(totals[`max${i}`]),
        mean: num(totals[`mean${i}`]),
        std: num(totals[`std${i}`]),
        zeros: int(totals[`zeros${i}`]),
        nonFinite: int(totals[`nf${i}`]),
        quantiles: Object.fromEntries(QUANTILE_KEYS.map((k, j) => [k, num(qs[j])])) as Record<QuantileKey, number | null>,
        histogram: { edges: [], counts: [], below: 0, above: 0 },
      };
    } else if (c.kind === 'string') {
      p.strings = { minLength: num(totals[`minlen${i}`]), maxLength: num(totals[`maxlen${i}`]), meanLength: num(totals[`meanlen${i}`]), empty: int(totals[`empty${i}`]) };
    } else if (TEMPORAL.has(c.kind)) {
      p.temporal = { min: temporal(totals[`min${i}`], c.kind), max: temporal(totals[`max${i}`], c.kind) };
    }
    if (CATEGORICAL.has(c.kind)) p.top = { values: [], other: count };
    return p;
  });

  // (2) + (3), concurrently.
  await Promise.all([histograms(engine, relation, columns, profiles, bins, refEdges), topValues(engine, relation, columns, profiles, topK)]);

  return { version: PROFILE_VERSION, source: sourcePath(source), rows, settings: { bins, topK, quantiles: quantileMode, distinct: distinctMode }, columns: profiles };
}

/** Equal-width edges from min to max; one zero-width bin for a constant column. */
export function equalWidthEdges(min: number, max: number, bins: number): number[] {
  if (min === max) return [min, max];
  const width = (max - min) / bins;
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
}

const lit = (n: number): string => `(${String(n)})::DOUBLE`;

async function histograms(engine: OfflineEngine, relation: string, columns: ColumnInfo[], profiles: ColumnProfile[], bins: number, refEdges: Map<string, number[]>): Promise<void> {
  const selects: string[] = [];
  const targets: Histogram[] = [];
  columns.forEach((c, i) => {
    const stats = profiles[i]!.numeric;
    if (!stats || stats.min === null || stats.max === null) return;
    const edges = refEdges.get(c.name) ?? equalWidthEdges(stats.min, stats.max, bins);
    const n = edges.length - 1;
    const lo = edges[0]!;
    const hi = edges[n]!;
    const col = `${ident(c.name)}::DOUBLE`;
    const bin =
      `CASE WHEN ${col} < ${lit(lo)} THEN -1 WHEN ${col} > ${lit(hi)} THEN ${n} ` +
      (hi === lo ? 'ELSE 0 END' : `ELSE least(floor((${col} - ${lit(lo)}) / ${lit((hi - lo) / n)}), ${n - 1})::INTEGER END`);
    const finite = c.kind === 'float' ? ` FILTER (WHERE isfinite(${ident(c.name)}))` : '';
    selects.push(`histogram(${bin})${finite} AS h${targets.length}`);
    stats.histogram = { edges, counts: new Array<number>(n).fill(0), below: 0, above: 0 };
    targets.push(stats.histogram);
  });
  if (!selects.length) return;
  const [row = {} as Row] = await engine.query(`SELECT ${selects.join(', ')} FROM ${relation}`);
  targets.forEach((h, j) => {
    const entries = row[`h${j}`];
    if (!Array.isArray(entries)) return;
    for (const entry of entries) {
      const { key, value } = entry as { key: Cell; value: Cell };
      const k = int(key);
      const count = int(value);
      if (k < 0) h.below += count;
      else if (k >= h.counts.length) h.above += count;
      else h.counts[k]! += count;
    }
  });
}

async function topValues(engine: OfflineEngine, relation: string, columns: ColumnInfo[], profiles: ColumnProfile[], k: number): Promise<void> {
  const picked = columns.map((c, i) => ({ c, p: profiles[i]!, alias: `c${i}` })).filter(({ p }) => p.top && p.count > 0);
  if (!picked.length) return;
  const inner = `SELECT ${picked.map(({ c, alias }) => `${ident(c.name)}::VARCHAR AS ${alias}`).join(', ')} FROM ${relation}`;
  const sql =
    `SELECT col, value, n FROM (SELECT col, value, count(*) AS n FROM (UNPIVOT (${inner}) ON ${picked.map((x) => x.alias).join(', ')} INTO NAME col VALUE value) GROUP BY col, value) ` +
    `QUALIFY row_number() OVER (PARTITION BY col ORDER BY n DESC, value) <= ${k} ORDER BY col, n DESC, value`;
  const byAlias = new Map(picked.map((x) => [x.alias, x.p.top!]));
  for (const r of await engine.query(sql)) {
    const top = byAlias.get(String(r.col));
    if (!top) continue;
    const count = int(r.n);
    top.values.push({ value: String(r.value), count });
    top.other -= count;
  }
}
