/** Parses `--param key=value` flags: values are JSON when they parse as JSON, else strings; `a.b=1` nests. */
import { BatonError } from '../errors.ts';

export function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new BatonError('usage', `--param "${pair}" is not KEY=VALUE. Example: --param epochs=10 --param name=ada`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a plain string */
    }
    const path = key.split('.');
    let cur = out;
    for (const k of path.slice(0, -1)) {
      if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
    }
    cur[path[path.length - 1]!] = value;
  }
  return out;
}

export function parsePools(pairs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const [name, n] = pair.split('=');
    if (!name || !n || !Number.isInteger(Number(n)) || Number(n) < 1) throw new BatonError('usage', `--pool "${pair}" is not NAME=N with N ≥ 1. Example: --pool gpu=1`);
    out[name] = Number(n);
  }
  return out;
}
