/**
 * The `ctx.log` object a task uses: buffers params, tags, metric points and artifacts in the attempt (no store
 * access in workers), so the attempt's result can report them and the engine stores them with the finish. The
 * task's input scalars (top-level number, string and boolean fields) are added as params for attempts that use
 * ctx.log. An artifact's lineage direction is decided when the attempt reports: 'write' if the attempt stored it,
 * else 'read'.
 */
import { BatonError } from '../errors.ts';
import type { AttemptTracking } from '../ports/executor.ts';
import type { LoggedArtifact, MetricPoint } from '../ports/tracking.ts';
import type { TrackingLog } from '../sdk/context.ts';
import { artifactHandle, paramText } from './tracking-values.ts';

export interface RecordingLog extends TrackingLog {
  /** What was logged so far; undefined when nothing was. */
  report(): AttemptTracking | undefined;
}

/** Top-level number/string/boolean fields of a task's input, as param text. */
export function inputScalars(input: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return out;
  for (const [k, v] of Object.entries(input)) {
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string' || typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}

/** The artifacts the attempt stored through ctx.artifacts / ctx.datasets (its lineage set), read when it reports. */
export interface AttemptArtifacts {
  readonly writtenSet: ReadonlySet<string>;
}

export function trackingLog(input: unknown, now: () => number = Date.now, access?: AttemptArtifacts): RecordingLog {
  const params = inputScalars(input);
  const tags: Record<string, string> = {};
  const metrics: MetricPoint[] = [];
  const artifacts = new Map<string, LoggedArtifact>();
  const steps = new Map<string, number>();
  // Input scalars are recorded only for attempts that use ctx.log at all: only those become tracking runs.
  let used = false;
  return {
    params(p) {
      used = true;
      for (const [k, v] of Object.entries(p)) params[k] = paramText(k, v);
    },
    tags(t) {
      used = true;
      for (const [k, v] of Object.entries(t)) tags[k] = paramText(k, v);
    },
    metric(name, value, options = {}) {
      if (typeof name !== 'string' || name === '') throw new BatonError('usage', 'ctx.log.metric needs a non-empty name.');
      if (typeof value !== 'number') throw new BatonError('usage', `ctx.log.metric("${name}", …) needs a number; got ${typeof value}.`);
      const step = options.step ?? (steps.has(name) ? steps.get(name)! + 1 : 0);
      if (!Number.isInteger(step) || step < 0) throw new BatonError('usage', `ctx.log.metric("${name}", …): invalid step ${step}; give a whole number of at least 0.`);
      steps.set(name, Math.max(step, steps.get(name) ?? -1));
      metrics.push({ key: name, value, step, ts: now() });
      used = true;
    },
    artifact(name, handle) {
      const h = artifactHandle('ctx.log.artifact', name, handle);
      artifacts.delete(name); // a later artifact under a name replaces the earlier one
      artifacts.set(name, { name, handle: h, loggedAt: now() });
      used = true;
    },
    report() {
      if (!used) return undefined;
      const hasParams = Object.keys(params).length > 0;
      const hasTags = Object.keys(tags).length > 0;
      if (!hasParams && !hasTags && metrics.length === 0 && artifacts.size === 0) return undefined;
      // An artifact the attempt did not store itself (one it was given, or any other handle) is a read in its
      // lineage, never a write: lineage must not name this attempt as its producer.
      const logged = [...artifacts.values()].map((a) => (access && !access.writtenSet.has(a.handle.sha256) ? { ...a, lineage: 'read' as const } : a));
      return { ...(hasParams ? { params } : {}), ...(hasTags ? { tags } : {}), ...(metrics.length ? { metrics } : {}), ...(logged.length ? { artifacts: logged } : {}) };
    },
  };
}
