/**
 * Experiment tracking in SQL, for both dialects: the tracking mutations (start/end a tracking run, log a batch of
 * params, tags, metric points and artifacts) and the reads (search with the filter language, one run's details, a
 * metric's downsampled history). Tables: migrations 3 and 5 in schema.ts; the search SQL comes from
 * ./search.ts.
 *
 * A batch is a handful of multi-row statements whatever its size: metric points are appended (identical points
 * collapse, so a retried flush stores nothing twice) and the latest value per key is upserted from the batch's
 * highest step, never going back to a lower step.
 */
import type { AttemptRef } from '../../../ports/metadata.ts';
import type { ArtifactHandle, HistoryOptions, LatestMetric, MetricHistory, MetricPoint, TrackingBatch, TrackingRunDetails, TrackingRunRecord, TrackingSearch, TrackingSearchPage } from '../../../ports/tracking.ts';
import { lttb, minMax } from '../../../tracking/history/downsample.ts';
import { textNumber } from '../../../tracking/search/evaluate.ts';
import { compileSearch, nextPageToken } from './search.ts';
import type { Row, SqlValue, Statement } from './driver.ts';

type Query = (sql: string, params?: SqlValue[]) => Promise<Row[]>;

const opt = (v: string | number | undefined): SqlValue => (v === undefined ? null : v);
const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

