/**
 * `baton/platform`: embedding Baton in a program or a test. Open a platform, start and drive runs, decode their
 * outputs, show their progress in the terminal, cancel them on Ctrl-C.
 */
export { openPlatform, Platform } from '../composition/platform.ts';
export type { RunOptions } from '../composition/platform.ts';
export { resolveConfig } from '../composition/config.ts';
export type { PlatformConfig, ResolvedConfig } from '../composition/config.ts';
export { loadWorkflowFile } from '../composition/load-workflow.ts';
export type { RunnerEvent, RunOutcome } from '../engine/runner.ts';
export type { StoredValue } from '../ports/metadata.ts';
export { decodeShallow as decodeOutput } from '../values/codec.ts';
export { Progress } from '../cli/progress.ts';
export { interruptible } from '../cli/interrupt.ts';
