/**
 * Path inputs: a task input that is a string naming a local file or folder (`z.string()` holding 'data/train.csv')
 * reads content the input hash cannot see. The engine collects the input's strings (pure) and asks the
 * PathFingerprints port which name existing files or folders; their fingerprints become the cache key's `paths`
 * part, so a changed file misses the cache. A task with `fingerprintPaths: false` is not fingerprinted: its paths are
 * only named (`unchecked`), and every cache hit warns about them.
 */
import type { FingerprintPaths } from '../ports/path-fingerprints.ts';
import type { TaskDefinition } from '../sdk/task.ts';

/** Strings of one input that are looked up as paths; more are not checked (and a warning says so). */
export const MAX_PATH_CANDIDATES = 1000;

export interface PathParts {
  /** Path (as written in the input) → content fingerprint; part of the cache key. */
  paths?: Record<string, string>;
  /** Paths a task that opted out (`fingerprintPaths: false`) was given: named in a warning on every cache hit. */
  unchecked?: string[];
  /** Paths whose changes are not seen, with why (a folder too large to walk, too many strings). */
  skipped?: Record<string, string>;
}

/** The strings in a decoded input that could be paths: not inside artifact handles (they are content-addressed). */
export function pathCandidates(value: unknown, max = MAX_PATH_CANDIDATES): { candidates: string[]; truncated: boolean } {
  const out = new Set<string>();
  let truncated = false;
  const visit = (v: unknown, depth: number): void => {
    if (truncated || depth > 64) return;
    if (typeof v === 'string') {
      if (v.length === 0 || v.length > 4096 || /[\0\n]/.test(v) || v.includes('://')) return;
      if (out.size >= max) truncated = true;
      else out.add(v);
    } else if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
    } else if (v && typeof v === 'object' && !(v instanceof Uint8Array) && !('$artifact' in v)) {
      for (const x of Object.values(v)) visit(x, depth + 1);
    }
  };
  visit(value, 0);
  return { candidates: [...out], truncated };
}

/** The path parts of a task's cache key for one input; `{}` when no port is given or no string names a path. */
export async function inputPaths(def: TaskDefinition, value: unknown, fingerprint: FingerprintPaths | undefined): Promise<PathParts> {
  if (!fingerprint) return {};
  const { candidates, truncated } = pathCandidates(value);
  if (candidates.length === 0) return {};
  const optOut = def.options.fingerprintPaths === false;
  const scan = await fingerprint(candidates, { content: !optOut });
  const found = Object.keys(scan.paths).sort();
  const skipped: Record<string, string> = { ...scan.skipped };
  if (truncated) skipped['(more strings)'] = `only the first ${MAX_PATH_CANDIDATES} strings of the input were checked for paths`;
  return {
    ...(found.length && !optOut ? { paths: Object.fromEntries(found.map((p) => [p, scan.paths[p]!])) } : {}),
    ...(found.length && optOut ? { unchecked: found } : {}),
    ...(Object.keys(skipped).length ? { skipped } : {}),
  };
}

/** Warnings for a task's lookup: on a hit, the unchecked paths; always, the paths that could not be fingerprinted. */
export function pathWarnings(nodeId: string, parts: PathParts | undefined, hit: boolean): string[] {
  const out: string[] = [];
  if (hit && parts?.unchecked?.length) {
    out.push(`"${nodeId}" was answered from the cache without checking ${parts.unchecked.map((p) => `"${p}"`).join(', ')} (the task sets fingerprintPaths: false): if that content changed, the result is stale. Re-run with a new --param value or remove the opt-out.`);
  }
  for (const [p, why] of Object.entries(parts?.skipped ?? {})) {
    out.push(`"${nodeId}": changes to "${p}" are not seen by the cache (${why}). Pass it as a handle (--param NAME=@PATH) or set cache: false.`);
  }
  return out;
}
