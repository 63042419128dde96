/**
 * Process-wide registry of task definitions by name. Worker threads and processes import the module that defined a
 * task and look it up here, so task names must be unique among the modules a run loads.
 */
import type { TaskDefinition } from './task.ts';

const tasks = new Map<string, TaskDefinition>();

export function registerTask(def: TaskDefinition): void {
  const name = def.options.name;
  const existing = tasks.get(name);
  if (existing && !sameLocation(existing, def)) {
    const where = (d: TaskDefinition) => (d.location ? `${d.location.file}:${d.location.line}` : 'unknown location');
    throw new TypeError(
      `Task "${name}" is defined twice: at ${where(existing)} and at ${where(def)}. Task names must be unique; rename one of them.`,
    );
  }
  tasks.set(name, def);
}

function sameLocation(a: TaskDefinition, b: TaskDefinition): boolean {
  if (!a.location || !b.location) return false;
  return a.location.file === b.location.file && a.location.line === b.location.line;
}

export function lookupTask(name: string): TaskDefinition | undefined {
  return tasks.get(name);
}

export function registeredTasks(): TaskDefinition[] {
  return [...tasks.values()];
}
