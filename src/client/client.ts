/**
 * The typed client: inspect past runs from code. `Client.open()` reads the same store the CLI does;
 * `client.latestRun(workflow)` gives a `RunHandle` whose `output()` is typed by the workflow, and
 * `run.task(someTask)` a `TaskHandle` whose `output()` is typed (and checked) by the task's output schema.
 *
 * Handles are snapshots of a record (run or node) taken when they were fetched; their methods read the store
 * again, so `run.tasks()` on a running run shows its progress. Fetch the run again to see its new status.
 */
import type { z } from 'zod';
import { readStudy, type StudyView } from '../studies/read.ts';
import { BatonError } from '../errors.ts';
import { openPlatform, type Platform } from '../composition/platform.ts';
import type { PlatformConfig } from '../composition/config.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { AttemptRecord, EventRecord, MetadataStore, NodeRecord, NodeState, RunRecord, RunStatus } from '../ports/metadata.ts';
import type { ModelVersionRecord } from '../ports/registry.ts';
import type { Task, TaskDefinition } from '../sdk/task.ts';
import type { Workflow } from '../sdk/workflow.ts';
import { decodeValue } from '../values/codec.ts';

/** Any workflow; its output type is carried by the phantom `__output`. */
export type AnyWorkflow = Workflow<z.ZodType, unknown>;
/** The output type of a workflow: `WorkflowOutput<typeof weather>`. */
export type WorkflowOutput<W> = W extends Workflow<z.ZodType, infer O> ? O : unknown;
type OutputOfRef<W> = W extends AnyWorkflow ? WorkflowOutput<W> : unknown;

/** Where to read runs from: the same fields (and BATON_* environment defaults) as the CLI. */
export type ClientOptions = PlatformConfig;

export interface RunQuery<W extends AnyWorkflow | string = AnyWorkflow | string> {
  /** A workflow object (types the handles' outputs) or a workflow name. */
  workflow?: W;
  status?: RunStatus;
  /** @default 50 */
  limit?: number;
  /** Only runs created before this time (paging: pass the last handle's `createdAt`). */
  before?: number | Date;
}

export interface Lineage {
  /** sha256 of the artifacts the task read (file/dir handles and blobs in its input, files it opened). */
  read: string[];
  /** sha256 of the artifacts it wrote (files it stored, bytes and large values in its output). */
  written: string[];
}

const MAX_LISTED = 20;

