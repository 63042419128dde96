/**
 * Typed search spaces for hyperparameter tuning: `float`, `int`, `categorical` and `conditional` parameters,
 * combined by `space({...})`, with `ParamsOf<typeof s>` inferring the type of one sampled set of parameters.
 *
 *   const s = space({
 *     lr: float(1e-4, 1e-1, { log: true }),
 *     model: conditional('kind', { rf: { depth: int(2, 12) }, logreg: { c: float(1e-3, 10, { log: true }) } }),
 *   });
 *   type P = ParamsOf<typeof s>; // { lr: number; model: { kind: 'rf'; depth: number } | { kind: 'logreg'; c: number } }
 *
 * Samplers see the space as flat leaves named by path: `lr`, `model.kind` (the branch choice), `model.rf.depth`,
 * `model.logreg.c`. Only the leaves of the chosen branch are active (sampled, present in the params).
 */

import type { Choice, FloatParam, IntParam, CategoricalParam, ConditionalParam, Param, Shape, Branches, Distribution } from '../spec/study.ts';

export type { Choice, FloatParam, IntParam, CategoricalParam, ConditionalParam, Param, Shape, Branches, Distribution };

export interface Leaf {
  /** Dotted path, e.g. `lr`, `model.kind`, `model.rf.depth`. */
  readonly path: string;
  readonly dist: Distribution;
}

/** A validated search space. Build it with `space({...})`. */
export interface Space<S extends Shape = Shape> {
  readonly shape: S;
  /** Every leaf, active or not, in declaration order (a conditional's choice comes before its branches' leaves). */
  readonly leaves: readonly Leaf[];
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type ValueOf<P> = P extends FloatParam | IntParam
  ? number
  : P extends CategoricalParam<infer C>
    ? C
    : P extends ConditionalParam<infer K, infer B>
      ? { [N in keyof B & string]: Simplify<{ [_ in K]: N } & ShapeParams<B[N]>> }[keyof B & string]
      : never;

type ShapeParams<S> = { [K in keyof S]: ValueOf<S[K]> };

/** The type of one set of sampled parameters, for a `Space` (or a bare shape). */
export type ParamsOf<T> = T extends Space<infer S> ? ShapeParams<S> : T extends Shape ? ShapeParams<T> : never;

/** A float in [lo, hi]; `log` samples on a log scale (lo > 0); `step` restricts to lo + k·step. */
export function float(lo: number, hi: number, options: { log?: boolean; step?: number } = {}): FloatParam {
  return { type: 'float', lo, hi, log: options.log ?? false, step: options.step };
}

/** An integer in [lo, hi] (both included); `log` samples on a log scale (lo ≥ 1); `step` restricts to lo + k·step. */
export function int(lo: number, hi: number, options: { log?: boolean; step?: number } = {}): IntParam {
  return { type: 'int', lo, hi, log: options.log ?? false, step: options.step ?? 1 };
}

/** One of the given choices (strings, numbers, booleans or null); the literal types are kept. */
export function categorical<const C extends readonly Choice[]>(choices: C): CategoricalParam<C[number]> {
  return { type: 'categorical', choices };
}

/**
 * One of several branches, each with its own parameters, e.g.
 * `conditional('kind', { rf: { depth: int(2, 12) }, logreg: { c: float(1e-3, 10, { log: true }) } })`
 * samples `{ kind: 'rf', depth: 7 }` or `{ kind: 'logreg', c: 0.3 }`.
 */
export function conditional<const K extends string, const B extends Branches>(key: K, branches: B): ConditionalParam<K, B> {
  return { type: 'conditional', key, branches };
}

/** A search space is invalid; `param` is the path of the offending parameter. */
export class SpaceError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(`Parameter "${param}": ${message}`);
    this.name = 'SpaceError';
  }
}

/** Validates the shape (errors name the parameter and the fix) and returns the space samplers take. */
export function space<const S extends Shape>(shape: S): Space<S> {
  const leaves: Leaf[] = [];
  collect(shape, '', leaves);
  if (leaves.length === 0) throw new SpaceError('(space)', 'the space has no parameters; add at least one, e.g. space({ lr: float(1e-4, 1e-1, { log: true }) }).');
  return { shape, leaves };
}

function checkName(name: string, where: string, what: string): void {
  if (name === '' || name.includes('.')) throw new SpaceError(where || '(space)', `${what} "${name}" must be non-empty and contain no "." (dots separate path parts); rename it, e.g. "${name.replaceAll('.', '_') || 'x'}".`);
}

