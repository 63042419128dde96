/**
 * Promotion gates as data: which metrics a candidate is compared on against the current holder of an alias, in
 * which direction, with which tolerance or required improvement, and absolute thresholds. `evaluateGate` is pure;
 * its report names each metric with the candidate's and the champion's values, so a refusal explains itself.
 *
 * Per metric (improvement = candidate − champion when maximizing, champion − candidate when minimizing):
 *  - `minDelta` given: passes when improvement ≥ minDelta (e.g. 0.01: must beat the champion by a point);
 *  - else `maxRegression` given: passes when improvement ≥ −maxRegression × |champion| (relative tolerance:
 *    0.1 lets latency grow by at most 10%);
 *  - else: passes when improvement ≥ 0 (not worse);
 *  - `threshold`: an absolute floor (maximize) or ceiling (minimize), checked even when there is no champion.
 * A candidate without the metric fails it; a champion without it is not compared on it (noted in the report).
 * With no champion (first promotion) only thresholds apply.
 */
import { BatonError } from '../errors.ts';

export interface GateMetric {
  name: string;
  direction: 'maximize' | 'minimize';
  /** Required absolute improvement over the champion. */
  minDelta?: number;
  /** Allowed relative regression (fraction of the champion's value), when no minDelta is given. */
  maxRegression?: number;
  /** Absolute bound: the value must be ≥ threshold (maximize) or ≤ threshold (minimize). */
  threshold?: number;
}

export interface Gate {
  metrics: GateMetric[];
}

export interface GateCheck {
  metric: string;
  direction: 'maximize' | 'minimize';
  candidate?: number;
  champion?: number;
  /** Improvement of the candidate over the champion (positive is better). */
  improvement?: number;
  /** The rule applied, in words, e.g. "≥ champion + 0.01". */
  rule: string;
  passed: boolean;
  note?: string;
}

export interface GateReport {
  name: string;
  alias: string;
  candidate: number;
  /** The version holding the alias when the gate ran; absent on a first promotion. */
  champion?: number;
  passed: boolean;
  checks: GateCheck[];
  gate: Gate;
}

const fmt = (n: number | undefined): string => (n === undefined ? '–' : String(Number(n.toPrecision(6))));

/** Checks a gate's shape (it may come from JSON or the CLI); throws usage with the fix. */
export function checkGate(gate: unknown): Gate {
  const g = gate as Gate;
  if (!g || typeof g !== 'object' || !Array.isArray(g.metrics) || g.metrics.length === 0) {
    throw new BatonError('usage', `A gate needs a non-empty "metrics" list, e.g. { metrics: [{ name: 'macroF1', direction: 'maximize' }] }.`);
  }
  for (const m of g.metrics) {
    if (!m || typeof m.name !== 'string' || !m.name) throw new BatonError('usage', `Every gate metric needs a name, e.g. { name: 'macroF1', direction: 'maximize' }.`);
    if (m.direction !== 'maximize' && m.direction !== 'minimize') throw new BatonError('usage', `Gate metric "${m.name}" has direction ${JSON.stringify(m.direction)}; use 'maximize' or 'minimize'.`);
    for (const k of ['minDelta', 'maxRegression', 'threshold'] as const) {
      if (m[k] !== undefined && (typeof m[k] !== 'number' || !Number.isFinite(m[k]))) throw new BatonError('usage', `Gate metric "${m.name}": ${k} must be a finite number, not ${JSON.stringify(m[k])}.`);
    }
    if (m.maxRegression !== undefined && m.maxRegression < 0) throw new BatonError('usage', `Gate metric "${m.name}": maxRegression is a fraction ≥ 0 (0.1 allows 10% worse).`);
  }
  return g;
}

/**
 * Parses the CLI form `NAME:max|min[:delta=N][:regress=F][:threshold=N]`, e.g. `macroF1:max`,
 * `latency_ms:min:regress=0.1`, `auc:max:delta=0.005:threshold=0.8`.
 */
