/**
 * The run graph as plain data. Every node a run will ever execute is described by a NodeSpec: static nodes are
 * written when the run starts, nodes created at run time (map items, dynamic sub-graphs) when their parent expands.
 * Specs are stored as JSON, so any engine process can drive the run without re-running the builder.
 */
import { bindingDeps, type Binding } from './binding.ts';
import type { CallOptions } from './options.ts';
import type { StudySpec } from './study.ts';

export type NodeKind = 'task' | 'map' | 'select' | 'dynamic' | 'tune';

/** A branch condition: the node runs only if the binding's value, as a boolean, equals `equals`. */
export interface Guard {
  readonly binding: Binding;
  readonly equals: boolean;
}

export interface NodeSpec {
  readonly id: string;
  readonly kind: NodeKind;
  /** Task name for `task`, `map` and `tune` (the objective) nodes. */
  readonly task?: string;
  /** Task input; for `map` the per-item template (with `{ item }` placeholders); for `dynamic` the builder input. */
  readonly input?: Binding;
  /** For `map`: the list to fan out over. */
  readonly over?: Binding;
  /** For `select`: the condition and the two branch results. */
  readonly cond?: Binding;
  readonly then?: Binding;
  readonly else?: Binding;
  readonly guards?: readonly Guard[];
  readonly options?: Omit<CallOptions, 'id'>;
  /** The node whose expansion created this one. */
  readonly parent?: string;
  /** For `tune`: the study (space, sampler, pruner, budget). Its trials are children `id[k]`, created as it goes. */
  readonly tune?: StudySpec;
  /** For a trial of a `tune` node (its parent): the trial's number, 0-based in creation order. */
  readonly trial?: number;
}

export function mapChildId(mapId: string, index: number): string {
  return `${mapId}[${index}]`;
}

/** Every dependency of a node spec: inputs, list, guards and (for select) the condition. */
export function specDeps(spec: NodeSpec): Set<string> {
  const deps = new Set<string>();
  if (spec.input) bindingDeps(spec.input, deps);
  if (spec.over) bindingDeps(spec.over, deps);
  if (spec.cond) bindingDeps(spec.cond, deps);
  for (const g of spec.guards ?? []) bindingDeps(g.binding, deps);
  return deps;
}
