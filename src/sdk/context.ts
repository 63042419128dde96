/**
 * What a running task sees besides its input: identity of the attempt, a cancellation signal, a scratch folder and
 * access to the artifact store. The same context is given by every executor (inline, threads, processes).
 */
import type { DatasetFormat, DatasetHandle, DirHandle, FileHandle } from './handles.ts';
import type { Model } from '../models/model.ts';
import type { OfflineEngine } from '../ports/offline.ts';
import type { ModelRegistration } from '../registry/registration.ts';
import type { SignatureSource } from '../registry/signature.ts';

export interface ArtifactAccess {
  /** Stores a file (streamed, hashed) and returns its handle. */
  putFile(path: string, options?: { name?: string; format?: string }): Promise<FileHandle>;
  /** Stores bytes or a string as a file and returns its handle. */
  putBytes(data: Uint8Array | string, name: string, options?: { format?: string }): Promise<FileHandle>;
  /**
   * Stores every file under a directory and returns a handle to the whole tree. A symbolic link that points inside
   * the folder is kept as a link; one that points outside it (or a FIFO, socket or device) is refused with an error
   * naming it, since its content would not be part of the stored folder.
   */
  putDir(path: string, options?: { name?: string }): Promise<DirHandle>;
  /** A local path to read the file from (read-only; do not modify it). */
  path(handle: FileHandle): Promise<string>;
  /**
   * Materialises a directory handle into a fresh folder inside the attempt's scratch folder and returns its path.
   * The folder is named after the handle's name reduced to a safe base name ("../../x" gives "x-…").
   */
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

/** What `ctx.models.register` records with a model version besides the model itself. */
export interface ModelRegisterOptions {
  /** How to load the model. @default the flavor in the saved model's model.json; `onnx` for a `.onnx` file */
  flavor?: string;
  metrics?: Record<string, number>;
  /** Tags (numbers and booleans are stored as text). */
  tags?: Record<string, string | number | boolean>;
  /**
   * The model's input and output: zod types or JSON Schemas (`{ input, output }`), or a task whose input and output
   * types describe it (e.g. the task that serves predictions). @default this task's input and output types
   */
  signature?: SignatureSource;
  description?: string;
}

/**
 * `ctx.models`: the model registry from inside a task. A registration is stored with the attempt and committed
 * with its successful finish, linked to the run, task attempt, code hash and everything the attempt read; a failed
 * attempt registers nothing, and a retried attempt that succeeds registers once.
 */
export interface ModelAccess {
  /**
   * Registers `model` as the next version of model `name`: a Model (saved with its flavor), a directory saved with
   * `saveModel` (its handle from `ctx.artifacts.putDir`, or its path), or a single model file (handle or path; give
   * `flavor` unless it is a `.onnx` file). The model is stored now; its version number is assigned when the attempt
   * commits, so this returns the registration (`platform.models.registered(reg)` gives the version afterwards;
   * return it in the task's output with the `modelRegistration()` schema). One registration per name per attempt.
   */
  register(name: string, model: ModelLike | DirHandle | FileHandle | string, options?: ModelRegisterOptions): Promise<ModelRegistration>;
}

/** A model object as `ctx.models.register` takes it (see src/models: `jsModel`, `loadOnnxModel`, `loadModel`). */
export type ModelLike = Pick<Model, 'flavor' | 'signature' | 'metadata' | 'predict'>;

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
  /**
   * Attaches an artifact — a handle from ctx.artifacts (putFile, putBytes, putDir) or ctx.datasets.write — to the
   * attempt's tracking run under `name` (a later one under the same name replaces it). Recorded in the attempt's
   * lineage: as written when the attempt stored it, else as read.
   */
  artifact(name: string, handle: FileHandle | DirHandle | DatasetHandle): void;
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
  readonly models: ModelAccess;
  readonly log: TrackingLog;
  /**
   * Reports an intermediate objective value (e.g. validation loss after epoch `step`); logged as a metric. In a
   * trial of a `tune` study with a pruner, throws TrialPruned when the pruner stops the trial: let it propagate.
   */
  report(step: number, value: number): void;
  /** Set in a trial of a `tune` study: the study's node id and this trial's number. */
  readonly trial?: { readonly study: string; readonly number: number };
  /**
   * The offline engine (DuckDB) of the process running this attempt, opened on first use and shared by its
   * attempts: SQL over Parquet, CSV and JSON files (`ctx.datasets.path(handle)` gives a dataset's local file).
   */
  offline(): Promise<OfflineEngine>;
}
