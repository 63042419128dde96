/**
 * What a run driver is given (its ports and limits), what it reports while it drives, and how a run ended.
 */
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { Clock, Host, Timers } from '../ports/clock.ts';
import type { Executor } from '../ports/executor.ts';
import type { MetadataStore, StoredValue } from '../ports/metadata.ts';
import type { FingerprintPaths } from '../ports/path-fingerprints.ts';
import type { DynamicFn } from '../sdk/build.ts';
import type { TaskDefinition } from '../sdk/task.ts';
import type { Capacity } from './machine.ts';
import type { Phase } from './states.ts';

export interface RunnerEvent {
  type: 'transition' | 'log' | 'attempt' | 'run' | 'warning';
  at: number;
  nodeId?: string;
  from?: Phase;
  to?: Phase;
  attempt?: number;
  cached?: boolean;
  stream?: 'stdout' | 'stderr';
  text?: string;
  message?: string;
  status?: string;
}

export interface DriverOptions {
  store: MetadataStore;
  artifacts: ArtifactStore;
  executors: Record<string, Executor>;
  defaultExecutor: string;
  clock: Clock;
  timers: Timers;
  /** This machine and process (engine registration, liveness of other engines on this host). */
  host: Host;
  /** This engine's id (lease owner). */
  owner: string;
  capacity: Capacity;
  pools: Record<string, number>;
  tasks: Map<string, TaskDefinition>;
  dynamicBuilders: Map<string, DynamicFn>;
  workflowName: string;
  /** Environment values for tasks that declare `env`. */
  env: Record<string, string | undefined>;
  /** The tracking experiment of the run's task attempts. @default workflowName */
  experiment?: string;
  /** How long a lease lasts without renewal. @default 30000 */
  leaseMs?: number;
  /** How often to look for cancellation and other engines' progress. @default 250 */
  pollMs?: number;
  /** Longest time a decision may wait in the group-commit buffer. @default 10 */
  commitDelayMs?: number;
  /** Ready nodes to keep claimed beyond free capacity. @default max(64, 8 × CPUs) */
  claimAhead?: number;
  onEvent?: (e: RunnerEvent) => void;
  /** Fingerprints local paths named by string inputs, for cache keys (engine/path-inputs.ts). @default none: not checked */
  fingerprintPaths?: FingerprintPaths;
}

export interface RunOutcome {
  runId: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  output?: StoredValue;
  error?: string;
}

