/**
 * The graph builder behind `workflow(...)`, `map`, `when` and `dynamic`. A builder function runs synchronously; task
 * calls inside it add NodeSpecs to the current builder and return Refs. Nothing here runs user task code.
 */
import type { z } from 'zod';
import type { Guard, NodeSpec } from '../spec/graph.ts';
import { BatonError } from '../errors.ts';
import { makeRef, toBinding, type Binding, type Ref, type Wire } from './refs.ts';
import type { CallOptions, Task, TaskDefinition } from './task.ts';
import { checkStudy, type StudySpec } from '../tuning/study.ts';

/** A dynamic builder: called at run time with its resolved input; returns wired outputs. */
export type DynamicFn = (input: unknown) => unknown;

export interface BuiltGraph {
  nodes: NodeSpec[];
  output: Binding;
  tasks: Map<string, TaskDefinition>;
  dynamicBuilders: Map<string, DynamicFn>;
}

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly tasks = new Map<string, TaskDefinition>();
  private readonly ids: Set<string>;
  private readonly guards: Guard[] = [];
  private readonly suffix = new Map<string, number>();

  constructor(
    readonly workflowName: string,
    readonly dynamicBuilders: Map<string, DynamicFn>,
    private readonly prefix = '',
    private readonly parent?: string,
    existingIds: Iterable<string> = [],
  ) {
    this.ids = new Set(existingIds);
  }

  private newId(base: string, explicit?: string): string {
    if (explicit !== undefined) {
      const id = this.prefix + explicit;
      if (!/^[A-Za-z0-9_.:/-]+$/.test(explicit)) {
        throw new BatonError('workflow_invalid', `Node id ${JSON.stringify(explicit)} in workflow "${this.workflowName}" is invalid: use letters, digits, '_', '.', ':', '-'.`);
      }
      if (this.ids.has(id)) {
        throw new BatonError('workflow_invalid', `Node id "${id}" is used twice in workflow "${this.workflowName}". Give each call a unique id.`);
      }
      this.ids.add(id);
      return id;
    }
    let id = this.prefix + base;
    // Remember the last suffix per base name so that calling one task many times stays linear.
    for (let n = this.suffix.get(id) ?? 2; this.ids.has(id); n++) {
      id = `${this.prefix}${base}-${n}`;
      this.suffix.set(this.prefix + base, n + 1);
    }
    this.ids.add(id);
    return id;
  }

  private common(options: Omit<CallOptions, 'id'>): Pick<NodeSpec, 'guards' | 'options' | 'parent'> {
    return {
      ...(this.guards.length ? { guards: [...this.guards] } : {}),
      ...(Object.keys(options).length ? { options } : {}),
      ...(this.parent ? { parent: this.parent } : {}),
    };
  }

  addTask(def: TaskDefinition, inputs: unknown, callOptions: CallOptions): Ref<unknown> {
    const { id: explicit, ...options } = callOptions;
    this.tasks.set(def.options.name, def);
    const id = this.newId(def.options.name, explicit);
    const input = toBinding(inputs);
    checkRequiredInputs(def, input, id);
    this.nodes.push({ id, kind: 'task', task: def.options.name, input, ...this.common(options) });
    return makeRef({ ref: id });
  }

  addMap(def: TaskDefinition, over: unknown, mapper: ((item: Ref<unknown>) => unknown) | undefined, callOptions: CallOptions): Ref<unknown> {
    const { id: explicit, ...options } = callOptions;
    this.tasks.set(def.options.name, def);
    const id = this.newId(def.options.name, explicit);
    const item = makeRef<unknown>({ item: [] });
    const input = toBinding(mapper ? mapper(item) : item);
    this.nodes.push({ id, kind: 'map', task: def.options.name, over: toBinding(over), input, ...this.common(options) });
    return makeRef({ ref: id });
  }

  addWhen(cond: unknown, then: () => unknown, otherwise: (() => unknown) | undefined, explicit?: string): Ref<unknown> {
    const condBinding = toBinding(cond);
    this.guards.push({ binding: condBinding, equals: true });
    const thenBinding = toBinding(then());
    this.guards.pop();
    this.guards.push({ binding: condBinding, equals: false });
    const elseBinding = otherwise ? toBinding(otherwise()) : { lit: undefined };
    this.guards.pop();
    const id = this.newId('when', explicit);
    this.nodes.push({ id, kind: 'select', cond: condBinding, then: thenBinding, else: elseBinding, ...this.common({}) });
    return makeRef({ ref: id });
  }

  addTune(def: TaskDefinition, inputs: unknown, study: StudySpec, callOptions: CallOptions): Ref<unknown> {
    const { id: explicit, ...options } = callOptions;
    this.tasks.set(def.options.name, def);
    const id = this.newId(`${def.options.name}-study`, explicit);
    try {
      checkStudy(study, `tune("${id}")`);
    } catch (err) {
      throw new BatonError('workflow_invalid', err instanceof Error ? err.message : String(err));
    }
    const input = toBinding(inputs ?? {});
    if (!('lit' in input && typeof input.lit === 'object' && input.lit !== null && !Array.isArray(input.lit)) && !('obj' in input)) {
      throw new BatonError('workflow_invalid', `tune("${id}"): \`inputs\` must be an object of the objective's inputs besides \`params\`, e.g. { data: prepared.train }; got a single reference or value.`);
    }
    if ('obj' in input ? 'params' in input.obj : 'params' in (input.lit as object)) {
      throw new BatonError('workflow_invalid', `tune("${id}"): \`inputs\` must not contain "params": each trial's params come from the search space.`);
    }
    this.nodes.push({ id, kind: 'tune', task: def.options.name, input, tune: study, ...this.common(options) });
    return makeRef({ ref: id });
  }

  addDynamic(name: string, input: unknown, fn: DynamicFn): Ref<unknown> {
    const id = this.newId(name);
    this.dynamicBuilders.set(id, fn);
    this.nodes.push({ id, kind: 'dynamic', input: toBinding(input), ...this.common({}) });
    return makeRef({ ref: id });
  }
}

