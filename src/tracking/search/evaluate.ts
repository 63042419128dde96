/**
 * The reference semantics of run search, in memory: what sql.ts must return, stated as plain code. Used by the tests
 * to check the SQL on generated data, and usable wherever runs are already in memory.
 *
 * Semantics (two-valued: every condition is true or false for every run, never "unknown"):
 * - A comparison on a key the run does not have is false, whatever the operator: `metrics.auc != 0.5`,
 *   `params.model NOT IN ('rf')` and `tags.team NOT LIKE 'a%'` match only runs that HAVE the key. Same for an
 *   attribute that is NULL (name, end_time, duration of an unfinished run).
 * - NOT negates plainly, so `NOT metrics.auc = 0.5` also matches runs without auc (unlike `metrics.auc != 0.5`).
 * - `IS NULL` is true when the run has no such key (attribute: is NULL); `IS NOT NULL` when it has one.
 * - Params and tags are text. With a number literal they compare numerically, and only values that look like a
 *   JSON number (`-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, no spaces) take part: `params.depth >= 6` matches '6',
 *   '6.0', '1e1'; never 'six', ' 6', '06' or '+6' (nor does `params.depth != 6`). With a string literal they compare
 *   as exact text (= and != only). `= true` / `= false` compare the text case-insensitively with 'true'/'false'.
 * - LIKE: `%` any run of characters, `_` one character, backslash escapes the next one; case-sensitive. ILIKE folds
 *   ASCII letters only (PostgreSQL's ILIKE folds all of Unicode; SQLite's LIKE only ASCII — keep to ASCII).
 * - Order: nulls (missing keys) last in both directions; text in binary (code point) order; ties by run id.
 */
import { type Attribute, type Expr, type Key, type Literal, type OrderTerm } from './ast.ts';
import { checkExpr } from './limits.ts';

export interface RunRecord {
  id: string;
  experiment: string;
  name: string | null;
  status: string;
  /** Epoch milliseconds. */
  startTime: number;
  endTime: number | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

export const NUMERIC_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

/**
 * The number a param or tag text takes part in numeric comparisons as, or null when it does not look like a JSON
 * number. The store keeps this next to the text (value_num), so the SQL compares the stored number: one rule, here.
 * Out-of-range text follows JavaScript: '1e400' is Infinity, '1e-400' is 0.
 */
export function textNumber(text: string): number | null {
  return NUMERIC_TEXT.test(text) ? Number(text) : null;
}

type Value = string | number | null;

function lookup(run: RunRecord, key: Key): Value {
  switch (key.kind) {
    case 'metrics':
      return Object.hasOwn(run.metrics, key.name) ? run.metrics[key.name]! : null;
    case 'params':
      return Object.hasOwn(run.params, key.name) ? run.params[key.name]! : null;
    case 'tags':
      return Object.hasOwn(run.tags, key.name) ? run.tags[key.name]! : null;
    case 'attributes':
      return attribute(run, key.name as Attribute);
  }
}

function attribute(run: RunRecord, a: Attribute): Value {
  switch (a) {
    case 'run_id':
      return run.id;
    case 'experiment':
      return run.experiment;
    case 'name':
      return run.name;
    case 'status':
      return run.status;
    case 'start_time':
      return run.startTime;
    case 'end_time':
      return run.endTime;
    case 'duration':
      return run.endTime === null ? null : run.endTime - run.startTime;
  }
}

/** The value as the comparison sees it: numbers stay numbers, text meets a number literal only if numeric-looking. */
function operand(v: string | number, literal: Literal): string | number | null {
  if (typeof literal === 'number') return typeof v === 'number' ? v : textNumber(v);
  if (typeof literal === 'boolean') return typeof v === 'string' ? v.toLowerCase() : null;
  return v;
}

function eq(v: string | number, literal: Literal): boolean | null {
  const a = operand(v, literal);
  if (a === null) return null;
  return a === (typeof literal === 'boolean' ? String(literal) : literal);
}

export function likeToRegExp(pattern: string, foldAscii: boolean): RegExp {
  if (foldAscii) pattern = asciiLower(pattern);
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 'u');
}

const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const escapeRe = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/** Whether `run` matches `expr`. A tree deeper or larger than a parsed filter may be is refused (limits.ts). */
export function evaluate(expr: Expr | null, run: RunRecord): boolean {
  checkExpr(expr);
  return matches(expr, run);
}

/** The recursion behind evaluate: bounded, since checkExpr has limited the tree's depth. */
function matches(expr: Expr | null, run: RunRecord): boolean {
  if (expr === null) return true;
  switch (expr.type) {
    case 'and':
      return expr.items.every((e) => matches(e, run));
    case 'or':
      return expr.items.some((e) => matches(e, run));
    case 'not':
      return !matches(expr.expr, run);
    case 'null':
      return (lookup(run, expr.key) === null) !== expr.negated;
    case 'compare': {
      const v = lookup(run, expr.key);
      if (v === null) return false;
      if (expr.op === '=' || expr.op === '!=') {
        const r = eq(v, expr.value);
        return r === null ? false : expr.op === '=' ? r : !r;
      }
      const a = operand(v, expr.value);
      if (a === null || typeof a !== 'number' || typeof expr.value !== 'number') return false;
      const b = expr.value;
      return expr.op === '<' ? a < b : expr.op === '<=' ? a <= b : expr.op === '>' ? a > b : a >= b;
    }
    case 'in': {
      const v = lookup(run, expr.key);
      if (v === null) return false;
      const first = expr.values[0]!;
      if (operand(v, first) === null) return false;
      const found = expr.values.some((lit) => eq(v, lit) === true);
      return found !== expr.negated;
    }
    case 'like': {
      const v = lookup(run, expr.key);
      if (v === null || typeof v !== 'string') return false;
      const fold = expr.op === 'ilike';
      const hit = likeToRegExp(expr.pattern, fold).test(fold ? asciiLower(v) : v);
      return hit !== expr.negated;
    }
  }
}

/** Binary (code point) order of text, as SQLite's BINARY and PostgreSQL's "C" collation. */
function compareText(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** Sorts like the SQL ORDER BY: each term nulls last, then run id ascending. Returns a new array. */
export function sortRuns(runs: readonly RunRecord[], terms: readonly OrderTerm[]): RunRecord[] {
  const cmp = (a: RunRecord, b: RunRecord): number => {
    for (const t of terms) {
      const x = lookup(a, t.key);
      const y = lookup(b, t.key);
      if (x === null || y === null) {
        if (x === y) continue;
        return x === null ? 1 : -1;
      }
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : compareText(String(x), String(y));
      if (c !== 0) return t.desc ? -c : c;
    }
    return compareText(a.id, b.id);
  };
  return [...runs].sort(cmp);
}

/** Filters then sorts: the reference answer for a search. */
export function searchInMemory(runs: readonly RunRecord[], filter: Expr | null, order: readonly OrderTerm[] = []): RunRecord[] {
  checkExpr(filter);
  return sortRuns(
    runs.filter((r) => matches(filter, r)),
    order,
  );
}