export function parseGateMetric(text: string): GateMetric {
  const [name, dir, ...opts] = text.split(':');
  const usage = `Write a gate metric as NAME:max or NAME:min, optionally with :delta=N (required improvement), :regress=F (allowed relative regression) or :threshold=N, e.g. macroF1:max or latency_ms:min:regress=0.1.`;
  const direction = dir === 'max' || dir === 'maximize' ? 'maximize' : dir === 'min' || dir === 'minimize' ? 'minimize' : undefined;
  if (!name || !direction) throw new BatonError('usage', `"${text}" is not a gate metric. ${usage}`);
  const m: GateMetric = { name, direction };
  for (const o of opts) {
    const [k, v] = o.split('=');
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n)) throw new BatonError('usage', `"${text}": "${o}" needs a number. ${usage}`);
    if (k === 'delta' || k === 'minDelta') m.minDelta = n;
    else if (k === 'regress' || k === 'maxRegression') m.maxRegression = n;
    else if (k === 'threshold') m.threshold = n;
    else throw new BatonError('usage', `"${text}": unknown option "${k}". ${usage}`);
  }
  return checkGate({ metrics: [m] }).metrics[0]!;
}

export function evaluateGate(
  gate: Gate,
  who: { name: string; alias: string },
  candidate: { version: number; metrics: Record<string, number> },
  champion?: { version: number; metrics: Record<string, number> },
): GateReport {
  checkGate(gate);
  const checks: GateCheck[] = gate.metrics.map((m) => {
    const c = candidate.metrics[m.name];
    const h = champion?.metrics[m.name];
    const max = m.direction === 'maximize';
    const check: GateCheck = { metric: m.name, direction: m.direction, rule: '', passed: true };
    if (c !== undefined) check.candidate = c;
    if (h !== undefined) check.champion = h;
    const rules: string[] = [];
    const notes: string[] = [];
    if (c === undefined) {
      check.passed = false;
      notes.push(`candidate v${candidate.version} has no metric "${m.name}"`);
    }
    if (m.threshold !== undefined) {
      rules.push(`${max ? '≥' : '≤'} ${fmt(m.threshold)}`);
      if (c !== undefined && (max ? c < m.threshold : c > m.threshold)) check.passed = false;
    }
    if (champion && h === undefined) notes.push(`champion v${champion.version} has no "${m.name}": not compared`);
    if (champion && h !== undefined) {
      const sign = max ? '+' : '−';
      const cmp = max ? '≥' : '≤';
      let need: number;
      if (m.minDelta !== undefined) {
        need = m.minDelta;
        rules.push(`${cmp} champion ${sign} ${fmt(m.minDelta)}`);
      } else if (m.maxRegression !== undefined) {
        need = -m.maxRegression * Math.abs(h);
        rules.push(`${cmp} champion ${max ? '−' : '+'} ${fmt(m.maxRegression * 100)}%`);
      } else {
        need = 0;
        rules.push(`${cmp} champion`);
      }
      if (c !== undefined) {
        const improvement = max ? c - h : h - c;
        check.improvement = improvement;
        // A tiny epsilon so "not worse" holds for equal values computed differently.
        if (improvement < need - 1e-12 * Math.max(1, Math.abs(h))) check.passed = false;
      }
    }
    if (!champion) notes.push(m.threshold === undefined ? 'no champion yet: nothing to compare' : 'no champion yet: only the threshold applies');
    check.rule = rules.join(' and ') || 'present';
    if (notes.length) check.note = notes.join('; ');
    return check;
  });
  return {
    name: who.name,
    alias: who.alias,
    candidate: candidate.version,
    ...(champion ? { champion: champion.version } : {}),
    passed: checks.every((c) => c.passed),
    checks,
    gate,
  };
}

/** The report as text: one line per metric, candidate vs champion, with the rule and the verdict. */
export function formatGateReport(r: GateReport): string {
  const head = `gate for ${r.name}@${r.alias}: candidate v${r.candidate} vs ${r.champion !== undefined ? `champion v${r.champion}` : 'no current holder'} — ${r.passed ? 'passed' : 'REFUSED'}`;
  const lines = r.checks.map((c) => {
    const delta = c.improvement === undefined ? '' : ` (${c.improvement >= 0 ? '+' : ''}${fmt(c.improvement)} ${c.improvement >= 0 ? 'better' : 'worse'})`;
    return `  ${c.passed ? 'ok  ' : 'FAIL'} ${c.metric} (${c.direction}): candidate ${fmt(c.candidate)} vs champion ${fmt(c.champion)}${delta}; needs ${c.rule}${c.note ? ` — ${c.note}` : ''}`;
  });
  return [head, ...lines].join('\n');
}
