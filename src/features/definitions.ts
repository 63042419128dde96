/**
 * Feature store definitions: entities (what features are about, and the columns that identify one) and feature
 * views (features computed over a source, each row stamped with a timestamp and valid for a TTL), in the spirit of
 * Feast's Entity / FeatureView:
 *
 *   const origin = entity({ name: 'origin', joinKeys: ['origin'] });
 *   const originStats = featureView({
 *     name: 'origin_stats', entities: [origin], source: { path: 'origin_stats.parquet' },
 *     timestampField: 'ts', ttlMs: 7 * DAY, features: { avg_delay: 'DOUBLE', flights: 'BIGINT' },
 *   });
 *
 * Sources: a file (`{ path }`), SQL over named files (`{ sql, inputs }`, run by DuckDB), or a TypeScript transform
 * (`{ transform }`: a function returning rows, or an async iterable of row batches; see ./transform.ts).
 *
 * Definitions are plain data checked with zod at the edge; every error names the field and the fix. Each view
 * carries `version`: the sha256 of its canonical JSON (name, entities, source, timestamp field, TTL, features;
 * key order does not matter), so a training set can record exactly which definitions produced it. The version is
 * of the definition, not of the data behind it, and not of where the project lives: file paths enter the hash
 * relative to their project (the nearest folder above the file holding a package.json or a .baton folder), so two
 * clones of a project, or two project folders holding the same .baton layout, give a view the same version. A file
 * in no project enters with its absolute path (two different files never share a version). A transform enters as
 * the sha256 of its source text (`String(fn)`), or as its explicit `version` when one is given — values the
 * function closes over are not seen, so bump `version` when they change what it returns.
 *
 * TTL: `ttlMs` is required — a positive number of milliseconds, or `null` for "never expires". (Feast reads a TTL
 * of 0 as "forever", a frequent surprise; here 0 is refused.)
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import stringify from 'safe-stable-stringify';
import { z } from 'zod';
import type { FileFormat, FileSource } from '../ports/offline.ts';
import { FeatureError } from './errors.ts';
import type { TransformFn } from './transform.ts';

/** Names of views, entities and features: SQL-identifier-like, so refs (`view:feature`) and columns stay unambiguous. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const Name = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .regex(NAME, `${what} must start with a letter or _ and hold only letters, digits and _ (e.g. "route_stats")`);
const ColumnName = z.string({ error: 'a column name must be a string' }).min(1, 'a column name cannot be empty');

/** Types a feature may be declared with (DuckDB names); values are cast to the declared type on the way out. */
export const FEATURE_TYPES = ['BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'FLOAT', 'DOUBLE', 'VARCHAR', 'DATE', 'TIMESTAMP'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];
const FeatureTypeSchema = z.preprocess(
  (v) => (typeof v === 'string' ? v.toUpperCase() : v),
  z.enum(FEATURE_TYPES, { error: `must be one of ${FEATURE_TYPES.join(', ')}` }),
);

export const EntitySchema = z.object({
  name: Name('an entity name'),
  joinKeys: z.array(ColumnName).min(1, 'an entity needs at least one join key, e.g. joinKeys: ["origin"]'),
  description: z.string().optional(),
});
export type EntityInput = z.input<typeof EntitySchema>;
export interface Entity {
  readonly kind: 'entity';
  readonly name: string;
  readonly joinKeys: readonly string[];
  readonly description?: string;
}

const FileSourceSchema = z.strictObject({
  path: z.string().min(1, 'a source path cannot be empty'),
  format: z.enum(['csv', 'parquet', 'json']).optional(),
  delimiter: z.string().optional(),
});
const SqlSourceSchema = z.strictObject({
  /** A SELECT over the named inputs, e.g. `SELECT origin, date AS ts, … FROM flights`. */
  sql: z.string().min(1, 'a SQL source needs a query'),
  /** Table names the query reads → files. @default {} */
  inputs: z.record(Name('an input name'), z.union([z.string().min(1), FileSourceSchema])).default({}),
});
const TransformSourceSchema = z.strictObject({
  /** `(ctx) => rows | Promise<rows> | AsyncIterable<rows[]>`: the view's rows, computed in TypeScript. */
  transform: z.custom<TransformFn>((v) => typeof v === 'function', { error: 'source.transform must be a function returning rows (or an async iterable of row batches)' }),
  /** Replaces the hash of the function's text in the view's version. @default sha256 of String(transform) */
  version: z.string().min(1, 'source.version cannot be empty').optional(),
});
export type FeatureSource = FileSource | { sql: string; inputs?: Record<string, string | FileSource> } | { transform: TransformFn; version?: string };

const EntityRef = z.custom<Entity>(
  (v) => typeof v === 'object' && v !== null && (v as Entity).kind === 'entity' && typeof (v as Entity).name === 'string' && Array.isArray((v as Entity).joinKeys),
  { error: 'each entity must be made with entity({ name, joinKeys })' },
);

export const FeatureViewSchema = z.object({
  name: Name('a feature view name'),
  entities: z.array(EntityRef).min(1, 'a feature view needs at least one entity, e.g. entities: [entity({ name: "origin", joinKeys: ["origin"] })]'),
  source: z.union([FileSourceSchema, SqlSourceSchema, TransformSourceSchema], { error: 'source must be { path, format? } (a CSV/Parquet/JSON file), { sql, inputs? } or { transform } (a function returning rows)' }),
  timestampField: ColumnName,
  ttlMs: z
    .number({ error: 'ttlMs must be a number of milliseconds, or null for no expiry' })
    .int('ttlMs must be a whole number of milliseconds')
    .positive('ttlMs must be > 0 (use null for features that never expire)')
    .nullable(),
  features: z
    .record(Name('a feature name'), FeatureTypeSchema)
    .refine((f) => Object.keys(f).length > 0, 'a feature view needs at least one feature, e.g. features: { avg_delay: "DOUBLE" }'),
  description: z.string().optional(),
});
export type FeatureViewInput = Omit<z.input<typeof FeatureViewSchema>, 'entities' | 'source' | 'features'> & {
  entities: Entity[];
  source: FeatureSource;
  features: Record<string, FeatureType | Lowercase<FeatureType>>;
};

export interface FeatureView {
  readonly kind: 'featureView';
  readonly name: string;
  readonly entities: readonly Entity[];
  readonly source: Readonly<{ path: string; format?: FileFormat; delimiter?: string } | { sql: string; inputs: Record<string, string | FileSource> } | { transform: TransformFn; version?: string }>;
  readonly timestampField: string;
  readonly ttlMs: number | null;
  readonly features: Readonly<Record<string, FeatureType>>;
  readonly description?: string;
  /** sha256 (hex) of the canonical definition. */
  readonly version: string;
  /** Join keys of all entities, in order, without duplicates. */
  readonly joinKeys: readonly string[];
}

function fail(what: string, name: unknown, error: z.ZodError): never {
  const label = typeof name === 'string' && name ? ` "${name}"` : '';
  const problems = error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(definition)'}: ${i.message}`);
  throw new FeatureError('invalid_definition', `Invalid ${what}${label}:\n${problems.join('\n')}`, { cause: error });
}

export function entity(input: EntityInput): Entity {
  const parsed = EntitySchema.safeParse(input);
  if (!parsed.success) fail('entity', (input as { name?: unknown } | undefined)?.name, parsed.error);
  const { name, joinKeys, description } = parsed.data;
  const dup = joinKeys.find((k, i) => joinKeys.indexOf(k) !== i);
  if (dup) throw new FeatureError('invalid_definition', `Invalid entity "${name}": join key "${dup}" is listed twice. List each key once.`);
  return Object.freeze({ kind: 'entity' as const, name, joinKeys: Object.freeze([...joinKeys]), ...(description ? { description } : {}) });
}

/** The nearest folder at or above `dir` holding a package.json or a .baton folder (Baton's embedded stores), or null. */
function projectRoot(dir: string): string | null {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(resolve(d, 'package.json')) || existsSync(resolve(d, '.baton'))) return d;
    if (dirname(d) === d) return null;
  }
}

