/**
 * OfflineEngine: columnar SQL over data files (CSV, Parquet, JSON) — the scans, joins and aggregates behind
 * validation, profiling and point-in-time feature joins. The embedded adapter lives in src/stores/offline/duckdb;
 * no engine type appears here.
 *
 * Contract:
 * - A `Source` is a file. `relation(source)` gives a SQL table expression reading it, for a FROM clause; it checks
 *   the file exists and is not empty, so errors name the file and the fix before any query runs.
 * - `query` returns plain rows: numbers (64-bit integers beyond 2^53 come back as decimal strings), strings,
 *   booleans, `Date` for dates and timestamps, arrays and objects for lists and structs, null.
 * - `describe` reports each column's engine type (for messages) and its domain `kind` (for rules).
 * - Errors are `OfflineError`s with a `reason`; the SQL dialect is the adapter's
 *   (generated checks use `count(*) FILTER (WHERE …)` and `regexp_matches`).
 */
import { extname } from 'node:path';
import { BatonError } from '../errors.ts';

export type FileFormat = 'csv' | 'parquet' | 'json';

export interface FileSource {
  path: string;
  /** @default inferred from the extension: .csv/.tsv/.txt → csv, .parquet/.pq → parquet, .json/.jsonl/.ndjson → json */
  format?: FileFormat;
  /** CSV only. @default guessed from the header line (`,` `;` tab or `|`), tab for .tsv */
  delimiter?: string;
}

/** A file path, or a path with its format spelled out. */
export type Source = string | FileSource;

/** What a column holds, in the platform's words; `other` covers maps, unions, JSON and engine-specific types. */
export type ColumnKind = 'integer' | 'float' | 'decimal' | 'string' | 'boolean' | 'date' | 'timestamp' | 'time' | 'interval' | 'binary' | 'list' | 'struct' | 'other';

export interface ColumnInfo {
  name: string;
  /** The engine's own type name, e.g. `BIGINT`: for messages only, never for rules. */
  type: string;
  kind: ColumnKind;
}

export type Cell = string | number | boolean | Date | Uint8Array | null | Cell[] | { [key: string]: Cell };
export type Row = Record<string, Cell>;
/** Values bound to `$1, $2, …` (array) or `$name` (object) placeholders. */
export type Params = (string | number | boolean | bigint | null)[] | Record<string, string | number | boolean | bigint | null>;

export interface OfflineEngine {
  /** Runs one SQL statement and returns all its rows. */
  query(sql: string, params?: Params): Promise<Row[]>;
  /** A SQL table expression reading the source (e.g. for `SELECT count(*) FROM ${rel}`). */
  relation(source: Source): Promise<string>;
  /** The source's columns, in file order. */
  describe(source: Source): Promise<ColumnInfo[]>;
  /** Columns of any SQL table expression (a subquery over relations), with their kinds. */
  describeQuery(relation: string): Promise<ColumnInfo[]>;
  /** Frees the engine; later calls fail. Idempotent. */
  close(): Promise<void>;
}

export type OfflineErrorReason = 'missing_file' | 'empty_file' | 'malformed_file' | 'unknown_format' | 'query_failed' | 'closed';

/** Thrown by OfflineEngine adapters. Missing files map to `not_found`; the rest are bad inputs (`data_invalid`). */
export class OfflineError extends BatonError {
  override readonly name = 'OfflineError';
  constructor(
    readonly reason: OfflineErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(reason === 'missing_file' ? 'not_found' : 'data_invalid', message, options);
  }
}

export function sourcePath(source: Source): string {
  return typeof source === 'string' ? source : source.path;
}

const EXTENSIONS: Record<string, FileFormat> = {
  '.csv': 'csv',
  '.tsv': 'csv',
  '.txt': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.json': 'json',
  '.jsonl': 'json',
  '.ndjson': 'json',
};

/** The source's format: explicit, else by extension (a trailing .gz is looked through). */
export function formatOf(source: Source): FileFormat {
  if (typeof source !== 'string' && source.format) return source.format;
  const path = sourcePath(source);
  const ext = extname(path.replace(/\.(gz|zst)$/i, '')).toLowerCase();
  const format = EXTENSIONS[ext];
  if (!format) {
    throw new OfflineError(
      'unknown_format',
      `Cannot tell the format of "${path}" from its extension "${ext || '(none)'}". Pass { path, format: 'csv' | 'parquet' | 'json' }.`,
    );
  }
  return format;
}
