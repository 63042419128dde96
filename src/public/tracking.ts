/** `baton/tracking`: experiment tracking from scripts and notebooks (runs, params, metrics, tags, artifacts). */
export { openTracking } from '../composition/tracking.ts';
export { Tracking, TrackedRun, newTrackingRunId, paramText } from '../tracking/client.ts';
export type { ArtifactHandle, ParamValue, TrackingOptions, StartRunOptions } from '../tracking/client.ts';
