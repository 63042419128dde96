/**
 * The DuckDB OfflineEngine: one in-memory DuckDB instance per engine, a fresh connection per query (so queries
 * from concurrent callers run in parallel). Files are read in place with read_csv / read_parquet / read_json_auto,
 * chosen by extension or the source's explicit format.
 *
 * Errors a user can fix — a missing, empty or malformed file, a bad query — become OfflineErrors naming the file
 * and the fix; DuckDB's own message is kept as the cause.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { formatOf, OfflineError, sourcePath, type Cell, type ColumnInfo, type ColumnKind, type FileFormat, type OfflineEngine, type Params, type Row, type Source } from '../../../ports/offline.ts';
import { findRaggedRow, guessDelimiter } from './csv.ts';

export interface DuckDBEngineOptions {
  /** Worker threads for one query. @default DuckDB's default (the machine's cores) */
  threads?: number;
  /** e.g. '2GB'. @default DuckDB's default (80% of RAM) */
  memoryLimit?: string;
}

/** A SQL string literal: single quotes doubled, NUL refused (DuckDB strings cannot hold it). */
export function sqlString(value: string): string {
  if (value.includes('\0')) throw new OfflineError('query_failed', `A SQL string cannot contain a NUL character: ${JSON.stringify(value)}.`);
  return `'${value.replaceAll("'", "''")}'`;
}

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|INT\d*)$/;

/** Maps a DuckDB type name to the platform's column kind. */
export function kindOf(type: string): ColumnKind {
  const t = type.toUpperCase();
  if (t.endsWith(']')) return 'list';
  if (INTEGER.test(t)) return 'integer';
  if (t === 'FLOAT' || t === 'DOUBLE' || t === 'REAL') return 'float';
  if (t.startsWith('DECIMAL')) return 'decimal';
  if (t === 'VARCHAR' || t === 'UUID' || t.startsWith('ENUM')) return 'string';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  if (t.startsWith('TIME')) return 'time';
  if (t === 'INTERVAL') return 'interval';
  if (t === 'BLOB') return 'binary';
  if (t.startsWith('STRUCT')) return 'struct';
  return 'other';
}

/** Plain JS values: bigints become numbers when exact, else decimal strings. */
function plain(value: unknown): Cell {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Date || value instanceof Uint8Array) return value;
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value as Cell;
}

interface Resolved {
  path: string;
  format: FileFormat;
  relation: string;
  key: string;
  delimiter?: string;
}

const firstLine = (message: string): string => message.split('\n')[0]!.trim().replace(/\.+$/, '');

export class DuckDBOfflineEngine implements OfflineEngine {
  private closed = false;
  private readonly columns = new Map<string, Promise<ColumnInfo[]>>();

  private constructor(private readonly instance: DuckDBInstance) {}

  static async open(options: DuckDBEngineOptions = {}): Promise<DuckDBOfflineEngine> {
    const config: Record<string, string> = {};
    if (options.threads) config.threads = String(options.threads);
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    return new DuckDBOfflineEngine(await DuckDBInstance.create(':memory:', config));
  }

  async query(sql: string, params?: Params): Promise<Row[]> {
    if (this.closed) throw new OfflineError('closed', 'This offline engine is closed; open a new one.');
    const connection = await this.instance.connect();
    try {
      const reader = await connection.runAndReadAll(sql, params as never);
      return reader.getRowObjectsJS().map((row) => plain(row) as Row);
    } catch (err) {
      throw this.translate(err, sql);
    } finally {
      connection.closeSync();
    }
  }

  async relation(source: Source): Promise<string> {
    const r = await this.resolve(source);
    await this.describeResolved(r);
    return r.relation;
  }

  async describe(source: Source): Promise<ColumnInfo[]> {
    return this.describeResolved(await this.resolve(source));
  }

