/** Tracking value rules shared by the script API and `ctx.log`: params and tags are stored as text. */
import { BatonError } from '../errors.ts';

/** Converts a param or tag value to its stored text, rejecting what is not a scalar. */
export function paramText(key: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new BatonError('usage', `Tracking value "${key}" must be a string, number or boolean; got ${v === null ? 'null' : typeof v}.`);
}
