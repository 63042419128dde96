// Human-readable explanation of why a task's code hash changed.
import type { CodeHash } from './hash.ts';

type Parts = CodeHash['parts'];

function keys(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

/** One line per difference, e.g. `imported module lib/features.ts changed`; empty when the parts are equal. */
export function diffCodeHash(prev: Parts, next: Parts): string[] {
  const out: string[] = [];
  if (prev.definition !== next.definition) out.push('definition of the task changed');
  for (const k of keys(prev.modules, next.modules)) {
    const a = prev.modules[k];
    const b = next.modules[k];
    if (a === undefined) out.push(`module ${k} is now imported`);
    else if (b === undefined) out.push(`module ${k} is no longer imported`);
    else if (a !== b) out.push(b === 'missing' ? `imported module ${k} is missing` : `imported module ${k} changed`);
  }
  for (const k of keys(prev.packages, next.packages)) {
    const a = prev.packages[k];
    const b = next.packages[k];
    if (a === undefined) out.push(`package ${k} ${b} is now imported`);
    else if (b === undefined) out.push(`package ${k} is no longer imported`);
    else if (a !== b) out.push(`package ${k} changed ${a} → ${b}`);
  }
  return out;
}
