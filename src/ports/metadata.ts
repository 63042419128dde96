/**
 * MetadataStore: runs, nodes, task attempts, the event log, logs, cache entries, lineage and dataset versions. One
 * SQL schema serves SQLite and PostgreSQL; every adapter passes the same conformance suite
 * (src/stores/metadata/conformance.ts).
 *
 * Writes go through `apply(mutations)`: the mutations of one engine step are committed in ONE transaction, in order,
 * and the result tells which conditional ones (claims, fenced finishes) took effect. That is the engine's group
 * commit and its guard against double dispatch when several engines share a store.
 */
import type { NodeSpec } from '../spec/graph.ts';
import type { Binding } from '../spec/binding.ts';
import type { AliasMove, NewModelVersion, PromotionRecord, RegistryReads } from './registry.ts';
import type { TrackingBatch, TrackingReads, TrackingRunRecord, TrackingStatus } from './tracking.ts';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type NodeState =
  | 'pending'
  | 'running'
  | 'retrying'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'upstream_failed'
  | 'cancelled';
/**
 * `claimed`: claimed ahead of free capacity, not started yet; `released`: such a claim that never started (its engine
 * stopped, or the run was cancelled first) — not a real attempt; `lost`: started by an engine that stopped.
 */
export type AttemptState = 'claimed' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'lost' | 'released';

/** A value as stored: inline encoded JSON, or the sha256 of an artifact holding it; `hash` identifies the value. */
export interface StoredValue {
  json?: string;
  ref?: string;
  hash: string;
}

export interface RunRecord {
  id: string;
  workflow: string;
  status: RunStatus;
  /** Absolute path of the workflow file, so resume can load it again. */
  file: string;
  params: unknown;
  /** Engine options the run was started with (executor, pools, capacity). */
  options: Record<string, unknown>;
  codeHash?: string;
  /** Artifact sha256 of the bundled workflow code (the code snapshot). */
  codeRef?: string;
  outputBinding: Binding;
  output?: StoredValue;
  error?: string;
  cancelRequested: boolean;
  owner?: string;
  createdAt: number;
  endedAt?: number;
}

export interface NodeRecord {
  runId: string;
  id: string;
  /** Creation order within the run. */
  seq: number;
  spec: NodeSpec;
  state: NodeState;
  /** Attempts made so far (attempt numbers are 1-based and never reused). */
  attempts: number;
  /** Attempts before the last resume: retries are counted from here. */
  retryBase: number;
  leaseOwner?: string;
  leaseUntil?: number;
  notBefore?: number;
  output?: StoredValue;
  input?: StoredValue;
  cacheKey?: string;
  cacheParts?: unknown;
  cachedFrom?: string;
  /** For map and dynamic nodes once expanded. */
  expansion?: { count?: number; result?: Binding; branch?: boolean };
  error?: string;
  startedAt?: number;
  endedAt?: number;
}

export interface AttemptRecord {
  runId: string;
  nodeId: string;
  attempt: number;
  state: AttemptState;
  executor: string;
  owner: string;
  startedAt: number;
  endedAt?: number;
  error?: string;
  errorKind?: string;
  cpuMs?: number;
  peakRssMb?: number;
  exitCode?: number;
}

export interface EventRecord {
  runId: string;
  seq?: number;
  at: number;
  type: string;
  nodeId?: string;
  attempt?: number;
  data?: unknown;
}

export interface LogRecord {
  runId: string;
  nodeId: string;
  attempt: number;
  seq?: number;
  stream: 'stdout' | 'stderr';
  at: number;
  text: string;
}

export interface CacheEntry {
  key: string;
  task: string;
  runId: string;
  nodeId: string;
  output: StoredValue;
  parts: unknown;
  createdAt: number;
}

export interface LineageRecord {
  runId: string;
  nodeId: string;
  attempt: number;
  sha256: string;
  direction: 'read' | 'write';
}

/** Which attempt of which task of which run (lineage). */
export interface AttemptRef {
  runId: string;
  nodeId: string;
  attempt: number;
}

/** One column of a dataset version's schema. `nullable` is observed: the version holds at least one null there. */
export interface DatasetColumn {
  name: string;
  /** The offline engine's type name, e.g. BIGINT (for messages). */
  type: string;
  /** The platform's column kind (integer, float, string, …), for rules. */
  kind: string;
  nullable: boolean;
}

/** What a new dataset version is made of; the store assigns its number. */
export interface NewDatasetVersion {
  name: string;
  /** The data file's artifact: versions are content-addressed, so equal content is one version. */
  sha256: string;
  format: 'csv' | 'parquet' | 'json';
  size: number;
  rows: number;
  schema: DatasetColumn[];
  /** Artifact sha256 of the version's profile JSON (per-column statistics). */
  profileRef?: string;
  createdAt: number;
  /** The attempt that wrote it; absent for files registered outside a workflow. */
  producedBy?: AttemptRef;
}

