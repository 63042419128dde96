/**
 * Unknown parameters: a zod object schema silently drops keys it does not know, so `--param N=5` for a parameter
 * `n`, or a typo, would run with the default. Before parsing, every key of the raw parameters (nested objects too)
 * must be one the schema declares, unless the schema accepts extra keys (`z.looseObject`, `.catchall()`).
 */
import type { z } from 'zod';
import { BatonError } from '../errors.ts';

interface Def {
  type: string;
  shape?: Record<string, unknown>;
  catchall?: unknown;
  innerType?: unknown;
}

const defOf = (schema: unknown): Def | undefined => (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/**
 * The object schema beneath wrappers (optional, default, nullable, readonly), if any. Not beneath a pipe: a
 * transformed object's output may have other keys, and `resume` builds again from the stored (parsed) parameters.
 */
function objectDef(schema: unknown): Def | undefined {
  for (let s = schema, i = 0; s && i < 16; i++) {
    const def = defOf(s);
    if (!def) return undefined;
    if (def.type === 'object') return def;
    s = def.innerType;
  }
  return undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `name` (case differences count least), if it is close enough to be a likely typo. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : distance(name.toLowerCase(), k.toLowerCase());
    if (!best || d < best.d) best = { k, d };
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? best.k : undefined;
}

/** Throws params_invalid naming the first unknown parameter, the known ones and the closest match. */
export function checkParamKeys(workflow: string, schema: z.ZodType, raw: unknown, prefix = ''): void {
  const def = objectDef(schema);
  if (!def?.shape || def.catchall !== undefined || !raw || typeof raw !== 'object' || Array.isArray(raw)) return;
  const known = Object.keys(def.shape);
  for (const [key, value] of Object.entries(raw)) {
    if (Object.hasOwn(def.shape, key)) {
      checkParamKeys(workflow, def.shape[key] as z.ZodType, value, `${prefix}${key}.`);
      continue;
    }
    const guess = closest(key, known);
    const list = known.length ? known.map((k) => `${prefix}${k}`).join(', ') : '(none)';
    throw new BatonError(
      'params_invalid',
      `Workflow "${workflow}" has no parameter "${prefix}${key}".${guess ? ` Did you mean "${prefix}${guess}"?` : ''} Its parameters: ${list}.`,
    );
  }
}
