/**
 * Which feature views (name + version) a training set was built from. getHistoricalFeatures writes them into the
 * Parquet file's key-value metadata under `baton.feature_views`; registering the file as a dataset version reads
 * them back and stores them with the version's profile, so `baton datasets show` can list them.
 *
 * Why in the file: the record travels with the data it describes and is covered by the content hash — the same rows
 * built from other view versions are another dataset version — and every way of registering a file (a task's
 * `ctx.datasets.write`, `platform.datasets.register`, `baton datasets register`) picks it up without being told.
 */
import type { FileFormat, OfflineEngine } from '../../ports/offline.ts';

/** The Parquet key-value metadata key. */
export const FEATURE_VIEWS_KEY = 'baton.feature_views';

/** A feature view as a training set records it. */
export interface FeatureViewRef {
  name: string;
  /** The view's definition hash (sha256 hex). */
  version: string;
}

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The `KV_METADATA {…}` option of a DuckDB `COPY … (FORMAT PARQUET, …)` recording these views. */
export function featureViewsMetadata(views: readonly FeatureViewRef[]): string {
  const json = JSON.stringify(views.map((v) => ({ name: v.name, version: v.version })));
  return `KV_METADATA {${sqlString(FEATURE_VIEWS_KEY)}: ${sqlString(json)}}`;
}

const isRef = (v: unknown): v is FeatureViewRef =>
  typeof v === 'object' && v !== null && typeof (v as FeatureViewRef).name === 'string' && typeof (v as FeatureViewRef).version === 'string';

/**
 * The views recorded in a data file, or undefined when it records none (any CSV or JSON file, a Parquet file not
 * written by getHistoricalFeatures, or a record that does not parse — it is metadata, never a reason to refuse data).
 */
export async function readFeatureViews(engine: OfflineEngine, path: string, format: FileFormat): Promise<FeatureViewRef[] | undefined> {
  if (format !== 'parquet') return undefined;
  const rows = await engine.query(`SELECT decode(value) AS value FROM parquet_kv_metadata(${sqlString(path)}) WHERE decode(key) = ${sqlString(FEATURE_VIEWS_KEY)}`);
  const text = rows[0]?.value;
  if (typeof text !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every(isRef) ? parsed.map((v) => ({ name: v.name, version: v.version })) : undefined;
  } catch {
    return undefined;
  }
}