/** An immutable version of a named dataset: numbered 1, 2, … per name in registration order. */
export interface DatasetVersionRecord extends NewDatasetVersion {
  version: number;
}

export interface DatasetSummary {
  name: string;
  latest: number;
  versions: number;
  /** When the latest version was registered. */
  updatedAt: number;
}

export interface DatasetLineage {
  producedBy?: AttemptRef;
  /** Attempts that read the version's file (any run), oldest run first. */
  readBy: AttemptRef[];
}

export interface EngineRecord {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
}

/** One write. Conditional mutations (`claim`, `finish`, `setState` with `from`) report whether they applied. */
export type Mutation =
  | { type: 'insertRun'; run: RunRecord }
  | { type: 'updateRun'; runId: string; status?: RunStatus; output?: StoredValue; error?: string | null; endedAt?: number | null; owner?: string | null; cancelRequested?: boolean; codeHash?: string; codeRef?: string }
  | {
      type: 'insertNodes';
      nodes: NodeRecord[];
      /** Insert only if this node's stored expansion is this one: the nodes of a study step another engine did not win. */
      ifParent?: { nodeId: string; expansion: NonNullable<NodeRecord['expansion']> };
    }
  /** Starts attempt `attempt` if the node is still claimable: pending, retrying past notBefore, or running under an expired or dead owner's lease. */
  | {
      type: 'claim';
      runId: string;
      nodeId: string;
      attempt: number;
      owner: string;
      leaseUntil: number;
      now: number;
      deadOwners: string[];
      executor: string;
      /** Dependencies that must be succeeded in the store (guards against a stale view). */
      deps?: string[];
      /** The node's stored spec (JSON) must be this one: a trial runs only with the params it was stored with. */
      ifSpec?: string;
      /** The input the attempt runs with, and its cache key (recorded for replay and `cache explain`). */
      input?: StoredValue;
      key?: string;
      parts?: unknown;
      /** Claimed ahead of free capacity: the attempt is recorded `claimed` until `startAttempts` says it started. */
      ahead?: boolean;
    }
  /** Attempts claimed ahead that started now (`claimed` → `running`). */
  | { type: 'startAttempts'; runId: string; attempts: { nodeId: string; attempt: number }[]; at: number }
  /** Attempts claimed ahead that will never start (the run was cancelled): `claimed` → `released`. */
  | { type: 'releaseAttempts'; runId: string; attempts: { nodeId: string; attempt: number }[]; at: number; reason: string }
  /** Ends attempt `attempt` if it still holds the node (fencing): sets the node's state and output. */
  | {
      type: 'finish';
      runId: string;
      nodeId: string;
      attempt: number;
      owner: string;
      nodeState: NodeState;
      attemptState: AttemptState;
      at: number;
      /** When the attempt really started (a claim made ahead of capacity precedes it). */
      startedAt?: number;
      output?: StoredValue;
      error?: string;
      errorKind?: string;
      notBefore?: number;
      cpuMs?: number;
      peakRssMb?: number;
      exitCode?: number;
    }
  /** Sets node state without an attempt (cache hit, skip, expansion, cancel, resume). Only from the listed states. */
  | {
      type: 'setState';
      runId: string;
      nodeId: string;
      from: NodeState[];
      state: NodeState;
      at: number;
      output?: StoredValue;
      cachedFrom?: string;
      error?: string | null;
      expansion?: NodeRecord['expansion'];
      /** Applies only if the node's stored expansion is this one (null: none): a study's next step is decided once. */
      ifExpansion?: NodeRecord['expansion'] | null;
      retryBase?: number;
      input?: StoredValue;
      key?: string;
      parts?: unknown;
    }
  /** Records the input a task node will run with (for replay) and its cache key. */
  | { type: 'setInput'; runId: string; nodeId: string; input: StoredValue; key?: string; parts?: unknown }
  /** Extends the leases of the given running nodes held by `owner`. */
  | { type: 'renewLeases'; owner: string; leaseUntil: number; runId: string; nodeIds: string[] }
  /** Records what a code hash is made of (once per hash), so a cache miss can say which file changed. */
  | { type: 'putCode'; hash: string; task: string; parts: unknown; at: number }
  | { type: 'events'; events: EventRecord[] }
  | { type: 'logs'; logs: LogRecord[] }
  | { type: 'putCache'; entry: CacheEntry }
  | { type: 'lineage'; records: LineageRecord[] }
  /**
   * Registers a dataset version. Idempotent on (name, sha256): equal content keeps its existing version (result
   * false). Otherwise the version is max + 1 for the name, safe against concurrent registrations. With
   * `producedBy`, it applies only if that attempt's finish committed (attempt state succeeded): put it after the
   * finish in the same `apply`, and a fenced-out attempt registers nothing.
   */
  | { type: 'putDatasetVersion'; version: NewDatasetVersion }
  /**
   * Creates a tracking run (and its experiment); idempotent on the run id (result false when it existed). With
   * `ifAttempt`, it applies only if that attempt's finish committed (put it after the finish in the same apply).
   */
  | { type: 'startTrackingRun'; run: TrackingRunRecord; ifAttempt?: AttemptRef }
  /** Sets a tracking run's final status and end time (status 'running' with endTime null reopens it: resume). */
  | { type: 'endTrackingRun'; runId: string; status: TrackingStatus; endTime: number | null }
  /**
   * Upserts params, tags and artifacts, appends metric points and maintains the latest value per key. Only for an
   * existing run. A task attempt's run also gets a lineage row per artifact for its attempt.
   */
  | { type: 'logTracking'; batch: TrackingBatch }
  /**
   * Registers a model version (creating the model): its number is max + 1 for the name, safe against concurrent
   * registrations. Idempotent on `registrationId` (result false: that registration already has its version). With
   * `ifAttempt` (a registration made in a task), it applies only if that attempt's finish committed (attempt state
   * succeeded): put it after the finish in the same `apply`.
   */
  | { type: 'registerModelVersion'; version: NewModelVersion; ifAttempt?: AttemptRef }
  /**
   * Moves an alias and appends the move to its history. Applies only if the model has that version and the alias
   * is at `ifCurrent` (when given); result false otherwise.
   */
  | { type: 'moveModelAlias'; move: AliasMove }
  /** Records a promotion request (pending, or already decided: a gate's refusal is recorded as rejected). */
  | { type: 'requestModelPromotion'; promotion: PromotionRecord }
  /**
   * Approves or rejects a pending promotion; applies only while it is pending. Approving with `move` also moves the
   * alias in the same step (and applies only if that move's conditions hold).
   */
  | { type: 'decideModelPromotion'; id: string; status: 'approved' | 'rejected'; actor: string; at: number; reason?: string; move?: AliasMove };

