/**
 * Registrations made inside a task (`ctx.models.register`): what the task gets back before its version exists,
 * the id that makes the registration idempotent, and the checks a registration's fields must pass wherever it is
 * made (in a task or through `platform.models.register`).
 *
 * A registration in a task is reported with the attempt's result and committed by the engine with the attempt's
 * finish, so its version number is only known after the commit: the task gets a `ModelRegistration` (name,
 * registration id, artifact, flavor), which it may return as part of its output (`modelRegistration()` is its
 * schema) and which `platform.models.registered(reg)` turns into the committed version.
 */
import { z } from 'zod';
import { BatonError } from '../errors.ts';
import { DirHandleSchema, FileHandleSchema } from '../spec/handles.ts';
import { isPathSafeName, PATH_SAFE_NAME_RULE } from '../values/names.ts';

export const ModelRegistrationSchema = z.object({
  $model: z.literal('registration'),
  name: z.string(),
  /** `RUN/NODE/ATTEMPT/NAME`: unique per attempt and name; look the version up with `platform.models.registered`. */
  registrationId: z.string(),
  /** The stored model: a saved model directory, or a single file (e.g. a bare .onnx). */
  artifact: z.union([DirHandleSchema, FileHandleSchema]),
  flavor: z.string(),
});
export type ModelRegistration = z.infer<typeof ModelRegistrationSchema>;

/** Schema for a model registration in a task's output: `output: z.object({ model: modelRegistration() })`. */
export function modelRegistration(): typeof ModelRegistrationSchema {
  return ModelRegistrationSchema;
}

export function isModelRegistration(value: unknown): value is ModelRegistration {
  return ModelRegistrationSchema.safeParse(value).success;
}

/**
 * The registration id of a model registered by a task attempt. One per (attempt, name): a failed attempt
 * registers nothing, its retry is another attempt, and an attempt whose result is committed twice (it ran on two
 * engines) registers once.
 */
export function attemptRegistrationId(runId: string, nodeId: string, attempt: number, name: string): string {
  return `${runId}/${nodeId}/${attempt}/${name}`;
}

export function checkModelName(name: string): string {
  if (!isPathSafeName(name)) {
    throw new BatonError('usage', `Model name ${JSON.stringify(name)} is not valid. Use 1–128 characters: ${PATH_SAFE_NAME_RULE} (e.g. "churn" or "team/churn").`);
  }
  return name;
}

/** Checks a registration's metrics: finite numbers. */
export function checkModelMetrics(name: string, metrics: Record<string, unknown> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (metrics === undefined) return out;
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) throw new BatonError('usage', `Model "${name}": metrics must be an object of numbers, e.g. { f1: 0.91 }, not ${JSON.stringify(metrics)}.`);
  for (const [k, v] of Object.entries(metrics)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new BatonError('usage', `Model "${name}": metric "${k}" must be a finite number, not ${JSON.stringify(v) ?? String(v)}.`);
    out[k] = v;
  }
  return out;
}

/** Checks a registration's tags: strings (numbers and booleans are accepted when `coerce`, and stored as text). */
export function checkModelTags(name: string, tags: Record<string, unknown> | undefined, coerce = false): Record<string, string> {
  const out: Record<string, string> = {};
  if (tags === undefined) return out;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw new BatonError('usage', `Model "${name}": tags must be an object of strings, e.g. { team: 'churn' }, not ${JSON.stringify(tags)}.`);
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v === 'string') out[k] = v;
    else if (coerce && (typeof v === 'number' || typeof v === 'boolean')) out[k] = String(v);
    else throw new BatonError('usage', `Model "${name}": tag "${k}" must be a string${coerce ? ', number or boolean' : ''}, not ${JSON.stringify(v) ?? String(v)}.`);
  }
  return out;
}
