/**
 * Executor: runs one task attempt somewhere (this thread, a worker thread, a child process, later a queue worker)
 * and reports what happened through the sink. Executors never touch the metadata store; the engine records
 * everything they report. A queue-backed executor for many machines implements this same port.
 */
import type { ErrorCode, FailureKind } from '../errors.ts';
import type { Resources } from '../spec/options.ts';
import type { NewDatasetVersion, StoredValue } from './metadata.ts';
import type { LoggedArtifact, MetricPoint } from './tracking.ts';
import type { NewModelVersion } from './registry.ts';
import type { Direction, PrunerSpec, Trial } from '../spec/study.ts';

export interface AttemptRequest {
  runId: string;
  nodeId: string;
  task: string;
  attempt: number;
  /** Module files to import so that the task is registered (worker threads/processes). */
  modules: string[];
  /** The encoded input value. */
  input: StoredValue;
  timeoutMs?: number;
  resources: Required<Resources>;
  /** Names of environment variables passed through (declared by the task). */
  env: Record<string, string>;
  /** Set when the attempt is a trial of a `tune` study: how to report and prune, and the study so far. */
  trial?: TrialRequest;
}

/**
 * A trial's view of its study, taken when the attempt starts: the pruner decides in the worker from these trials
 * (completed, pruned and failed ones with what they reported) and the trial's own reports.
 */
export interface TrialRequest {
  study: string;
  number: number;
  direction: Direction;
  metric?: string;
  pruner?: PrunerSpec;
  history: Trial[];
}

export interface AttemptMetrics {
  /**
   * The task's code was still running when the attempt ended (it ignored a timeout or cancel). Executors must not
   * reuse the worker it runs in: they replace it.
   */
  abandoned?: boolean;
  cpuMs?: number;
  peakRssMb?: number;
  exitCode?: number;
  /** Artifacts the attempt read and wrote, for lineage. */
  read?: string[];
  written?: string[];
  /** Dataset versions the attempt wrote (`ctx.datasets.write`): the engine registers them if the attempt succeeded. */
  datasets?: DatasetWrite[];
  /** Model versions the attempt registered (`ctx.models.register`): the engine registers them if the attempt succeeded. */
  models?: ModelWrite[];
  /** What the task logged with `ctx.log` (plus its input scalars as params): stored with the attempt's finish. */
  tracking?: AttemptTracking;
}

/** An attempt's tracking writes as a worker reports them; the engine adds the run and the system metrics. */
export interface AttemptTracking {
  params?: Record<string, string>;
  tags?: Record<string, string>;
  metrics?: MetricPoint[];
  /** `ctx.log.artifact`: the last one per name, with its lineage direction. */
  artifacts?: LoggedArtifact[];
}

/** A dataset version as a worker reports it; the engine adds when and by which attempt. */
export type DatasetWrite = Omit<NewDatasetVersion, 'createdAt' | 'producedBy'>;

/**
 * A model version as a worker reports it (artifact stored, signature computed); the engine adds its registration id
 * (from the attempt: see src/registry/registration.ts), when, and the lineage.
 */
export type ModelWrite = Omit<NewModelVersion, 'registrationId' | 'createdAt' | 'lineage'>;

export type AttemptResult =
  | ({ ok: true; output: StoredValue } & AttemptMetrics)
  | ({ ok: false; kind: FailureKind; message: string; stack?: string; retryable: boolean; code?: ErrorCode; details?: unknown } & AttemptMetrics);

export interface AttemptSink {
  log(stream: 'stdout' | 'stderr', text: string): void;
  done(result: AttemptResult): void;
}

export interface Executor {
  readonly name: string;
  /** Starts the attempt; must call sink.done exactly once. */
  submit(request: AttemptRequest, sink: AttemptSink): void;
  /** Asks a running attempt to stop; the executor then reports it done with kind 'cancelled' or 'timeout'. */
  cancel(runId: string, nodeId: string, attempt: number, reason: 'cancelled' | 'timeout'): void;
  close(): Promise<void>;
}
