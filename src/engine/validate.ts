/**
 * Checks a built graph before a run starts: every binding reads from a node that exists, there is no cycle, and
 * every task's resource request can be met by this engine. Errors name the node and the fix.
 */
import { BatonError } from '../errors.ts';
import { specDeps } from '../spec/graph.ts';
import type { TaskDefinition } from '../sdk/task.ts';
import type { NodeSpec } from '../spec/graph.ts';
import { demandOf, unmeetable } from './evaluate.ts';
import type { Capacity } from './machine.ts';

export function validateGraph(workflow: string, nodes: readonly NodeSpec[], tasks: Map<string, TaskDefinition>, capacity: Capacity, pools: Record<string, number>): void {
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodes) {
    for (const d of specDeps(n)) {
      if (!ids.has(d)) {
        throw new BatonError('workflow_invalid', `Node "${n.id}" in workflow "${workflow}" reads from "${d}", but the workflow has no node "${d}". Pass the output of a task that the workflow calls, or a literal value.`);
      }
    }
  }
  const cycle = findCycle(nodes);
  if (cycle) {
    throw new BatonError('workflow_invalid', `Workflow "${workflow}" has a cycle: ${cycle.join(' → ')}. A task cannot depend on its own output; remove one of these edges.`);
  }
  for (const n of nodes) {
    if (n.kind !== 'task' && n.kind !== 'map' && n.kind !== 'tune') continue;
    const def = tasks.get(n.task!);
    if (!def) throw new BatonError('workflow_invalid', `Node "${n.id}" uses task "${n.task}", which is not defined.`);
    const bad = unmeetable(n.id, demandOf(def, n), capacity, pools);
    if (bad) throw new BatonError('workflow_invalid', bad);
  }
}

/** A cycle as a list of node ids (first repeated at the end), or undefined. Iterative DFS. */
export function findCycle(nodes: readonly NodeSpec[]): string[] | undefined {
  const deps = new Map(nodes.map((n) => [n.id, [...specDeps(n)]]));
  const state = new Map<string, 1 | 2>();
  for (const start of deps.keys()) {
    if (state.has(start)) continue;
    const stack: { id: string; i: number }[] = [{ id: start, i: 0 }];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const ds = deps.get(top.id) ?? [];
      if (top.i >= ds.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const next = ds[top.i++]!;
      const s = state.get(next);
      if (s === 1) {
        const from = stack.findIndex((f) => f.id === next);
        return [...stack.slice(from).map((f) => f.id), next].reverse();
      }
      if (s === undefined && deps.has(next)) {
        state.set(next, 1);
        stack.push({ id: next, i: 0 });
      }
    }
  }
  return undefined;
}
