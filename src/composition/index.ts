/** Embedding Baton in a program or test: `const platform = await openPlatform({ ... })`. */
export { openPlatform, Platform } from './platform.ts';
export { isProcessAlive } from './host.ts';
export type { RunOptions } from './platform.ts';
export { resolveConfig } from './config.ts';
export type { PlatformConfig, ResolvedConfig } from './config.ts';
export { loadWorkflowFile } from './load-workflow.ts';
export type { RunnerEvent, RunOutcome } from '../engine/runner.ts';
