/**
 * Feature views over a TypeScript transform: `source: { transform }`, a function (sync or async) that returns the
 * view's rows — an array of objects, or an (async) iterable of row arrays (batches) for sources too big to hold:
 *
 *   source: { transform: async () => (await fetchScores()).map((s) => ({ user_id: s.id, ts: s.at, score: s.value })) }
 *   source: { async *transform() { for await (const page of pages()) yield page.rows; } }
 *
 * The rows are checked, written to a temporary Parquet file with one type per column, and read from there by the
 * same SQL a file source gets: getHistoricalFeatures and materialize apply their point-in-time, TTL and incremental
 * rules unchanged. The transform runs once per call (its rows may change between calls, as a file's may); the file
 * is removed when the call ends.
 *
 * Row rules (a failure names the view, the row index, the column and the fix):
 * - a row is a plain object holding every join key, the timestamp field and every declared feature (null for a
 *   missing feature value — an absent property is refused, so a misspelt name cannot silently give nulls); other
 *   properties are ignored;
 * - join keys: strings, numbers or booleans, never null, one kind per key in every row (whole numbers → BIGINT,
 *   any fraction → DOUBLE);
 * - the timestamp (and DATE/TIMESTAMP features): a Date, an ISO string (read as UTC when it has no zone) or epoch
 *   milliseconds; the timestamp is never null;
 * - features: BOOLEAN a boolean; TINYINT…BIGINT a whole number in the type's range (or a bigint); FLOAT/DOUBLE a
 *   finite number; VARCHAR a string.
 *
 * Memory: rows are checked and written one batch at a time; an async iterable of batches is never held whole.
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OfflineEngine } from '../ports/offline.ts';
import type { FeatureType, FeatureView } from './definitions.ts';
import { FeatureError } from './errors.ts';

/** One row: the view's join keys, its timestamp field and its features (other properties are ignored). */
export type TransformRow = Readonly<Record<string, unknown>>;

/** What the transform is asked for: hints it may use to return less (returning more is harmless: it is filtered). */
export interface TransformContext {
  /** The view's name. */
  view: string;
  /** Rows stamped at or before this are not needed (an incremental materialize); null when every row is. */
  after: Date | null;
  /** Rows stamped after this are not needed (materialize's `now`); null when every row is. */
  until: Date | null;
}

export type TransformOutput = readonly TransformRow[] | AsyncIterable<readonly TransformRow[]> | Iterable<readonly TransformRow[]>;
export type TransformFn = (ctx: TransformContext) => TransformOutput | Promise<TransformOutput>;

/** The view's rows as a SQL relation over a temporary file; `release` removes the file (call it once the query ran). */
export interface TransformRelation {
  relation: string;
  rows: number;
  release(): Promise<void>;
}

const WRITE_ROWS = 5_000;
const INT_RANGE: Partial<Record<FeatureType, [bigint, bigint]>> = {
  TINYINT: [-(2n ** 7n), 2n ** 7n - 1n],
  SMALLINT: [-(2n ** 15n), 2n ** 15n - 1n],
  INTEGER: [-(2n ** 31n), 2n ** 31n - 1n],
  BIGINT: [-(2n ** 63n), 2n ** 63n - 1n],
};

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const q = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;
const csvString = (s: string): string => `"${s.replaceAll('"', '""')}"`;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}" (a string)`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return `${String(value)} (a ${typeof value})`;
  return `a ${typeof value}`;
}

/** A time value as epoch milliseconds, or a reason it is not one. */
function millis(value: unknown): number | string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.getTime();
  if (typeof value === 'number') return Number.isFinite(value) ? value : `${value}`;
  if (typeof value === 'string') {
    const v = value.trim();
    const zoned = /(Z|[+-]\d\d(:?\d\d)?)$/i.test(v) || !/\d[ T]\d/.test(v) ? v : `${v.replace(' ', 'T')}Z`;
    const ms = Date.parse(zoned);
    return Number.isNaN(ms) ? describe(value) : ms;
  }
  return describe(value);
}

