/**
 * Seeded test material for the run search: runs with awkward values (numeric-looking text that is not a number,
 * GLOB and LIKE special characters, non-ASCII letters in two cases, missing keys) and random filters and order-bys
 * over them. The search tests run the compiled SQL on each dialect against the reference evaluator with these; a
 * seed reproduces a failure.
 */
import { Rng } from '../../tuning/random.ts';
import type { RunRecord } from './evaluate.ts';

/** A seeded generator uniform in [0, 1) (the tuning samplers' Rng). */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

export const T0 = Date.UTC(2024, 0, 1);

/** Statuses as tracking runs have them. */
export const STATUSES = ['succeeded', 'failed', 'running', 'cancelled'] as const;

const DEPTHS = ['1', '2', '3', '4', '5', '6', '7', '8', '10', '12', '6.0', '1e1', 'six', ' 6', '06', '+6', '-3', '0.5', '6.', '.5', '1E+1', '-0', '1e400', '-1e400', '1e-400'];
const TEAMS = ['ml', 'ML', 'data', 'a%b', 'x_y', 'xzy', 'Ünï', 'ünï', 'ÜNÏ', "it's", 'back\\slash', '7', '7.5'];

/**
 * `n` runs. Plain (`rich` false): simple values, for timing. Rich: every kind of awkward value the filter language
 * must treat the same way on both dialects.
 */
export function generateRuns(n: number, seed: number, rich: boolean): RunRecord[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const runs: RunRecord[] = [];
  for (let i = 0; i < n; i++) {
    const status = pick(['succeeded', 'succeeded', 'failed', 'running'] as const);
    const startTime = T0 + Math.floor(r() * 30 * 86_400_000);
    const run: RunRecord = {
      id: `${Math.floor(r() * 0xffffff).toString(16).padStart(6, '0')}-${i}`,
      experiment: pick(['exp-a', 'exp-b', 'exp-c']),
      name: r() < 0.1 ? null : rich ? pick([`trial-${i}`, `Trial_${i}`, '50%off', 'a*b', 'a?b', 'x[1]', 'ab', 'Ábc', 'ábc']) : `trial-${i}`,
      status,
      startTime,
      endTime: status === 'running' ? null : startTime + Math.floor(r() * 10_000),
      params: {},
      metrics: {},
      tags: {},
    };
    // Metrics rounded to 2 decimals so order-by meets ties.
    if (r() < 0.9) run.metrics['auc'] = Math.round(r() * 100) / 100;
    if (r() < 0.8) run.metrics['loss'] = Math.round(r() * 1000) / 100;
    if (rich && r() < 0.5) run.metrics['val.auc'] = Math.round(r() * 100) / 100;
    if (r() < 0.95) run.params['model'] = rich ? pick(['rf', 'xgb', 'lr', 'RF', 'Rf']) : pick(['rf', 'xgb', 'lr']);
    if (r() < 0.9) run.params['depth'] = rich ? pick(DEPTHS) : String(1 + Math.floor(r() * 12));
    if (rich && r() < 0.7) run.params['lr'] = pick(['1e-05', '0.001', '0.01', '1e-3']);
    if (rich && r() < 0.6) run.params['flag'] = pick(['true', 'True', 'false', 'FALSE', 'yes']);
    if (r() < 0.7) run.tags['team'] = rich ? pick(TEAMS) : pick(['ml', 'data']);
    if (r() < 0.5) run.tags['env'] = pick(['prod', 'dev']);
    runs.push(run);
  }
  return runs;
}

