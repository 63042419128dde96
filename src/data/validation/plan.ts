/**
 * Compiles a suite against the data's columns into checks: each built-in expectation becomes aggregate
 * expressions for ONE shared scan (`count(*) FILTER (WHERE …)`, `max(…)`, `count(DISTINCT …)`), a rule turning
 * their values into pass/fail, and — for fetching a sample only when it failed — the predicate of its offending
 * rows. Custom SQL checks run as their own queries. Names and types are checked here, before any scan.
 */
import type { Cell, ColumnInfo, ColumnKind } from '../../ports/offline.ts';
import { SuiteError } from './errors.ts';
import { formatDuration, type ExpectationResult, type Observed } from './report.ts';
import { ident, literal, str } from './sql.ts';
import type { ColumnType, Expectation, Suite } from './suite.ts';

export type ResultBase = Omit<ExpectationResult, 'passed' | 'observed' | 'sample'>;

export interface AggregateCheck {
  type: 'aggregate';
  base: ResultBase;
  /** SQL aggregate expressions over the source, computed in the shared pass. */
  aggregates: string[];
  evaluate(values: Cell[], rows: number): { passed: boolean; observed: Observed };
  /** Offending rows are `SELECT * … WHERE offending`. */
  offending?: string;
  /** Or a dedicated sample query (unique: duplicated keys and their counts). */
  sampleSql?: (relation: string, limit: number) => string;
}

export interface CustomCheck {
  type: 'custom';
  base: ResultBase;
  query: string;
  returns: 'rows' | 'count';
  max: number;
}

/** A result known without scanning: the column set, a type, or a check skipped because of one of those. */
export interface Settled {
  type: 'settled';
  result: ExpectationResult;
}

export type PlannedCheck = AggregateCheck | CustomCheck | Settled;

const NUMERIC: ColumnKind[] = ['integer', 'float', 'decimal'];
const TEMPORAL: ColumnKind[] = ['date', 'timestamp'];

function typeMatches(expected: ColumnType, actual: ColumnKind): boolean {
  if (expected === 'any') return true;
  if (expected === 'number') return NUMERIC.includes(actual);
  return expected === actual;
}

const num = (v: Cell | undefined): number => (typeof v === 'number' ? v : v === null || v === undefined ? 0 : Number(v));
const list = (values: unknown[], max = 6): string => {
  const shown = values.slice(0, max).map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v)));
  return `{${shown.join(', ')}${values.length > max ? `, … ${values.length - max} more` : ''}}`;
};
const boundText = (v: string | number | Date): string => (v instanceof Date ? v.toISOString() : typeof v === 'number' ? String(v) : JSON.stringify(v));

/** Auto names (`range(delay)`) made unique by suffixing `#2`, `#3` when a suite repeats one. */
function namer(): (name: string) => string {
  const seen = new Map<string, number>();
  return (name) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name} #${n}`;
  };
}