export interface RunFilter {
  status?: RunStatus;
  workflow?: string;
  limit?: number;
  /** Only runs created before this time (paging). */
  before?: number;
}

export interface MetadataStore extends TrackingReads, RegistryReads {
  /** Human-readable location, e.g. `sqlite:/path/.baton/baton.db`. */
  readonly url: string;
  readonly dialect: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema. Safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** Applies the mutations in one transaction, in order. Returns, per mutation, whether it took effect. */
  apply(mutations: readonly Mutation[]): Promise<boolean[]>;

  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** Resolves a unique id prefix (like git) to a run id. */
  findRunIds(prefix: string): Promise<string[]>;
  getNodes(runId: string): Promise<NodeRecord[]>;
  getNode(runId: string, nodeId: string): Promise<NodeRecord | undefined>;
  getAttempts(runId: string, nodeId?: string): Promise<AttemptRecord[]>;
  getEvents(runId: string, afterSeq?: number, limit?: number): Promise<EventRecord[]>;
  getLogs(runId: string, options?: { nodeId?: string; attempt?: number; afterSeq?: number }): Promise<LogRecord[]>;
  getLineage(runId: string, nodeId?: string): Promise<LineageRecord[]>;
  /** Cache entries for the given keys. */
  lookupCache(keys: readonly string[]): Promise<Map<string, CacheEntry>>;
  /** The recorded parts of code hashes. */
  getCode(hashes: readonly string[]): Promise<Map<string, unknown>>;
  /** Most recent cache entries of a task (to explain a miss). */
  recentCacheEntries(task: string, limit: number): Promise<CacheEntry[]>;

  /** Every dataset with at least one version, by name. */
  listDatasets(): Promise<DatasetSummary[]>;
  /** The versions of a dataset, oldest first; empty for an unknown name. */
  getDatasetVersions(name: string): Promise<DatasetVersionRecord[]>;
  /**
   * One version: by number, `'latest'`, or a sha256 prefix (at least 4 hex digits) of its content. Undefined when
   * none matches; a prefix matching several versions throws BatonError('usage') listing them.
   */
  getDatasetVersion(name: string, ref: number | 'latest' | string): Promise<DatasetVersionRecord | undefined>;
  /** Who wrote a version and who read it (lineage joined on the content hash). Undefined for an unknown version. */
  getDatasetLineage(name: string, version: number): Promise<DatasetLineage | undefined>;

  registerEngine(engine: EngineRecord): Promise<void>;
  heartbeatEngine(id: string, at: number): Promise<void>;
  getEngines(ids: readonly string[]): Promise<EngineRecord[]>;

  close(): Promise<void>;
}
