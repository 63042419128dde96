/**
 * Cache keys. A key covers the task's identity, its code (automatic hash of its definition and what it imports,
 * or the explicit `version`), the hash of its input (and of each input field, so a miss can be explained), the
 * declared environment variables, and for command tasks the content of files named on the command line.
 * `explainMiss` compares two keys' parts and says in words which part changed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, dirname } from 'node:path';
import { computeCodeHash, diffCodeHash, type CodeHash } from '../codehash/index.ts';
import type { StoredValue } from '../ports/metadata.ts';
import type { PathParts } from './path-inputs.ts';
import type { TaskDefinition } from '../sdk/task.ts';
import { canonicalJson, sha256 } from '../values/codec.ts';

export interface KeyParts {
  task: string;
  /** The explicit version, or the code hash (its parts are stored once per hash: MetadataStore.putCode). */
  code: { version: string } | { hash: string };
  input: string;
  fields?: Record<string, string>;
  env?: Record<string, string>;
  files?: Record<string, string>;
  /** For a trial: how its outcome is computed (metric, direction, pruner), which a cached outcome must share. */
  trial?: string;
  /** Local files and folders named by string inputs → content fingerprint (engine/path-inputs.ts). */
  paths?: Record<string, string>;
  /** Paths not fingerprinted (the task opted out) and paths that could not be, with why: not part of the key. */
  unchecked?: string[];
  skipped?: Record<string, string>;
}

const codeHashes = new Map<string, CodeHash>();

/** The code hash of a task, computed once per process. */
export function taskCodeHash(def: TaskDefinition): CodeHash {
  const name = def.options.name;
  let h = codeHashes.get(name);
  if (!h) {
    const fallback = def.fn?.toString() ?? def.command?.toString() ?? name;
    h = def.location
      ? computeCodeHash(def.location, { name, fallbackSource: fallback })
      : { hash: sha256(fallback), parts: { definition: sha256(fallback), modules: {}, packages: {} }, files: [] };
    codeHashes.set(name, h);
  }
  return h;
}

/** Forget memoised code hashes (tests that edit files between runs in one process). */
export function clearCodeHashes(): void {
  codeHashes.clear();
}

function commandFiles(def: TaskDefinition, input: unknown): Record<string, string> | undefined {
  if (def.kind !== 'command' || !def.command) return undefined;
  let argv: string[];
  try {
    argv = def.command(input);
  } catch {
    return undefined;
  }
  const cwd = def.commandOptions?.cwd ?? (def.location ? dirname(def.location.file) : process.cwd());
  const files: Record<string, string> = { argv: sha256(canonicalJson(argv)) };
  for (const arg of argv.slice(1)) {
    const p = isAbsolute(arg) ? arg : join(cwd, arg);
    if (arg.length < 512 && existsSync(p) && statSync(p).isFile() && statSync(p).size < 16 * 1024 * 1024) files[arg] = sha256(readFileSync(p));
  }
  return files;
}

export function cacheKey(def: TaskDefinition, input: StoredValue, value: unknown, env: Record<string, string>, trial?: string, pathParts: PathParts = {}): { key: string; parts: KeyParts } {
  const code: KeyParts['code'] = def.options.version !== undefined ? { version: def.options.version } : (() => {
    const h = taskCodeHash(def);
    return { hash: h.hash };
  })();
  const parts: KeyParts = { task: def.options.name, code, input: input.hash };
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) fields[k] = sha256(canonicalJson(v)).slice(0, 16);
    parts.fields = fields;
  }
  if (Object.keys(env).length) parts.env = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, sha256(v).slice(0, 16)]));
  const files = commandFiles(def, value);
  if (files) parts.files = files;
  if (trial !== undefined) parts.trial = sha256(trial).slice(0, 16);
  Object.assign(parts, pathParts);
  // `paths` enters the key only when present, so keys of tasks without path inputs are unchanged.
  const key = sha256(canonicalJson({ task: parts.task, code: 'version' in code ? { version: code.version } : code.hash, input: parts.input, env: parts.env ?? {}, files: parts.files ?? {}, ...(parts.trial ? { trial: parts.trial } : {}), ...(parts.paths ? { paths: parts.paths } : {}) }));
  return { key, parts };
}

