/**
 * Point-in-time-correct training sets: `getHistoricalFeatures(engine, { entities, features })`.
 *
 * For every entity row (join keys + an event timestamp) and every requested view, the feature values come from the
 * view's latest row with the same join keys and
 *
 *     event_ts - ttl <= feature_ts <= event_ts
 *
 * and are null when there is none. Both ends are inclusive, as in Feast's offline stores: a value stamped exactly at
 * the event time is visible (it is known "as of" the event), and a value exactly `ttl` old is still alive; one
 * millisecond older and it is expired.
 *
 * How: one SQL statement, one DuckDB `ASOF LEFT JOIN` per view chained on the entity rows. The as-of match picks the
 * nearest row with feature_ts <= event_ts; the TTL is checked after the match — if that nearest earlier row is too
 * old, the feature is null (an older row cannot be fresher, so this equals "latest row inside the window", Feast's
 * semantics). Leakage is impossible by construction: the only rows the join may pick are at or before the event.
 *
 * Ties: of several feature rows with the same join keys and the same timestamp, the one with the greatest feature
 * values wins (the view's features compared in name order, a value above a null; the rule and why: ./ties.ts). It
 * does not depend on DuckDB's threads, and online materialization applies the same rule. Feast breaks such ties with
 * a created timestamp, which views here do not have; to prefer another row, deduplicate in a SQL source.
 *
 * Timestamps are compared as TIMESTAMP (microseconds, no zone): DATE columns are read as midnight, TIMESTAMPTZ
 * columns are converted to UTC. Entity rows given in memory take `Date`s or ISO strings (read as UTC without a zone).
 *
 * Large training sets: pass `output: { path: 'train.parquet' }` and the result is written with `COPY … TO` instead of
 * coming back as rows. Row order: in-memory results keep the entity rows' order; a Parquet output is unordered
 * unless `output.orderBy` names columns to sort it by. Rows equal on those columns are then ordered by every other
 * column, left to right, so the order is total and the same inputs give the same bytes whatever DuckDB's threads. The Parquet file
 * records the views it was built from (name + version) in its key-value metadata, so registering it as a dataset
 * version (`ctx.datasets.write`, `platform.datasets.register`, `baton datasets register`) records them too.
 *
 * Views over a TypeScript transform are run first and read from a temporary file (./transform.ts); the SQL is the
 * same as for a file source.
 */
import { z } from 'zod';
import { featureViewsMetadata } from '../data/datasets/feature-views.ts';
import type { ColumnKind, FileSource, OfflineEngine, Row, Source } from '../ports/offline.ts';
import type { FeatureType, FeatureView } from './definitions.ts';
import { FeatureError } from './errors.ts';
import { probeRank, rowRank } from './ties.ts';
import { transformRelation } from './transform.ts';

export type EntityRowValue = string | number | boolean | Date | null;

export interface HistoricalRequest {
  /** The entity rows: a file (CSV/Parquet/JSON), in-memory rows, or a SQL query over named input files. */
  entities: Source | Record<string, EntityRowValue>[] | { sql: string; inputs?: Record<string, Source> };
  /** `view:feature` refs (e.g. `route_stats:avg_delay`), or a view for all its features. */
  features: (string | FeatureView)[];
  /** The views refs may name (views passed in `features` are known anyway). */
  views?: FeatureView[];
  /** The entity rows' event timestamp column. @default 'event_timestamp' */
  eventTimestamp?: string;
  /** Name output columns `view__feature` instead of `feature` (needed when two views share a feature name). @default false */
  fullFeatureNames?: boolean;
  /**
   * Write the training set to this Parquet file instead of returning rows (it records the views used in its
   * metadata); `orderBy` sorts it by these output columns. @default rows, returned in memory
   */
  output?: { path: string; orderBy?: string[] };
}

export interface ViewUsed {
  name: string;
  version: string;
}