export function buildPlan(suite: Suite, columns: ColumnInfo[], now: number, sourceName: string): PlannedCheck[] {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const existing = columns.map((c) => c.name).join(', ');
  const plan: PlannedCheck[] = [];
  const name = namer();
  /** Columns whose schema check failed: their expectations are reported as not evaluated. */
  const broken = new Map<string, string>();

  // Schema: presence and type (no scan), nullability (in the pass).
  for (const [column, spec] of Object.entries(suite.schema)) {
    const { type, nullable } = typeof spec === 'string' ? { type: spec, nullable: false } : spec;
    const info = byName.get(column);
    const base: ResultBase = { name: name(`type(${column})`), kind: 'type', column, severity: 'fail', expected: type === 'any' ? 'column present' : `type ${type}` };
    if (!info) {
      broken.set(column, `not evaluated: column "${column}" is missing (see ${base.name})`);
      plan.push({ type: 'settled', result: { ...base, passed: false, observed: { value: 'missing' }, sample: [], note: `missing; the data has ${existing}` } });
      continue;
    }
    const ok = typeMatches(type, info.kind);
    if (!ok) broken.set(column, `not evaluated: column "${column}" is ${info.type}, not ${type} (see ${base.name})`);
    plan.push({ type: 'settled', result: { ...base, passed: ok, observed: { value: info.type }, sample: [] } });
    if (!nullable && ok) {
      const predicate = `${ident(column)} IS NULL`;
      plan.push({
        type: 'aggregate',
        base: { name: name(`notNull(${column})`), kind: 'notNull', column, severity: 'fail', expected: `no nulls in ${column}` },
        aggregates: [`count(*) FILTER (WHERE ${predicate})`],
        evaluate: ([v], rows) => ({ passed: num(v) === 0, observed: { violations: num(v), share: rows ? num(v) / rows : 0 } }),
        offending: predicate,
      });
    }
  }
  if (suite.strict) {
    const extra = columns.filter((c) => !(c.name in suite.schema)).map((c) => c.name);
    plan.push({
      type: 'settled',
      result: { name: name('columns'), kind: 'columns', severity: 'fail', expected: 'only the schema\'s columns', passed: extra.length === 0, observed: { value: extra.length ? `unexpected columns: ${extra.join(', ')}` : 'none unexpected' }, sample: [] },
    });
  }

  const column = (e: Expectation, col: string): ColumnInfo | undefined => {
    const info = byName.get(col);
    if (info || broken.has(col)) return info;
    throw new SuiteError('unknown_column', `Expectation "${e.name ?? `${e.kind}(${col})`}" refers to column "${col}", which ${sourceName} does not have. Its columns: ${existing}.`);
  };
  const incompatible = (label: string, info: ColumnInfo, needs: string): SuiteError =>
    new SuiteError('incompatible_type', `Expectation "${label}" cannot apply to column "${info.name}" of type ${info.type}: it needs ${needs}. Fix the expectation, or cast the column when writing the data.`);

  for (const e of suite.expectations) {
    if (e.kind === 'sql') {
      plan.push({ type: 'custom', base: { name: name(e.name), kind: 'sql', severity: e.severity, expected: e.returns === 'rows' ? `at most ${e.max} rows from the query` : `a count of at most ${e.max}` }, query: e.query, returns: e.returns, max: e.max });
      continue;
    }
    if (e.kind === 'rowCount') {
      const expected = e.min !== undefined && e.max !== undefined ? `rows in [${e.min}, ${e.max}]` : e.min !== undefined ? `at least ${e.min} rows` : `at most ${e.max} rows`;
      plan.push({
        type: 'aggregate',
        base: { name: name(e.name ?? 'rowCount'), kind: 'rowCount', severity: e.severity, expected },
        aggregates: [],
        evaluate: (_v, rows) => ({ passed: (e.min === undefined || rows >= e.min) && (e.max === undefined || rows <= e.max), observed: { value: rows } }),
      });
      continue;
    }
    const cols = e.kind === 'unique' ? e.columns : [e.column];
    const label = e.name ?? `${e.kind}(${cols.join(', ')})`;
    const base: ResultBase = { name: name(label), kind: e.kind, severity: e.severity, expected: '', ...(e.kind === 'unique' ? { columns: cols } : { column: cols[0]! }) };
    const infos = cols.map((c) => column(e, c));
    const skip = cols.map((c) => broken.get(c)).find(Boolean);
    if (skip || infos.some((i) => !i)) {
      plan.push({ type: 'settled', result: { ...base, expected: '(not evaluated)', passed: false, observed: {}, sample: [], note: skip ?? 'not evaluated' } });
      continue;
    }
    plan.push(columnCheck(e, base, infos as ColumnInfo[], now, incompatible));
  }
  return plan;
}

type Incompatible = (label: string, info: ColumnInfo, needs: string) => SuiteError;

/** Rows matching `predicate` violate; passes when none do. */
function rowCheck(base: ResultBase, predicate: string): AggregateCheck {
  return {
    type: 'aggregate',
    base,
    aggregates: [`count(*) FILTER (WHERE ${predicate})`],
    evaluate: ([v], rows) => ({ passed: num(v) === 0, observed: { violations: num(v), share: rows ? num(v) / rows : 0 } }),
    offending: predicate,
  };
}

