/**
 * Tracking value rules shared by the script API and `ctx.log`: params and tags are stored as text; an artifact is
 * logged by its handle (file, directory or dataset version), checked here.
 */
import { BatonError } from '../errors.ts';
import type { ArtifactHandle } from '../ports/tracking.ts';
import { DatasetHandleSchema, DirHandleSchema, FileHandleSchema } from '../spec/handles.ts';

/** Converts a param or tag value to its stored text, rejecting what is not a scalar. */
export function paramText(key: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new BatonError('usage', `Tracking value "${key}" must be a string, number or boolean; got ${v === null ? 'null' : typeof v}.`);
}

/**
 * A copy of an artifact handle to log under `name` (so later changes to the caller's object change nothing), or a
 * usage error saying what was wrong. `call` names the API in the message, e.g. `ctx.log.artifact`.
 */
export function artifactHandle(call: string, name: string, handle: unknown): ArtifactHandle {
  if (typeof name !== 'string' || name === '') throw new BatonError('usage', `${call} needs a non-empty name as its first argument.`);
  const kind = (handle as { $artifact?: unknown } | null)?.$artifact;
  const schema = kind === 'dir' ? DirHandleSchema : handle !== null && typeof handle === 'object' && 'dataset' in handle ? DatasetHandleSchema : FileHandleSchema;
  const parsed = schema.safeParse(handle);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const what = handle === null ? 'null' : typeof handle === 'object' ? `an object that is not a valid handle (${issue?.path.join('.') || 'value'}: ${issue?.message})` : `a ${typeof handle}`;
    throw new BatonError('usage', `${call}("${name}", …) needs a file, directory or dataset handle (from ctx.artifacts.putFile/putBytes/putDir or ctx.datasets.write); got ${what}.`);
  }
  return parsed.data;
}
