/**
 * Errors of feature definitions and historical retrievals that cannot run as written. Every message names the item
 * (view, feature, column, join key) and says the fix.
 */
import { BatonError } from '../errors.ts';

export type FeatureErrorReason =
  | 'invalid_definition' // an entity or feature view fails its schema
  | 'invalid_request' // a getHistoricalFeatures request fails its schema (bad refs, bad entity rows)
  | 'unknown_view' // a feature ref names a view that was not passed
  | 'unknown_feature' // a feature ref names a feature the view does not define
  | 'unknown_column' // a join key, timestamp or feature column missing from the data
  | 'incompatible_type' // a column whose type does not fit (non-temporal timestamp, VARCHAR vs BIGINT join key…)
  | 'name_collision' // two output columns would get the same name
  | 'invalid_rows' // a TS transform returned something that is not rows, or a row that breaks the view's rules
  | 'transform_failed'; // a TS transform threw

export class FeatureError extends BatonError {
  override readonly name = 'FeatureError';
  constructor(
    readonly reason: FeatureErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('data_invalid', message, options);
  }
}
