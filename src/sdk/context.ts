/**
 * What a running task sees besides its input: identity of the attempt, a cancellation signal, a scratch folder and
 * access to the artifact store. The same context is given by every executor (inline, threads, processes).
 */
import type { DatasetFormat, DatasetHandle, DirHandle, FileHandle } from './handles.ts';

export interface ArtifactAccess {
  /** Stores a file (streamed, hashed) and returns its handle. */
  putFile(path: string, options?: { name?: string; format?: string }): Promise<FileHandle>;
  /** Stores bytes or a string as a file and returns its handle. */
  putBytes(data: Uint8Array | string, name: string, options?: { format?: string }): Promise<FileHandle>;
  /** Stores every file under a directory and returns a handle to the whole tree. */
  putDir(path: string, options?: { name?: string }): Promise<DirHandle>;
  /** A local path to read the file from (read-only; do not modify it). */
  path(handle: FileHandle): Promise<string>;
  /** Materialises a directory handle into a fresh folder and returns its path. */
  dirPath(handle: DirHandle): Promise<string>;
  /** Reads a whole file into memory. */
  read(handle: FileHandle): Promise<Buffer>;
}

export interface DatasetWriteOptions {
  /** @default from the file's extension (.csv .tsv → csv, .parquet → parquet, .json .jsonl → json); required for bytes */
  format?: DatasetFormat;
  /** The file name recorded in the handle. @default the path's base name, or `<name>.<format>` for bytes */
  fileName?: string;
}

/**
 * `ctx.datasets`: named, versioned datasets. A version is content-addressed: writing content a dataset already has
 * gives its existing version. Versions are registered when the attempt succeeds (with the run, task and attempt
 * that wrote them); a failed attempt registers nothing.
 */
export interface DatasetAccess {
  /**
   * Stores a data file (a path) or its bytes as a version of dataset `name`, after reading its schema, row count
   * and profile (per-column statistics). A file that cannot be read as its format (empty, malformed CSV) fails the
   * task with a message naming the file.
   */
  write(name: string, data: string | Uint8Array, options?: DatasetWriteOptions): Promise<DatasetHandle>;
  /** A local, read-only path to the version's file; recorded as a read (lineage). */
  path(handle: DatasetHandle): Promise<string>;
}

/**
 * `ctx.log`: experiment tracking from inside a task. Each task attempt is a tracking run nested in its workflow
 * run's; what is logged is buffered in the attempt and stored with its finish, in the same commit. The attempt's
 * input scalars, duration, CPU time and peak memory are logged automatically.
 */
export interface TrackingLog {
  /** Params (string, number or boolean values; a later value for a key replaces the earlier one). */
  params(params: Record<string, string | number | boolean>): void;
  /** One metric point; without a step, the step after this metric's last one (0 first). */
  metric(name: string, value: number, options?: { step?: number }): void;
  tags(tags: Record<string, string | number | boolean>): void;
}

export interface TaskContext {
  readonly runId: string;
  /** The node in the run's graph, e.g. `train[3]`. */
  readonly nodeId: string;
  readonly task: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted when the attempt is cancelled or times out; long tasks should pass it on or check it. */
  readonly signal: AbortSignal;
  /** A fresh folder for this attempt's scratch files; removed after the attempt. */
  readonly workDir: string;
  readonly artifacts: ArtifactAccess;
  readonly datasets: DatasetAccess;
  readonly log: TrackingLog;
}
