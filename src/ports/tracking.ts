/**
 * Experiment tracking in domain words: tracking runs (a script's run, a workflow run, a task attempt nested in it)
 * grouped by experiment, with params, tags and metric points. The MetadataStore stores them (mutations
 * `startTrackingRun`, `endTrackingRun`, `logTracking`) and answers searches, run details and metric histories.
 */
import type { DatasetHandle, DirHandle, FileHandle } from '../spec/handles.ts';

export type TrackingStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TrackingRunRecord {
  id: string;
  experiment: string;
  name?: string;
  status: TrackingStatus;
  /** Epoch ms. */
  startTime: number;
  endTime?: number;
  /** The enclosing tracking run (a task attempt's parent is its workflow run). */
  parentId?: string;
  /** The workflow run, task node and attempt this tracking run belongs to, if any. */
  workflowRunId?: string;
  nodeId?: string;
  attempt?: number;
}

export interface MetricPoint {
  key: string;
  /** NaN points are dropped when stored (no dialect can compare them the same way); ±Infinity are kept. */
  value: number;
  step: number;
  /** Epoch ms. */
  ts: number;
}

/** What `log.artifact` / `logArtifact` attach to a tracking run: an artifact-store file, directory or dataset version. */
export type ArtifactHandle = FileHandle | DirHandle | DatasetHandle;

/** An artifact attached to a tracking run under a name. */
export interface LoggedArtifact {
  name: string;
  handle: ArtifactHandle;
  /** Epoch ms. */
  loggedAt: number;
  /**
   * For a task attempt's tracking run: how the attempt's lineage records the artifact — 'write' when the attempt
   * stored it (the usual case), 'read' when it only passed on one it was given. Ignored for other tracking runs.
   * @default 'write'
   */
  lineage?: 'read' | 'write';
}

/**
 * What one flush of a run's buffered writes carries. Params, tags and artifacts are upserted (by key / name);
 * metric points appended.
 */
export interface TrackingBatch {
  runId: string;
  params?: Record<string, string>;
  metrics?: MetricPoint[];
  tags?: Record<string, string>;
  artifacts?: LoggedArtifact[];
}

export interface LatestMetric {
  value: number;
  step: number;
  ts: number;
}

export interface TrackingRunDetails extends TrackingRunRecord {
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Per key, the point with the highest step (latest ts among equal steps). */
  metrics: Record<string, LatestMetric>;
  /**
   * By name. A dataset handle logged by the attempt that wrote the version gets its version number here once the
   * version is registered.
   */
  artifacts: Record<string, Omit<LoggedArtifact, 'name' | 'lineage'>>;
}

export interface TrackingSearch {
  /** Filter in the search language, e.g. `metrics.auc > 0.8 and (params.model = 'rf' or params.depth >= 6)`. */
  filter?: string;
  /** e.g. `metrics.auc desc, start_time`. */
  orderBy?: string;
  experiments?: string[];
  /** Page size. @default 100 */
  limit?: number;
  /** The token the previous page returned. */
  pageToken?: string;
}

export interface TrackingSearchPage {
  runs: TrackingRunRecord[];
  /** Pass as pageToken for the next page; absent on the last page. */
  nextPageToken?: string;
}

export interface HistoryOptions {
  /** Downsample to at most this many points. @default all points */
  maxPoints?: number;
  /** @default 'lttb' */
  method?: Method;
}

export interface MetricHistory {
  key: string;
  /** Points stored for the key (before downsampling). */
  total: number;
  steps: number[];
  values: number[];
}

/** Tracking reads every MetadataStore answers. */
export interface TrackingReads {
  searchRuns(search: TrackingSearch): Promise<TrackingSearchPage>;
  getTrackingRun(id: string): Promise<TrackingRunDetails | undefined>;
  getMetricHistory(runId: string, key: string, options?: HistoryOptions): Promise<MetricHistory>;
}

/** How a metric history is downsampled: LTTB (shape-preserving) or min/max per bucket (keeps spikes). */
export type Method = 'lttb' | 'minmax';
