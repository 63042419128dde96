/** How entity join-key values become OnlineStore keys: the same rule for materialize and for reads. */
import { OnlineFeatureError } from './errors.ts';

/** A join-key value as its key string: strings as is, numbers and booleans by String(), dates as ISO. */
export function keyPart(value: unknown, where: () => string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new OnlineFeatureError('invalid_request', `${where()} is ${value}; a join key must be a finite number or a string.`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  throw new OnlineFeatureError('invalid_request', `${where()} is ${value === null ? 'null' : typeof value}; a join key must be a string, number or boolean.`);
}
