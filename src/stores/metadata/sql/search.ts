/**
 * Compiles a parsed run-search filter and order-by to SQL written once with `?` placeholders, valid on SQLite and
 * PostgreSQL (the PostgreSQL driver rewrites every `?` to `$n`, so no `?` may appear in the SQL text itself: regexes
 * and patterns travel as parameters). The semantics are those of evaluate.ts; the tests check the two agree.
 *
 * Schema it queries (the tracking tables are created elsewhere with exactly these names):
 *
 *   tracking_runs r          (id TEXT PRIMARY KEY, experiment TEXT NOT NULL, name TEXT, status TEXT NOT NULL,
 *                             start_time BIGINT NOT NULL, end_time BIGINT)            -- times: epoch ms
 *   tracking_params          (run_id TEXT, key TEXT, value TEXT, value_num DOUBLE PRECISION, PRIMARY KEY (run_id, key))
 *   tracking_latest_metrics  (run_id TEXT, key TEXT, value DOUBLE PRECISION, step BIGINT, ts BIGINT,
 *                             PRIMARY KEY (run_id, key))
 *   tracking_tags            (run_id TEXT, key TEXT, value TEXT, value_num DOUBLE PRECISION, PRIMARY KEY (run_id, key))
 *
 * Recommended indexes (see RECOMMENDED_INDEXES): (key, value, run_id) on each key/value table and (key, value_num,
 * run_id) on params, so a condition is one range scan of a covering index; (experiment, start_time) and
 * (start_time) on tracking_runs.
 *
 * How conditions compile (`?` = a parameter):
 *   metrics.k op v      r.id IN (SELECT m.run_id FROM tracking_latest_metrics m WHERE m.key = ? AND m.value op ?)
 *                       (or, with strategy 'exists', EXISTS (SELECT 1 ... WHERE m.run_id = r.id AND ...): same
 *                       result; 'in' is the default because SQLite answers it from the (key, value, run_id) index
 *                       with one range scan instead of one probe per run — see the timings in sql.test.ts)
 *   params/tags         the same over tracking_params / tracking_tags; with a number literal the comparison is on
 *                       value_num, the number the text holds when it looks like a JSON number (evaluate.ts
 *                       textNumber, computed when the value is written), else NULL → false. For params one range
 *                       scan of the (key, value_num, run_id) index.
 *   k != v, k NOT IN    "has the key and differs": inside the sub-select, so runs without the key never match.
 *   NOT (…)             plain negation of the sub-select membership: runs without the key do match.
 *   k IS [NOT] NULL     [NOT] membership in the runs having the key (attributes: the column IS [NOT] NULL).
 *   LIKE                PostgreSQL `LIKE ? ESCAPE '\'`; SQLite `GLOB ?` with the pattern translated (SQLite's LIKE
 *                       ignores ASCII case, GLOB does not).
 *   ILIKE               SQLite `LIKE ? ESCAPE '\'` (folds ASCII letters only); PostgreSQL folds ASCII itself:
 *                       `translate(x, 'A…Z', 'a…z') LIKE ?` with the pattern folded (its ILIKE would fold more).
 *   numbers             PostgreSQL: a literal that is not a safe integer meets the BIGINT time columns as
 *                       CAST(? AS DOUBLE PRECISION) (a bare parameter would be typed BIGINT and reject 1.5).
 *                       Strings with a NUL character are refused there (PostgreSQL text cannot hold one).
 *   attributes          the column (duration = end_time - start_time); nullable ones are guarded with
 *                       `col IS NOT NULL AND …` so NOT stays two-valued.
 *
 * Order-by: one LEFT JOIN per metric/param/tag term (`o0`, `o1`, …), each term `(x IS NULL), x [DESC]` (nulls last
 * both ways), text in binary order (PostgreSQL `COLLATE "C"`), then r.id. Paging: offset, or keyset with the opaque
 * token nextPageToken() builds from the last row of a page (the sort values are selected as k0, k1, …).
 */
import { BatonError } from '../../../errors.ts';
import type { SqlValue } from './driver.ts';
import { NUMERIC_ATTRIBUTES, type Attribute, type Expr, type Key, type Literal, type OrderTerm } from '../../../tracking/search/ast.ts';
import { checkExpr } from '../../../tracking/search/limits.ts';
import { parseFilter, parseOrderBy } from '../../../tracking/search/parser.ts';

export type Dialect = 'sqlite' | 'postgres';
export type Strategy = 'in' | 'exists';