/** Human lines saying why `next` differs from `prev` (empty when the keys match). `codeParts` looks up a code hash's parts. */
export function explainMiss(prev: KeyParts, next: KeyParts, codeParts: (hash: string) => CodeHash['parts'] | undefined = () => undefined): string[] {
  const out: string[] = [];
  if (prev.task !== next.task) out.push(`task changed: ${prev.task} → ${next.task}`);
  if ('version' in prev.code || 'version' in next.code) {
    const a = 'version' in prev.code ? `version ${prev.code.version}` : 'automatic code hash';
    const b = 'version' in next.code ? `version ${next.code.version}` : 'automatic code hash';
    if (a !== b) out.push(`code: ${a} → ${b}`);
  } else if (prev.code.hash !== next.code.hash) {
    const a = codeParts(prev.code.hash);
    const b = codeParts(next.code.hash);
    const lines = a && b ? diffCodeHash(a, b) : [];
    out.push(...(lines.length ? lines.map((l) => `code: ${l}`) : ['code: changed']));
  }
  if (prev.input !== next.input) {
    const changed: string[] = [];
    const pf = prev.fields ?? {};
    const nf = next.fields ?? {};
    for (const k of new Set([...Object.keys(pf), ...Object.keys(nf)])) {
      if (!(k in pf)) changed.push(`input "${k}" was added`);
      else if (!(k in nf)) changed.push(`input "${k}" was removed`);
      else if (pf[k] !== nf[k]) changed.push(`input "${k}" changed`);
    }
    out.push(...(changed.length ? changed : ['input value changed']));
  }
  const envKeys = new Set([...Object.keys(prev.env ?? {}), ...Object.keys(next.env ?? {})]);
  for (const k of envKeys) if ((prev.env ?? {})[k] !== (next.env ?? {})[k]) out.push(`environment variable ${k} changed`);
  const fileKeys = new Set([...Object.keys(prev.files ?? {}), ...Object.keys(next.files ?? {})]);
  for (const k of fileKeys) {
    if ((prev.files ?? {})[k] !== (next.files ?? {})[k]) out.push(k === 'argv' ? 'command line changed' : `file ${k} changed`);
  }
  const pp = prev.paths ?? {};
  const np = next.paths ?? {};
  for (const k of new Set([...Object.keys(pp), ...Object.keys(np)])) {
    if (!(k in pp)) out.push(`path "${k}" is new: it did not exist (or was not an input) before`);
    else if (!(k in np)) out.push(`path "${k}" no longer exists (or is no longer an input)`);
    else if (pp[k] !== np[k]) out.push(`path "${k}" changed: its content differs`);
  }
  if (prev.trial !== next.trial) out.push(prev.trial && next.trial ? "the study's metric, direction or pruner changed" : prev.trial ? 'it ran as a plain task, not as a trial' : 'it ran as a trial of a study');
  return out;
}

/** For a cache hit: what its key could not see (paths of a task that opted out, folders too large), or ''. */
export function hitCaveats(parts: KeyParts | undefined): string {
  const lines = [
    ...(parts?.unchecked?.length ? [`  warning: the task sets fingerprintPaths: false, so changes to ${parts.unchecked.map((p) => `"${p}"`).join(', ')} were not checked.`] : []),
    ...Object.entries(parts?.skipped ?? {}).map(([p, why]) => `  warning: changes to "${p}" are not seen by the cache (${why}).`),
    ...Object.keys(parts?.paths ?? {}).map((p) => `  path "${p}" was checked: its content matched.`),
  ];
  return lines.length ? `\n${lines.join('\n')}` : '';
}