/** Inputs the task's schema requires but the call does not pass: a build-time error naming the input and the fix. */
function checkRequiredInputs(def: TaskDefinition, input: Binding, nodeId: string): void {
  const shape = (def.inputSchema as unknown as { shape?: Record<string, z.ZodType> }).shape;
  if (!shape || typeof shape !== 'object') return;
  const given = 'obj' in input ? input.obj : 'lit' in input && input.lit && typeof input.lit === 'object' ? (input.lit as Record<string, unknown>) : undefined;
  if (!given) return; // a ref to a whole object: checked at run time against the schema
  for (const [key, field] of Object.entries(shape)) {
    if (key in given && (given as Record<string, unknown>)[key] !== undefined) continue;
    if (field.safeParse(undefined).success) continue;
    throw new BatonError(
      'workflow_invalid',
      `Task "${nodeId}" needs input "${key}", but the workflow does not pass it. Pass it from a task or a parameter, or give it a default in the task's input schema.`,
    );
  }
}

let stack: GraphBuilder[] = [];

export function currentBuilder(what: string): GraphBuilder {
  const b = stack[stack.length - 1];
  if (!b) {
    throw new BatonError(
      'usage',
      `"${what}" was called outside a workflow builder. Call tasks inside workflow(..., (params) => { ... }) or a dynamic(...) builder; to run a task's code directly, use its definition in a test.`,
    );
  }
  return b;
}

export function withBuilder<T>(builder: GraphBuilder, fn: () => T): T {
  stack.push(builder);
  try {
    const out = fn();
    if (out && typeof (out as { then?: unknown }).then === 'function') {
      throw new BatonError('workflow_invalid', `The builder of workflow "${builder.workflowName}" returned a Promise. Builders must be synchronous: they only wire tasks; do async work inside tasks.`);
    }
    return out;
  } finally {
    stack = stack.slice(0, -1);
  }
}

/** Strips Ref wrappers: the value type a wired expression will have at run time. */
export type Unwire<R> = R extends Ref<infer X>
  ? X
  : R extends readonly unknown[]
    ? R
    : R extends Record<string, unknown>
      ? { [K in keyof R]: Unwire<R[K]> }
      : R;

/** Fans a task out over a list: one node per item, run in parallel within the limits; the result is the list of outputs. */
export function map<I extends z.ZodType, O extends z.ZodType, T>(
  t: Task<I, O>,
  over: Ref<T[]> | readonly T[],
  mapper?: (item: Ref<T>) => Wire<z.input<I>>,
  options: CallOptions = {},
): Ref<z.output<O>[]> {
  return currentBuilder('map').addMap(t.definition, over, mapper as ((item: Ref<unknown>) => unknown) | undefined, options) as Ref<z.output<O>[]>;
}

/** Runs `then`'s nodes when `cond` is true at run time, `otherwise`'s when false; the result is the taken branch's. */
export function when<R>(cond: Ref<boolean> | boolean, then: () => R, otherwise?: () => R, options: { id?: string } = {}): Ref<Unwire<R>> {
  return currentBuilder('when').addWhen(cond, then, otherwise, options.id) as Ref<Unwire<R>>;
}

/**
 * A sub-graph decided at run time: `build` is called once its input is ready, with the input's value, and may call
 * tasks, `map`, `when` and further `dynamic`s; what it returns becomes this node's output.
 */
export function dynamic<W, R>(name: string, input: W, build: (input: Unwire<W>) => R): Ref<Unwire<R>> {
  return currentBuilder('dynamic').addDynamic(name, input, build as DynamicFn) as Ref<Unwire<R>>;
}