function columnCheck(e: Exclude<Expectation, { kind: 'sql' | 'rowCount' }>, base: ResultBase, infos: ColumnInfo[], now: number, incompatible: Incompatible): AggregateCheck {
  const info = infos[0]!;
  const c = ident(info.name);
  switch (e.kind) {
    case 'range': {
      const bounds = [e.min, e.max].filter((b) => b !== undefined);
      const numeric = NUMERIC.includes(info.kind);
      const ok = numeric ? bounds.every((b) => typeof b === 'number') : TEMPORAL.includes(info.kind) ? bounds.every((b) => typeof b !== 'number') : info.kind === 'string' && bounds.every((b) => typeof b === 'string');
      if (!ok) throw incompatible(base.name, info, numeric ? 'numeric bounds' : TEMPORAL.includes(info.kind) ? 'Date or ISO-string bounds' : 'a numeric, temporal or string column (with bounds of that type)');
      const parts: string[] = [];
      if (e.min !== undefined) parts.push(`${c} ${e.strictMin ? '<=' : '<'} ${literal(e.min, info)}`);
      if (e.max !== undefined) parts.push(`${c} ${e.strictMax ? '>=' : '>'} ${literal(e.max, info)}`);
      const lo = e.min === undefined ? '' : `${e.strictMin ? '>' : '≥'} ${boundText(e.min)}`;
      const hi = e.max === undefined ? '' : `${e.strictMax ? '<' : '≤'} ${boundText(e.max)}`;
      return rowCheck({ ...base, expected: `${info.name} ${[lo, hi].filter(Boolean).join(' and ')}` }, `(${parts.join(' OR ')})`);
    }
    case 'inSet': {
      const want = NUMERIC.includes(info.kind) ? 'number' : info.kind === 'boolean' ? 'boolean' : info.kind === 'string' || TEMPORAL.includes(info.kind) ? 'string' : undefined;
      if (!want || !e.values.every((v) => typeof v === want)) throw incompatible(base.name, info, want ? `${want} values` : 'a string, numeric, boolean or temporal column');
      return rowCheck({ ...base, expected: `${info.name} in ${list(e.values)}` }, `${c} NOT IN (${e.values.map((v) => literal(v, info)).join(', ')})`);
    }
    case 'matches':
      if (info.kind !== 'string') throw incompatible(base.name, info, 'a string column');
      return rowCheck({ ...base, expected: `${info.name} matches /${e.pattern}/` }, `NOT regexp_matches(${c}, ${str(e.pattern)})`);
    case 'nullShare':
      return {
        type: 'aggregate',
        base: { ...base, expected: `at most ${(e.max * 100).toPrecision(3).replace(/\.?0+$/, '')}% nulls in ${info.name}` },
        aggregates: [`count(*) FILTER (WHERE ${c} IS NULL)`],
        evaluate: ([v], rows) => {
          const share = rows ? num(v) / rows : 0;
          return { passed: share <= e.max, observed: { violations: num(v), share } };
        },
        offending: `${c} IS NULL`,
      };
    case 'unique': {
      const keys = infos.map((i) => ident(i.name));
      const complete = keys.map((k) => `${k} IS NOT NULL`).join(' AND ');
      const key = keys.length === 1 ? keys[0]! : `(${keys.join(', ')})`;
      const countName = infos.some((i) => i.name === 'rows') ? '"rows_"' : '"rows"';
      return {
        type: 'aggregate',
        base: { ...base, expected: `${infos.map((i) => i.name).join(', ')} unique` },
        aggregates: [`count(*) FILTER (WHERE ${complete})`, `count(DISTINCT ${key}) FILTER (WHERE ${complete})`],
        evaluate: ([all, distinct], rows) => {
          const dup = num(all) - num(distinct);
          return { passed: dup === 0, observed: { violations: dup, share: rows ? dup / rows : 0 } };
        },
        sampleSql: (relation, limit) =>
          `SELECT ${keys.join(', ')}, count(*) AS ${countName} FROM ${relation} WHERE ${complete} GROUP BY ${keys.join(', ')} HAVING count(*) > 1 ORDER BY count(*) DESC, ${keys.join(', ')} LIMIT ${limit}`,
      };
    }
    case 'freshness': {
      if (!TEMPORAL.includes(info.kind)) throw incompatible(base.name, info, 'a date or timestamp column');
      const at = e.now === undefined ? now : e.now instanceof Date ? e.now.getTime() : e.now;
      return {
        type: 'aggregate',
        base: { ...base, expected: `newest ${info.name} at most ${formatDuration(e.maxAgeMs)} old` },
        aggregates: [`max(${c})`],
        evaluate: ([v]) => {
          if (!(v instanceof Date)) return { passed: false, observed: { value: null } };
          const ageMs = at - v.getTime();
          return { passed: ageMs <= e.maxAgeMs, observed: { value: v.toISOString(), ageMs } };
        },
      };
    }
  }
}
