/**
 * The tracking API for scripts and notebooks (`openTracking` from `baton/tracking`): tracking on the stores the
 * platform picks from the configuration (same defaults as the CLI: .baton/baton.db, .baton/artifacts, BATON_STORE,
 * BATON_ARTIFACTS). A program that already has a platform uses `platform.tracking()` instead.
 */
import type { PlatformConfig } from './config.ts';
import { openPlatform } from './platform.ts';
import { Tracking, type TrackingOptions } from '../tracking/client.ts';

export async function openTracking(config: PlatformConfig & TrackingOptions = {}): Promise<Tracking> {
  const platform = await openPlatform(config);
  return new Tracking(platform.store, platform.artifacts, config, () => platform.close());
}

export { Tracking, TrackedRun } from '../tracking/client.ts';
export type { ArtifactHandle, ParamValue, StartRunOptions, TrackingOptions } from '../tracking/client.ts';