export type HistoricalResult =
  | { kind: 'rows'; rows: Row[]; rowCount: number; columns: string[]; views: ViewUsed[]; sql: string }
  | { kind: 'parquet'; path: string; rowCount: number; columns: string[]; views: ViewUsed[]; sql: string };

const RequestSchema = z.object({
  features: z.array(z.union([z.string(), z.object({ kind: z.literal('featureView') }).loose()])).min(1, 'request at least one feature, e.g. features: ["route_stats:avg_delay"]'),
  eventTimestamp: z.string().min(1).default('event_timestamp'),
  fullFeatureNames: z.boolean().default(false),
  output: z.strictObject({ path: z.string().min(1, 'output.path cannot be empty'), orderBy: z.array(z.string().min(1)).optional() }).optional(),
});

interface Column {
  name: string;
  type: string;
  kind: ColumnKind;
}

export const q = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;
const lit = (value: string): string => {
  if (value.includes('\0')) throw new FeatureError('invalid_request', `A value cannot contain a NUL character: ${JSON.stringify(value)}.`);
  return `'${value.replaceAll("'", "''")}'`;
};

/** Which source column kinds a declared feature type accepts (the value is cast to the declared type). */
const ACCEPTS: Record<FeatureType, ColumnKind[]> = {
  BOOLEAN: ['boolean'],
  TINYINT: ['integer'],
  SMALLINT: ['integer'],
  INTEGER: ['integer'],
  BIGINT: ['integer'],
  FLOAT: ['integer', 'float', 'decimal'],
  DOUBLE: ['integer', 'float', 'decimal'],
  VARCHAR: ['string'],
  DATE: ['date', 'timestamp'],
  TIMESTAMP: ['date', 'timestamp'],
};

/** Join keys must compare like with like: numbers with numbers, strings with strings. */
const keyFamily = (kind: ColumnKind): string => (kind === 'integer' || kind === 'float' || kind === 'decimal' ? 'number' : kind === 'date' || kind === 'timestamp' ? 'temporal' : kind);

