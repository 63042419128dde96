/**
 * Bindings: how a task input (or a workflow output) is computed from literals and upstream outputs, as plain JSON
 * data the engine stores so any process can drive a run. The SDK's typed `Ref`s compile to these (src/sdk/refs.ts).
 */

/** A path into a JSON value: object keys and array indices. */
export type Path = readonly (string | number)[];

/** How a task input (or a workflow output) is computed from literals and upstream outputs. Pure data. */
export type Binding =
  | { readonly lit: unknown }
  | { readonly ref: string; readonly path?: Path }
  | { readonly obj: { readonly [key: string]: Binding } }
  | { readonly arr: readonly Binding[] }
  /** Placeholder for the current item inside a `map` template; replaced when the map expands. */
  | { readonly item: Path };

/** Node ids a binding reads from. */
export function bindingDeps(binding: Binding, into: Set<string> = new Set()): Set<string> {
  if ('ref' in binding) into.add(binding.ref);
  else if ('obj' in binding) for (const b of Object.values(binding.obj)) bindingDeps(b, into);
  else if ('arr' in binding) for (const b of binding.arr) bindingDeps(b, into);
  return into;
}

/** Replaces `{ item: path }` placeholders with `itemBinding` + path. */
export function substituteItem(binding: Binding, itemBinding: Binding): Binding {
  if ('item' in binding) return appendPath(itemBinding, binding.item);
  if ('obj' in binding) {
    const obj: Record<string, Binding> = {};
    for (const [k, b] of Object.entries(binding.obj)) obj[k] = substituteItem(b, itemBinding);
    return { obj };
  }
  if ('arr' in binding) return { arr: binding.arr.map((b) => substituteItem(b, itemBinding)) };
  return binding;
}

/** The binding of `binding[path...]`. */
export function appendPath(binding: Binding, path: Path): Binding {
  if (path.length === 0) return binding;
  if ('ref' in binding) return { ref: binding.ref, path: [...(binding.path ?? []), ...path] };
  if ('item' in binding) return { item: [...binding.item, ...path] };
  if ('lit' in binding) return { lit: getPath(binding.lit, path) };
  const [head, ...rest] = path;
  if ('obj' in binding) {
    const child = binding.obj[String(head)];
    return child ? appendPath(child, rest) : { lit: undefined };
  }
  const child = binding.arr[Number(head)];
  return child ? appendPath(child, rest) : { lit: undefined };
}

export function getPath(value: unknown, path: Path): unknown {
  let cur = value;
  for (const key of path) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

export function describeBinding(binding: Binding | { item: Path }): string {
  if ('ref' in binding) return [binding.ref, ...(binding.path ?? [])].join('.');
  if ('item' in binding) return ['item', ...binding.item].join('.');
  return 'value';
}