/** Hand-picked filters over generateRuns(…, rich = true): each selects a strict, non-empty subset. */
export const FILTERS = [
  "metrics.auc > 0.8 and (params.model = 'rf' or params.depth >= 6)",
  'metrics.auc != 0.5',
  'not metrics.auc = 0.5',
  'metrics.auc is null',
  'metrics.auc is not null and not metrics.auc >= 0.2',
  'metrics.`val.auc` >= 0.3 or metrics.loss < 1',
  'metrics.auc in (0.1, 0.2, 0.3) or metrics.loss not in (1, 2)',
  'params.depth >= 6',
  'params.depth = 6',
  'params.depth != 6',
  'not params.depth = 6',
  'params.depth in (1, 2, 3) or params.depth not in (6, 10)',
  "params.depth = '6'",
  "params.depth != '06'",
  'params.depth < 0 or params.depth = 0.5',
  'params.depth > 1e300 or params.depth < -1e300 or params.depth = 0',
  'params.lr <= 0.001',
  "params.model in ('rf', 'xgb')",
  "params.model not in ('rf')",
  "params.model like 'r%'",
  "params.model ilike 'r%'",
  "params.model not like 'R_'",
  'params.flag = true',
  'params.flag != false',
  "tags.team like 'a\\%b'",
  "tags.team like 'x_y'",
  "tags.team ilike 'ML'",
  "tags.team ilike 'ünï'",
  "tags.team = 'xzy' or tags.team = 'Ünï'",
  "tags.team = 'it''s' or tags.team like 'back\\\\\\\\%'",
  'tags.team >= 7',
  "tags.team is not null and not tags.env = 'prod'",
  "attributes.status = 'failed' or attributes.end_time is null",
  'attributes.duration > 5000',
  'attributes.duration > 5000.5 and attributes.duration <= 8000.25',
  'not attributes.duration < 1000',
  "attributes.name like 'trial-1%'",
  "attributes.name like 'a*b' or attributes.name like 'a?b' or attributes.name like 'x[1]'",
  "attributes.name ilike 'TRIAL%'",
  "attributes.name ilike 'ábc'",
  'attributes.name is null',
  "attributes.experiment != 'exp-a'",
  `attributes.start_time < ${T0 + 10 * 86_400_000}`,
  `attributes.start_time < ${T0 + 10 * 86_400_000 + 0.5}`,
  "attributes.start_time >= '2024-01-20'",
  "not (metrics.auc > 0.5 or params.model = 'rf') and (tags.env = 'dev' or attributes.status != 'running')",
  "not (not tags.env is null and (params.model ilike 'R_' or metrics.loss > 5))",
];

interface Pool {
  numbers: readonly string[];
  strings: readonly string[];
  patterns: readonly string[];
}

// Literals as filter text, per key, so most conditions meet values the runs have.
const PARAMS: Record<string, Pool> = {
  model: { numbers: ['0', '1'], strings: ["'rf'", "'RF'", "'xgb'", "'lr'", "'Rf'", "''"], patterns: ["'r%'", "'R_'", "'%f'", "'_g_'", "'%'", "'X%'", "'%*%'"] },
  depth: {
    numbers: ['0', '0.5', '1', '-1', '6', '6.0', '10', '2.5', '1e300', '-1e300', '-0.5', '7', '12', '0.0'],
    strings: ["'6'", "'06'", "' 6'", "'six'", "'1e1'", "'+6'", "'1e400'"],
    patterns: ["'1%'", "'_'", "'%e%'", "'%E%'", "'-%'", "'%.%'", "' %'", "'__'"],
  },
  lr: { numbers: ['0.001', '0.01', '1e-3', '0.0001', '1e-5'], strings: ["'1e-3'", "'0.001'"], patterns: ["'%e%'", "'0.0_'", "'%E%'"] },
  flag: { numbers: ['1'], strings: ["'true'", "'True'", "'yes'"], patterns: ["'t%'", "'T%'", "'%E'", "'%e'"] },
  missing: { numbers: ['1'], strings: ["'x'"], patterns: ["'%'"] },
};
const TAGS: Record<string, Pool> = {
  team: {
    numbers: ['7', '7.5', '0', '8'],
    strings: ["'ml'", "'ML'", "'Ünï'", "'ünï'", "'it''s'", "'a%b'", "'x_y'", "'data'"],
    patterns: ["'a\\%b'", "'x_y'", "'x\\_y'", "'ü%'", "'Ü%'", "'%Ï'", "'%ï'", "'m%'", "'M_'", "'%\\\\\\\\%'", "'%''%'", "'%\\\\%'"],
  },
  env: { numbers: ['1'], strings: ["'prod'", "'dev'", "'PROD'"], patterns: ["'p%'", "'%V'", "'%v'"] },
  missing: { numbers: ['1'], strings: ["'x'"], patterns: ["'%'"] },
};
const METRICS: Record<string, readonly string[]> = {
  auc: ['0', '0.1', '0.5', '0.55', '0.9', '1'],
  '`val.auc`': ['0.2', '0.5', '0.75'],
  loss: ['0.5', '1', '2.5', '5', '9.99'],
  missing: ['1'],
};
const TEXT_ATTRIBUTES: Record<string, Pool> = {
  name: { numbers: [], strings: ["'ab'", "'a*b'", "'50%off'", "'Ábc'", "'ábc'", "'x[1]'"], patterns: ["'a_b'", "'50\\%%'", "'%*%'", "'%?%'", "'x[1]'", "'trial-1%'", "'TRIAL%'", "'ábc'", "'Á%'"] },
  status: { numbers: [], strings: ["'succeeded'", "'failed'", "'running'", "'Failed'"], patterns: ["'%ed'", "'f_iled'", "'RUN%'", "'s%'"] },
  experiment: { numbers: [], strings: ["'exp-a'", "'exp-b'", "'EXP-A'"], patterns: ["'exp%'", "'EXP%'", "'%-a'", "'%_b'"] },
  run_id: { numbers: [], strings: ["'x'"], patterns: ["'0%'", "'%-1%'", "'%-1_'", "'F%'", "'f%'"] },
};

