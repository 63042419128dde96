/**
 * Finds the feature views a definitions module exports, for `baton features …`: every export that is a view
 * (`export const originStats = featureView(…)`) or an array of views (`export default [originStats, routeStats]`).
 * The module is imported once (TypeScript loads through tsx, as workflow files do), so it may compute its views
 * at load time, even with top-level await.
 *
 * Errors: a missing file is `not_found`; a module that throws while loading is `workflow_load` (the CLI's "a file
 * of code did not load", exit 3); no views, or two different views with one name, are `usage`.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BatonError, messageOf } from '../errors.ts';
import type { FeatureView } from './definitions.ts';
import { importUserModule } from '../runtime/user-module.ts';

export function isFeatureView(value: unknown): value is FeatureView {
  const v = value as FeatureView | null;
  return typeof v === 'object' && v !== null && v.kind === 'featureView' && typeof v.name === 'string' && typeof v.version === 'string';
}

/** The views `file` exports, in export order, each once. */
export async function loadFeatureViews(file: string): Promise<FeatureView[]> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new BatonError('not_found', `Feature definitions file ${file} does not exist (looked at ${path}). Pass --defs with a .ts or .js module that exports feature views.`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await importUserModule(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof BatonError) throw new BatonError(err.code, `Feature definitions file ${file}: ${err.message}`, { cause: err });
    const msg = messageOf(err).split('\n').slice(0, 6).join('\n');
    if (/require\(\) ES Module|ERR_REQUIRE_ESM|ERR_REQUIRE_CYCLE_MODULE|Cannot use import statement outside a module/.test(msg)) {
      throw new BatonError('workflow_load', `Feature definitions file ${file} failed to load as an ES module: ${msg.split('\n')[0]}\nDefinition files are ES modules: add "type": "module" to the nearest package.json, or name the file .mts.`, { cause: err });
    }
    throw new BatonError('workflow_load', `Feature definitions file ${file} failed to load: ${msg}\nFix the error above and run again.`, { cause: err });
  }
  const views = new Map<string, FeatureView>();
  for (const value of Object.values(mod)) {
    for (const view of Array.isArray(value) ? value : [value]) {
      if (!isFeatureView(view)) continue;
      const prior = views.get(view.name);
      if (prior && prior.version !== view.version) {
        throw new BatonError('usage', `Feature definitions file ${file} exports two different views named "${view.name}" (versions ${prior.version.slice(0, 12)} and ${view.version.slice(0, 12)}). Rename one, or export only one.`);
      }
      views.set(view.name, view);
    }
  }
  if (views.size === 0) {
    throw new BatonError('usage', `Feature definitions file ${file} exports no feature views. Export them, e.g. \`export const originStats = featureView({ … })\` or \`export default [originStats, routeStats]\`.`);
  }
  return [...views.values()];
}