function collect(shape: Shape, prefix: string, out: Leaf[]): void {
  if (typeof shape !== 'object' || shape === null) throw new SpaceError(prefix || '(space)', 'expected an object of parameters, e.g. { depth: int(2, 12) }.');
  for (const [name, param] of Object.entries(shape)) {
    const path = prefix ? `${prefix}.${name}` : name;
    checkName(name, path, 'the name');
    if (typeof param !== 'object' || param === null || !('type' in param)) {
      throw new SpaceError(path, 'is not a parameter; build it with float(), int(), categorical() or conditional().');
    }
    switch (param.type) {
      case 'float':
      case 'int':
        checkNumeric(path, param);
        out.push({ path, dist: param });
        break;
      case 'categorical':
        checkChoices(path, param.choices);
        out.push({ path, dist: param });
        break;
      case 'conditional': {
        checkName(param.key, path, 'the branch key');
        const names = Object.keys(param.branches ?? {});
        if (names.length === 0) throw new SpaceError(path, 'conditional() needs at least one branch, e.g. conditional("kind", { rf: { depth: int(2, 12) } }).');
        for (const b of names) checkName(b, `${path}.${b}`, 'the branch name');
        out.push({ path: `${path}.${param.key}`, dist: { type: 'categorical', choices: names } });
        for (const b of names) {
          const branch = param.branches[b]!;
          if (typeof branch === 'object' && branch !== null && param.key in branch) {
            throw new SpaceError(`${path}.${b}.${param.key}`, `clashes with the branch key "${param.key}" of the sampled object; rename the parameter or the key.`);
          }
          collect(branch, `${path}.${b}`, out);
        }
        break;
      }
      default:
        throw new SpaceError(path, `has unknown type "${String((param as { type: unknown }).type)}"; use float(), int(), categorical() or conditional().`);
    }
  }
}

function checkNumeric(path: string, p: FloatParam | IntParam): void {
  const f = `${p.type}(${p.lo}, ${p.hi}${p.log ? ', { log: true }' : ''})`;
  if (!Number.isFinite(p.lo) || !Number.isFinite(p.hi)) throw new SpaceError(path, `${f} needs finite bounds.`);
  if (!(p.lo < p.hi)) throw new SpaceError(path, `${f} needs lo < hi; swap the bounds, or leave a fixed value out of the space.`);
  if (p.type === 'int' && (!Number.isInteger(p.lo) || !Number.isInteger(p.hi))) {
    throw new SpaceError(path, `${f} needs integer bounds; use int(${Math.ceil(p.lo)}, ${Math.floor(p.hi)}) or float().`);
  }
  if (p.log) {
    if (p.type === 'float' && p.lo <= 0) throw new SpaceError(path, `${f} needs lo > 0 on a log scale; use a small positive lower bound such as 1e-8.`);
    if (p.type === 'int' && p.lo < 1) throw new SpaceError(path, `${f} needs lo ≥ 1 on a log scale; use int(1, ${p.hi}, { log: true }).`);
    if (p.step !== undefined && !(p.type === 'int' && p.step === 1)) throw new SpaceError(path, `${f} cannot combine log with step; drop one of them.`);
  }
  if (p.step !== undefined) {
    if (!(p.step > 0) || !Number.isFinite(p.step)) throw new SpaceError(path, `step ${p.step} must be a positive number.`);
    if (p.type === 'int' && !Number.isInteger(p.step)) throw new SpaceError(path, `step ${p.step} of an int must be an integer; use float() for fractional steps.`);
    const k = (p.hi - p.lo) / p.step;
    if (Math.abs(k - Math.round(k)) > 1e-8 * Math.max(1, k)) {
      const hi = Number((p.lo + Math.floor(k + 1e-8) * p.step).toPrecision(12));
      throw new SpaceError(path, `hi - lo must be a multiple of step ${p.step}; use hi = ${hi}.`);
    }
  }
}

function checkChoices(path: string, choices: readonly Choice[]): void {
  if (!Array.isArray(choices) || choices.length === 0) throw new SpaceError(path, 'categorical() needs a non-empty array of choices, e.g. categorical(["adam", "sgd"]).');
  const seen = new Set<Choice>();
  for (const c of choices) {
    if (c !== null && !['string', 'number', 'boolean'].includes(typeof c)) {
      throw new SpaceError(path, `choice ${JSON.stringify(c)} is not a string, number, boolean or null; list keys and look the objects up in the objective.`);
    }
    if (seen.has(c)) throw new SpaceError(path, `choice ${JSON.stringify(c)} is listed twice; remove the duplicate.`);
    seen.add(c);
  }
}