type KeyKind = 'string' | 'number' | 'boolean';

/**
 * Checks rows against the view and encodes them as CSV lines with columns c0…cN (keys, timestamp, features): every
 * string quoted (so an empty string is not a null), nulls as empty fields, times as epoch milliseconds. CSV rather
 * than JSON lines: DuckDB reads it about a third faster, and it is cheaper to write.
 */
class RowWriter {
  rows = 0;
  private readonly keyKinds: (KeyKind | undefined)[];
  private readonly keyFirst: number[] = [];
  private readonly keyFraction: boolean[];
  private readonly features: [string, FeatureType][];

  constructor(private readonly view: FeatureView) {
    this.keyKinds = view.joinKeys.map(() => undefined);
    this.keyFraction = view.joinKeys.map(() => false);
    this.features = Object.entries(view.features);
  }

  private fail(index: number, message: string): never {
    throw new FeatureError('invalid_rows', `Feature view "${this.view.name}": transform row ${index} ${message}`);
  }

  private present(row: TransformRow, index: number, column: string, role: 'join key' | 'timestamp' | 'feature'): unknown {
    const value = row[column];
    if (value === undefined) {
      const has = Object.keys(row);
      const fix =
        role === 'join key' ? `Give every row its entity key "${column}".`
        : role === 'timestamp' ? `Give every row its event time in "${column}" (a Date, an ISO string or epoch milliseconds).`
        : `Set "${column}" in every row (null for a missing value), or check its spelling.`;
      this.fail(index, `has no ${role} "${column}" (the row has: ${has.length ? has.join(', ') : 'nothing'}). ${fix}`);
    }
    return value;
  }

  /** One row as a CSV line. */
  encode(row: unknown): string {
    const index = this.rows++;
    const v = this.view;
    if (typeof row !== 'object' || row === null || Array.isArray(row) || row instanceof Date) {
      this.fail(index, `is ${describe(row)}, not an object. Return rows like { ${v.joinKeys.map((k) => `${k}: …`).join(', ')}, ${v.timestampField}: new Date(…), ${Object.keys(v.features)[0]}: … }.`);
    }
    const r = row as TransformRow;
    let line = '';
    for (let k = 0; k < v.joinKeys.length; k++) {
      const key = v.joinKeys[k]!;
      const value = this.present(r, index, key, 'join key');
      if (value === null) this.fail(index, `has join key "${key}" = null. Every row needs a value for its entity key; drop rows without one.`);
      const kind = typeof value;
      if (kind !== 'string' && kind !== 'number' && kind !== 'boolean') this.fail(index, `has join key "${key}" = ${describe(value)}. A join key must be a string, number or boolean.`);
      if (kind === 'number' && !Number.isFinite(value)) this.fail(index, `has join key "${key}" = ${String(value)}. A numeric join key must be finite.`);
      const first = this.keyKinds[k];
      if (first === undefined) {
        this.keyKinds[k] = kind as KeyKind;
        this.keyFirst[k] = index;
      } else if (first !== kind) {
        this.fail(index, `has join key "${key}" = ${describe(value)}, but row ${this.keyFirst[k]}'s is a ${first}. Give "${key}" one type in every row (e.g. String(…) or Number(…)).`);
      }
      if (kind === 'number' && !Number.isSafeInteger(value)) this.keyFraction[k] = true;
      line += kind === 'string' ? `${this.text(index, `join key "${key}"`, value as string)},` : `${String(value)},`;
    }
    const ts = this.present(r, index, v.timestampField, 'timestamp');
    const at = ts === null ? 'null' : millis(ts);
    if (typeof at === 'string') this.fail(index, `has timestamp "${v.timestampField}" = ${at}, not a time. Use a Date, an ISO string like 2024-01-31T12:00:00Z, or epoch milliseconds.`);
    line += String(at);
    for (const [feature, type] of this.features) {
      const value = this.present(r, index, feature, 'feature');
      line += value === null ? ',' : `,${this.featureCell(index, feature, type, value)}`;
    }
    return `${line}\n`;
  }