function listIds(ids: readonly string[]): string {
  if (ids.length === 0) return '(none)';
  const shown = ids.slice(0, MAX_LISTED).join(', ');
  return ids.length > MAX_LISTED ? `${shown} and ${ids.length - MAX_LISTED} more` : shown;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? `"${i.path.join('.')}"` : 'the value'}: ${i.message}`)
    .join('; ');
}

/** Plain data, typed loosely, for walking a zod schema's definition. */
interface SchemaInternals {
  _zod: { def: { type: string; getter?: () => unknown } & Record<string, unknown> };
}
const transforming = new WeakMap<object, boolean>();

/**
 * Whether a schema transforms values (transform, preprocess, pipe, codec) anywhere inside. Stored outputs were
 * already parsed when the task ran, so such a schema must not be applied a second time.
 */
function hasTransform(schema: z.ZodType): boolean {
  let known = transforming.get(schema);
  if (known === undefined) transforming.set(schema, (known = walkTransform(schema, new Set())));
  return known;
}

function walkTransform(schema: unknown, seen: Set<unknown>): boolean {
  if (!schema || typeof schema !== 'object' || !('_zod' in schema) || seen.has(schema)) return false;
  seen.add(schema);
  const def = (schema as SchemaInternals)._zod.def;
  if (def.type === 'pipe' || def.type === 'transform') return true;
  if (def.type === 'lazy' && def.getter) return walkTransform(def.getter(), seen);
  const inner = (v: unknown): boolean => {
    if (Array.isArray(v)) return v.some(inner);
    if (v && typeof v === 'object' && !('_zod' in v)) return Object.values(v).some(inner);
    return walkTransform(v, seen);
  };
  return Object.entries(def).some(([k, v]) => k !== 'type' && inner(v));
}

function isTask(value: unknown): value is Task<z.ZodType, z.ZodType> {
  return typeof value === 'function' && typeof (value as { taskName?: unknown }).taskName === 'string';
}

function workflowName(w: AnyWorkflow | string): string {
  return typeof w === 'string' ? w : w.name;
}

/** Task nodes in graph order: top-level nodes by creation, each followed by the nodes its expansion created. */
function graphOrder(nodes: readonly NodeRecord[]): NodeRecord[] {
  const children = new Map<string, NodeRecord[]>();
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodes) {
    const parent = n.spec.parent !== undefined && ids.has(n.spec.parent) ? n.spec.parent : '';
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(n);
  }
  const out: NodeRecord[] = [];
  const visit = (n: NodeRecord) => {
    out.push(n);
    for (const k of children.get(n.id) ?? []) visit(k);
  };
  for (const n of children.get('') ?? []) visit(n);
  return out;
}

export class Client {
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;

  /** Wraps an open platform; `close()` then leaves it open (its owner closes it). */
  constructor(
    readonly platform: Platform,
    private readonly owned = false,
  ) {
    this.store = platform.store;
    this.artifacts = platform.artifacts;
  }

  /** Opens the store the CLI would use from `cwd` (sqlite:.baton/baton.db, file:.baton/artifacts, or BATON_STORE / BATON_ARTIFACTS). */
  static async open(options: ClientOptions = {}): Promise<Client> {
    return new Client(await openPlatform(options), true);
  }

  /** Runs, newest first. */
  async runs<W extends AnyWorkflow | string = string>(query: RunQuery<W> = {}): Promise<RunHandle<OutputOfRef<W>>[]> {
    const before = query.before instanceof Date ? query.before.getTime() : query.before;
    const records = await this.store.listRuns({
      ...(query.workflow !== undefined ? { workflow: workflowName(query.workflow) } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(before !== undefined ? { before } : {}),
    });
    return records.map((r) => new RunHandle<OutputOfRef<W>>(this, r));
  }

  /** A run by id or unique id prefix. Given a workflow, checks the run is one of it and types its output. */
  async run<W extends AnyWorkflow | string = string>(idOrPrefix: string, workflow?: W): Promise<RunHandle<OutputOfRef<W>>> {
    if (!idOrPrefix) throw new BatonError('usage', 'A run id (or a unique prefix of one) is required. List runs with `client.runs()` or `baton runs`.');
    const runId = await this.platform.resolveRunId(idOrPrefix);
    const record = await this.store.getRun(runId);
    if (!record) throw new BatonError('not_found', `No run "${idOrPrefix}" in ${this.store.url}. List runs with \`client.runs()\` or \`baton runs\`.`);
    if (workflow !== undefined && record.workflow !== workflowName(workflow)) {
      throw new BatonError('usage', `Run ${runId} is a run of workflow "${record.workflow}", not "${workflowName(workflow)}".`);
    }
    return new RunHandle<OutputOfRef<W>>(this, record);
  }

  /** The newest run of a workflow (optionally with a given status); throws not_found when there is none. */
  async latestRun<W extends AnyWorkflow | string>(workflow: W, options: { status?: RunStatus } = {}): Promise<RunHandle<OutputOfRef<W>>> {
    const [run] = await this.runs({ workflow, limit: 1, ...(options.status ? { status: options.status } : {}) });
    if (run) return run;
    const name = workflowName(workflow);
    if (options.status) {
      const [any] = await this.runs({ workflow: name, limit: 1 });
      if (any) {
        throw new BatonError('not_found', `Workflow "${name}" has no ${options.status} run in ${this.store.url}; its latest run is ${any.id} (${any.status}). List its runs with \`baton runs --workflow ${name}\`.`);
      }
    }
    const names = [...new Set((await this.store.listRuns({ limit: 200 })).map((r) => r.workflow))].sort();
    throw new BatonError('not_found', `Workflow "${name}" has no runs in ${this.store.url}; workflows with runs: ${listIds(names)}. Start one with \`baton run FILE\`.`);
  }

  /** Closes the store if `Client.open` opened it. */
  async close(): Promise<void> {
    if (this.owned) await this.platform.close();
  }
}