export interface SqlFragment {
  sql: string;
  params: SqlValue[];
}

export const RECOMMENDED_INDEXES: readonly string[] = [
  'CREATE INDEX tracking_latest_metrics_kv ON tracking_latest_metrics (key, value, run_id)',
  'CREATE INDEX tracking_params_kv ON tracking_params (key, value, run_id)',
  'CREATE INDEX tracking_tags_kv ON tracking_tags (key, value, run_id)',
  'CREATE INDEX tracking_runs_experiment ON tracking_runs (experiment, start_time)',
  'CREATE INDEX tracking_runs_start ON tracking_runs (start_time)',
  'CREATE INDEX tracking_params_kn ON tracking_params (key, value_num, run_id)',
];

const TABLES = { metrics: 'tracking_latest_metrics', params: 'tracking_params', tags: 'tracking_tags' } as const;
const ALIAS = { metrics: 'm', params: 'p', tags: 't' } as const;
const COLUMNS: Record<Attribute, string> = {
  run_id: 'r.id',
  experiment: 'r.experiment',
  name: 'r.name',
  status: 'r.status',
  start_time: 'r.start_time',
  end_time: 'r.end_time',
  duration: '(r.end_time - r.start_time)',
};
const NULLABLE: ReadonlySet<Attribute> = new Set(['name', 'end_time', 'duration']);

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

class Builder {
  readonly params: SqlValue[] = [];
  constructor(
    readonly dialect: Dialect,
    readonly strategy: Strategy,
  ) {}

  p(v: SqlValue): string {
    if (this.dialect === 'postgres' && typeof v === 'string' && v.includes('\0')) {
      throw new BatonError('usage', `invalid filter: the text ${JSON.stringify(v)} contains a NUL character (\\0), which a PostgreSQL store can neither hold nor compare; remove it from the filter`);
    }
    this.params.push(v);
    return '?';
  }

  /** A text expression in binary order (for ORDER BY and keyset comparisons). */
  text(x: string): string {
    return this.dialect === 'postgres' ? `${x} COLLATE "C"` : x;
  }

  /**
   * LIKE is case-sensitive and ILIKE folds ASCII letters only, on both dialects: SQLite's GLOB and LIKE do exactly
   * that; PostgreSQL's ILIKE would also fold other letters (depending on the server's locale), so it folds ASCII
   * itself with translate() on both sides and uses LIKE.
   */
  like(x: string, op: 'like' | 'ilike', pattern: string): string {
    if (this.dialect === 'postgres') {
      if (op === 'like') return `${x} LIKE ${this.p(pattern)} ESCAPE '\\'`;
      return `translate(${x}, '${UPPER}', '${UPPER.toLowerCase()}') LIKE ${this.p(asciiLower(pattern))} ESCAPE '\\'`;
    }
    if (op === 'ilike') return `${x} LIKE ${this.p(pattern)} ESCAPE '\\'`;
    return `${x} GLOB ${this.p(likeToGlob(pattern))}`;
  }

  /**
   * Membership of r in the runs whose `key` row satisfies `cond`, given the row's text column and its numeric copy
   * (a callback so params keep their order).
   */
  has(key: Key, cond: ((text: string, num: string) => string) | null): string {
    const table = TABLES[key.kind as keyof typeof TABLES];
    const a = ALIAS[key.kind as keyof typeof ALIAS];
    const k = this.p(key.name);
    // Metrics are numbers already: their value is both.
    const test = cond ? ` AND ${cond(`${a}.value`, key.kind === 'metrics' ? `${a}.value` : `${a}.value_num`)}` : '';
    if (this.strategy === 'exists') return `EXISTS (SELECT 1 FROM ${table} ${a} WHERE ${a}.run_id = r.id AND ${a}.key = ${k}${test})`;
    return `r.id IN (SELECT ${a}.run_id FROM ${table} ${a} WHERE ${a}.key = ${k}${test})`;
  }

  /** The comparable form of a stored value for a literal of this type. */
  operand(text: string, num: string, key: Key, literal: Literal): string {
    if (typeof literal === 'number') return num;
    if (typeof literal === 'boolean' && (key.kind === 'params' || key.kind === 'tags')) return `lower(${text})`;
    return text;
  }

