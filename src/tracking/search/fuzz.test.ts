// Fuzz of the filter language with a fixed seed: random token soup, including long runs of '(' and NOT, unclosed
// strings and stray characters. Every input either parses (and then compiles for both dialects and evaluates) or is
// refused as a 'usage' BatonError — never a RangeError (stack overflow) or any other error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatonError } from '../../errors.ts';
import { evaluate, type RunRecord } from './evaluate.ts';
import { rng } from './generate.ts';
import { parseFilter, parseOrderBy } from './parser.ts';
import { compileFilter } from '../../stores/metadata/sql/search.ts';

const SOUP = [
  '(', ')', '(', ')', 'not', 'NOT', 'and', 'or', 'OR', 'in', 'not in', 'like', 'ilike', 'is', 'null', 'is not null', 'true', 'false',
  'metrics.auc', 'params.model', 'tags.team', 'attributes.status', 'attributes.start_time', 'attributes.duration', 'metrics.`a.b`',
  'metrics', 'params.', '.', ',', '=', '==', '!=', '<>', '<', '<=', '>', '>=', '0.5', '-1', '1e400', '.5', '1.2.3', '12abc',
  "'rf'", "'2024-01-01'", "'a%'", "'\\", "'it''s'", '"x"', '`q`', '`open', "'open", '\\q', '!', '@', '#', ';', '\n', '\t',
  'desc', 'asc', 'x', 'ø', '\u0000', '',
];
const RUN: RunRecord = { id: 'r1', experiment: 'e', name: 'n', status: 'finished', startTime: 1, endTime: 5, params: { model: 'rf' }, metrics: { auc: 0.7 }, tags: { team: 'a' } };

function soup(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const shape = r();
  if (shape < 0.05) return '('.repeat(1 + Math.floor(r() * 12_000));
  if (shape < 0.1) return `${'not '.repeat(1 + Math.floor(r() * 3_000))}metrics.auc > 0.5`;
  if (shape < 0.15) return `${'('.repeat(Math.floor(r() * 60))}metrics.auc > 0.5${')'.repeat(Math.floor(r() * 60))}`;
  if (shape < 0.2) return Array.from({ length: 1 + Math.floor(r() * 600) }, (_, i) => `metrics.m${i} = ${i}`).join(pick([' or ', ' and ', ' or not ']));
  const n = Math.floor(r() * (r() < 0.9 ? 30 : 3_000));
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(pick(SOUP));
  return out.join(r() < 0.7 ? ' ' : '');
}

test('10,000 random filters: each parses or is a usage error, never a stack overflow or another error', () => {
  const r = rng(20261208);
  let parsed = 0;
  for (let i = 0; i < 10_000; i++) {
    const text = soup(r);
    try {
      const expr = parseFilter(text);
      parsed++;
      compileFilter(expr, { dialect: 'sqlite' });
      compileFilter(expr, { dialect: 'postgres', strategy: 'exists' });
      evaluate(expr, RUN);
    } catch (err) {
      if (!(err instanceof BatonError && err.code === 'usage')) assert.fail(`filter #${i} (${JSON.stringify(text.slice(0, 200))}…) threw ${String(err)}`);
    }
    try {
      parseOrderBy(text);
    } catch (err) {
      if (!(err instanceof BatonError && err.code === 'usage')) assert.fail(`order-by #${i} threw ${String(err)}`);
    }
  }
  assert.ok(parsed > 100, `some inputs parse (${parsed})`);
});
