/**
 * `saveTrainingSet(engine, datasets, name, request)`: builds a point-in-time-correct training set with
 * getHistoricalFeatures and registers it as a version of dataset `name`, with the feature views (name + version)
 * it was built from — shown by `baton datasets show NAME@V`.
 *
 *   // in a task: the version is registered when the attempt succeeds, with the run, task and attempt
 *   const { saved } = await saveTrainingSet(engine, ctx.datasets, 'flights_training', { entities, features: views, orderBy: ['flight_id'] }, { dir: ctx.workDir });
 *   return { training: saved };                                      // a DatasetHandle
 *
 *   // in a script
 *   const { saved } = await saveTrainingSet(engine, platform.datasets, 'flights_training', { entities, features: views });
 *   saved.version.version;                                           // the dataset version number
 *
 * The set is written as Parquet, which records the views in its metadata (../data/datasets/feature-views.ts), so
 * writing `getHistoricalFeatures(…, { output: { path } })`'s file with `ctx.datasets.write` records them just the
 * same; this helper only saves the plumbing. Pass `orderBy` for a deterministic file: the same inputs then give
 * the same bytes, hence the same dataset version.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { FeatureViewRef } from '../data/datasets/feature-views.ts';
import type { DatasetService, Registered } from '../data/datasets/service.ts';
import type { OfflineEngine } from '../ports/offline.ts';
import type { DatasetAccess } from '../sdk/context.ts';
import type { DatasetHandle } from '../sdk/handles.ts';
import { getHistoricalFeatures, type HistoricalRequest } from './historical.ts';

export type TrainingSetRequest = Omit<HistoricalRequest, 'output'> & {
  /** Output columns to sort the file by. @default unordered */
  orderBy?: string[];
};

export interface TrainingSetOptions {
  /** Where the Parquet file is written before it is stored (a task's `ctx.workDir`). @default a temporary folder, removed after */
  dir?: string;
}

export interface SavedTrainingSet<T> {
  /** `ctx.datasets` gives the DatasetHandle to return from the task; `platform.datasets` the registered version. */
  saved: T;
  rowCount: number;
  columns: string[];
  /** The feature views it was built from, as recorded with the dataset version. */
  views: FeatureViewRef[];
}

type Targets = Pick<DatasetAccess, 'write'> | Pick<DatasetService, 'register'>;

export function saveTrainingSet(engine: OfflineEngine, datasets: Pick<DatasetAccess, 'write'>, name: string, request: TrainingSetRequest, options?: TrainingSetOptions): Promise<SavedTrainingSet<DatasetHandle>>;
export function saveTrainingSet(engine: OfflineEngine, datasets: Pick<DatasetService, 'register'>, name: string, request: TrainingSetRequest, options?: TrainingSetOptions): Promise<SavedTrainingSet<Registered>>;
export async function saveTrainingSet(engine: OfflineEngine, datasets: Targets, name: string, request: TrainingSetRequest, options: TrainingSetOptions = {}): Promise<SavedTrainingSet<DatasetHandle | Registered>> {
  const { orderBy, ...rest } = request;
  const dir = await mkdtemp(join(options.dir ?? tmpdir(), 'training-set-'));
  try {
    const path = join(dir, `${basename(name)}.parquet`);
    const result = await getHistoricalFeatures(engine, { ...rest, output: { path, ...(orderBy ? { orderBy } : {}) } });
    const saved = 'write' in datasets ? await datasets.write(name, path, { format: 'parquet' }) : await datasets.register(name, path, { format: 'parquet' });
    return { saved, rowCount: result.rowCount, columns: result.columns, views: result.views };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