/** A source path as it enters the version: relative to its project (with / separators), else absolute. */
export function portablePath(path: string): string {
  const abs = resolve(path);
  const root = projectRoot(dirname(abs));
  return root === null ? abs : relative(root, abs).split(sep).join('/') || basename(abs);
}

const portableFile = (f: string | FileSource): string | FileSource => (typeof f === 'string' ? portablePath(f) : { ...f, path: portablePath(f.path) });

/** The source as hashed: paths made portable, a transform as the hash of its text (or its explicit version). */
function canonicalSource(source: FeatureView['source']): unknown {
  if ('transform' in source) {
    return { transform: source.version !== undefined ? { version: source.version } : { code: createHash('sha256').update(String(source.transform)).digest('hex') } };
  }
  if ('sql' in source) return { sql: source.sql, inputs: Object.fromEntries(Object.entries(source.inputs).map(([k, v]) => [k, portableFile(v)])) };
  return portableFile(source);
}

/** The canonical JSON a view's version is hashed from (exported for tests and lineage records). */
export function canonicalDefinition(view: Pick<FeatureView, 'name' | 'entities' | 'source' | 'timestampField' | 'ttlMs' | 'features'>): string {
  return stringify({
    name: view.name,
    entities: view.entities.map((e) => ({ name: e.name, joinKeys: e.joinKeys })),
    source: canonicalSource(view.source),
    timestampField: view.timestampField,
    ttlMs: view.ttlMs,
    features: view.features,
  })!;
}

export function featureView(input: FeatureViewInput): FeatureView {
  const parsed = FeatureViewSchema.safeParse(input);
  if (!parsed.success) fail('feature view', (input as { name?: unknown } | undefined)?.name, parsed.error);
  const d = parsed.data;
  const entities = d.entities.map((e) => entity({ name: e.name, joinKeys: [...e.joinKeys] }));
  const joinKeys = [...new Set(entities.flatMap((e) => e.joinKeys))];
  const features = d.features as Record<string, FeatureType>;
  for (const f of Object.keys(features)) {
    if (joinKeys.includes(f) || f === d.timestampField) {
      throw new FeatureError('invalid_definition', `Invalid feature view "${d.name}": feature "${f}" has the name of a ${f === d.timestampField ? 'timestamp field' : 'join key'}. Rename the feature (alias the column in a SQL source).`);
    }
  }
  if (joinKeys.includes(d.timestampField)) {
    throw new FeatureError('invalid_definition', `Invalid feature view "${d.name}": timestampField "${d.timestampField}" is also a join key. Use a separate timestamp column.`);
  }
  const source = 'sql' in d.source ? { sql: d.source.sql, inputs: d.source.inputs } : 'transform' in d.source ? { transform: d.source.transform, ...(d.source.version !== undefined ? { version: d.source.version } : {}) } : d.source;
  const base = { name: d.name, entities, source, timestampField: d.timestampField, ttlMs: d.ttlMs, features };
  const version = createHash('sha256').update(canonicalDefinition(base)).digest('hex');
  return Object.freeze({
    kind: 'featureView' as const,
    ...base,
    ...(d.description ? { description: d.description } : {}),
    version,
    joinKeys: Object.freeze(joinKeys),
  });
}
