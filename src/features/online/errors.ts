/**
 * Errors of online serving and materialization. Unlike FeatureError (always `data_invalid`), an unknown or
 * not-yet-materialized view is `not_found` (HTTP 404); bad requests are `data_invalid` (HTTP 400).
 */
import { BatonError } from '../../errors.ts';

export type OnlineErrorReason =
  | 'invalid_request' // a request that fails its shape (bad refs, entity rows without a join key, bad JSON)
  | 'unknown_view' // a ref names a view that was not passed
  | 'unknown_feature' // a ref names a feature the view does not define
  | 'unknown_column' // a join key, timestamp or feature column missing from the source
  | 'incompatible_type' // a timestamp column that is not temporal
  | 'not_materialized'; // the online store has no data for this view, or only for another version of it

export class OnlineFeatureError extends BatonError {
  override readonly name = 'OnlineFeatureError';
  constructor(
    readonly reason: OnlineErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(reason === 'unknown_view' || reason === 'not_materialized' ? 'not_found' : 'data_invalid', message, options);
  }
}
