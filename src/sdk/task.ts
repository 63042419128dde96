/**
 * `task(...)`: a typed unit of work. Its input and output are zod schemas, so the compiler infers the types of the
 * `run` function and of every place the task is wired into a workflow. Calling a task inside a workflow builder
 * adds a node to the graph and returns a typed `Ref` to its output; it never runs the code there.
 */
import type { z } from 'zod';
import { captureCallSite } from '../codehash/callsite.ts';
import { currentBuilder } from './build.ts';
import type { TaskContext } from './context.ts';
import type { CallOptions, ExecutorName, Resources, RetryPolicy, TaskOptions } from '../spec/options.ts';
import type { Ref, Wire } from './refs.ts';
import { registerTask } from './registry.ts';

export type { Resources, RetryPolicy, ExecutorName, TaskOptions, CallOptions };

export interface TaskSpec<I extends z.ZodType, O extends z.ZodType> extends TaskOptions {
  input: I;
  output: O;
  run: (input: z.output<I>, ctx: TaskContext) => Promise<z.input<O>> | z.input<O>;
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
