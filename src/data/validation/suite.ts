/**
 * A validation suite: a schema (column → type, nullability) plus expectations, as plain data checked with zod at
 * the edge (`parseSuite`), and the builders users write it with:
 *
 *   const suite = defineSuite({
 *     schema: { delay: 'integer', origin: { type: 'string', nullable: true } },
 *     expectations: [range('delay', { min: -100, max: 2000 }), matches('origin', '^[A-Z]{3}$'), rowCount({ min: 1 })],
 *   });
 *
 * Naming follows Great Expectations / pandera where they agree: column-map expectations (range, inSet, matches)
 * ignore nulls — nullability is the schema's job, null share is `nullShare`'s — and report the rows that violate
 * them. Every expectation has a `severity`: `fail` (the default) fails the report, `warn` only shows.
 */
import { z } from 'zod';
import { SuiteError } from './errors.ts';

export const Severity = z.enum(['warn', 'fail']);
export type Severity = z.infer<typeof Severity>;

/** Types a schema may require. `number` accepts integer, float and decimal columns; `any` only requires presence. */
export const ColumnType = z.enum(['integer', 'float', 'decimal', 'number', 'string', 'boolean', 'date', 'timestamp', 'time', 'interval', 'binary', 'list', 'struct', 'any']);
export type ColumnType = z.infer<typeof ColumnType>;

const Column = z.string().min(1, 'a column name is required');
const Bound = z.union([z.number(), z.string(), z.date()]);
const common = { name: z.string().min(1).optional(), severity: Severity.default('fail') };

const Range = z
  .object({ kind: z.literal('range'), column: Column, min: Bound.optional(), max: Bound.optional(), strictMin: z.boolean().default(false), strictMax: z.boolean().default(false), ...common })
  .refine((e) => e.min !== undefined || e.max !== undefined, 'range needs min, max or both')
  .refine((e) => e.min === undefined || e.max === undefined || typeof e.min !== typeof e.max || e.min <= e.max, 'range has min > max');
const InSet = z.object({ kind: z.literal('inSet'), column: Column, values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1, 'inSet needs at least one allowed value'), ...common });
const Matches = z.object({ kind: z.literal('matches'), column: Column, pattern: z.string().min(1), ...common });
const Unique = z.object({ kind: z.literal('unique'), columns: z.array(Column).min(1, 'unique needs at least one column'), ...common });
const NullShare = z.object({ kind: z.literal('nullShare'), column: Column, max: z.number().min(0).max(1), ...common });
const RowCount = z
  .object({ kind: z.literal('rowCount'), min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional(), ...common })
  .refine((e) => e.min !== undefined || e.max !== undefined, 'rowCount needs min, max or both')
  .refine((e) => e.min === undefined || e.max === undefined || e.min <= e.max, 'rowCount has min > max');
const Freshness = z.object({ kind: z.literal('freshness'), column: Column, maxAgeMs: z.number().positive(), now: z.union([z.number(), z.date()]).optional(), ...common });
const Sql = z.object({
  kind: z.literal('sql'),
  name: z.string().min(1, 'a custom check needs a name'),
  query: z.string().min(1),
  /** `rows`: the query selects offending rows; `count`: it returns one number, the count of violations. */
  returns: z.enum(['rows', 'count']).default('rows'),
  /** Violations tolerated. @default 0 */
  max: z.number().int().min(0).default(0),
  severity: Severity.default('fail'),
});

export const Expectation = z.discriminatedUnion('kind', [Range, InSet, Matches, Unique, NullShare, RowCount, Freshness, Sql]);
export type Expectation = z.infer<typeof Expectation>;
export type ExpectationInput = z.input<typeof Expectation>;

export const ColumnSpec = z.union([ColumnType, z.object({ type: ColumnType, nullable: z.boolean().default(false) })]);
export type ColumnSpec = z.input<typeof ColumnSpec>;

export const Suite = z.object({
  name: z.string().min(1).default('expectations'),
  /** Column → type; a bare type means not nullable (pandera's default). */
  schema: z.record(z.string().min(1), ColumnSpec).default({}),
  /** Fail when the data has columns the schema does not list. @default false */
  strict: z.boolean().default(false),
  expectations: z.array(Expectation).default([]),
});
export type Suite = z.infer<typeof Suite>;
export type SuiteInput = z.input<typeof Suite>;

/** Checks a suite definition; throws SuiteError('invalid_suite') listing every problem with its path. */
export function parseSuite(input: unknown): Suite {
  const parsed = Suite.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(suite)'}: ${i.message}`);
    throw new SuiteError('invalid_suite', `Invalid validation suite:\n${problems.join('\n')}`, { cause: parsed.error });
  }
  const names = new Set<string>();
  for (const e of parsed.data.expectations) {
    if (e.name === undefined) continue;
    if (names.has(e.name)) throw new SuiteError('invalid_suite', `Invalid validation suite: two expectations are named "${e.name}". Give each a distinct name.`);
    names.add(e.name);
  }
  return parsed.data;
}

/** Identity with types: a suite literal checked by the compiler (and by `validate` at run time). */
export const defineSuite = (suite: SuiteInput): SuiteInput => suite;

export interface CheckOptions {
  /** Shown in the report. @default derived, e.g. `range(delay)` */
  name?: string;
  /** @default 'fail' */
  severity?: Severity;
}

type Bound = string | number | Date;

/** Non-null values within [min, max]; `strictMin`/`strictMax` exclude the bound. Dates/ISO strings for temporal columns. */
export const range = (column: string, bounds: { min?: Bound; max?: Bound; strictMin?: boolean; strictMax?: boolean } & CheckOptions): ExpectationInput => ({ kind: 'range', column, ...bounds });
/** Non-null values are one of `values`. */
export const inSet = (column: string, values: (string | number | boolean)[], options: CheckOptions = {}): ExpectationInput => ({ kind: 'inSet', column, values, ...options });
/** Non-null strings match the regular expression (RE2 syntax, unanchored: write ^…$ to match whole values). */
export const matches = (column: string, pattern: string | RegExp, options: CheckOptions = {}): ExpectationInput => ({
  kind: 'matches',
  column,
  pattern: typeof pattern === 'string' ? pattern : pattern.flags.includes('i') ? `(?i)${pattern.source}` : pattern.source,
  ...options,
});
/** No two rows share the value (or the combination of values); rows with a null in the key are not compared. */
export const unique = (columns: string | string[], options: CheckOptions = {}): ExpectationInput => ({ kind: 'unique', columns: typeof columns === 'string' ? [columns] : columns, ...options });
/** At most `max` (a share, 0..1) of the rows are null in the column. */
export const nullShare = (column: string, limit: { max: number } & CheckOptions): ExpectationInput => ({ kind: 'nullShare', column, ...limit });
export const rowCount = (bounds: { min?: number; max?: number } & CheckOptions): ExpectationInput => ({ kind: 'rowCount', ...bounds });
/** The newest timestamp in the column is at most `maxAgeMs` older than `now` (@default the validate call's `now`). */
export const freshness = (column: string, limit: { maxAgeMs: number; now?: number | Date } & CheckOptions): ExpectationInput => ({ kind: 'freshness', column, ...limit });
/**
 * A custom check: SQL over the table `source` (the data being validated). By default it selects the offending
 * rows (`SELECT * FROM source WHERE arr_time < dep_time`); with `returns: 'count'` it returns one number.
 */
export const sql = (name: string, query: string, options: { returns?: 'rows' | 'count'; max?: number; severity?: Severity } = {}): ExpectationInput => ({ kind: 'sql', name, query, ...options });