/**
 * Flat internal values: a number for float/int leaves, the choice index for categorical leaves (and for a
 * conditional's branch choice). Only active leaves are present.
 */
export type FlatParams = Map<string, number>;

/** Builds one set of params by asking `pick` for each active leaf in order (the branch choice before its leaves). */
export function buildParams(s: Space, pick: (leaf: Leaf) => number): { params: Record<string, unknown>; flat: FlatParams } {
  const flat: FlatParams = new Map();
  const byPath = leafIndex(s);
  const walk = (shape: Shape, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [name, param] of Object.entries(shape)) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (param.type === 'conditional') {
        const leaf = byPath.get(`${path}.${param.key}`)!;
        const i = pick(leaf);
        flat.set(leaf.path, i);
        const branch = Object.keys(param.branches)[i]!;
        out[name] = { [param.key]: branch, ...walk(param.branches[branch]!, `${path}.${branch}`) };
      } else {
        const leaf = byPath.get(path)!;
        const v = pick(leaf);
        flat.set(path, v);
        out[name] = param.type === 'categorical' ? param.choices[v] : v;
      }
    }
    return out;
  };
  return { params: walk(s.shape, ''), flat };
}

/**
 * The flat internal values of a params object (e.g. from a stored trial). A value that does not fit its leaf
 * (wrong type, out of range, unknown choice or branch) is left out, with everything under an unknown branch.
 */
export function flattenParams(s: Space, params: unknown): FlatParams {
  const flat: FlatParams = new Map();
  flattenInto(flat, compiled(s.shape, ''), params);
  return flat;
}

/** A shape's entries with their paths, computed once per shape object (flattening runs for every trial). */
interface Entry {
  name: string;
  path: string;
  param: Param;
  /** For conditionals: the branch names, and each branch's entries. */
  branchNames?: string[];
  branches?: Map<string, Entry[]>;
}
const compiledShapes = new WeakMap<Shape, Map<string, Entry[]>>();
function compiled(shape: Shape, prefix: string): Entry[] {
  let byPrefix = compiledShapes.get(shape);
  if (!byPrefix) compiledShapes.set(shape, (byPrefix = new Map()));
  let entries = byPrefix.get(prefix);
  if (!entries) {
    entries = Object.entries(shape).map(([name, param]) => {
      const path = prefix ? `${prefix}.${name}` : name;
      if (param.type !== 'conditional') return { name, path, param };
      const branchNames = Object.keys(param.branches);
      return { name, path, param, branchNames, branches: new Map(branchNames.map((b) => [b, compiled(param.branches[b]!, `${path}.${b}`)])) };
    });
    byPrefix.set(prefix, entries);
  }
  return entries;
}

function flattenInto(flat: FlatParams, entries: Entry[], obj: unknown): void {
  if (typeof obj !== 'object' || obj === null) return;
  const rec = obj as Record<string, unknown>;
  for (const e of entries) {
    const v = rec[e.name];
    const param = e.param;
    if (param.type === 'conditional') {
      if (typeof v !== 'object' || v === null) continue;
      const branch = (v as Record<string, unknown>)[param.key];
      const sub = typeof branch === 'string' && Object.hasOwn(param.branches, branch) ? e.branches!.get(branch) : undefined;
      if (!sub) continue;
      flat.set(`${e.path}.${param.key}`, e.branchNames!.indexOf(branch as string));
      flattenInto(flat, sub, v);
    } else if (param.type === 'categorical') {
      const i = param.choices.indexOf(v as Choice);
      if (i >= 0) flat.set(e.path, i);
    } else if (typeof v === 'number' && v >= param.lo && v <= param.hi && (param.type === 'float' || Number.isInteger(v))) {
      flat.set(e.path, v);
    }
  }
}

const indexCache = new WeakMap<Space, Map<string, Leaf>>();
function leafIndex(s: Space): Map<string, Leaf> {
  let m = indexCache.get(s);
  if (!m) {
    m = new Map(s.leaves.map((l) => [l.path, l]));
    indexCache.set(s, m);
  }
  return m;
}
