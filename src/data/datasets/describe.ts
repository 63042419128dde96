/**
 * What is recorded about a dataset version's file: its schema, row count and profile (per-column statistics, and
 * for a training set the feature views it was built from), read with the OfflineEngine. Shared by tasks
 * (`ctx.datasets.write`) and registration outside workflows.
 */
import type { DatasetColumn } from '../../ports/metadata.ts';
import type { FileFormat, OfflineEngine } from '../../ports/offline.ts';
import { profileSource, type DatasetProfile } from '../profiling/index.ts';
import { readFeatureViews } from './feature-views.ts';

export interface DescribedData {
  rows: number;
  schema: DatasetColumn[];
  profile: DatasetProfile;
}

/**
 * Profiles the file once and derives the schema from it (`nullable`: the file holds a null in that column).
 * Throws the engine's OfflineError (data_invalid / not_found) for a file it cannot read.
 */
export async function describeDataFile(engine: OfflineEngine, path: string, format: FileFormat, label: string): Promise<DescribedData> {
  const profile = await profileSource(engine, { path, format });
  profile.source = label;
  // A training set's file names the feature views it was built from: keep them with the version.
  const featureViews = await readFeatureViews(engine, path, format);
  if (featureViews) profile.featureViews = featureViews;
  const schema = profile.columns.map((c) => ({ name: c.name, type: c.type, kind: c.kind, nullable: c.nulls > 0 }));
  return { rows: profile.rows, schema, profile };
}