export class RunHandle<O = unknown> {
  constructor(
    private readonly client: Client,
    /** The run as stored when this handle was fetched. */
    readonly record: RunRecord,
  ) {}

  get id(): string {
    return this.record.id;
  }
  get workflow(): string {
    return this.record.workflow;
  }
  get status(): RunStatus {
    return this.record.status;
  }
  get params(): unknown {
    return this.record.params;
  }
  /** Epoch milliseconds. */
  get createdAt(): number {
    return this.record.createdAt;
  }
  get endedAt(): number | undefined {
    return this.record.endedAt;
  }
  get error(): string | undefined {
    return this.record.error;
  }
  /** The workflow file the run was started from. */
  get file(): string {
    return this.record.file;
  }

  /**
   * The run's output, decoded (bytes become Buffers, large values are fetched from the artifact store).
   * Typed by the handle's workflow, or by a workflow given as argument or type argument: `output<typeof flow>()`.
   */
  async output<W extends AnyWorkflow = Workflow<z.ZodType, O>>(workflow?: W): Promise<WorkflowOutput<W>> {
    const r = this.record;
    if (workflow && workflow.name !== r.workflow) {
      throw new BatonError('usage', `Run ${r.id} is a run of workflow "${r.workflow}", not "${workflow.name}".`);
    }
    if (r.status !== 'succeeded') {
      const why = r.status === 'running' ? 'is still running' : `${r.status}${r.error ? `: ${r.error.split('\n')[0]}` : ''}`;
      throw new BatonError('conflict', `Run ${r.id} ${why}; it has no output. Inspect its tasks with \`run.tasks()\` or \`baton show ${r.id}\`.`);
    }
    return (r.output ? await decodeValue(r.output, this.client.artifacts) : undefined) as WorkflowOutput<W>;
  }

  /**
   * A hyperparameter study of this run (a `tune(...)` node), finished or still running: trial table, best trial
   * and optimization history. Name the study when the run has several.
   */
  async study<P = Record<string, unknown>>(studyId?: string): Promise<StudyView<P>> {
    return (await readStudy(this.client.store, this.client.artifacts, this.id, studyId)) as unknown as StudyView<P>;
  }

  /** The run's task nodes (map items and dynamic sub-tasks included), in graph order. */
  async tasks(): Promise<TaskHandle[]> {
    const nodes = await this.client.store.getNodes(this.id);
    return graphOrder(nodes)
      .filter((n) => n.spec.kind === 'task')
      .map((n) => new TaskHandle(this.client, n));
  }