/** A random filter (as text) over generateRuns' keys, `depth` levels of AND / OR / NOT at most. */
export function randomFilter(r: () => number, depth = 3): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const some = <T>(xs: readonly T[]): T[] => Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(xs));
  const keyOf = (pools: Record<string, unknown>): string => (r() < 0.05 ? 'missing' : pick(Object.keys(pools).filter((k) => k !== 'missing')));
  const cond = (): string => {
    const kind = pick(['metrics', 'params', 'params', 'tags', 'attributes'] as const);
    if (kind === 'attributes') {
      const attr = pick(['name', 'status', 'experiment', 'run_id', 'start_time', 'end_time', 'duration'] as const);
      const k = `attributes.${attr}`;
      if (attr === 'start_time' || attr === 'end_time' || attr === 'duration') {
        if (r() < 0.15) return `${k} is ${pick(['', 'not '])}null`;
        const numbers = attr === 'duration' ? ['0', '1000', '5000', '5000.5', '9999.99', '-1', '1e20'] : [String(T0 + Math.floor(r() * 30 * 86_400_000) + pick([0, 0.5])), '1e20'];
        if (r() < 0.15) return `${k} ${pick(['in', 'not in'])} (${some(numbers).join(', ')})`;
        const v = attr !== 'duration' && r() < 0.3 ? pick(["'2024-01-10'", "'2024-01-20T12:00:00Z'"]) : pick(numbers);
        return `${k} ${pick(['<', '<=', '>', '>=', '<', '>', '!='])} ${v}`;
      }
      const pool = TEXT_ATTRIBUTES[attr]!;
      const op = pick(['=', '!=', 'in', 'not in', 'like', 'ilike', 'not like', 'not ilike', 'like', 'ilike'] as const);
      if (attr === 'name' && r() < 0.1) return `${k} is ${pick(['', 'not '])}null`;
      if (op === 'in' || op === 'not in') return `${k} ${op} (${some(pool.strings).join(', ')})`;
      if (op.endsWith('like')) return `${k} ${op} ${pick(pool.patterns)}`;
      return `${k} ${op} ${pick(pool.strings)}`;
    }
    const roll = r();
    if (kind === 'metrics') {
      const key = keyOf(METRICS);
      const k = `metrics.${key}`;
      if (roll < 0.1) return `${k} is ${pick(['', 'not '])}null`;
      if (roll < 0.25) return `${k} ${pick(['in', 'not in'])} (${some(METRICS[key]!).join(', ')})`;
      return `${k} ${pick(['=', '!=', '<', '<=', '>', '>='])} ${pick(METRICS[key]!)}`;
    }
    const pools = kind === 'params' ? PARAMS : TAGS;
    const key = keyOf(pools);
    const pool = pools[key]!;
    const k = `${kind}.${key}`;
    if (roll < 0.08) return `${k} is ${pick(['', 'not '])}null`;
    if (roll < 0.35) return `${k} ${pick(['<', '<=', '>', '>=', '=', '!='])} ${pick(pool.numbers)}`;
    if (roll < 0.5) return `${k} ${pick(['=', '!='])} ${pick(pool.strings)}`;
    if (roll < 0.55) return `${k} ${pick(['=', '!='])} ${pick(['true', 'false', 'TRUE'])}`;
    if (roll < 0.65) return `${k} ${pick(['in', 'not in'])} (${some(pool.numbers).join(', ')})`;
    if (roll < 0.75) return `${k} ${pick(['in', 'not in'])} (${some(pool.strings).join(', ')})`;
    return `${k} ${pick(['like', 'ilike', 'not like', 'not ilike'])} ${pick(pool.patterns)}`;
  };
  const expr = (d: number): string => {
    const roll = r();
    if (d <= 0 || roll < 0.35) return cond();
    if (roll < 0.5) return `not ${r() < 0.5 ? `(${expr(d - 1)})` : cond()}`;
    const items = Array.from({ length: r() < 0.8 ? 2 : 3 }, () => expr(d - 1));
    const joined = items.join(r() < 0.5 ? ' and ' : ' or ');
    return r() < 0.5 ? `(${joined})` : joined;
  };
  return expr(depth);
}

/** Order-by specs covering every kind of key, text and numbers, both directions. */
export const ORDER_BYS = [
  '',
  'metrics.auc DESC, params.model',
  'params.depth',
  'params.depth DESC, tags.team',
  'attributes.duration DESC',
  'tags.team, metrics.loss',
  'attributes.name, attributes.start_time DESC',
  'attributes.name DESC',
  'metrics.`val.auc`, metrics.missing DESC',
];
