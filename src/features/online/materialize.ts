/**
 * `materialize(offline, online, view, { now?, full? })`: copies the latest feature values per entity key from a
 * view's offline source into the online store, incrementally.
 *
 * Incremental, as Feast's `materialize-incremental`: the store keeps a per-view watermark (an event time). A run
 * reads only source rows with `watermark < ts <= now`, keeps the latest row per key (DuckDB arg_max; of rows tied
 * on the latest timestamp, the one the point-in-time join would pick: ../ties.ts), and writes them in batches; the
 * watermark then moves to the newest event time copied (not to `now`, so rows that land later with an event time
 * between the two are still picked up). The first run, a `full` run, or a run after
 * the view's definition changed (a new `version`) reads everything up to `now`.
 *
 * Late-arriving rows stamped at or before the watermark are not seen by an incremental run (as in Feast); a
 * `full: true` run picks them up, and even then they never overwrite a newer stored value (the store keeps a row only
 * if newer). Rows with a null join key or timestamp are skipped. Feature values are cast to their declared types;
 * DATE/TIMESTAMP values are stored as ISO strings.
 *
 * Memory: the latest row per key (not the source) is held in memory once; sources are scanned by DuckDB.
 *
 * A view over a TypeScript transform is run once per call, told the range needed (`after` the watermark, `until`
 * now) so it may return less; its rows are then filtered by exactly the rule above.
 */
import type { OfflineEngine } from '../../ports/offline.ts';
import type { OnlineRow, OnlineStore, OnlineValue, ViewState } from '../../ports/online.ts';
import type { FeatureView } from '../definitions.ts';
import { rowRank } from '../ties.ts';
import { OnlineFeatureError } from './errors.ts';
import { keyPart } from './keys.ts';
import { q, timestampExpr, viewSource, type SourceColumn } from './source.ts';

export interface MaterializeOptions {
  /** Upper bound of event times copied (inclusive). @default Date.now() */
  now?: number | Date;
  /** Ignore the watermark and read the whole source. @default false */
  full?: boolean;
  /** Rows per store write (one transaction in SQLite; pipelined in Redis). @default 10000 */
  batchSize?: number;
}

export interface MaterializeResult {
  view: string;
  version: string;
  /** Latest-per-key rows read from the source and offered to the store. */
  rows: number;
  /** Of those, rows the store kept (newer than what it had). */
  stored: number;
  /** Event-time range read: (from, until]; from is null for a full read. */
  from: number | null;
  until: number;
  /** The watermark after the run (newest event time copied so far); null when nothing was ever copied. */
  to: number | null;
  full: boolean;
}

const millis = (value: number | Date, what: string): number => {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new OnlineFeatureError('invalid_request', `${what} must be a valid Date or epoch milliseconds, got ${String(value)}.`);
  return Math.trunc(ms);
};

function onlineValue(value: unknown): OnlineValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

export async function materialize(offline: OfflineEngine, online: OnlineStore, view: FeatureView, options: MaterializeOptions = {}): Promise<MaterializeResult> {
  const until = millis(options.now ?? Date.now(), 'materialize: now');
  const batchSize = options.batchSize ?? 10_000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new OnlineFeatureError('invalid_request', `materialize: batchSize must be a positive integer, got ${batchSize}.`);
  const state = await online.watermark(view.name);
  const full = options.full === true || !state || state.version !== view.version || state.watermark === null;
  const from = full ? null : state.watermark;

  const { relation, columns, release } = await viewSource(offline, view, { after: from, until });
  try {
    return await copyLatest(offline, online, view, { relation, columns, state, full, from, until, batchSize });
  } finally {
    await release(); // a transform source's temporary file
  }
}

interface CopyPlan {
  relation: string;
  columns: SourceColumn[];
  state: ViewState | null;
  full: boolean;
  from: number | null;
  until: number;
  batchSize: number;
}

async function copyLatest(offline: OfflineEngine, online: OnlineStore, view: FeatureView, { relation, columns, state, full, from, until, batchSize }: CopyPlan): Promise<MaterializeResult> {
  const column = (name: string, role: string) => {
    const c = columns.find((x) => x.name === name);
    if (!c) throw new OnlineFeatureError('unknown_column', `Feature view "${view.name}": its source has no ${role} column "${name}" (columns: ${columns.map((x) => x.name).join(', ')}).`);
    return c;
  };
  const ts = timestampExpr(view, column(view.timestampField, 'timestamp'));
  const keys = view.joinKeys.map((k) => q(column(k, 'join key').name));
  const cast = (f: string) => `CAST(${q(column(f, 'feature').name)} AS ${view.features[f]!})`;
  const features = Object.keys(view.features).map((f) => `${q(f)} := ${cast(f)}`);
  const where = [`${ts} <= make_timestamp(${until * 1000}::BIGINT)`, ...(from === null ? [] : [`${ts} > make_timestamp(${from * 1000}::BIGINT)`]), ...keys.map((k) => `${k} IS NOT NULL`)];
  // arg_max over GROUP BY rather than QUALIFY row_number(): DuckDB 1.5 fails with an INTERNAL "expression type
  // mismatch" on a window over a read_csv with a two-sided timestamp filter; the aggregate is also cheaper.
  const sql =
    `SELECT ${keys.map((k, i) => `${k} AS "__k${i}"`).join(', ')}, epoch_ms(max(${ts})) AS "__ts", arg_max(struct_pack(${features.join(', ')}), ${rowRank(view, ts, cast)}) AS "__v"\n` +
    `FROM ${relation}\nWHERE ${where.join(' AND ')}\nGROUP BY ${keys.join(', ')}`;
  const source = await offline.query(sql);

  const names = Object.keys(view.features);
  let stored = 0;
  let newest = state && state.version === view.version ? state.watermark : null; // a full re-run never moves it back
  for (let start = 0; start < source.length; start += batchSize) {
    const batch: OnlineRow[] = [];
    for (const r of source.slice(start, start + batchSize)) {
      const t = Number(r.__ts);
      if (newest === null || t > newest) newest = t;
      const values: Record<string, OnlineValue> = {};
      const v = r.__v as Record<string, unknown>;
      for (const f of names) values[f] = onlineValue(v[f]);
      batch.push({ key: view.joinKeys.map((k, i) => keyPart(r[`__k${i}`], () => `Feature view "${view.name}": join key "${k}"`)), ts: t, values });
    }
    stored += await online.write(view.name, view.version, batch);
  }
  if (newest !== null) await online.setWatermark(view.name, view.version, newest);
  else await online.write(view.name, view.version, []); // records the version, so reads know the view is materialized
  return { view: view.name, version: view.version, rows: source.length, stored, from, until, to: newest, full };
}
