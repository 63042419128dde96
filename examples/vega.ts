// Where the examples' real data lives: the installed `vega-datasets` npm package (read from disk, never fetched).
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
