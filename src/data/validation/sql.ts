/** SQL text for generated checks: quoted identifiers and literals, never string-pasted user values. */
import type { ColumnInfo } from '../../ports/offline.ts';
import { SuiteError } from './errors.ts';

export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export function str(value: string): string {
  if (value.includes('\0')) throw new SuiteError('invalid_suite', `A value in the suite contains a NUL character: ${JSON.stringify(value)}.`);
  return `'${value.replaceAll("'", "''")}'`;
}

/** A literal comparable with `column`: numbers as numbers, Dates as DATE / TIMESTAMP(TZ) literals in UTC. */
export function literal(value: string | number | boolean | Date, column: ColumnInfo): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SuiteError('invalid_suite', `Column "${column.name}": ${value} is not a finite number.`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new SuiteError('invalid_suite', `Column "${column.name}": the date bound is an Invalid Date.`);
    const iso = value.toISOString();
    if (column.kind === 'date') return `DATE ${str(iso.slice(0, 10))}`;
    if (/TIME ZONE|TZ/i.test(column.type)) return `TIMESTAMPTZ ${str(iso)}`;
    return `TIMESTAMP ${str(iso.slice(0, 23).replace('T', ' '))}`;
  }
  return str(value);
}