function insertRows(table: string, columns: string[], rows: SqlValue[][], conflict: string, onlyIf?: boolean): Statement[] {
  const out: Statement[] = [];
  const per = Math.max(1, Math.floor(900 / columns.length));
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const values = chunk.map(() => `(${placeholders(columns.length)})`).join(', ');
    out.push({ sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}${conflict}`, params: chunk.flat(), ...(onlyIf === undefined ? {} : { onlyIf }) });
  }
  return out;
}

const RUN_COLUMNS = ['id', 'experiment', 'name', 'status', 'start_time', 'end_time', 'parent_id', 'workflow_run_id', 'node_id', 'attempt'];
const RUN_CASTS = ['TEXT', 'TEXT', 'TEXT', 'TEXT', 'BIGINT', 'BIGINT', 'TEXT', 'TEXT', 'TEXT', 'INTEGER'];

function runRow(r: TrackingRunRecord): SqlValue[] {
  return [r.id, r.experiment, opt(r.name), r.status, r.startTime, opt(r.endTime), opt(r.parentId), opt(r.workflowRunId), opt(r.nodeId), opt(r.attempt)];
}

export function startTrackingRun(run: TrackingRunRecord, ifAttempt?: AttemptRef): Statement[] {
  const experiment: Statement = { sql: `INSERT INTO tracking_experiments (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, params: [run.experiment, run.startTime] };
  if (!ifAttempt) {
    return [{ sql: `INSERT INTO tracking_runs (${RUN_COLUMNS.join(', ')}) VALUES (${placeholders(RUN_COLUMNS.length)}) ON CONFLICT (id) DO NOTHING`, params: runRow(run), decides: true }, { ...experiment, onlyIf: true }];
  }
  // Casts: PostgreSQL cannot type a bare parameter in a SELECT list.
  return [
    {
      sql: `INSERT INTO tracking_runs (${RUN_COLUMNS.join(', ')}) SELECT ${RUN_CASTS.map((t) => `CAST(? AS ${t})`).join(', ')}
            WHERE EXISTS (SELECT 1 FROM attempts WHERE run_id = ? AND node_id = ? AND attempt = ? AND state IN ('succeeded', 'failed', 'cancelled'))
            ON CONFLICT (id) DO NOTHING`,
      params: [...runRow(run), ifAttempt.runId, ifAttempt.nodeId, ifAttempt.attempt],
      decides: true,
    },
    { ...experiment, onlyIf: true },
  ];
}

export function endTrackingRun(runId: string, status: string, endTime: number | null): Statement[] {
  return [{ sql: `UPDATE tracking_runs SET status = ?, end_time = ? WHERE id = ?`, params: [status, endTime, runId] }];
}

/** The point each key ends at: highest step, then latest ts, then the later one logged. */
export function latestPoints(points: readonly MetricPoint[]): Map<string, MetricPoint> {
  const latest = new Map<string, MetricPoint>();
  for (const p of points) {
    const l = latest.get(p.key);
    if (!l || p.step > l.step || (p.step === l.step && p.ts >= l.ts)) latest.set(p.key, p);
  }
  return latest;
}

/** Steps per tile of `tracking_metric_tiles`. */
export const TILE_STEPS = 500;

interface Tile {
  key: string;
  tile: number;
  n: number;
  vmin: number;
  vminStep: number;
  vmax: number;
  vmaxStep: number;
}

/** Per (key, tile) summaries of a batch of points: count, and the lowest and highest value with their steps. */
function tileSummaries(points: readonly MetricPoint[]): Tile[] {
  const tiles = new Map<string, Tile>();
  for (const p of points) {
    const tile = Math.floor(p.step / TILE_STEPS);
    const id = `${p.key}\u0000${tile}`;
    const t = tiles.get(id);
    if (!t) {
      tiles.set(id, { key: p.key, tile, n: 1, vmin: p.value, vminStep: p.step, vmax: p.value, vmaxStep: p.step });
      continue;
    }
    t.n++;
    if (p.value < t.vmin) {
      t.vmin = p.value;
      t.vminStep = p.step;
    }
    if (p.value > t.vmax) {
      t.vmax = p.value;
      t.vmaxStep = p.step;
    }
  }
  return [...tiles.values()];
}

export function logTracking(b: TrackingBatch): Statement[] {
  // The guard: everything below runs only if the tracking run exists (an UPDATE to itself counts the row).
  const out: Statement[] = [{ sql: `UPDATE tracking_runs SET status = status WHERE id = ?`, params: [b.runId] }];
  // Each value with its numeric copy (migration 5): numeric filters compare value_num.
  const kv = (table: string, rec: Record<string, string> | undefined) => {
    const entries = Object.entries(rec ?? {});
    if (entries.length) out.push(...insertRows(table, ['run_id', 'key', 'value', 'value_num'], entries.map(([k, v]) => [b.runId, k, v, textNumber(v)]), ' ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, value_num = excluded.value_num', true));
  };
  kv('tracking_params', b.params);
  kv('tracking_tags', b.tags);
  const artifacts = [...new Map((b.artifacts ?? []).map((a) => [a.name, a])).values()]; // the last one per name
  if (artifacts.length) {
    out.push(...insertRows('tracking_artifacts', ['run_id', 'name', 'kind', 'sha256', 'size', 'dataset', 'handle', 'logged_at'], artifacts.map((a) => [b.runId, a.name, artifactKind(a.handle), a.handle.sha256, a.handle.size, 'dataset' in a.handle ? a.handle.dataset.name : null, JSON.stringify(a.handle), a.loggedAt]),
      ` ON CONFLICT (run_id, name) DO UPDATE SET kind = excluded.kind, sha256 = excluded.sha256, size = excluded.size, dataset = excluded.dataset, handle = excluded.handle, logged_at = excluded.logged_at`, true));
    // Lineage of a task attempt's run: the attempt's row for each artifact, keyed by the attempt the run belongs to.
    // Other tracking runs (scripts, workflow runs) have no node and add nothing. Casts: PostgreSQL cannot type a bare
    // parameter in a SELECT list.
    for (const a of artifacts) {
      out.push({
        sql: `INSERT INTO lineage (run_id, node_id, attempt, sha256, direction)
              SELECT workflow_run_id, node_id, attempt, CAST(? AS TEXT), CAST(? AS TEXT) FROM tracking_runs
              WHERE id = ? AND workflow_run_id IS NOT NULL AND node_id IS NOT NULL AND attempt IS NOT NULL
              ON CONFLICT DO NOTHING`,
        params: [a.handle.sha256, a.lineage ?? 'write', b.runId],
        onlyIf: true,
      });
    }
  }
  // NaN is no measurement: SQLite cannot store it (a NaN REAL is NULL, failing the whole commit — and with it a task
  // attempt's finish) and PostgreSQL sorts it above every number, so no dialect keeps it. ±Infinity are kept.
  const points = (b.metrics ?? []).filter((p) => !Number.isNaN(p.value));
  if (points.length) {
    out.push(...insertRows('tracking_metrics', ['run_id', 'key', 'step', 'ts', 'value'], points.map((p) => [b.runId, p.key, p.step, p.ts, p.value]), ' ON CONFLICT DO NOTHING', true));
    const tiles = tileSummaries(points);
    out.push(...insertRows('tracking_metric_tiles', ['run_id', 'key', 'tile', 'n', 'vmin', 'vmin_step', 'vmax', 'vmax_step'], tiles.map((t) => [b.runId, t.key, t.tile, t.n, t.vmin, t.vminStep, t.vmax, t.vmaxStep]),
      ` ON CONFLICT (run_id, key, tile) DO UPDATE SET n = tracking_metric_tiles.n + excluded.n,
        vmin_step = CASE WHEN excluded.vmin < tracking_metric_tiles.vmin THEN excluded.vmin_step ELSE tracking_metric_tiles.vmin_step END,
        vmin = CASE WHEN excluded.vmin < tracking_metric_tiles.vmin THEN excluded.vmin ELSE tracking_metric_tiles.vmin END,
        vmax_step = CASE WHEN excluded.vmax > tracking_metric_tiles.vmax THEN excluded.vmax_step ELSE tracking_metric_tiles.vmax_step END,
        vmax = CASE WHEN excluded.vmax > tracking_metric_tiles.vmax THEN excluded.vmax ELSE tracking_metric_tiles.vmax END`, true));
    const latest = [...latestPoints(points).values()];
    out.push(...insertRows('tracking_latest_metrics', ['run_id', 'key', 'value', 'step', 'ts'], latest.map((p) => [b.runId, p.key, p.value, p.step, p.ts]),
      ` ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, ts = excluded.ts
        WHERE excluded.step > tracking_latest_metrics.step OR (excluded.step = tracking_latest_metrics.step AND excluded.ts >= tracking_latest_metrics.ts)`, true));
  }
  return out;
}

function artifactKind(h: ArtifactHandle): 'file' | 'dir' | 'dataset' {
  return 'dataset' in h ? 'dataset' : h.$artifact;
}

function toTrackingRun(r: Row): TrackingRunRecord {
  const run: TrackingRunRecord = { id: String(r.id), experiment: String(r.experiment), status: String(r.status) as TrackingRunRecord['status'], startTime: Number(r.start_time) };
  if (r.name !== null && r.name !== undefined) run.name = String(r.name);
  if (r.end_time !== null && r.end_time !== undefined) run.endTime = Number(r.end_time);
  if (r.parent_id !== null && r.parent_id !== undefined) run.parentId = String(r.parent_id);
  if (r.workflow_run_id !== null && r.workflow_run_id !== undefined) run.workflowRunId = String(r.workflow_run_id);
  if (r.node_id !== null && r.node_id !== undefined) run.nodeId = String(r.node_id);
  if (r.attempt !== null && r.attempt !== undefined) run.attempt = Number(r.attempt);
  return run;
}

export async function searchRuns(query: Query, dialect: 'sqlite' | 'postgres', s: TrackingSearch): Promise<TrackingSearchPage> {
  const compiled = compileSearch({
    dialect,
    ...(s.filter !== undefined ? { filter: s.filter } : {}),
    ...(s.orderBy !== undefined ? { orderBy: s.orderBy } : {}),
    ...(s.experiments !== undefined ? { experiments: s.experiments } : {}),
    ...(s.limit !== undefined ? { limit: s.limit } : {}),
    ...(s.pageToken !== undefined ? { pageToken: s.pageToken } : {}),
  });
  const rows = await query(compiled.sql, compiled.params);
  // The search selects the core columns only; fetch the links of the page's runs in one more query.
  const runs = rows.map(toTrackingRun);
  if (runs.length) {
    const links = await query(`SELECT id, parent_id, workflow_run_id, node_id, attempt FROM tracking_runs WHERE id IN (${placeholders(runs.length)})`, runs.map((r) => r.id));
    const byId = new Map(links.map((l) => [String(l.id), l]));
    for (let i = 0; i < runs.length; i++) Object.assign(runs[i]!, toTrackingRun({ ...rows[i], ...byId.get(runs[i]!.id) }));
  }
  const token = nextPageToken(rows, compiled);
  return { runs, ...(token ? { nextPageToken: token } : {}) };
}

export async function getTrackingRun(query: Query, id: string): Promise<TrackingRunDetails | undefined> {
  const [row] = await query(`SELECT * FROM tracking_runs WHERE id = ?`, [id]);
  if (!row) return undefined;
  const kv = async (table: string) => Object.fromEntries((await query(`SELECT key, value FROM ${table} WHERE run_id = ? ORDER BY key`, [id])).map((r) => [String(r.key), String(r.value)]));
  const metrics: Record<string, LatestMetric> = {};
  for (const r of await query(`SELECT key, value, step, ts FROM tracking_latest_metrics WHERE run_id = ? ORDER BY key`, [id])) {
    metrics[String(r.key)] = { value: Number(r.value), step: Number(r.step), ts: Number(r.ts) };
  }
  // A dataset version written by the attempt that logged it was numbered when the attempt committed.
  const artifacts: TrackingRunDetails['artifacts'] = {};
  const logged = await query(
    `SELECT a.name, a.handle, a.logged_at, v.version FROM tracking_artifacts a
     LEFT JOIN dataset_versions v ON a.kind = 'dataset' AND v.name = a.dataset AND v.sha256 = a.sha256
     WHERE a.run_id = ? ORDER BY a.name`,
    [id],
  );
  for (const r of logged) {
    const handle = JSON.parse(String(r.handle)) as ArtifactHandle;
    if ('dataset' in handle && handle.dataset.version === undefined && r.version !== null && r.version !== undefined) handle.dataset.version = Number(r.version);
    artifacts[String(r.name)] = { handle, loggedAt: Number(r.logged_at) };
  }
  return { ...toTrackingRun(row), params: await kv('tracking_params'), tags: await kv('tracking_tags'), metrics, artifacts };
}

export async function getMetricHistory(query: Query, runId: string, key: string, options: HistoryOptions = {}): Promise<MetricHistory> {
  const max = options.maxPoints;
  if (max !== undefined) {
    // Large histories are answered from the tiles: each tile's lowest and highest point, then downsampled. The
    // envelope (every extreme) is kept; points between a tile's extremes are not needed for a chart that size.
    const tiles = await query(`SELECT tile, n, vmin, vmin_step, vmax, vmax_step FROM tracking_metric_tiles WHERE run_id = ? AND key = ? ORDER BY tile`, [runId, key]);
    let total = 0;
    for (const t of tiles) total += Number(t.n);
    // Only when the tiles have enough resolution for the requested size (two points per tile).
    if (total > 4 * max && 2 * tiles.length >= max) {
      const steps: number[] = [];
      const values: number[] = [];
      for (const t of tiles) {
        const a = { step: Number(t.vmin_step), value: Number(t.vmin) };
        const b = { step: Number(t.vmax_step), value: Number(t.vmax) };
        for (const p of a.step <= b.step ? (a.step === b.step ? [a] : [a, b]) : [b, a]) {
          steps.push(p.step);
          values.push(p.value);
        }
      }
      const s = Float64Array.from(steps);
      const v = Float64Array.from(values);
      const out = max >= s.length ? { steps: s, values: v } : (options.method === 'minmax' ? minMax : lttb)(s, v, max);
      return { key, total, steps: Array.from(out.steps), values: Array.from(out.values) };
    }
  }
  const rows = await query(`SELECT step, value FROM tracking_metrics WHERE run_id = ? AND key = ? ORDER BY step, ts`, [runId, key]);
  const steps = new Float64Array(rows.length);
  const values = new Float64Array(rows.length);
  let n = 0;
  for (const r of rows) {
    const v = Number(r.value);
    if (Number.isNaN(v)) continue;
    steps[n] = Number(r.step);
    values[n++] = v;
  }
  const s = steps.subarray(0, n);
  const v = values.subarray(0, n);
  const out = max === undefined || max >= n ? { steps: s, values: v } : (options.method === 'minmax' ? minMax : lttb)(s, v, max);
  return { key, total: rows.length, steps: Array.from(out.steps), values: Array.from(out.values) };
}