  /** A string as a quoted CSV field; DuckDB strings cannot hold NUL, so one is refused here with the row named. */
  private text(index: number, what: string, value: string): string {
    if (value.includes('\0')) this.fail(index, `has ${what} = ${JSON.stringify(value.slice(0, 40))}, which holds a NUL character (\\u0000). Remove it; DuckDB strings cannot hold one.`);
    return csvString(value);
  }

  private wrongType(index: number, feature: string, type: FeatureType, value: unknown, fix: string): never {
    this.fail(index, `has feature "${feature}" = ${describe(value)}, but it is declared ${type}. ${fix}`);
  }

  private featureCell(index: number, feature: string, type: FeatureType, value: unknown): string {
    const other = 'or declare the feature with the type of its values.';
    switch (type) {
      case 'BOOLEAN':
        if (typeof value !== 'boolean') this.wrongType(index, feature, type, value, `Return true, false or null, ${other}`);
        return String(value);
      case 'FLOAT':
      case 'DOUBLE':
        if (typeof value !== 'number' || !Number.isFinite(value)) this.wrongType(index, feature, type, value, `Return a finite number or null, ${other}`);
        return String(value);
      case 'VARCHAR':
        if (typeof value !== 'string') this.wrongType(index, feature, type, value, `Return a string or null (e.g. String(value)), ${other}`);
        return this.text(index, `feature "${feature}"`, value);
      case 'DATE':
      case 'TIMESTAMP': {
        const ms = millis(value);
        if (typeof ms === 'string') this.wrongType(index, feature, type, value, 'Return a Date, an ISO string or epoch milliseconds (or null), or declare the feature VARCHAR.');
        return String(ms);
      }
      default: {
        const [min, max] = INT_RANGE[type]!;
        const whole = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined;
        if (whole === undefined) this.wrongType(index, feature, type, value, 'Return a whole number (or null), or declare the feature DOUBLE for fractions.');
        if (whole < min || whole > max) this.wrongType(index, feature, type, value, `${type} holds ${min} … ${max}: declare a wider integer type (BIGINT).`);
        return whole.toString();
      }
    }
  }

  /** The SELECT reading the CSV back (or, without a file, no rows) with the view's column names and types. */
  select(csvPath: string | null): string {
    const v = this.view;
    const read: [string, string][] = [];
    const out: string[] = [];
    v.joinKeys.forEach((key, k) => {
      const kind = this.keyKinds[k] ?? 'string';
      read.push([`c${k}`, kind === 'string' ? 'VARCHAR' : kind === 'boolean' ? 'BOOLEAN' : this.keyFraction[k] ? 'DOUBLE' : 'BIGINT']);
      out.push(`c${k} AS ${q(key)}`);
    });
    const t = v.joinKeys.length;
    const time = (col: string) => `make_timestamp(CAST(round(${col} * 1000) AS BIGINT))`;
    read.push([`c${t}`, 'DOUBLE']);
    out.push(`${time(`c${t}`)} AS ${q(v.timestampField)}`);
    this.features.forEach(([feature, type], f) => {
      const col = `c${t + 1 + f}`;
      const temporal = type === 'DATE' || type === 'TIMESTAMP';
      read.push([col, temporal || type === 'FLOAT' ? 'DOUBLE' : type]);
      out.push(`${temporal ? `CAST(${time(col)} AS ${type})` : type === 'FLOAT' ? `CAST(${col} AS FLOAT)` : col} AS ${q(feature)}`);
    });
    const from =
      csvPath === null
        ? `(SELECT ${read.map(([c, type]) => `CAST(NULL AS ${type}) AS ${c}`).join(', ')} LIMIT 0)`
        : `read_csv(${sqlString(csvPath)}, auto_detect = false, header = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, columns = {${read.map(([c, type]) => `${c}: '${type}'`).join(', ')}})`;
    return `SELECT ${out.join(', ')} FROM ${from}`;
  }
}

