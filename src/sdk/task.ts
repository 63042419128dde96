/**
 * `task(...)`: a typed unit of work. Its input and output are zod schemas, so the compiler infers the types of the
 * `run` function and of every place the task is wired into a workflow. Calling a task inside a workflow builder
 * adds a node to the graph and returns a typed `Ref` to its output; it never runs the code there.
 */
import type { z } from 'zod';
import { captureCallSite } from '../codehash/callsite.ts';
import { currentBuilder } from './build.ts';
import type { TaskContext } from './context.ts';
import type { Ref, Wire } from './refs.ts';
import { registerTask } from './registry.ts';

export interface Resources {
  /** CPU slots the task occupies while it runs. @default 1 */
  cpu?: number;
  /** Memory it may use, in MiB, counted against the engine's capacity. @default 0 (not counted) */
  memoryMB?: number;
  /** GPUs it needs. Scheduled like any other resource. @default 0 */
  gpu?: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt. @default 0 */
  retries: number;
  /** Delay before the first retry. @default 1000 */
  backoffMs?: number;
  /** Multiplier per further retry. @default 2 */
  factor?: number;
  /** Upper bound on one delay. @default 60000 */
  maxBackoffMs?: number;
}

export type ExecutorName = 'inline' | 'threads' | 'processes';

/** Options shared by TypeScript tasks and command tasks. */
export interface TaskOptions {
  /** Unique name of the task; it is its identity for caching and lookup in worker processes. */
  name: string;
  description?: string;
  resources?: Resources;
  /** Named pool with a concurrency limit, e.g. 'gpu' or 'db'. Pools are sized in the run options. */
  pool?: string;
  /** A number of retries, or a full policy. @default 0 */
  retries?: number | RetryPolicy;
  /** Fails an attempt that runs longer. @default none */
  timeoutMs?: number;
  /** Reuse a previous result when the cache key matches. @default true */
  cache?: boolean;
  /** Explicit code version; when set it replaces the automatic code hash in the cache key. */
  version?: string;
  /**
   * Fingerprint local files and folders named by string inputs (content hash, recomputed when size or mtime
   * change), so a changed file misses the cache. `false`: skip that work; every cache hit then warns, naming the
   * paths. @default true
   */
  fingerprintPaths?: boolean;
  /** Environment variables whose values change results: passed to the task and part of the cache key. */
  env?: string[];
  /** Which executor runs it. @default the run's executor */
  executor?: ExecutorName;
}

export interface TaskSpec<I extends z.ZodType, O extends z.ZodType> extends TaskOptions {
  input: I;
  output: O;
  run: (input: z.output<I>, ctx: TaskContext) => Promise<z.input<O>> | z.input<O>;
}

/** Per-call overrides: `train.with({ id: 'train-rf', retries: 2 })(inputs)`. */
export interface CallOptions extends Pick<TaskOptions, 'resources' | 'pool' | 'retries' | 'timeoutMs' | 'cache' | 'executor'> {
  /** Node id in the graph. @default the task name (suffixed -2, -3 when repeated) */
  id?: string;
}

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** Fields every task kind shares, as seen by the engine and executors. */
export interface TaskDefinition {
  readonly kind: 'task' | 'command';
  readonly options: TaskOptions;
  readonly inputSchema: z.ZodType;
  readonly outputSchema: z.ZodType;
  /** Where the task was defined; workers import this file to find it. */
  readonly location: SourceLocation | undefined;
  /** For TypeScript tasks, the function; for command tasks, undefined. */
  readonly fn: ((input: unknown, ctx: TaskContext) => unknown) | undefined;
  /** For command tasks: builds argv from the input. */
  readonly command?: (input: unknown) => string[];
  readonly commandOptions?: { cwd?: string; shell?: boolean };
}

export interface Task<I extends z.ZodType, O extends z.ZodType> {
  (input: Wire<z.input<I>>, options?: CallOptions): Ref<z.output<O>>;
  readonly definition: TaskDefinition;
  readonly taskName: string;
  /** Returns the same task with per-call overrides. */
  with(options: CallOptions): (input: Wire<z.input<I>>) => Ref<z.output<O>>;
}

export function task<I extends z.ZodType, O extends z.ZodType>(spec: TaskSpec<I, O>): Task<I, O> {
  const { input, output, run, ...options } = spec;
  const definition: TaskDefinition = {
    kind: 'task',
    options,
    inputSchema: input,
    outputSchema: output,
    location: captureCallSite(['/src/sdk/']),
    fn: run as (input: unknown, ctx: TaskContext) => unknown,
  };
  return makeTask<I, O>(definition);
}

export function makeTask<I extends z.ZodType, O extends z.ZodType>(definition: TaskDefinition): Task<I, O> {
  if (!definition.options.name || !/^[A-Za-z0-9_.-]+$/.test(definition.options.name)) {
    throw new TypeError(
      `Task name ${JSON.stringify(definition.options.name)} is invalid: use letters, digits, '_', '.' or '-'.`,
    );
  }
  registerTask(definition);
  const call = (inputs: unknown, callOptions?: CallOptions): Ref<z.output<O>> =>
    currentBuilder(definition.options.name).addTask(definition, inputs, callOptions ?? {}) as Ref<z.output<O>>;
  const fn = call as Task<I, O>;
  Object.defineProperty(fn, 'definition', { value: definition });
  Object.defineProperty(fn, 'taskName', { value: definition.options.name });
  Object.defineProperty(fn, 'with', {
    value: (callOptions: CallOptions) => (inputs: unknown) => call(inputs, callOptions),
  });
  return fn;
}