  /**
   * One task node: by node id (`'train'`, `'train[3]'`, `'fanout/part-0'`), by task object (its only node in the
   * run; throws if it has several — use `tasksOf`), or by node id checked against a task object.
   */
  task<I extends z.ZodType, T extends z.ZodType>(task: Task<I, T>): Promise<TaskHandle<z.output<T>, z.output<I>>>;
  task<I extends z.ZodType, T extends z.ZodType>(nodeId: string, task: Task<I, T>): Promise<TaskHandle<z.output<T>, z.output<I>>>;
  task(nodeId: string): Promise<TaskHandle>;
  async task(ref: string | Task<z.ZodType, z.ZodType>, typed?: Task<z.ZodType, z.ZodType>): Promise<TaskHandle> {
    const nodes = await this.client.store.getNodes(this.id);
    const taskIds = () => listIds(graphOrder(nodes).filter((n) => n.spec.kind === 'task').map((n) => n.id));
    if (isTask(ref)) {
      const matches = graphOrder(nodes).filter((n) => n.spec.kind === 'task' && n.spec.task === ref.taskName);
      if (matches.length === 0) {
        throw new BatonError('not_found', `Run ${this.id} (${this.workflow}) has no node of task "${ref.taskName}"; its tasks are: ${taskIds()}.`);
      }
      if (matches.length > 1) {
        throw new BatonError('usage', `Task "${ref.taskName}" has ${matches.length} nodes in run ${this.id}: ${listIds(matches.map((n) => n.id))}. Pick one by node id (\`run.task('${matches[0]!.id}', task)\`) or get all with \`run.tasksOf(task)\`.`);
      }
      return new TaskHandle(this.client, matches[0]!, ref.definition);
    }
    const node = nodes.find((n) => n.id === ref);
    if (!node) throw new BatonError('not_found', `Run ${this.id} (${this.workflow}) has no task "${ref}"; its tasks are: ${taskIds()}.`);
    if (node.spec.kind !== 'task') {
      const kids = graphOrder(nodes).filter((n) => n.spec.parent === node.id && n.spec.kind === 'task').map((n) => n.id);
      throw new BatonError('usage', `Node "${ref}" of run ${this.id} is a ${node.spec.kind} node, not a task${kids.length ? `; its tasks are: ${listIds(kids)}` : ''}.${node.spec.kind === 'map' ? ' Get all its items with `run.tasksOf(task)`.' : ''}`);
    }
    if (typed && node.spec.task !== typed.taskName) {
      throw new BatonError('usage', `Node "${ref}" of run ${this.id} runs task "${node.spec.task}", not "${typed.taskName}".`);
    }
    return new TaskHandle(this.client, node, typed?.definition);
  }

  /** Every node of a task in this run (e.g. all items of a map), in graph order, with typed outputs. */
  async tasksOf<I extends z.ZodType, T extends z.ZodType>(task: Task<I, T>): Promise<TaskHandle<z.output<T>, z.output<I>>[]> {
    const nodes = await this.client.store.getNodes(this.id);
    return graphOrder(nodes)
      .filter((n) => n.spec.kind === 'task' && n.spec.task === task.taskName)
      .map((n) => new TaskHandle<z.output<T>, z.output<I>>(this.client, n, task.definition));
  }

  /** The run's event log, oldest first. */
  events(): Promise<EventRecord[]> {
    return this.client.store.getEvents(this.id);
  }

  /**
   * The model versions the run's tasks registered (`ctx.models.register`), in registration order; each names its
   * node and attempt in `lineage`. A task answered from the cache registered nothing: its registration (in its
   * output) is the version of the run that computed it (`platform.models.registered(output.model)`, or
   * `(await task.origin())` and that run's `models()`).
   */
  models(): Promise<ModelVersionRecord[]> {
    return this.client.platform.models.ofRun(this.id);
  }
}

export class TaskHandle<O = unknown, I = unknown> {
  constructor(
    private readonly client: Client,
    /** The node as stored when this handle was fetched. */
    readonly record: NodeRecord,
    /** Set when looked up by task object: outputs and inputs are then checked against its schemas. */
    private readonly definition?: TaskDefinition,
  ) {}

  get runId(): string {
    return this.record.runId;
  }
  /** Node id, e.g. `train`, `train[3]`, `fanout/part-0`. */
  get id(): string {
    return this.record.id;
  }
  /** Task name. */
  get task(): string {
    return this.record.spec.task ?? '';
  }
  /** The map or dynamic node that created this one. */
  get parent(): string | undefined {
    return this.record.spec.parent;
  }
  get state(): NodeState {
    return this.record.state;
  }
  /** Attempts made (0 for a cache hit). */
  get attempts(): number {
    return this.record.attempts;
  }
  /** Whether the output was reused from an earlier run's cache entry. */
  get cached(): boolean {
    return this.record.cachedFrom !== undefined;
  }
  /** The task (run and node) whose output a cache hit reused. */
  get cachedFrom(): { runId: string; nodeId: string } | undefined {
    const from = this.record.cachedFrom;
    if (from === undefined) return undefined;
    const slash = from.indexOf('/');
    return { runId: from.slice(0, slash), nodeId: from.slice(slash + 1) };
  }
  get startedAt(): number | undefined {
    return this.record.startedAt;
  }
  get endedAt(): number | undefined {
    return this.record.endedAt;
  }
  get error(): string | undefined {
    return this.record.error;
  }