/** Batches of the transform's output, whatever shape it returned. */
async function* batches(view: FeatureView, output: unknown): AsyncGenerator<readonly unknown[]> {
  if (Array.isArray(output)) {
    yield output;
    return;
  }
  const o = output as Partial<AsyncIterable<unknown> & Iterable<unknown>> | null | undefined;
  const iterable = o !== null && o !== undefined && typeof o === 'object' && (typeof o[Symbol.asyncIterator] === 'function' || typeof o[Symbol.iterator] === 'function');
  if (!iterable) {
    throw new FeatureError('invalid_rows', `Feature view "${view.name}": its transform returned ${describe(output)}. Return an array of row objects, or an (async) iterable of row arrays (batches).`);
  }
  let n = 0;
  for await (const batch of o as AsyncIterable<unknown>) {
    if (!Array.isArray(batch)) {
      throw new FeatureError('invalid_rows', `Feature view "${view.name}": batch ${n} of its transform is ${describe(batch)}, not an array of rows. Yield arrays of row objects (one array per batch).`);
    }
    n++;
    yield batch;
  }
}

function transformFailed(view: FeatureView, err: unknown): FeatureError {
  if (err instanceof FeatureError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FeatureError('transform_failed', `Feature view "${view.name}": its transform threw: ${message.split('\n')[0]}. Fix the transform function (the cause has the stack).`, { cause: err });
}

/**
 * Runs the view's transform and writes its checked rows to a temporary Parquet file; returns a relation over it.
 * Throws FeatureError `invalid_rows` for a bad row and `transform_failed` when the function throws.
 */
export async function transformRelation(engine: OfflineEngine, view: FeatureView, range: { after: number | null; until: number | null } = { after: null, until: null }): Promise<TransformRelation> {
  const source = view.source;
  if (!('transform' in source)) throw new FeatureError('invalid_definition', `Feature view "${view.name}" has no transform source.`);
  const writer = new RowWriter(view);
  const dir = await mkdtemp(join(tmpdir(), 'baton-transform-'));
  const release = () => rm(dir, { recursive: true, force: true });
  const csvPath = join(dir, 'rows.csv');
  let file: FileHandle | undefined;
  let it: AsyncGenerator<readonly unknown[]> | undefined;
  try {
    file = await open(csvPath, 'w');
    const ctx: TransformContext = { view: view.name, after: range.after === null ? null : new Date(range.after), until: range.until === null ? null : new Date(range.until) };
    let output: unknown;
    try {
      output = await source.transform(ctx);
    } catch (err) {
      throw transformFailed(view, err);
    }
    it = batches(view, output);
    for (;;) {
      let next: IteratorResult<readonly unknown[]>;
      try {
        next = await it.next();
      } catch (err) {
        throw transformFailed(view, err);
      }
      if (next.done) break;
      const batch = next.value;
      for (let start = 0; start < batch.length; start += WRITE_ROWS) {
        let text = '';
        for (let i = start; i < Math.min(start + WRITE_ROWS, batch.length); i++) text += writer.encode(batch[i]);
        await file.write(text);
      }
    }
    await file.close();
    file = undefined;
    if (writer.rows === 0) return { relation: `(${writer.select(null)})`, rows: 0, release };
    const parquet = join(dir, 'rows.parquet');
    await engine.query(`COPY (${writer.select(csvPath)}) TO ${sqlString(parquet)} (FORMAT PARQUET, COMPRESSION ZSTD)`);
    await rm(csvPath, { force: true });
    return { relation: `read_parquet(${sqlString(parquet)})`, rows: writer.rows, release };
  } catch (err) {
    await it?.return(undefined).catch(() => undefined); // lets the transform's own generator run its finally blocks
    await file?.close().catch(() => undefined);
    await release();
    throw err;
  }
}
