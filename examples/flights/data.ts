// Where the real flights data lives: the `vega-datasets` npm package (read from disk, never from the network).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The installed vega-datasets package's root folder. vega-datasets 3.x has an "exports" map that hides
 * `vega-datasets/package.json`, so when that subpath cannot be resolved we walk up from the entry point.
 */
export function vegaDatasetsRoot(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('vega-datasets/package.json'));
  } catch {
    // ERR_PACKAGE_PATH_NOT_EXPORTED: fall through to the entry-point walk.
  }
  let dir = dirname(require.resolve('vega-datasets'));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'vega-datasets') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('could not locate the vega-datasets package root (is vega-datasets installed?)');
    dir = parent;
  }
}

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
