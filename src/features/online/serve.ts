/**
 * `getOnlineFeatures(online, { features, entityRows, views, now? })`: the latest materialized feature values for
 * a few entities, for serving a model.
 *
 * TTL at read time: a value whose event time is more than the view's `ttlMs` before `now` is expired and comes back
 * null (status `expired`); exactly `ttlMs` old is still alive — the same inclusive edge as getHistoricalFeatures, so
 * online and offline agree. (Feast applies TTL when materializing and, in most online stores, not at read time, so a
 * value there can outlive its TTL until the next run; here it cannot.) A view with `ttlMs: null` never expires.
 * A key never materialized gives null with status `not_found`.
 *
 * The online store must hold the same `version` of each view as the definition passed here; otherwise the values
 * were computed by another definition and the call fails (`not_found`) asking to run materialize.
 */
import type { OnlineStore, OnlineValue } from '../../ports/online.ts';
import type { FeatureView } from '../definitions.ts';
import { OnlineFeatureError } from './errors.ts';
import { keyPart } from './keys.ts';

export type FeatureStatus = 'present' | 'not_found' | 'expired';

export interface OnlineRequest {
  /** `view:feature` refs, e.g. `origin_stats:avg_delay`. */
  features: string[];
  /** One object per entity, holding the join keys of every requested view, e.g. `{ origin: 'SEA' }`. */
  entityRows: Record<string, unknown>[];
  /** The views refs may name. */
  views: FeatureView[];
  /** Read time for the TTL. @default Date.now() */
  now?: number | Date;
  /** Name output fields `view__feature` instead of `feature`. @default false */
  fullFeatureNames?: boolean;
}

export interface OnlineResult {
  /** Each entity row with the requested features added (null when missing or expired). */
  rows: Record<string, unknown>[];
  /** Per row, per output feature: why a value is (or is not) there. */
  statuses: Record<string, FeatureStatus>[];
  views: { name: string; version: string }[];
}

interface Plan {
  view: FeatureView;
  features: { feature: string; out: string }[];
}

function plan(request: OnlineRequest): Plan[] {
  if (!Array.isArray(request.features) || request.features.length === 0) {
    throw new OnlineFeatureError('invalid_request', 'Request at least one feature, e.g. features: ["origin_stats:avg_delay"].');
  }
  const known = new Map((request.views ?? []).map((v) => [v.name, v]));
  const plans = new Map<string, Plan>();
  const outs = new Set<string>();
  for (const ref of request.features) {
    const parts = typeof ref === 'string' ? ref.split(':') : [];
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new OnlineFeatureError('invalid_request', `Feature ref ${JSON.stringify(ref)} is not of the form "view:feature" (e.g. "origin_stats:avg_delay").`);
    const [viewName, feature] = parts as [string, string];
    const view = known.get(viewName);
    if (!view) throw new OnlineFeatureError('unknown_view', `Feature ref "${ref}": no feature view named "${viewName}"${known.size ? ` (known: ${[...known.keys()].join(', ')})` : ''}.`);
    if (!Object.hasOwn(view.features, feature)) {
      throw new OnlineFeatureError('unknown_feature', `Feature ref "${ref}": feature view "${viewName}" has no feature "${feature}" (it has: ${Object.keys(view.features).join(', ')}).`);
    }
    const out = request.fullFeatureNames ? `${viewName}__${feature}` : feature;
    const p = plans.get(viewName) ?? { view, features: [] };
    if (p.features.some((f) => f.feature === feature)) continue;
    if (outs.has(out)) throw new OnlineFeatureError('invalid_request', `Two refs give the output field "${out}". Pass fullFeatureNames: true (fields become view__feature).`);
    outs.add(out);
    p.features.push({ feature, out });
    plans.set(viewName, p);
  }
  return [...plans.values()];
}

export async function getOnlineFeatures(online: OnlineStore, request: OnlineRequest): Promise<OnlineResult> {
  const plans = plan(request);
  const rowsIn = request.entityRows;
  if (!Array.isArray(rowsIn) || rowsIn.length === 0) throw new OnlineFeatureError('invalid_request', 'entityRows is empty. Pass at least one entity, e.g. entityRows: [{ origin: "SEA" }].');
  const nowRaw = request.now instanceof Date ? request.now.getTime() : (request.now ?? Date.now());
  if (typeof nowRaw !== 'number' || !Number.isFinite(nowRaw)) throw new OnlineFeatureError('invalid_request', `now must be a valid Date or epoch milliseconds, got ${String(request.now)}.`);

  const rows = rowsIn.map((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new OnlineFeatureError('invalid_request', `Entity row ${i} is not an object of join keys, e.g. { origin: "SEA" }.`);
    return { ...r };
  });
  const statuses: Record<string, FeatureStatus>[] = rows.map(() => ({}));
  for (const { view, features } of plans) {
    const state = await online.watermark(view.name);
    if (!state || state.version !== view.version) {
      const held = state ? `holds version ${state.version.slice(0, 12)}, not ${view.version.slice(0, 12)}` : 'has no data for it';
      throw new OnlineFeatureError('not_materialized', `Feature view "${view.name}": the online store ${held}. Run materialize for this view first.`);
    }
    const keys = rowsIn.map((r, i) =>
      view.joinKeys.map((k) => {
        if (!Object.hasOwn(r, k)) {
          throw new OnlineFeatureError('invalid_request', `Entity row ${i} has no join key "${k}", needed by feature view "${view.name}" (row has: ${Object.keys(r).join(', ') || 'nothing'}).`);
        }
        return keyPart(r[k], () => `Entity row ${i}: join key "${k}"`);
      }),
    );
    const found = await online.read(view.name, keys, features.map((f) => f.feature));
    const ttl = view.ttlMs;
    found.forEach((hit, i) => {
      const expired = hit !== null && ttl !== null && nowRaw - hit.ts > ttl;
      const status: FeatureStatus = hit === null ? 'not_found' : expired ? 'expired' : 'present';
      for (const { feature, out } of features) {
        rows[i]![out] = status === 'present' ? (hit!.values[feature] ?? null) : (null satisfies OnlineValue);
        statuses[i]![out] = status;
      }
    });
  }
  return { rows, statuses, views: plans.map((p) => ({ name: p.view.name, version: p.view.version })) };
}