  async describeQuery(relation: string): Promise<ColumnInfo[]> {
    const rows = await this.query(`DESCRIBE SELECT * FROM ${relation}`);
    return rows.map((row) => ({ name: String(row.column_name), type: String(row.column_type), kind: kindOf(String(row.column_type)) }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.instance.closeSync();
  }

  /** Checks the file (exists, is a file, not empty) and builds the read expression. */
  private async resolve(source: Source): Promise<Resolved> {
    const given = sourcePath(source);
    const format = formatOf(source);
    const path = resolve(given);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new OfflineError('missing_file', `Data file "${given}" does not exist (looked for ${path}). Check the path; relative paths are resolved from ${process.cwd()}.`);
    if (!info.isFile()) throw new OfflineError('missing_file', `"${given}" is not a file (${info.isDirectory() ? 'a directory' : 'not a regular file'}). Point the source at one ${format} file.`);
    if (info.size === 0) {
      const fix = format === 'csv' ? 'A CSV file needs at least a header row' : format === 'json' ? 'A JSON file needs at least [] or one record' : 'Write it again';
      throw new OfflineError('empty_file', `Data file "${given}" is empty (0 bytes). ${fix}; check the step that wrote it.`);
    }
    let relation: string;
    let delimiter: string | undefined;
    if (format === 'csv') {
      delimiter = (typeof source === 'string' ? undefined : source.delimiter) ?? (/\.tsv$/i.test(path) ? '\t' : await guessDelimiter(path));
      // skip = 0: the header is the first line. Left to sniff, DuckDB may skip rows it deems a preamble, and would
      // read a short ragged file from its ragged line on, silently.
      relation = `read_csv(${sqlString(path)}, header = true, skip = 0${delimiter ? `, delim = ${sqlString(delimiter)}` : ''})`;
    } else if (format === 'parquet') relation = `read_parquet(${sqlString(path)})`;
    else relation = `read_json_auto(${sqlString(path)})`;
    return { path, format, relation, delimiter, key: `${relation}|${info.size}|${info.mtimeMs}` };
  }

  private describeResolved(r: Resolved): Promise<ColumnInfo[]> {
    let columns = this.columns.get(r.key);
    if (!columns) {
      columns = this.describeUncached(r);
      this.columns.set(r.key, columns);
      columns.catch(() => this.columns.delete(r.key));
    }
    return columns;
  }

  private async describeUncached(r: Resolved): Promise<ColumnInfo[]> {
    try {
      return await this.describeQuery(r.relation);
    } catch (err) {
      throw await this.explainFileError(r, err);
    }
  }

  /** Turns DuckDB's message about a file it cannot read into one naming the file, the line and the fix. */
  private async explainFileError(r: Resolved, err: unknown): Promise<unknown> {
    const cause = err instanceof OfflineError && err.cause ? err.cause : err;
    const message = cause instanceof Error ? cause.message : String(cause);
    if (r.format === 'csv') {
      const ragged = r.delimiter ? await findRaggedRow(r.path, r.delimiter).catch(() => undefined) : undefined;
      const where = !ragged
        ? ''
        : ragged.fields < 0
          ? ` A quoted field opened on line ${ragged.line} is never closed.`
          : ` Line ${ragged.line} has ${ragged.fields} fields where the header has ${ragged.expected}.`;
      return new OfflineError(
        'malformed_file',
        `CSV file "${r.path}" is malformed: ${firstLine(message)}.${where} Fix the file (every row needs as many fields as the header; quote fields that contain "${r.delimiter ?? ','}"), or pass { path, format: 'csv', delimiter } if the delimiter is not "${r.delimiter ?? ','}".`,
        { cause },
      );
    }
    if (r.format === 'parquet') {
      return new OfflineError('malformed_file', `"${r.path}" is not a readable Parquet file: ${firstLine(message)}. Check that it was fully written and is Parquet (else pass { path, format }).`, { cause });
    }
    return new OfflineError('malformed_file', `JSON file "${r.path}" cannot be read: ${firstLine(message)}. It must hold an array of records or one record per line.`, { cause });
  }

  private translate(err: unknown, sql: string): OfflineError {
    if (err instanceof OfflineError) return err;
    const message = err instanceof Error ? err.message : String(err);
    // A row that breaks the CSV dialect or the sniffed column types past the sniffer's sample only shows up mid-scan.
    const csvFile = /CSV Error|when converting column/.test(message) ? /^\s*file = (.+)$/m.exec(message)?.[1] : undefined;
    if (csvFile) {
      const lines = message.split('\n');
      const stop = lines.findIndex((l) => l.startsWith('Possible fixes'));
      const details = lines.slice(0, stop < 0 ? 3 : stop).map((l) => l.trim()).filter(Boolean);
      return new OfflineError(
        'malformed_file',
        `CSV file "${csvFile}" is malformed: ${details.join('; ').replace(/^Invalid Input Error: |^Conversion Error: /, '')}. Fix that row (every row needs as many fields as the header, and each column one type), or read it with format 'csv' and a different delimiter.`,
        { cause: err },
      );
    }
    const shown = sql.length > 300 ? `${sql.slice(0, 300)}…` : sql;
    return new OfflineError('query_failed', `Query failed: ${firstLine(message)}\n  in: ${shown}`, { cause: err });
  }
}
