/**
 * Parses `--param key=value` flags and checks numeric options.
 *
 * Values are JSON when they parse as JSON, else strings; `a.b=1` nests. Two forms refer to data outside the run and
 * become markers the platform resolves (composition/run-inputs.ts): `@PATH` a file or folder (stored in the artifact
 * store, so the cache follows its content) and `dataset:NAME@VERSION|latest` a dataset version. `@@TEXT` is the
 * literal string `@TEXT`; a JSON-quoted value (`'x="dataset:a@1"'`) is always a literal string.
 *
 * No key path can reach a prototype: `__proto__`, `constructor` and `prototype` are refused as keys, in the path and
 * inside JSON values, and objects are built without prototypes while parsing.
 */
import { BatonError } from '../errors.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Tree = Record<string, unknown>;

function forbidden(pair: string, key: string): BatonError {
  return new BatonError('usage', `--param "${pair}" uses the key "${key}", which is not allowed (it could reach an object prototype). Rename the parameter.`);
}

/** Refuses forbidden keys anywhere inside a JSON value. */
function checkJsonKeys(pair: string, v: unknown): void {
  if (Array.isArray(v)) for (const x of v) checkJsonKeys(pair, x);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (FORBIDDEN_KEYS.has(k)) throw forbidden(pair, k);
      checkJsonKeys(pair, x);
    }
  }
}

/** One `--param` value: a marker, an escaped literal, JSON, or a plain string. */
export function parseParamValue(pair: string, raw: string): unknown {
  if (raw.startsWith('@@')) return raw.slice(1);
  if (raw.startsWith('@')) {
    if (raw.length === 1) throw new BatonError('usage', `--param "${pair}": "@" must be followed by a file or folder path, e.g. --param data=@data/train.csv (write @@ for a literal "@").`);
    return { $file: raw.slice(1) };
  }
  if (raw.startsWith('dataset:')) {
    if (raw.length === 'dataset:'.length) throw new BatonError('usage', `--param "${pair}": "dataset:" must be followed by NAME@VERSION or NAME@latest, e.g. --param data=dataset:trips@latest.`);
    return { $dataset: raw.slice('dataset:'.length) };
  }
  try {
    const value: unknown = JSON.parse(raw);
    checkJsonKeys(pair, value);
    return value;
  } catch (err) {
    if (err instanceof BatonError) throw err;
    return raw; // a plain string
  }
}

/** Plain objects again (built with null prototypes), so callers and zod see ordinary values. */
function toPlain(v: unknown): unknown {
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toPlain(x)]));
  return v;
}

export function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const out: Tree = Object.create(null) as Tree;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new BatonError('usage', `--param "${pair}" is not KEY=VALUE. Example: --param epochs=10 --param name=ada`);
    const key = pair.slice(0, eq);
    const path = key.split('.');
    for (const k of path) {
      if (k === '') throw new BatonError('usage', `--param "${pair}" has an empty part in its key "${key}". Example: --param model.depth=6`);
      if (FORBIDDEN_KEYS.has(k)) throw forbidden(pair, k);
    }
    const value = parseParamValue(pair, pair.slice(eq + 1));
    let cur = out;
    for (const k of path.slice(0, -1)) {
      const next = Object.hasOwn(cur, k) ? cur[k] : undefined;
      if (!next || typeof next !== 'object' || Object.getPrototypeOf(next) !== null) cur[k] = Object.create(null) as Tree;
      cur = cur[k] as Tree;
    }
    cur[path[path.length - 1]!] = value;
  }
  return toPlain(out) as Record<string, unknown>;
}

export function parsePools(pairs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, Math.max(eq, 0));
    const n = eq < 0 ? '' : pair.slice(eq + 1);
    if (!name || !/^\d+$/.test(n) || !Number.isSafeInteger(Number(n)) || Number(n) < 1) throw new BatonError('usage', `--pool "${pair}" is not NAME=N with N ≥ 1. Example: --pool gpu=1`);
    if (FORBIDDEN_KEYS.has(name)) throw new BatonError('usage', `--pool "${pair}": "${name}" is not allowed as a pool name. Rename the pool.`);
    out[name] = Number(n);
  }
  return out;
}

/** A commander argument parser for a whole number ≥ `min`: `.option('--cpus <n>', '…', wholeNumber('--cpus', 1))`. */
export function wholeNumber(option: string, min: number, example = String(Math.max(min, 1) * 4)): (raw: string) => number {
  return (raw) => {
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isSafeInteger(n) || n < min) {
      throw new BatonError('usage', `${option} must be a whole number ≥ ${min}, got "${raw}". Example: ${option} ${example}`);
    }
    return n;
  };
}

/** `--cpus`, `--memory`, `-n`: a whole number ≥ 1. */
export const positiveInt = (option: string, example?: string): ((raw: string) => number) => wholeNumber(option, 1, example);
/** `--gpus`: a whole number ≥ 0. */
export const nonNegativeInt = (option: string, example?: string): ((raw: string) => number) => wholeNumber(option, 0, example ?? '1');
