// The filter language: precedence, NOT, parentheses, IN lists, quoting, and every error with its caret position.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatonError } from '../../errors.ts';
import type { Expr } from './ast.ts';
import { FilterSyntaxError } from './lexer.ts';
import { parseFilter, parseOrderBy } from './parser.ts';

/** A compact rendering of the tree: (and …), (or …), (not …), key op value. */
function show(e: Expr | null): string {
  if (e === null) return '∅';
  switch (e.type) {
    case 'and':
    case 'or':
      return `(${e.type} ${e.items.map(show).join(' ')})`;
    case 'not':
      return `(not ${show(e.expr)})`;
    case 'compare':
      return `${e.key.kind}.${e.key.name}${e.op}${JSON.stringify(e.value)}`;
    case 'like':
      return `${e.key.kind}.${e.key.name} ${e.negated ? 'not ' : ''}${e.op} ${JSON.stringify(e.pattern)}`;
    case 'in':
      return `${e.key.kind}.${e.key.name} ${e.negated ? 'not ' : ''}in ${JSON.stringify(e.values)}`;
    case 'null':
      return `${e.key.kind}.${e.key.name} is ${e.negated ? 'not ' : ''}null`;
  }
}

const p = (s: string): string => show(parseFilter(s));

test('precedence: NOT binds tighter than AND, AND tighter than OR', () => {
  assert.equal(p('metrics.a = 1 or metrics.b = 2 and metrics.c = 3'), '(or metrics.a=1 (and metrics.b=2 metrics.c=3))');
  assert.equal(p('metrics.a = 1 and metrics.b = 2 or metrics.c = 3'), '(or (and metrics.a=1 metrics.b=2) metrics.c=3)');
  assert.equal(p('not metrics.a = 1 and metrics.b = 2'), '(and (not metrics.a=1) metrics.b=2)');
  assert.equal(p('not not metrics.a = 1'), '(not (not metrics.a=1))');
  assert.equal(p('metrics.a = 1 or metrics.b = 2 or metrics.c = 3'), '(or metrics.a=1 metrics.b=2 metrics.c=3)');
});

test('parentheses override precedence; keywords are case-insensitive', () => {
  assert.equal(p('(metrics.a = 1 OR metrics.b = 2) And metrics.c = 3'), '(and (or metrics.a=1 metrics.b=2) metrics.c=3)');
  assert.equal(p('NOT (metrics.a = 1 or metrics.b = 2)'), '(not (or metrics.a=1 metrics.b=2))');
  assert.equal(p('((metrics.a = 1))'), 'metrics.a=1');
  assert.equal(
    p("metrics.auc > 0.8 and (params.model = 'rf' or params.depth >= 6)"),
    '(and metrics.auc>0.8 (or params.model="rf" params.depth>=6))',
  );
});

test('operators, literals and IN lists', () => {
  assert.equal(p('metrics.a != -1.5e-3'), 'metrics.a!=-0.0015');
  assert.equal(p('metrics.a <> 2'), 'metrics.a!=2');
  assert.equal(p('metrics.a == .5'), 'metrics.a=0.5');
  assert.equal(p('metrics.a<=1 and metrics.b>=2 and metrics.c<3 and metrics.d>4'), '(and metrics.a<=1 metrics.b>=2 metrics.c<3 metrics.d>4)');
  assert.equal(p("params.m IN ('rf', \"xgb\")"), 'params.m in ["rf","xgb"]');
  assert.equal(p('params.d not in (1, 2,3)'), 'params.d not in [1,2,3]');
  assert.equal(p("tags.t LIKE 'a%' and tags.u not ilike '_B'"), '(and tags.t like "a%" tags.u not ilike "_B")');
  assert.equal(p('tags.t is null or tags.u IS NOT NULL'), '(or tags.t is null tags.u is not null)');
  assert.equal(p('params.flag = TRUE and params.g != false'), '(and params.flag=true params.g!=false)');
  assert.equal(p('   '), '∅');
});

