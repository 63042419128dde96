/**
 * Typed references to values that exist only at run time (a task's output, a field of it, an item of a list), and
 * the plain-data `Binding` they compile to. Workflow builders wire `Ref`s into task inputs; the compiler checks the
 * types, and the engine stores the bindings as JSON so a run can be resumed by another process.
 */
import { appendPath, bindingDeps, describeBinding, getPath, substituteItem, type Binding, type Path } from '../spec/binding.ts';

export { appendPath, bindingDeps, describeBinding, getPath, substituteItem };
export type { Binding, Path };

declare const refType: unique symbol;

type PlainObject = Record<string, unknown>;

/**
 * A value of type T that a task will produce at run time. Fields of object outputs are refs too:
 * `load.rows` is a `Ref<number>` when `load` is a `Ref<{ rows: number }>`.
 */
export type Ref<T> = { readonly [refType]: T } & (T extends readonly unknown[]
  ? unknown
  : T extends PlainObject
    ? { readonly [K in keyof T]-?: Ref<T[K]> }
    : unknown);

/** What may be passed where a T is expected when wiring a workflow: a literal, a ref, or an object mixing both. */
export type Wire<T> =
  | T
  | Ref<T>
  | (T extends readonly (infer E)[]
      ? readonly Wire<E>[]
      : T extends PlainObject
        ? { [K in keyof T]: Wire<T[K]> }
        : never);

const BINDING = Symbol.for('baton.binding');

/** Creates a ref whose property accesses produce refs to sub-paths. */
export function makeRef<T>(binding: { ref: string; path?: Path } | { item: Path }): Ref<T> {
  const target = Object.create(null) as Record<PropertyKey, unknown>;
  target[BINDING] = binding;
  return new Proxy(target, {
    get(t, prop) {
      if (prop === BINDING) return t[BINDING];
      if (typeof prop === 'symbol') return undefined;
      if (prop === 'then') return undefined; // never look like a promise
      if (prop === 'toJSON' || prop === 'toString' || prop === 'valueOf') {
        return () => {
          throw new TypeError(
            `A Ref (${describeBinding(binding)}) was used as a value while building a workflow. Refs exist only at run time: pass them to a task, or compute with the value inside a task.`,
          );
        };
      }
      const base = binding as { ref?: string; path?: Path; item?: Path };
      if ('item' in binding) return makeRef({ item: [...binding.item, prop] });
      return makeRef({ ref: base.ref as string, path: [...(base.path ?? []), prop] });
    },
  }) as unknown as Ref<T>;
}

export function isRef(value: unknown): boolean {
  return typeof value === 'object' && value !== null && BINDING in value;
}

export function refBinding(value: unknown): Binding {
  return (value as Record<PropertyKey, Binding>)[BINDING] as Binding;
}

/** Turns a wired value (literals, refs, objects mixing both) into a Binding. */
export function toBinding(value: unknown): Binding {
  if (isRef(value)) return refBinding(value);
  if (Array.isArray(value)) {
    if (value.some((v) => containsRef(v))) return { arr: value.map(toBinding) };
    return { lit: value };
  }
  if (typeof value === 'object' && value !== null && isPlain(value)) {
    if (!containsRef(value)) return { lit: value };
    const obj: Record<string, Binding> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) obj[k] = toBinding(v);
    return { obj };
  }
  return { lit: value };
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function containsRef(value: unknown): boolean {
  if (isRef(value)) return true;
  if (Array.isArray(value)) return value.some(containsRef);
  if (typeof value === 'object' && value !== null && isPlain(value)) return Object.values(value).some(containsRef);
  return false;
}






/**
 * A reference to a node by id, for wiring in any order (the node may be declared later with `task.with({ id })`).
 * The engine checks at start that the node exists and that the graph has no cycle.
 */
export function ref<T>(nodeId: string): Ref<T> {
  return makeRef<T>({ ref: nodeId });
}
