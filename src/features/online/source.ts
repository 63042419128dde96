/**
 * A feature view's source as a SQL relation plus its columns, for materialize: the historical retrieval's own
 * helpers (`viewSource` is `viewRelation`), plus the check that the timestamp column is temporal.
 */
import type { FeatureView } from '../definitions.ts';
import { asTimestamp, q, viewRelation } from '../historical.ts';
import { OnlineFeatureError } from './errors.ts';

export { q, viewRelation as viewSource };

export interface SourceColumn {
  name: string;
  type: string;
}

/** A TIMESTAMP expression for a temporal column; throws when the column is not a date or timestamp. */
export function timestampExpr(view: FeatureView, column: SourceColumn): string {
  const t = column.type.toUpperCase();
  if (t === 'DATE' || t.startsWith('TIMESTAMP')) return asTimestamp(q(column.name), column);
  throw new OnlineFeatureError('incompatible_type', `Feature view "${view.name}": timestamp column "${column.name}" is ${column.type}, not a timestamp or date. Cast it in a SQL source.`);
}
