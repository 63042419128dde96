/**
 * Which feature row wins when several share a join key and a timestamp — one rule for point-in-time joins
 * (historical.ts) and online materialization (online/materialize.ts), so both give the same row.
 *
 * The rule: among rows with equal join keys and equal timestamp, the row with the greatest feature values wins,
 * comparing the view's features one at a time in name order (code-point order, whatever order they were declared
 * in, since the view's version ignores that order too). For each feature, a value beats a null; two values compare
 * as their declared type does in SQL (numbers by value with NaN above all, strings by code point, false < true, dates
 * by time). Values are compared after the cast to the declared type. Rows equal on every feature give the same
 * output whichever is taken (the one exception: 0.0 and -0.0 compare equal, so either sign may come out).
 *
 * Why a rule on values and not "the last row of the source": file sources could give a row number, but SQL and
 * TypeScript-transform sources have no stable order, and a rule on values holds for every source. Without a rule
 * DuckDB's sort is not stable across threads, so the row chosen changed from one call to the next.
 *
 * How: the order is a STRUCT (ts, probe, set_0, value_0, set_1, value_1, …) compared field by field; `set_i` is
 * `value_i IS NOT NULL`, so a value sorts above a null. The as-of join's inequality compares the entity row's probe
 * (event time, probe = true, the rest null) with this struct: the probe field makes it greater than every feature
 * row stamped at the event time, and the join takes the greatest row at or below it — the winner of the rule.
 * The price is a wider sort key than the bare timestamp: `npm run bench -- features.pit_join` measures it against a
 * hand-written as-of join on the timestamp alone (which is not deterministic on ties).
 */
import type { FeatureType, FeatureView } from './definitions.ts';

/** The view's features in the order the rule compares them. */
export function tieOrder(view: Pick<FeatureView, 'features'>): [string, FeatureType][] {
  return Object.entries(view.features).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A feature row's rank: greater means preferred (materialization keeps each key's greatest). `ts` is its TIMESTAMP
 * expression; `value(f)` the SQL of feature f cast to its declared type.
 */
export function rowRank(view: Pick<FeatureView, 'features'>, ts: string, value: (feature: string) => string): string {
  const fields = tieOrder(view).flatMap(([f], i) => [`"set_${i}" := ${value(f)} IS NOT NULL`, `"value_${i}" := ${value(f)}`]);
  return `struct_pack("ts" := ${ts}, "probe" := FALSE${fields.map((x) => `, ${x}`).join('')})`;
}

/** The entity row's side of the as-of inequality (`probe >= rank`); null when the event time is null (no match). */
export function probeRank(view: Pick<FeatureView, 'features'>, eventTs: string): string {
  const fields = tieOrder(view).flatMap(([, type], i) => [`"set_${i}" := NULL::BOOLEAN`, `"value_${i}" := NULL::${type}`]);
  return `CASE WHEN ${eventTs} IS NULL THEN NULL ELSE struct_pack("ts" := ${eventTs}, "probe" := TRUE${fields.map((x) => `, ${x}`).join('')}) END`;
}