/** A TIMESTAMP expression for a temporal column (no cast for plain TIMESTAMP, so the join stays on raw columns). */
export function asTimestamp(expr: string, column: { type: string }): string {
  const t = column.type.toUpperCase();
  if (t === 'TIMESTAMP') return expr;
  if (t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMPTZ') return `timezone('UTC', ${expr})`;
  return `CAST(${expr} AS TIMESTAMP)`;
}

async function sqlRelation(engine: OfflineEngine, sql: string, inputs: Record<string, Source>): Promise<string> {
  const ctes: string[] = [];
  for (const [name, source] of Object.entries(inputs)) ctes.push(`${q(name)} AS (SELECT * FROM ${await engine.relation(source)})`);
  return `(${ctes.length ? `WITH ${ctes.join(', ')} ` : ''}${sql})`;
}

/** A view's source as a relation: `release` frees what reading it needed (a transform's temporary file). */
export interface ViewRelation {
  relation: string;
  columns: Column[];
  release(): Promise<void>;
}
const nothing = async (): Promise<void> => {};

/**
 * A relation over a view's source, and its columns (also used by online materialization). `range` (epoch ms) is
 * passed to a transform as a hint of the event times needed; callers still filter. Call `release` after the query.
 */
export async function viewRelation(engine: OfflineEngine, view: FeatureView, range?: { after: number | null; until: number | null }): Promise<ViewRelation> {
  const source = view.source;
  if ('transform' in source) {
    const t = await transformRelation(engine, view, range);
    try {
      return { relation: `${t.relation} AS __src`, columns: await engine.describeQuery(t.relation), release: t.release };
    } catch (err) {
      await t.release();
      throw err;
    }
  }
  if ('sql' in source) {
    const relation = await sqlRelation(engine, source.sql, source.inputs);
    const columns = await engine.describeQuery(relation).catch((err: unknown) => {
      throw new FeatureError('invalid_definition', `Feature view "${view.name}": its SQL source does not run: ${(err as Error).message.split('\n')[0]}. Fix source.sql (tables it reads must be listed in source.inputs).`, { cause: err });
    });
    return { relation: `${relation} AS __src`, columns, release: nothing };
  }
  const file = source as FileSource;
  const relation = await engine.relation(file);
  return { relation, columns: (await engine.describe(file)).map((c) => ({ name: c.name, type: c.type, kind: c.kind })), release: nothing };
}

/** The kind of each type `inferType` can choose. */
const INFERRED_KIND: Record<string, ColumnKind> = { TIMESTAMP: 'timestamp', BIGINT: 'integer', DOUBLE: 'float', BOOLEAN: 'boolean', VARCHAR: 'string' };

function inferType(column: string, values: EntityRowValue[], isEvent: boolean): string {
  const kinds = new Set(values.filter((v) => v !== null && v !== undefined).map((v) => (v instanceof Date ? 'date' : typeof v)));
  if (isEvent) {
    if ([...kinds].every((k) => k === 'date' || k === 'string')) return 'TIMESTAMP';
    throw new FeatureError('incompatible_type', `Entity rows: event timestamp column "${column}" holds ${[...kinds].join(' and ')} values. Give each row a Date or an ISO string.`);
  }
  if (kinds.size > 1) throw new FeatureError('incompatible_type', `Entity rows: column "${column}" mixes ${[...kinds].join(' and ')} values. Give it one type in every row.`);
  const kind = [...kinds][0];
  if (kind === 'number') return values.every((v) => v === null || Number.isInteger(v)) ? 'BIGINT' : 'DOUBLE';
  if (kind === 'boolean') return 'BOOLEAN';
  if (kind === 'date') return 'TIMESTAMP';
  return 'VARCHAR';
}

/** An event timestamp as a Date: ISO strings without a zone are read as UTC. */
function eventDate(value: EntityRowValue, column: string, index: number): EntityRowValue {
  if (typeof value !== 'string') return value;
  const zoned = /(Z|[+-]\d\d(:?\d\d)?)$/i.test(value.trim()) || !/\d[ T]\d/.test(value) ? value.trim() : `${value.trim().replace(' ', 'T')}Z`;
  const ms = Date.parse(zoned);
  if (Number.isNaN(ms)) throw new FeatureError('invalid_request', `Entity row ${index}: event timestamp "${column}" is "${value}", not a date. Pass a Date or an ISO string like 2024-01-31T12:00:00Z.`);
  return new Date(ms);
}

function literal(value: EntityRowValue, column: string, index: number): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new FeatureError('invalid_request', `Entity row ${index}: "${column}" is an invalid Date. Pass a valid Date or ISO string.`);
    return lit(value.toISOString().replace('T', ' ').replace('Z', ''));
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new FeatureError('invalid_request', `Entity row ${index}: "${column}" is ${value}. Pass a finite number or null.`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'string') return lit(value);
  throw new FeatureError('invalid_request', `Entity row ${index}: "${column}" holds a ${typeof value}. Entity values must be strings, numbers, booleans, Dates or null.`);
}

