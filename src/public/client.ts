/** `baton/client`: inspecting past runs from code (runs, tasks, typed outputs, lineage, studies, models). */
export { Client, RunHandle, TaskHandle } from '../client/client.ts';
export type { AnyWorkflow, ClientOptions, Lineage, RunQuery, WorkflowOutput } from '../client/client.ts';
export type { AttemptRecord, EventRecord, NodeState, RunStatus } from '../ports/metadata.ts';
export type { ModelVersionRecord } from '../ports/registry.ts';
export type { StudyView, TrialRow } from '../studies/read.ts';
export { BatonError } from '../errors.ts';
