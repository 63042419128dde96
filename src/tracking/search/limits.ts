/**
 * Size limits of a run-search filter. The parser, the SQL compiler and the in-memory evaluator all walk the tree
 * recursively, and SQLite refuses expressions deeper than 1,000 levels, so a filter is bounded before any of them
 * sees it: a too-long, too-deep or too-large filter is a usage error with the position where it went over, never a
 * stack overflow or a store error.
 *
 * The parser enforces the limits while it reads (it never descends more than `maxDepth` levels); `checkExpr` checks
 * a tree built in code, iteratively, before the compiler or the evaluator recurse into it.
 */
import { BatonError } from '../../errors.ts';
import type { Expr } from './ast.ts';

export const FILTER_LIMITS = {
  /** Characters in a filter or order-by text. */
  maxLength: 10_000,
  /** Parentheses and NOTs open at once (`NOT (NOT (a))` is 3). */
  maxDepth: 32,
  /** Conditions (`metrics.auc > 0.8`, `params.m IN (…)`, …) in one filter. */
  maxConditions: 256,
} as const;

/**
 * Nodes (and/or/not) on one path of a tree built in code. A parsed filter stays within it: each level of
 * parentheses or NOT adds at most an OR, an AND and a NOT node.
 */
export const MAX_TREE_DEPTH = 3 * (FILTER_LIMITS.maxDepth + 1);

/** Throws a 'usage' BatonError when a filter tree is deeper or larger than a parsed filter may be. Iterative. */
export function checkExpr(expr: Expr | null): void {
  if (expr === null) return;
  const stack: [Expr, number][] = [[expr, 0]];
  let conditions = 0;
  while (stack.length > 0) {
    const [e, depth] = stack.pop()!;
    if (e.type === 'and' || e.type === 'or' || e.type === 'not') {
      if (depth + 1 > MAX_TREE_DEPTH) {
        throw new BatonError('usage', `invalid filter: AND/OR/NOT nest more than ${MAX_TREE_DEPTH} levels deep. Flatten the filter (a list of ORs, or IN (…)) instead of nesting it.`);
      }
      if (e.type === 'not') stack.push([e.expr, depth + 1]);
      else for (const item of e.items) stack.push([item, depth + 1]);
    } else if (++conditions > FILTER_LIMITS.maxConditions) {
      throw new BatonError('usage', `invalid filter: more than ${FILTER_LIMITS.maxConditions} conditions (the one at position ${e.pos} is over). Use IN (…) for many values of one key, or split the search.`);
    }
  }
}