test('quoting: backquoted and quoted names, string escapes', () => {
  assert.equal(p('metrics.`val.auc` > 0.5'), 'metrics.val.auc>0.5');
  assert.equal(p('metrics.`avg model score` > 0.5'), 'metrics.avg model score>0.5');
  assert.equal(p('metrics."val-loss" < 1'), 'metrics.val-loss<1');
  assert.equal(p('metrics.`a``b` < 1'), 'metrics.a`b<1');
  assert.equal(p('params.1st_lr = 1'), 'params.1st_lr=1');
  assert.equal(p("params.s = 'it\\'s' or params.s = 'it''s' or params.s = \"say \\\"hi\\\"\\n\""), '(or params.s="it\'s" params.s="it\'s" params.s="say \\"hi\\"\\n")');
  assert.equal(p("tags.t like '50\\%'"), 'tags.t like "50\\\\%"');
  assert.equal(p('attributes.status = "FAILED" and attributes.id = \'x\' and attributes.run_name = \'y\''), '(and attributes.status="FAILED" attributes.run_id="x" attributes.name="y")');
  assert.equal(p("attributes.start_time >= '2024-01-01T00:00:00Z'"), `attributes.start_time>=${Date.UTC(2024, 0, 1)}`);
});

test('order-by specs', () => {
  assert.deepEqual(
    parseOrderBy('metrics.auc DESC, attributes.start_time').map((t) => [t.key.kind, t.key.name, t.desc]),
    [
      ['metrics', 'auc', true],
      ['attributes', 'start_time', false],
    ],
  );
  assert.deepEqual(parseOrderBy('params.`a b` asc').map((t) => [t.key.name, t.desc]), [['a b', false]]);
  assert.deepEqual(parseOrderBy(''), []);
});

/** Asserts the filter fails with a 'usage' error whose message contains `reason` and a caret at `pos`. */
function fails(source: string, pos: number, reason: string | RegExp, parse: (s: string) => unknown = parseFilter): void {
  let err: unknown;
  try {
    parse(source);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof FilterSyntaxError, `expected ${JSON.stringify(source)} to fail`);
  assert.ok(err instanceof BatonError);
  assert.equal(err.code, 'usage');
  assert.equal(err.position, pos, `${err.message}`);
  const lines = err.message.split('\n');
  assert.equal(lines.length, 3, err.message);
  assert.equal(lines[1], `  ${source}`);
  assert.equal(lines[2], `  ${' '.repeat(pos)}^`);
  if (typeof reason === 'string') assert.ok(lines[0]!.includes(reason), `${lines[0]} should include ${reason}`);
  else assert.match(lines[0]!, reason);
}

