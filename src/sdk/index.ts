/**
 * What a pipeline file imports: `import { task, workflow, map, when, dynamic, z } from 'baton'`.
 * No vendor code lives behind this entry point.
 */
export { z } from 'zod';
export { task } from './task.ts';
export type { Task, TaskSpec, TaskOptions, CallOptions, Resources, RetryPolicy, ExecutorName, TaskDefinition } from './task.ts';
export { command } from './command.ts';
export type { CommandSpec } from './command.ts';
export { workflow, isWorkflow } from './workflow.ts';
export type { Workflow, WorkflowOptions } from './workflow.ts';
export { map, when, dynamic } from './build.ts';
export type { Unwire } from './build.ts';
export { ref } from './refs.ts';
export type { Ref, Wire } from './refs.ts';
export { file, dir, table, bytes, dataset, FileHandleSchema, DirHandleSchema, DatasetHandleSchema, isFileHandle, isDirHandle, isDatasetHandle } from './handles.ts';
export type { FileHandle, DirHandle, DatasetHandle, DatasetFormat } from './handles.ts';
export type { TaskContext, ArtifactAccess, DatasetAccess, DatasetWriteOptions, TrackingLog } from './context.ts';
export type { ModelAccess, ModelRegisterOptions, ModelLike } from './context.ts';
export { modelRegistration, isModelRegistration, ModelRegistrationSchema } from '../registry/registration.ts';
export type { ModelRegistration } from '../registry/registration.ts';
export { tune } from './tune.ts';
export type { TuneOptions } from './tune.ts';
export { TrialPruned } from './trial-pruned.ts';
export { space, float, int, categorical, conditional } from '../tuning/space.ts';
export type { ParamsOf, Space } from '../tuning/space.ts';
export { tpe, randomSearch, grid, medianPruner, successiveHalving } from '../tuning/study.ts';
export type { StudyResult, StudyTrial, SamplerSpec, PrunerSpec } from '../tuning/study.ts';
