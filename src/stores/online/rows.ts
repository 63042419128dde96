/**
 * Checks every OnlineStore adapter applies to its input before touching the backend, so a bad row fails the same
 * way (`data_invalid`, the view, the row index and the fix) whatever the store.
 */
import { BatonError } from '../../errors.ts';
import type { OnlineRow } from '../../ports/online.ts';

/** Throws `data_invalid` for a row whose key, ts or values do not fit the OnlineStore contract. */
export function checkRow(view: string) {
  return (r: OnlineRow, i: number): void => {
    const bad = (what: string) => new BatonError('data_invalid', `Online write to "${view}", row ${i}: ${what}.`);
    if (!Array.isArray(r.key) || r.key.length === 0 || !r.key.every((k) => typeof k === 'string')) throw bad('key must be a non-empty array of strings (the join-key values)');
    if (typeof r.ts !== 'number' || !Number.isFinite(r.ts)) throw bad(`ts must be epoch milliseconds, got ${String(r.ts)}`);
    if (typeof r.values !== 'object' || r.values === null || Array.isArray(r.values)) throw bad('values must be an object of feature → value');
  };
}

/** Throws `data_invalid` for a watermark that is not a finite number. */
export function checkWatermark(view: string, ts: number): void {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) throw new BatonError('data_invalid', `Watermark for view "${view}" must be a finite epoch-millisecond number, got ${ts}.`);
}
