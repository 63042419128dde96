/**
 * What to do with a node whose dependencies are all done: skip it (a guard did not hold), expand it (map items, a
 * chosen branch, a dynamic sub-graph), finish it (a map's list, a branch's result), or prepare an attempt
 * (resolved input, executor, resources). Errors here are the workflow's, not the platform's: they fail the node
 * with a message that names it.
 */
import type { StoredValue } from '../ports/metadata.ts';
import { GraphBuilder, withBuilder, type DynamicFn } from '../sdk/build.ts';
import { appendPath, bindingDeps, substituteItem, toBinding, type Binding } from '../sdk/refs.ts';
import type { TaskDefinition } from '../sdk/task.ts';
import { messageOf } from '../errors.ts';
import { mapChildId, type NodeSpec } from '../spec/graph.ts';
import type { Capacity, Demand, MachineNode, RunMachine } from './machine.ts';
import type { ValueResolver } from './values.ts';
import { evaluateTune } from './tune.ts';
import type { Trial } from '../tuning/trial.ts';

export type Evaluation =
  | { kind: 'skip'; reason: string }
  | { kind: 'fail'; message: string }
  | { kind: 'succeed'; output: StoredValue }
  | { kind: 'expand'; nodes: NodeSpec[]; expansion: NonNullable<MachineNode['expansion']>; newDeps: string[] }
  | { kind: 'dispatch'; def: TaskDefinition; input: StoredValue; value: unknown; env: Record<string, string>; executor: string; timeoutMs?: number; demand: Demand };

export interface EvalContext {
  values: ValueResolver;
  tasks: Map<string, TaskDefinition>;
  dynamicBuilders: Map<string, DynamicFn>;
  workflowName: string;
  machine: RunMachine;
  capacity: Capacity;
  pools: Record<string, number>;
  env: Record<string, string | undefined>;
  defaultExecutor: string;
  /** Each study's trials by number as of its latest evaluation (undefined: not finished), for trials' pruners. */
  studies: Map<string, (Trial | undefined)[]>;
}

export async function evaluateNode(node: MachineNode, ctx: EvalContext): Promise<Evaluation> {
  const spec = node.spec;
  try {
    if (!node.expansion) {
      for (const g of spec.guards ?? []) {
        if (Boolean(await ctx.values.resolve(g.binding)) !== g.equals) return { kind: 'skip', reason: 'branch not taken' };
      }
    }
    switch (spec.kind) {
      case 'task':
        return await prepareTask(spec, ctx);
      case 'map':
        return await evaluateMap(node, ctx);
      case 'select':
        return await evaluateSelect(node, ctx);
      case 'dynamic':
        return await evaluateDynamic(node, ctx);
      case 'tune':
        return await evaluateTune(node, ctx);
    }
  } catch (err) {
    return { kind: 'fail', message: `Node "${spec.id}" could not be evaluated: ${messageOf(err)}` };
  }
}

export function demandOf(def: TaskDefinition, spec: NodeSpec): Demand {
  const r = { ...def.options.resources, ...spec.options?.resources };
  const pool = spec.options?.pool ?? def.options.pool;
  return { cpu: r.cpu ?? 1, memoryMB: r.memoryMB ?? 0, gpu: r.gpu ?? 0, ...(pool !== undefined ? { pool } : {}) };
}

/** Why a demand can never be met on this engine, or undefined. */
export function unmeetable(nodeId: string, d: Demand, capacity: Capacity, pools: Record<string, number>): string | undefined {
  if (d.cpu > capacity.cpu) return `Task "${nodeId}" requests ${d.cpu} CPU but this engine has ${capacity.cpu}. Lower resources.cpu or raise the engine's CPUs (--cpus).`;
  if (d.gpu > capacity.gpu) return `Task "${nodeId}" requests ${d.gpu} GPU(s) but this engine has ${capacity.gpu}. Give the engine GPUs with --gpus N (or BATON_GPUS), or lower resources.gpu.`;
  if (d.memoryMB > capacity.memoryMB) return `Task "${nodeId}" requests ${d.memoryMB} MiB of memory but this engine allows ${capacity.memoryMB}. Lower resources.memoryMB or raise --memory.`;
  if (d.pool !== undefined && !(d.pool in pools)) return `Task "${nodeId}" uses pool "${d.pool}", which is not configured. Add it to the workflow's pools ({ ${d.pool}: N }) or pass --pool ${d.pool}=N.`;
  if (d.pool !== undefined && (pools[d.pool] ?? 0) < 1) return `Pool "${d.pool}" used by task "${nodeId}" has limit ${pools[d.pool]}; it must be at least 1.`;
  return undefined;
}

