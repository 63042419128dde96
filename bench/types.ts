/** What a benchmark reports, and the shape every benchmark file exports. */

export interface Metric {
  /** Dotted name, e.g. `engine.chain1k.per_task_ms`. */
  metric: string;
  /** The measured value; undefined when the metric was skipped (then `skipped` says why). */
  value?: number;
  unit: string;
  /** What we aim for, for the human table only (e.g. "≤ 0.2"). Never asserted. */
  target?: string;
  /** Context for the human table (sizes, checks done, caveats). */
  note?: string;
  /** Why there is no value. */
  skipped?: string;
}

export interface BenchContext {
  /** Progress text: always goes to stderr. */
  log(message: string): void;
}

export interface Benchmark {
  /** Dotted name used by `--only` (prefix match on dot boundaries). */
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Metric[]>;
}

/** A metric computed from other benchmarks' metrics (only when all inputs were measured). */
export interface DerivedMetric {
  metric: string;
  unit: string;
  inputs: string[];
  compute(values: number[]): number;
  target?: string;
  note?: string;
}

export const skipped = (metric: string, unit: string, reason: string, target?: string): Metric => ({
  metric,
  unit,
  skipped: reason,
  ...(target ? { target } : {}),
});
