// Size limits of a filter: too long, too deep or too many conditions is a usage error with the position, never a
// stack overflow; a filter right at the limits parses, compiles and runs on SQLite (whose own expression depth
// limit is 1,000); trees built in code are held to the same bounds by the compiler and the evaluator.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { BatonError } from '../../errors.ts';
import { DIALECT_WORDS, MIGRATIONS } from '../../stores/metadata/sql/schema.ts';
import type { Expr } from './ast.ts';
import { evaluate, searchInMemory, type RunRecord } from './evaluate.ts';
import type { FilterSyntaxError } from './lexer.ts';
import { FILTER_LIMITS } from './limits.ts';
import { parseFilter } from './parser.ts';
import { compileFilter, compileSearch } from '../../stores/metadata/sql/search.ts';

const refused = (pattern: RegExp, position?: number) => (err: unknown) => {
  assert.ok(err instanceof BatonError && err.code === 'usage', `expected a usage error, got ${String(err)}`);
  assert.match(err.message, pattern);
  if (position !== undefined) assert.equal((err as FilterSyntaxError).position, position);
  return true;
};

const ors = (n: number): string => Array.from({ length: n }, (_, i) => `metrics.m${i} = ${i}`).join(' or ');

test('5,000 nested parentheses, 10,000 "(" and 3,000 NOTs are usage errors, not stack overflows', () => {
  const nested = `${'('.repeat(5000)}metrics.a = 1${')'.repeat(5000)}`;
  assert.throws(() => parseFilter(nested), refused(/over the limit of 10000 at position 10000/, 10_000));
  assert.throws(() => parseFilter('('.repeat(10_000)), refused(/nest more than 32 deep at position 32/, 32));
  assert.throws(() => parseFilter(`${'not '.repeat(3000)}metrics.a = 1`), refused(/over the limit/));
  assert.throws(() => parseFilter(`${'not '.repeat(40)}metrics.a = 1`), refused(/nest more than 32 deep at position 128/, 128));
  assert.throws(() => parseFilter(`${'(not '.repeat(20)}metrics.a = 1${')'.repeat(20)}`), refused(/nest more than 32/));
});

test('more than 256 conditions is a usage error at the first condition over the limit', () => {
  const text = ors(300);
  const at = text.indexOf('metrics.m256 ');
  assert.throws(() => parseFilter(text), refused(/more than 256 conditions: the one at position \d+ is over/, at));
  assert.throws(() => parseFilter(ors(1000)), refused(/over the limit of 10000/), '~1,000 OR terms never reach the store');
  assert.throws(() => parseFilter(`metrics.a in (${Array.from({ length: 300 }, (_, i) => i).join(',')}) and ${ors(257)}`), refused(/more than 256/));
});

test('the error message of a long filter shows a window around the caret, not the whole text', () => {
  try {
    parseFilter(`${ors(100)} and )`);
    assert.fail('expected an error');
  } catch (err) {
    const lines = (err as Error).message.split('\n');
    assert.ok(lines[1]!.length < 110, lines[1]);
    assert.equal(lines[2]!.indexOf('^'), lines[1]!.indexOf(')'), 'the caret stays under the mistake');
    assert.match(lines[1]!, /^ {2}….*\)$/);
  }
});

test('a filter at every limit at once parses, compiles and runs on SQLite', () => {
  const depth = FILTER_LIMITS.maxDepth / 2;
  const text = `${'not ('.repeat(depth)}${ors(FILTER_LIMITS.maxConditions)}${')'.repeat(depth)}`;
  assert.ok(text.length <= FILTER_LIMITS.maxLength);
  const expr = parseFilter(text);
  const db = new Database(':memory:');
  try {
    for (const m of MIGRATIONS) for (const s of m.sql(DIALECT_WORDS.sqlite)) db.exec(s);
    db.prepare('INSERT INTO tracking_runs (id, experiment, name, status, start_time, end_time) VALUES (?, ?, ?, ?, ?, ?)').run('r1', 'e', null, 'finished', 1, 2);
    db.prepare('INSERT INTO tracking_latest_metrics (run_id, key, value, step, ts) VALUES (?, ?, ?, ?, ?)').run('r1', 'm3', 3, 0, 1);
    for (const strategy of ['in', 'exists'] as const) {
      const where = compileFilter(expr, { dialect: 'sqlite', strategy });
      const rows = db.prepare(`SELECT r.id FROM tracking_runs r WHERE ${where.sql}`).all(...where.params);
      assert.deepEqual(rows, [{ id: 'r1' }], 'an even number of NOTs around a matching OR');
    }
  } finally {
    db.close();
  }
});

test('trees built in code are bounded too: the compiler and the evaluator refuse them before recursing', () => {
  let deep: Expr = { type: 'compare', key: { kind: 'metrics', name: 'a', pos: 0 }, op: '=', value: 1, pos: 0 };
  for (let i = 0; i < 20_000; i++) deep = { type: 'not', expr: deep };
  const run: RunRecord = { id: 'r', experiment: 'e', name: null, status: 'finished', startTime: 0, endTime: null, params: {}, metrics: { a: 1 }, tags: {} };
  assert.throws(() => compileFilter(deep, { dialect: 'sqlite' }), refused(/nest more than/));
  assert.throws(() => compileSearch({ dialect: 'postgres', filter: deep }), refused(/nest more than/));
  assert.throws(() => evaluate(deep, run), refused(/nest more than/));
  assert.throws(() => searchInMemory([run], deep), refused(/nest more than/));
  const wide: Expr = { type: 'or', items: Array.from({ length: 300 }, (_, i) => ({ type: 'compare', key: { kind: 'metrics', name: 'a', pos: 0 }, op: '=', value: i, pos: i }) as Expr) };
  assert.throws(() => compileFilter(wide, { dialect: 'sqlite' }), refused(/more than 256 conditions/));
});