test('errors point at the mistake and say what was expected', () => {
  fails('metrics.auc > ', 14, "expected a value after '>' at position 14");
  fails('metrics.auc >', 13, "expected a value after '>' at position 13");
  fails('metric.auc > 1', 0, 'unknown prefix "metric" — did you mean "metrics"?');
  fails('param.x = 1', 0, 'did you mean "params"?');
  fails('foo.x = 1', 0, 'unknown prefix "foo" (position 0; keys start with metrics.');
  fails('auc > 1', 0, 'expected a prefixed key like metrics.auc at position 0, found "auc"');
  fails('metrics.a > 1 and (metrics.b = 1', 18, 'unclosed parenthesis opened at position 18');
  fails('(metrics.a > 1 and (metrics.b = 1)', 0, 'unclosed parenthesis opened at position 0');
  fails('metrics.a = 1)', 13, "unexpected ')' at position 13");
  fails('()', 1, 'expected a condition inside the parentheses at position 1');
  fails('metrics.a = 1 metrics.b = 2', 14, 'expected AND, OR or end of filter at position 14, found "metrics"');
  fails('(metrics.a = 1 metrics.b = 2)', 15, "expected AND, OR or ')' at position 15");
  fails('metrics.a = 1 and', 17, 'expected a key like metrics.auc at position 17, found end of filter');
  fails('metrics.a = 1 or or metrics.b = 2', 17, 'expected a key like metrics.auc at position 17, found OR');
  fails('not', 3, 'expected a key like metrics.auc at position 3');
  fails('metrics', 7, "expected '.' after \"metrics\" at position 7");
  fails('metrics. = 1', 9, "expected a name after 'metrics.' at position 9, found '='");
  fails('metrics.val.auc > 1', 11, "a name containing '.' must be backquoted at position 11: write metrics.`val.auc`");
  fails('metrics.`` > 1', 8, "empty name after 'metrics.' at position 8");
  fails('attributes.stat = 1', 11, 'unknown attribute "stat" — did you mean "status"?');
  fails('metrics.a', 9, 'expected an operator after metrics.a at position 9');
  fails('metrics.a ~ 1', 10, 'unexpected character "~" at position 10');
  fails('metrics.a between 1', 10, 'expected an operator after metrics.a at position 10, found "between"');
  fails('params.a = rf', 11, "found \"rf\" — quote text values: 'rf'");
  fails("params.a = 'rf", 11, 'unterminated string opened at position 11');
  fails("params.a = 'r\\qf'", 13, 'unknown escape "\\q" at position 13');
  fails('metrics.`a > 1', 8, 'unterminated backquoted name opened at position 8');
  fails('metrics.a = 1x', 12, 'malformed number "1x" at position 12');
  fails("metrics.a = 'high'", 12, 'metrics compare with numbers: expected a number at position 12, found the string "high"');
  fails('metrics.a = true', 12, 'metrics compare with numbers');
  fails("params.a < 'x'", 11, `'<' needs a number at position 11, found the string "x"`);
  fails("params.a >= '6'", 12, "drop the quotes: params.a >= 6");
  fails('params.a < true', 9, "'<' does not apply to true/false");
  fails("metrics.a like 'x%'", 10, 'LIKE applies to params, tags and text attributes, not metrics.a');
  fails("attributes.start_time ilike 'x%'", 22, 'ILIKE applies to params');
  fails('tags.t like 5', 12, 'expected a quoted pattern after LIKE at position 12, found the number 5');
  fails("tags.t like 'ab\\\\'", 12, 'ends with a lone escape character');
  fails('tags.t not = 1', 11, 'expected IN, LIKE or ILIKE after NOT at position 11');
  fails('tags.t in 1', 10, "expected '(' after IN at position 10");
  fails('tags.t in ()', 11, 'the list is empty');
  fails("tags.t in ('a' 'b')", 15, "expected ',' or ')' in the IN list at position 15");
  fails("tags.t in ('a', ", 16, "expected a value after ',' at position 16");
  fails("tags.t in ('a'", 10, 'unclosed IN list opened at position 10');
  fails("tags.t in ('a', 1)", 16, 'an IN list holds only numbers or only strings');
  fails('tags.t in (true)', 11, 'true/false are not allowed in an IN list');
  fails('tags.t is 1', 10, 'expected NULL after IS at position 10');
  fails('tags.t is not nul', 14, 'expected NULL after IS NOT at position 14');
  fails("attributes.status > 'a'", 18, "'>' needs a number; attributes.status holds text");
  fails('attributes.status = 1', 20, 'attributes.status compares with quoted text');
  fails("attributes.start_time > 'yesterday'", 24, 'expected epoch milliseconds or an ISO date');
  fails("attributes.duration > '1h'", 22, 'attributes.duration compares with numbers (ms)');
});

test('order-by errors', () => {
  fails('metrics.auc DESC metrics.b', 17, "expected ',', ASC, DESC or end of order-by at position 17", parseOrderBy);
  fails('metrics.auc,', 12, 'expected a key like metrics.auc at position 12, found end of order-by', parseOrderBy);
  fails('metric.auc', 0, 'did you mean "metrics"?', parseOrderBy);
  assert.throws(() => parseOrderBy('metric.auc'), /^BatonError|invalid order-by/);
});
