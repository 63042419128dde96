/**
 * A feature view's source as a SQL relation plus its columns, for materialize. (Mirrors the private helpers of
 * src/features/historical.ts, which this module may not change; fold them together when that file exports them.)
 */
import type { FileSource, OfflineEngine } from '../../ports/offline.ts';
import type { FeatureView } from '../definitions.ts';
import { OnlineFeatureError } from './errors.ts';

export interface SourceColumn {
  name: string;
  type: string;
}

export const q = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;

export async function viewSource(engine: OfflineEngine, view: FeatureView): Promise<{ relation: string; columns: SourceColumn[] }> {
  const source = view.source;
  if ('sql' in source) {
    const ctes: string[] = [];
    for (const [name, input] of Object.entries(source.inputs)) ctes.push(`${q(name)} AS (SELECT * FROM ${await engine.relation(input)})`);
    const relation = `(${ctes.length ? `WITH ${ctes.join(', ')} ` : ''}${source.sql}) AS __src`;
    const rows = await engine.query(`DESCRIBE SELECT * FROM ${relation}`).catch((err: unknown) => {
      throw new OnlineFeatureError('invalid_request', `Feature view "${view.name}": its SQL source does not run: ${(err as Error).message.split('\n')[0]}. Fix source.sql.`, { cause: err });
    });
    return { relation, columns: rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) })) };
  }
  const file = source as FileSource;
  const relation = await engine.relation(file);
  return { relation, columns: (await engine.describe(file)).map((c) => ({ name: c.name, type: c.type })) };
}

/** A TIMESTAMP expression for a temporal column; throws when the column is not a date or timestamp. */
export function timestampExpr(view: FeatureView, column: SourceColumn): string {
  const t = column.type.toUpperCase();
  if (t === 'TIMESTAMP') return q(column.name);
  if (t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMPTZ') return `timezone('UTC', ${q(column.name)})`;
  if (t === 'DATE' || t.startsWith('TIMESTAMP')) return `CAST(${q(column.name)} AS TIMESTAMP)`;
  throw new OnlineFeatureError('incompatible_type', `Feature view "${view.name}": timestamp column "${column.name}" is ${column.type}, not a timestamp or date. Cast it in a SQL source.`);
}