/** In-memory entity rows as a VALUES relation with one type per column. */
function rowsRelation(rows: Record<string, EntityRowValue>[], eventTimestamp: string): { relation: string; columns: Column[] } {
  if (rows.length === 0) throw new FeatureError('invalid_request', 'Entity rows are empty. Pass at least one row with the join keys and an event timestamp.');
  const names = Object.keys(rows[0]!);
  rows.forEach((row, i) => {
    const keys = Object.keys(row);
    const missing = names.filter((n) => !(n in row));
    const extra = keys.filter((k) => !names.includes(k));
    if (missing.length || extra.length) {
      throw new FeatureError('invalid_request', `Entity row ${i} has ${missing.length ? `no ${missing.map((m) => `"${m}"`).join(', ')}` : ''}${missing.length && extra.length ? ' and ' : ''}${extra.length ? `extra ${extra.map((m) => `"${m}"`).join(', ')}` : ''} unlike row 0 (${names.join(', ')}). Give every row the same columns (null for missing values).`);
    }
  });
  const types = names.map((n) => inferType(n, rows.map((r) => r[n]!), n === eventTimestamp));
  const values = rows.map((row, i) => `(${names.map((n) => literal(n === eventTimestamp ? eventDate(row[n]!, n, i) : row[n]!, n, i)).join(', ')})`).join(',\n');
  const select = names.map((n, i) => `CAST(${q(`c${i}`)} AS ${types[i]}) AS ${q(n)}`).join(', ');
  return {
    relation: `(SELECT ${select} FROM (VALUES ${values}) AS __v(${names.map((_, i) => q(`c${i}`)).join(', ')}))`,
    columns: names.map((name, i) => ({ name, type: types[i]!, kind: INFERRED_KIND[types[i]!]! })),
  };
}

interface Requested {
  view: FeatureView;
  features: string[];
}

function resolveRefs(features: (string | FeatureView)[], views: FeatureView[]): Requested[] {
  const known = new Map<string, FeatureView>();
  for (const v of [...views, ...features.filter((f): f is FeatureView => typeof f !== 'string')]) {
    const prior = known.get(v.name);
    if (prior && prior.version !== v.version) throw new FeatureError('invalid_request', `Two different feature views are named "${v.name}" (versions ${prior.version.slice(0, 12)} and ${v.version.slice(0, 12)}). Pass one of them.`);
    known.set(v.name, v);
  }
  const out = new Map<string, Requested>();
  const add = (view: FeatureView, feature: string) => {
    const entry = out.get(view.name) ?? { view, features: [] };
    if (!entry.features.includes(feature)) entry.features.push(feature);
    out.set(view.name, entry);
  };
  for (const ref of features) {
    if (typeof ref !== 'string') {
      for (const f of Object.keys(ref.features)) add(ref, f);
      continue;
    }
    const parts = ref.split(':');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new FeatureError('invalid_request', `Feature ref "${ref}" is not of the form "view:feature" (e.g. "route_stats:avg_delay").`);
    const [viewName, feature] = parts as [string, string];
    const view = known.get(viewName);
    if (!view) {
      throw new FeatureError('unknown_view', `Feature ref "${ref}": no feature view named "${viewName}"${known.size ? ` (known: ${[...known.keys()].join(', ')})` : ''}. Pass the view in \`views\` (or in \`features\`).`);
    }
    if (!(feature in view.features)) {
      throw new FeatureError('unknown_feature', `Feature ref "${ref}": feature view "${viewName}" has no feature "${feature}" (it has: ${Object.keys(view.features).join(', ')}).`);
    }
    add(view, feature);
  }
  return [...out.values()];
}

function findColumn(columns: Column[], name: string): Column | undefined {
  return columns.find((c) => c.name === name);
}

/**
 * Builds the training set: the entity rows with each requested feature as of the row's event time (see the module
 * comment for the exact semantics), and the versions of the views used.
 */
