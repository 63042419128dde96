/**
 * Errors of a validation suite that cannot run as written — as opposed to data that fails it, which is a Report
 * with `passed: false`. Thrown by `validate`; every message names the expectation and column, and says the fix.
 */
import { BatonError } from '../../errors.ts';

export type SuiteErrorReason =
  | 'invalid_suite' // the definition fails its schema (bad bounds, empty sets, duplicate names)
  | 'unknown_column' // an expectation names a column the data does not have (and the schema does not declare)
  | 'incompatible_type' // e.g. a numeric range on a VARCHAR column, freshness on a non-temporal column
  | 'check_failed_to_run'; // a custom SQL check whose query fails or returns the wrong shape

export class SuiteError extends BatonError {
  override readonly name = 'SuiteError';
  constructor(
    readonly reason: SuiteErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('data_invalid', message, options);
  }
}
