/**
 * The syntax tree of a run-search filter and of an order-by spec. Produced by parser.ts, compiled to SQL by sql.ts
 * and evaluated in memory by evaluate.ts (the reference semantics the SQL must agree with).
 *
 * Positions are 0-based character offsets into the filter text, kept so later checks can point at the mistake.
 */

export type KeyKind = 'metrics' | 'params' | 'tags' | 'attributes';

/** The run attributes a filter or order-by may name; each maps to a column (or expression) of tracking_runs. */
export const ATTRIBUTES = ['run_id', 'experiment', 'name', 'status', 'start_time', 'end_time', 'duration'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

/** Attributes holding epoch milliseconds: compared as numbers, or with an ISO date string converted to ms. */
export const TIME_ATTRIBUTES: ReadonlySet<Attribute> = new Set(['start_time', 'end_time']);
/** Attributes holding numbers (milliseconds). The rest hold text. */
export const NUMERIC_ATTRIBUTES: ReadonlySet<Attribute> = new Set(['start_time', 'end_time', 'duration']);

export interface Key {
  kind: KeyKind;
  /** The metric, param or tag key; for attributes one of ATTRIBUTES. */
  name: string;
  pos: number;
}

export type Literal = string | number | boolean;

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type LikeOp = 'like' | 'ilike';

export type Expr =
  | { type: 'and'; items: Expr[] }
  | { type: 'or'; items: Expr[] }
  | { type: 'not'; expr: Expr }
  | { type: 'compare'; key: Key; op: CompareOp; value: Literal; pos: number }
  | { type: 'like'; key: Key; op: LikeOp; negated: boolean; pattern: string; pos: number }
  | { type: 'in'; key: Key; negated: boolean; values: Literal[]; pos: number }
  /** `IS NULL` (negated = false): the run has no such key / the attribute is NULL. `IS NOT NULL`: it has one. */
  | { type: 'null'; key: Key; negated: boolean; pos: number };

export interface OrderTerm {
  key: Key;
  desc: boolean;
}

export function keyText(key: Key): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key.name);
  return `${key.kind}.${plain ? key.name : '`' + key.name.replace(/`/g, '``') + '`'}`;
}