  /** The placeholder of a literal. */
  value(key: Key, v: Literal): string {
    if (typeof v === 'boolean') return this.p(String(v));
    // PostgreSQL types a parameter after the column it meets: a BIGINT time column would reject 1.5 or 1e20.
    if (typeof v === 'number' && this.dialect === 'postgres' && key.kind === 'attributes' && !Number.isSafeInteger(v)) return `CAST(${this.p(v)} AS DOUBLE PRECISION)`;
    return this.p(v);
  }

  cond(key: Key, body: (text: string, num: string) => string): string {
    if (key.kind !== 'attributes') return this.has(key, body);
    const attr = key.name as Attribute;
    const col = COLUMNS[attr];
    return NULLABLE.has(attr) ? `(${col} IS NOT NULL AND ${body(col, col)})` : body(col, col);
  }

  expr(e: Expr): string {
    switch (e.type) {
      case 'and':
      case 'or':
        return `(${e.items.map((i) => this.expr(i)).join(e.type === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `NOT (${this.expr(e.expr)})`;
      case 'null': {
        if (e.key.kind === 'attributes') return `${COLUMNS[e.key.name as Attribute]} IS ${e.negated ? 'NOT ' : ''}NULL`;
        const has = this.has(e.key, null);
        return e.negated ? has : `NOT (${has})`;
      }
      case 'compare': {
        const op = e.op === '!=' ? '<>' : e.op;
        return this.cond(e.key, (x, n) => `${this.operand(x, n, e.key, e.value)} ${op} ${this.value(e.key, e.value)}`);
      }
      case 'in':
        return this.cond(e.key, (x, n) => `${this.operand(x, n, e.key, e.values[0]!)} ${e.negated ? 'NOT IN' : 'IN'} (${e.values.map((v) => this.value(e.key, v)).join(', ')})`);
      case 'like':
        return this.cond(e.key, (x) => (e.negated ? `NOT (${this.like(x, e.op, e.pattern)})` : this.like(x, e.op, e.pattern)));
    }
  }
}

const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Translates a LIKE pattern (% _ and backslash escapes) to a SQLite GLOB pattern (* ? and [x] for literals). */
export function likeToGlob(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    let c = pattern[i]!;
    let literal = false;
    if (c === '\\' && i + 1 < pattern.length) {
      c = pattern[++i]!;
      literal = true;
    }
    if (!literal && c === '%') out += '*';
    else if (!literal && c === '_') out += '?';
    else if (c === '*' || c === '?' || c === '[') out += `[${c}]`;
    else out += c;
  }
  return out;
}

export interface CompileOptions {
  dialect: Dialect;
  strategy?: Strategy;
}

/** The WHERE fragment of a filter (`1 = 1` for an empty one), over `tracking_runs r`. */
export function compileFilter(filter: string | Expr | null, opts: CompileOptions): SqlFragment {
  const expr = typeof filter === 'string' ? parseFilter(filter) : filter;
  checkExpr(expr); // a tree built in code is bounded like a parsed one before Builder.expr recurses into it
  const b = new Builder(opts.dialect, opts.strategy ?? 'in');
  return { sql: expr === null ? '1 = 1' : b.expr(expr), params: b.params };
}

export interface SearchOptions extends CompileOptions {
  filter?: string | Expr | null;
  orderBy?: string | OrderTerm[];
  /** Only runs of these experiments. */
  experiments?: string[];
  /** Page size; default 100. */
  limit?: number;
  /** Offset paging: rows to skip. Do not combine with pageToken. */
  offset?: number;
  /** Keyset paging: the token nextPageToken returned for the previous page. */
  pageToken?: string;
}

export interface CompiledSearch extends SqlFragment {
  /** Number of order-by terms: the query selects them as k0 … k{n-1} after the run columns. */
  keys: number;
  limit: number;
}

/**
 * A complete query: `SELECT r.id, r.experiment, r.name, r.status, r.start_time, r.end_time, k0, … FROM
 * tracking_runs r …`, filtered, ordered (ties by id), limited; the next page starts after pageToken's row.
 */
export function compileSearch(opts: SearchOptions): CompiledSearch {
  const b = new Builder(opts.dialect, opts.strategy ?? 'in');
  const terms = typeof opts.orderBy === 'string' ? parseOrderBy(opts.orderBy) : (opts.orderBy ?? []);
  const expr = typeof opts.filter === 'string' ? parseFilter(opts.filter) : (opts.filter ?? null);
  checkExpr(expr);
  const limit = opts.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1) throw new BatonError('usage', `invalid page size ${limit}: give a whole number of at least 1`);
  if (opts.offset !== undefined && (!Number.isInteger(opts.offset) || opts.offset < 0)) throw new BatonError('usage', `invalid offset ${opts.offset}: give a whole number of at least 0`);
  if (opts.offset && opts.pageToken) throw new BatonError('usage', 'give either an offset or a page token, not both');

  // Joins come first in the SQL text, so their parameters are pushed first.
  const joins: string[] = [];
  const sortExprs: { x: string; text: boolean; desc: boolean }[] = [];
  terms.forEach((t, i) => {
    if (t.key.kind === 'attributes') {
      const attr = t.key.name as Attribute;
      sortExprs.push({ x: COLUMNS[attr], text: !NUMERIC_ATTRIBUTES.has(attr), desc: t.desc });
      return;
    }
    const table = TABLES[t.key.kind];
    joins.push(`LEFT JOIN ${table} o${i} ON o${i}.run_id = r.id AND o${i}.key = ${b.p(t.key.name)}`);
    sortExprs.push({ x: `o${i}.value`, text: t.key.kind !== 'metrics', desc: t.desc });
  });

  const where: string[] = [];
  if (expr !== null) where.push(b.expr(expr));
  if (opts.experiments !== undefined) {
    where.push(opts.experiments.length === 0 ? '1 = 0' : `r.experiment IN (${opts.experiments.map((e) => b.p(e)).join(', ')})`);
  }
  if (opts.pageToken !== undefined) {
    const cursor = decodeToken(opts.pageToken, terms.length);
    // After the cursor row in the order (x IS NULL), x [DESC] per term, then id: for some term i, all earlier terms
    // equal the cursor's and term i comes later; or all equal and a greater id.
    // Built in text order: every `?` pushes its parameter as it is written.
    const n = sortExprs.length;
    const sortText = (s: (typeof sortExprs)[number]): string => (s.text ? b.text(s.x) : s.x);
    const equal = (j: number): string => {
      const v = cursor[j] ?? null;
      return v === null ? `${sortExprs[j]!.x} IS NULL` : `${sortText(sortExprs[j]!)} = ${b.p(v)}`;
    };
    const ors: string[] = [];
    for (let i = 0; i <= n; i++) {
      if (i < n && cursor[i] === null) continue; // nothing sorts after a null but other nulls
      const parts: string[] = [];
      for (let j = 0; j < i; j++) parts.push(equal(j));
      if (i < n) {
        const s = sortExprs[i]!;
        parts.push(`(${s.x} IS NULL OR ${sortText(s)} ${s.desc ? '<' : '>'} ${b.p(cursor[i]!)})`);
      } else parts.push(`${b.text('r.id')} > ${b.p(cursor[n]!)}`);
      ors.push(parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`);
    }
    where.push(`(${ors.join(' OR ')})`);
  }

  const order = sortExprs.flatMap((s) => [`(${s.x} IS NULL)`, `${s.text ? b.text(s.x) : s.x}${s.desc ? ' DESC' : ''}`]);
  order.push(b.text('r.id'));
  const select = ['r.id', 'r.experiment', 'r.name', 'r.status', 'r.start_time', 'r.end_time', ...sortExprs.map((s, i) => `${s.x} AS k${i}`)];
  const sql = [
    `SELECT ${select.join(', ')} FROM tracking_runs r`,
    ...joins,
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    `ORDER BY ${order.join(', ')}`,
    `LIMIT ${b.p(limit)}${opts.offset ? ` OFFSET ${b.p(opts.offset)}` : ''}`,
  ]
    .filter(Boolean)
    .join(' ');
  return { sql, params: b.params, keys: terms.length, limit };
}

/** The token for the page after `rows` (a page of compileSearch's query), or null when it was the last page. */
export function nextPageToken(rows: readonly Record<string, unknown>[], compiled: Pick<CompiledSearch, 'keys' | 'limit'>): string | null {
  if (rows.length < compiled.limit) return null;
  const last = rows[rows.length - 1]!;
  const values: (string | number | null)[] = [];
  for (let i = 0; i < compiled.keys; i++) values.push(plain(last[`k${i}`]));
  values.push(String(last['id']));
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function plain(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  return String(v);
}

function decodeToken(token: string, keys: number): (string | number | null)[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  const ok = Array.isArray(values) && values.length === keys + 1 && values.every((v) => v === null || typeof v === 'string' || typeof v === 'number') && typeof values[keys] === 'string';
  if (!ok) throw new BatonError('usage', 'invalid page token: pass the token the previous page returned, with the same order-by');
  return values as (string | number | null)[];
}
