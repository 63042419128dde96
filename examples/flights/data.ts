// Where the real flights data lives: the `vega-datasets` npm package (read from disk, never from the network).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vegaDatasetsRoot } from '../vega.ts';


/** Absolute path of `data/flights-3m.parquet` (3,000,000 US domestic flights, Jan–Jun 2001). */
export function flightsParquetPath(): string {
  return join(vegaDatasetsRoot(), 'data', 'flights-3m.parquet');
}

/** `vega-datasets@3.2.1`: part of the slice task's input, so a new package version invalidates the cache. */
export function flightsSourceId(): string {
  const { version } = JSON.parse(readFileSync(join(vegaDatasetsRoot(), 'package.json'), 'utf8')) as { version?: string };
  return `vega-datasets@${version ?? 'unknown'}/data/flights-3m.parquet`;
}

/** A SQL string literal. */
export const lit = (value: string): string => `'${value.replaceAll("'", "''")}'`;