  private where(): string {
    return `Task "${this.id}" of run ${this.runId}`;
  }

  private check(value: unknown, schema: z.ZodType, what: 'output' | 'input'): unknown {
    // A stored output is the schema's output already: parsing it again would re-apply transforms.
    if (what === 'output' && hasTransform(schema)) return value;
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    throw new BatonError('conflict', `The ${what} ${this.where().replace(/^Task/, 'of task')} does not match the ${what} schema of task "${this.task}" as defined now: ${describeIssues(parsed.error)}. Was the task changed since the run? Read it unchecked with \`run.task('${this.id}')\`.`);
  }

  /**
   * The task's output, decoded (bytes become Buffers, large values are fetched). Looked up by task object, it is
   * checked with the task's output schema (a schema with transforms is not applied again: the stored output is
   * already their result).
   */
  async output(): Promise<O> {
    const n = this.record;
    if (n.state !== 'succeeded' || !n.output) {
      throw new BatonError('conflict', `${this.where()} ${n.state}${n.error ? `: ${n.error.split('\n')[0]}` : ''}; it has no output.`);
    }
    const value = await decodeValue(n.output, this.client.artifacts);
    return (this.definition ? this.check(value, this.definition.outputSchema, 'output') : value) as O;
  }

  /** The input the task ran with (decoded; parsed with the task's input schema when looked up by task object). */
  async input(): Promise<I> {
    const n = this.record;
    if (!n.input) throw new BatonError('conflict', `${this.where()} never got its input (it is ${n.state}).`);
    const value = await decodeValue(n.input, this.client.artifacts);
    return (this.definition ? this.check(value, this.definition.inputSchema, 'input') : value) as I;
  }

  /** The task's attempts, oldest first, with their state, executor, error, cpuMs and peakRssMb. */
  attemptsList(): Promise<AttemptRecord[]> {
    return this.client.store.getAttempts(this.runId, this.id);
  }

  /** What the task wrote to stdout and stderr, all attempts unless one is given. Empty for a cache hit (see `origin()`). */
  async logs(options: { stream?: 'stdout' | 'stderr'; attempt?: number } = {}): Promise<string> {
    const logs = await this.client.store.getLogs(this.runId, { nodeId: this.id, ...(options.attempt !== undefined ? { attempt: options.attempt } : {}) });
    return logs
      .filter((l) => !options.stream || l.stream === options.stream)
      .map((l) => l.text)
      .join('');
  }

  /** Artifacts the task read and wrote (all attempts unless one is given). Empty for a cache hit (see `origin()`). */
  async lineage(options: { attempt?: number } = {}): Promise<Lineage> {
    const records = await this.client.store.getLineage(this.runId, this.id);
    const read = new Set<string>();
    const written = new Set<string>();
    for (const r of records) {
      if (options.attempt !== undefined && r.attempt !== options.attempt) continue;
      (r.direction === 'read' ? read : written).add(r.sha256);
    }
    return { read: [...read], written: [...written] };
  }

  /** The run's events about this node, oldest first. */
  async events(): Promise<EventRecord[]> {
    return (await this.client.store.getEvents(this.runId)).filter((e) => e.nodeId === this.id);
  }

  /** For a cache hit, the task that computed the output (with its logs, attempts and lineage); otherwise this task. */
  async origin(): Promise<TaskHandle<O, I>> {
    const from = this.cachedFrom;
    if (!from) return this;
    const node = await this.client.store.getNode(from.runId, from.nodeId);
    if (!node) throw new BatonError('not_found', `${this.where()} reused the output of "${from.nodeId}" in run ${from.runId}, which is no longer in ${this.client.store.url}.`);
    return new TaskHandle<O, I>(this.client, node, this.definition);
  }
}
