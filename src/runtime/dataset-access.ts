/**
 * The `ctx.datasets` object a task uses: stores a data file as a version of a named dataset, after reading its
 * schema, row count and profile with the process's OfflineEngine (opened on first use), and keeps the list of
 * versions written so the attempt's result can report them; the engine registers them when the attempt commits.
 */
import { basename } from 'node:path';
import { BatonError } from '../errors.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { DatasetWrite } from '../ports/executor.ts';
import type { OfflineEngine } from '../ports/offline.ts';
import type { DatasetAccess } from '../sdk/context.ts';
import type { DatasetHandle, FileHandle } from '../sdk/handles.ts';
import { describeDataFile, type DescribedData } from '../data/datasets/describe.ts';
import { checkDatasetName, datasetFormat } from '../data/datasets/ref.ts';
import { canonicalJson } from '../values/codec.ts';
import type { RecordingAccess } from './artifact-access.ts';

export interface RecordingDatasets extends DatasetAccess {
  /** Versions written through this object, in order (one per distinct name and content). */
  readonly written: DatasetWrite[];
}

export function datasetAccess(access: RecordingAccess, store: ArtifactStore, engine: () => Promise<OfflineEngine>): RecordingDatasets {
  const written: DatasetWrite[] = [];
  return {
    written,
    async write(name, data, options = {}) {
      checkDatasetName(name);
      const isPath = typeof data === 'string';
      if (!isPath && !(data instanceof Uint8Array)) throw new BatonError('usage', `ctx.datasets.write("${name}", …) takes a file path or bytes (Uint8Array); got ${typeof data}.`);
      if (!isPath && !options.format) throw new BatonError('usage', `ctx.datasets.write("${name}", bytes) needs { format: 'csv' | 'parquet' | 'json' }: bytes have no file extension to tell it from.`);
      const format = datasetFormat(isPath ? data : `${name}.${options.format}`, options.format);
      const fileName = options.fileName ?? (isPath ? basename(data) : `${basename(name)}.${format}`);
      let file: FileHandle;
      let described: DescribedData;
      if (isPath) {
        described = await describeDataFile(await engine(), data, format, name); // fails on a bad file before storing it
        file = await access.putFile(data, { name: fileName, format });
      } else {
        file = await access.putBytes(data, fileName, { format });
        try {
          described = await describeDataFile(await engine(), await store.localPath(file.sha256), format, name);
        } catch (err) {
          // The engine's message names the artifact's path: name the dataset instead.
          if (err instanceof BatonError) throw new BatonError(err.code, `Dataset "${name}" (${data.byteLength} bytes written as ${format}): ${err.message}`, { cause: err });
          throw err;
        }
      }
      const profile = await access.putBytes(canonicalJson(described.profile), `${basename(name)}.profile.json`, { format: 'json' });
      if (!written.some((w) => w.name === name && w.sha256 === file.sha256)) {
        written.push({ name, sha256: file.sha256, format, size: file.size, rows: described.rows, schema: described.schema, profileRef: profile.sha256 });
      }
      const handle: DatasetHandle = { ...file, format, dataset: { name, schema: described.schema, rows: described.rows, profile: profile.sha256 } };
      return handle;
    },
    path(handle) {
      return access.path(handle);
    },
  };
}