async function prepareTask(spec: NodeSpec, ctx: EvalContext): Promise<Evaluation> {
  const def = ctx.tasks.get(spec.task!);
  if (!def) return { kind: 'fail', message: `Task "${spec.task}" used by node "${spec.id}" is not defined in the loaded workflow code. Was it renamed or removed since the run started?` };
  const demand = demandOf(def, spec);
  const bad = unmeetable(spec.id, demand, ctx.capacity, ctx.pools);
  if (bad) return { kind: 'fail', message: bad };
  const input = await ctx.values.encode(spec.input ?? { lit: {} });
  const value = spec.input ? await ctx.values.resolve(spec.input) : {};
  const env: Record<string, string> = {};
  for (const name of def.options.env ?? []) {
    const v = ctx.env[name];
    if (v !== undefined) env[name] = v;
  }
  const timeoutMs = spec.options?.timeoutMs ?? def.options.timeoutMs;
  return {
    kind: 'dispatch',
    def,
    input,
    value,
    env,
    executor: spec.options?.executor ?? def.options.executor ?? ctx.defaultExecutor,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    demand,
  };
}

async function evaluateMap(node: MachineNode, ctx: EvalContext): Promise<Evaluation> {
  const spec = node.spec;
  if (node.expansion?.count !== undefined) {
    const ids = Array.from({ length: node.expansion.count }, (_, i) => mapChildId(spec.id, i));
    return { kind: 'succeed', output: await ctx.values.gather(ids) };
  }
  const list = await ctx.values.resolve(spec.over!);
  if (!Array.isArray(list)) {
    return { kind: 'fail', message: `map "${spec.id}" expected a list to fan out over, but got ${list === null ? 'null' : typeof list}. Pass an array (e.g. a task output typed z.array(...)).` };
  }
  const nodes: NodeSpec[] = list.map((_, i) => ({
    id: mapChildId(spec.id, i),
    kind: 'task',
    task: spec.task!,
    input: substituteItem(spec.input!, appendPath(spec.over!, [i])),
    ...(spec.options ? { options: spec.options } : {}),
    parent: spec.id,
  }));
  return { kind: 'expand', nodes, expansion: { count: nodes.length }, newDeps: nodes.map((n) => n.id) };
}

async function evaluateSelect(node: MachineNode, ctx: EvalContext): Promise<Evaluation> {
  const spec = node.spec;
  if (node.expansion?.branch !== undefined) {
    return { kind: 'succeed', output: await ctx.values.encode(node.expansion.branch ? spec.then! : spec.else!) };
  }
  const branch = Boolean(await ctx.values.resolve(spec.cond!));
  const chosen: Binding = branch ? spec.then! : spec.else!;
  return { kind: 'expand', nodes: [], expansion: { branch }, newDeps: [...bindingDeps(chosen)] };
}

async function evaluateDynamic(node: MachineNode, ctx: EvalContext): Promise<Evaluation> {
  const spec = node.spec;
  if (node.expansion?.result) return { kind: 'succeed', output: await ctx.values.encode(node.expansion.result) };
  const fn = ctx.dynamicBuilders.get(spec.id);
  if (!fn) {
    return { kind: 'fail', message: `The builder of dynamic node "${spec.id}" is not known to this engine (it was created inside another dynamic builder before a restart). Start a new run; nested dynamic builders cannot be resumed yet.` };
  }
  const input = await ctx.values.resolve(spec.input ?? { lit: undefined });
  const builder = new GraphBuilder(ctx.workflowName, ctx.dynamicBuilders, `${spec.id}/`, spec.id, ctx.machine.nodes.keys());
  let out: unknown;
  try {
    out = withBuilder(builder, () => fn(input));
  } catch (err) {
    return { kind: 'fail', message: `The builder of dynamic node "${spec.id}" threw: ${messageOf(err)}` };
  }
  for (const [name, def] of builder.tasks) ctx.tasks.set(name, def);
  const result = toBinding(out);
  const known = new Set([...ctx.machine.nodes.keys(), ...builder.nodes.map((n) => n.id)]);
  for (const n of builder.nodes) {
    for (const d of [...bindingDeps(n.input ?? { lit: null }), ...bindingDeps(n.over ?? { lit: null })]) {
      if (!known.has(d)) return { kind: 'fail', message: `Dynamic node "${spec.id}" created "${n.id}", which reads from "${d}", but no such node exists.` };
    }
  }
  return { kind: 'expand', nodes: builder.nodes, expansion: { result }, newDeps: [...bindingDeps(result)] };
}
