/**
 * Inspecting past runs from code: `import { Client } from 'baton/client'`.
 *
 *   const client = await Client.open();
 *   const run = await client.latestRun(weather, { status: 'succeeded' });
 *   const metrics = await run.output();                 // typed by the workflow
 *   const model = await (await run.task(train)).output(); // typed and checked by the task's output schema
 *   await client.close();
 */
export { Client, RunHandle, TaskHandle } from './client.ts';
export type { AnyWorkflow, ClientOptions, Lineage, RunQuery, WorkflowOutput } from './client.ts';
export type { AttemptRecord, EventRecord, NodeState, RunStatus } from '../ports/metadata.ts';
export type { ModelVersionRecord } from '../ports/registry.ts';
export { BatonError } from '../errors.ts';
export type { StudyView, TrialRow } from '../studies/read.ts';