export async function getHistoricalFeatures(engine: OfflineEngine, request: HistoricalRequest): Promise<HistoricalResult> {
  const parsed = RequestSchema.safeParse(request);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(request)'}: ${i.message}`);
    throw new FeatureError('invalid_request', `Invalid getHistoricalFeatures request:\n${problems.join('\n')}`, { cause: parsed.error });
  }
  const { eventTimestamp, fullFeatureNames, output } = parsed.data;
  const requested = resolveRefs(request.features, request.views ?? []);

  // The entity rows.
  const entities = request.entities;
  let entityRel: string;
  let entityCols: Column[];
  const inMemory = Array.isArray(entities);
  if (inMemory) ({ relation: entityRel, columns: entityCols } = rowsRelation(entities, eventTimestamp));
  else if (typeof entities === 'object' && 'sql' in entities) {
    entityRel = await sqlRelation(engine, entities.sql, entities.inputs ?? {});
    entityCols = await engine.describeQuery(entityRel).catch((err: unknown) => {
      throw new FeatureError('invalid_request', `The entity SQL does not run: ${(err as Error).message.split('\n')[0]}. Fix entities.sql (tables it reads must be listed in entities.inputs).`, { cause: err });
    });
  } else {
    entityRel = await engine.relation(entities);
    entityCols = (await engine.describe(entities)).map((c) => ({ name: c.name, type: c.type, kind: c.kind }));
  }
  const eventCol = findColumn(entityCols, eventTimestamp);
  if (!eventCol) {
    throw new FeatureError('unknown_column', `The entity rows have no event timestamp column "${eventTimestamp}" (columns: ${entityCols.map((c) => c.name).join(', ')}). Add it, or pass eventTimestamp: '<column>'.`);
  }
  if (eventCol.kind !== 'timestamp' && eventCol.kind !== 'date') {
    throw new FeatureError('incompatible_type', `The entity rows' event timestamp "${eventTimestamp}" is ${eventCol.type}, not a timestamp or date. Cast it (e.g. in an entities { sql }) or store it as a timestamp.`);
  }

  // Transform sources write temporary files: free them however the query ends.
  const releases: (() => Promise<void>)[] = [];
  try {
    // Each view: check its columns, then one ASOF LEFT JOIN.
    const outputNames = new Map<string, string>(entityCols.map((c) => [c.name, 'an entity column']));
    const selects: string[] = [];
    const joins: string[] = [];
    const eventTs = asTimestamp(`e.${q(eventTimestamp)}`, eventCol);
    const eventRef = eventTs === `e.${q(eventTimestamp)}` ? eventTs : 'e."__baton_event_ts"';
    for (const [i, { view, features }] of requested.entries()) {
      const alias = `v${i}`;
      const { relation, columns, release } = await viewRelation(engine, view);
      releases.push(release);
      const where = `feature view "${view.name}"`;
      const tsCol = findColumn(columns, view.timestampField);
      if (!tsCol) throw new FeatureError('unknown_column', `${where}: its source has no timestamp column "${view.timestampField}" (columns: ${columns.map((c) => c.name).join(', ')}). Fix timestampField.`);
      if (tsCol.kind !== 'timestamp' && tsCol.kind !== 'date') {
        throw new FeatureError('incompatible_type', `${where}: timestamp column "${view.timestampField}" is ${tsCol.type}, not a timestamp or date. Cast it in a SQL source.`);
      }
      const on: string[] = [];
      for (const key of view.joinKeys) {
        const fk = findColumn(columns, key);
        if (!fk) throw new FeatureError('unknown_column', `${where}: its source has no join key column "${key}" (columns: ${columns.map((c) => c.name).join(', ')}). Fix the entity's joinKeys or the source.`);
        const ek = findColumn(entityCols, key);
        if (!ek) {
          throw new FeatureError('unknown_column', `The entity rows have no join key "${key}", needed by ${where} (entity columns: ${entityCols.map((c) => c.name).join(', ')}). Add a "${key}" column to the entity rows.`);
        }
        if (keyFamily(ek.kind) !== keyFamily(fk.kind)) {
          throw new FeatureError('incompatible_type', `Join key "${key}" is ${ek.type} in the entity rows but ${fk.type} in ${where}'s source. Cast one side so both are ${keyFamily(fk.kind) === 'number' ? 'numbers' : keyFamily(fk.kind)}.`);
        }
        on.push(`e.${q(key)} = ${alias}.${q(key)}`);
      }
      // Every feature of the view is checked, not only those requested: ties are broken on all of them (./ties.ts).
      for (const [f, declared] of Object.entries(view.features)) {
        const col = findColumn(columns, f);
        if (!col) throw new FeatureError('unknown_column', `${where}: its source has no column for feature "${f}" (columns: ${columns.map((c) => c.name).join(', ')}). Fix the feature name or the source.`);
        if (!ACCEPTS[declared].includes(col.kind)) {
          throw new FeatureError('incompatible_type', `${where}: feature "${f}" is declared ${declared} but its column is ${col.type}. Declare a matching type or cast the column in a SQL source.`);
        }
      }
      const featureTs = asTimestamp(q(view.timestampField), tsCol);
      const rank = rowRank(view, featureTs, (f) => `CAST(${q(f)} AS ${view.features[f]!})`);
      const inner = [...view.joinKeys.map((k) => q(k)), `${featureTs} AS "__baton_ts"`, `${rank} AS "__baton_rank"`];
      for (const f of features) {
        const declared = view.features[f]!;
        const out = fullFeatureNames ? `${view.name}__${f}` : f;
        const taken = outputNames.get(out);
        if (taken) throw new FeatureError('name_collision', `Output column "${out}" (${where}) clashes with ${taken}. Pass fullFeatureNames: true (columns become view__feature) or rename a column.`);
        outputNames.set(out, `feature "${f}" of ${where}`);
        inner.push(`CAST(${q(f)} AS ${declared}) AS ${q(out)}`);
        const alive = view.ttlMs === null ? `${alias}."__baton_ts" IS NOT NULL` : `${alias}."__baton_ts" >= ${eventRef} - to_milliseconds(${view.ttlMs})`;
        selects.push(`CASE WHEN ${alive} THEN ${alias}.${q(out)} END AS ${q(out)}`);
      }
      joins.push(`ASOF LEFT JOIN (SELECT ${inner.join(', ')} FROM ${relation}) AS ${alias} ON ${[...on, `${probeRank(view, eventRef)} >= ${alias}."__baton_rank"`].join(' AND ')}`);
    }

    const order = inMemory && !output;
    const extra = [eventRef === eventTs ? '' : `, ${asTimestamp(q(eventTimestamp), eventCol)} AS "__baton_event_ts"`, order ? ', row_number() OVER () AS "__baton_row"' : ''].join('');
    const hidden = [eventRef === eventTs ? '' : '"__baton_event_ts"', order ? '"__baton_row"' : ''].filter(Boolean);
    const sql =
      `SELECT e.*${hidden.length ? ` EXCLUDE (${hidden.join(', ')})` : ''}, ${selects.join(', ')}\n` +
      `FROM (SELECT *${extra} FROM ${entityRel}) AS e\n${joins.join('\n')}${order ? '\nORDER BY e."__baton_row"' : ''}`;
    const views = requested.map(({ view }) => ({ name: view.name, version: view.version }));
    const columns = [...outputNames.keys()];
    if (output) {
      const orderBy = output.orderBy ?? [];
      const unknown = orderBy.filter((c) => !outputNames.has(c));
      if (unknown.length) throw new FeatureError('unknown_column', `output.orderBy names ${unknown.map((c) => `"${c}"`).join(', ')}, not column(s) of the training set (columns: ${columns.join(', ')}).`);
      // A total order: the requested columns, then every other column (equal rows are identical bytes).
      const sortKey = [...orderBy, ...columns.filter((c) => !orderBy.includes(c))];
      const sorted = orderBy.length ? `SELECT * FROM (${sql}) ORDER BY ${sortKey.map(q).join(', ')}` : sql;
      const result = await engine.query(`COPY (${sorted}) TO ${lit(output.path)} (FORMAT PARQUET, ${featureViewsMetadata(views)})`);
      const count = Number(Object.values(result[0] ?? {})[0] ?? 0);
      return { kind: 'parquet', path: output.path, rowCount: count, columns, views, sql };
    }
    const rows = await engine.query(sql);
    return { kind: 'rows', rows, rowCount: rows.length, columns, views, sql };
  } finally {
    await Promise.all(releases.map((release) => release()));
  }
}
