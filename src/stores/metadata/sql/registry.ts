/**
 * The model registry in SQL, for both dialects: its mutations (register a version, move an alias, request and
 * decide a promotion) and its reads.
 *
 * Safety, as for dataset versions (datasets.ts): every write first touches the model's row in `models`, which holds
 * a row lock until commit on PostgreSQL (SQLite transactions are serialized anyway). The statement that follows is
 * a new statement, so under read committed it sees everything committed before the lock was granted: two
 * registrations never compute the same `MAX(version) + 1`, and an alias move's guard (`ifCurrent`) and its history
 * row's `from_version` are read after any concurrent move of that model committed. No statement fails on a
 * conflict; a guard that does not hold makes the mutation's result false.
 */
import type { AttemptRef } from '../../../ports/metadata.ts';
import type { AliasMove, AliasMoveRecord, ModelAliasRecord, ModelInput, ModelLineage, ModelSummary, ModelVersionRecord, NewModelVersion, PromotionRecord, PromotionStatus } from '../../../ports/registry.ts';
import type { Row, SqlValue, Statement } from './driver.ts';

type Query = (sql: string, params?: SqlValue[]) => Promise<Row[]>;

const lockModel = (name: string): Statement => ({ sql: `UPDATE models SET name = name WHERE name = ?`, params: [name] });

/**
 * Statements of one `registerModelVersion`. With `ifAttempt` (a registration made by a task attempt, placed after
 * the attempt's finish in the same commit), both statements apply only if that attempt is `succeeded` in the store:
 * a fenced-out or failed attempt neither registers a version nor creates the model's row.
 */
export function registerModelVersion(v: NewModelVersion, ifAttempt?: AttemptRef): Statement[] {
  const l = v.lineage;
  const attemptSucceeded = ifAttempt ? ` AND EXISTS (SELECT 1 FROM attempts WHERE run_id = ? AND node_id = ? AND attempt = ? AND state = 'succeeded')` : '';
  const attemptParams: SqlValue[] = ifAttempt ? [ifAttempt.runId, ifAttempt.nodeId, ifAttempt.attempt] : [];
  return [
    ifAttempt
      ? {
          // SQLite needs a WHERE in an INSERT … SELECT with an upsert clause (it is one here).
          sql: `INSERT INTO models (name, created_at, description) SELECT CAST(? AS TEXT), CAST(? AS BIGINT), NULL WHERE 1 = 1${attemptSucceeded} ON CONFLICT (name) DO UPDATE SET name = excluded.name`,
          params: [v.name, v.createdAt, ...attemptParams],
        }
      : {
          sql: `INSERT INTO models (name, created_at, description) VALUES (?, ?, NULL) ON CONFLICT (name) DO UPDATE SET name = excluded.name`,
          params: [v.name, v.createdAt],
        },
    {
      // Casts: PostgreSQL cannot type a bare parameter in a SELECT list.
      sql: `INSERT INTO model_versions (name, version, registration_id, artifact, flavor, signature, metrics, tags, description, run_id, node_id, attempt, code_hash, created_at)
            SELECT CAST(? AS TEXT), (SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),
                   CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS BIGINT)
            WHERE NOT EXISTS (SELECT 1 FROM model_versions WHERE registration_id = ?)${attemptSucceeded}`,
      params: [
        v.name, v.name, v.registrationId, v.artifact, v.flavor,
        v.signature === undefined ? null : JSON.stringify(v.signature), JSON.stringify(v.metrics), JSON.stringify(v.tags), v.description ?? null,
        l?.runId ?? null, l?.nodeId ?? null, l?.attempt ?? null, l?.codeHash ?? null, v.createdAt,
        v.registrationId,
        ...attemptParams,
      ],
      decides: true,
    },
  ];
}

/** The conditions of a move, as a SQL fragment (`AND …`) with its parameters. */
function moveGuard(m: AliasMove): { sql: string; params: SqlValue[] } {
  const parts = [`EXISTS (SELECT 1 FROM model_versions WHERE name = ? AND version = ?)`];
  const params: SqlValue[] = [m.name, m.version];
  if (m.ifCurrent === null) {
    parts.push(`NOT EXISTS (SELECT 1 FROM model_aliases WHERE name = ? AND alias = ?)`);
    params.push(m.name, m.alias);
  } else if (m.ifCurrent !== undefined) {
    parts.push(`EXISTS (SELECT 1 FROM model_aliases WHERE name = ? AND alias = ? AND version = ?)`);
    params.push(m.name, m.alias, m.ifCurrent);
  }
  return { sql: parts.join(' AND '), params };
}

function historyInsert(m: AliasMove, where?: { sql: string; params: SqlValue[] }): Statement {
  return {
    sql: `INSERT INTO model_alias_history (name, alias, from_version, to_version, kind, actor, reason, at)
          SELECT CAST(? AS TEXT), CAST(? AS TEXT), (SELECT version FROM model_aliases WHERE name = ? AND alias = ?), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT)${where ? ` WHERE ${where.sql}` : ''}`,
    params: [m.name, m.alias, m.name, m.alias, m.version, m.kind, m.actor, m.reason, m.at, ...(where?.params ?? [])],
  };
}

const aliasUpsert = (m: AliasMove): Statement => ({
  sql: `INSERT INTO model_aliases (name, alias, version, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
  params: [m.name, m.alias, m.version, m.at],
  onlyIf: true,
});

export function moveModelAlias(m: AliasMove): Statement[] {
  return [lockModel(m.name), { ...historyInsert(m, moveGuard(m)), decides: true }, aliasUpsert(m)];
}

export function requestModelPromotion(p: PromotionRecord): Statement[] {
  return [{
    sql: `INSERT INTO model_promotions (id, name, alias, version, status, requested_by, reason, gate_report, decided_by, decided_at, decision_reason, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    params: [p.id, p.name, p.alias, p.version, p.status, p.requestedBy, p.reason, p.gateReport === undefined ? null : JSON.stringify(p.gateReport), p.decidedBy ?? null, p.decidedAt ?? null, p.decisionReason ?? null, p.createdAt],
  }];
}

export function decideModelPromotion(id: string, status: 'approved' | 'rejected', actor: string, at: number, reason: string | undefined, move: AliasMove | undefined): Statement[] {
  const guard = move ? moveGuard(move) : undefined;
  const decide: Statement = {
    sql: `UPDATE model_promotions SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ? AND status = 'pending'${guard ? ` AND ${guard.sql}` : ''}`,
    params: [status, actor, at, reason ?? null, id, ...(guard?.params ?? [])],
    decides: true,
  };
  if (!move) return [decide];
  return [lockModel(move.name), decide, { ...historyInsert(move), onlyIf: true }, aliasUpsert(move)];
}

const parse = (v: unknown): unknown => (v === null || v === undefined ? undefined : JSON.parse(String(v)));
const has = (v: unknown): boolean => v !== null && v !== undefined;

function toVersion(r: Row): ModelVersionRecord {
  const out: ModelVersionRecord = {
    name: String(r.name),
    version: Number(r.version),
    registrationId: String(r.registration_id),
    artifact: String(r.artifact),
    flavor: String(r.flavor),
    metrics: parse(r.metrics) as Record<string, number>,
    tags: parse(r.tags) as Record<string, string>,
    createdAt: Number(r.created_at),
  };
  if (has(r.signature)) out.signature = parse(r.signature) as ModelVersionRecord['signature'];
  if (has(r.description)) out.description = String(r.description);
  const lineage: ModelLineage = {};
  if (has(r.run_id)) lineage.runId = String(r.run_id);
  if (has(r.node_id)) lineage.nodeId = String(r.node_id);
  if (has(r.attempt)) lineage.attempt = Number(r.attempt);
  if (has(r.code_hash)) lineage.codeHash = String(r.code_hash);
  if (Object.keys(lineage).length) out.lineage = lineage;
  return out;
}

function toMove(r: Row): AliasMoveRecord {
  return {
    seq: Number(r.seq),
    name: String(r.name),
    alias: String(r.alias),
    ...(has(r.from_version) ? { fromVersion: Number(r.from_version) } : {}),
    toVersion: Number(r.to_version),
    kind: String(r.kind) as AliasMoveRecord['kind'],
    actor: String(r.actor),
    reason: String(r.reason),
    at: Number(r.at),
  };
}

function toPromotion(r: Row): PromotionRecord {
  const p: PromotionRecord = {
    id: String(r.id),
    name: String(r.name),
    alias: String(r.alias),
    version: Number(r.version),
    status: String(r.status) as PromotionStatus,
    requestedBy: String(r.requested_by),
    reason: String(r.reason),
    createdAt: Number(r.created_at),
  };
  if (has(r.gate_report)) p.gateReport = parse(r.gate_report);
  if (has(r.decided_by)) p.decidedBy = String(r.decided_by);
  if (has(r.decided_at)) p.decidedAt = Number(r.decided_at);
  if (has(r.decision_reason)) p.decisionReason = String(r.decision_reason);
  return p;
}

export async function listModels(query: Query): Promise<ModelSummary[]> {
  const rows = await query(`SELECT m.name, m.created_at, MAX(v.version) AS latest, COUNT(*) AS versions, MAX(v.created_at) AS updated_at
                            FROM models m JOIN model_versions v ON v.name = m.name GROUP BY m.name, m.created_at ORDER BY m.name`);
  const aliases = await query(`SELECT name, alias, version FROM model_aliases ORDER BY name, alias`);
  const byName = new Map<string, Record<string, number>>();
  for (const a of aliases) {
    const m = byName.get(String(a.name)) ?? {};
    m[String(a.alias)] = Number(a.version);
    byName.set(String(a.name), m);
  }
  return rows.map((r) => ({ name: String(r.name), latest: Number(r.latest), versions: Number(r.versions), aliases: byName.get(String(r.name)) ?? {}, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) }));
}

export async function getModelVersions(query: Query, name: string): Promise<ModelVersionRecord[]> {
  return (await query(`SELECT * FROM model_versions WHERE name = ? ORDER BY version`, [name])).map(toVersion);
}

export async function getModelVersion(query: Query, name: string, version: number): Promise<ModelVersionRecord | undefined> {
  return (await query(`SELECT * FROM model_versions WHERE name = ? AND version = ?`, [name, version])).map(toVersion)[0];
}

export async function getModelVersionByRegistration(query: Query, registrationId: string): Promise<ModelVersionRecord | undefined> {
  return (await query(`SELECT * FROM model_versions WHERE registration_id = ?`, [registrationId])).map(toVersion)[0];
}

export async function getModelVersionsOfRun(query: Query, runId: string, nodeId?: string): Promise<ModelVersionRecord[]> {
  const rows = nodeId === undefined
    ? await query(`SELECT * FROM model_versions WHERE run_id = ? ORDER BY created_at, name, version`, [runId])
    : await query(`SELECT * FROM model_versions WHERE run_id = ? AND node_id = ? ORDER BY created_at, name, version`, [runId, nodeId]);
  return rows.map(toVersion);
}

export async function getModelInputs(query: Query, name: string, version: number): Promise<ModelInput[]> {
  // A version registered outside a workflow has no attempt (NULL run_id): the join finds nothing.
  const rows = await query(
    `SELECT l.sha256, d.name AS dataset, d.version AS dataset_version
     FROM model_versions m
     JOIN lineage l ON l.run_id = m.run_id AND l.node_id = m.node_id AND l.attempt = m.attempt AND l.direction = 'read'
     LEFT JOIN dataset_versions d ON d.sha256 = l.sha256
     WHERE m.name = ? AND m.version = ?
     ORDER BY l.sha256, d.name, d.version`,
    [name, version],
  );
  const bySha = new Map<string, ModelInput>();
  for (const r of rows) {
    const sha256 = String(r.sha256);
    const input = bySha.get(sha256) ?? { sha256, datasets: [] };
    if (has(r.dataset)) input.datasets.push({ name: String(r.dataset), version: Number(r.dataset_version) });
    bySha.set(sha256, input);
  }
  return [...bySha.values()];
}

export async function getModelAliases(query: Query, name: string): Promise<ModelAliasRecord[]> {
  const rows = await query(`SELECT * FROM model_aliases WHERE name = ? ORDER BY alias`, [name]);
  return rows.map((r) => ({ name: String(r.name), alias: String(r.alias), version: Number(r.version), updatedAt: Number(r.updated_at) }));
}

export async function getAliasHistory(query: Query, name: string, alias?: string): Promise<AliasMoveRecord[]> {
  const rows = alias === undefined
    ? await query(`SELECT * FROM model_alias_history WHERE name = ? ORDER BY seq`, [name])
    : await query(`SELECT * FROM model_alias_history WHERE name = ? AND alias = ? ORDER BY seq`, [name, alias]);
  return rows.map(toMove);
}

export async function getPromotion(query: Query, id: string): Promise<PromotionRecord | undefined> {
  return (await query(`SELECT * FROM model_promotions WHERE id = ?`, [id])).map(toPromotion)[0];
}

export async function listPromotions(query: Query, filter: { name?: string; status?: PromotionStatus } = {}): Promise<PromotionRecord[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.name !== undefined) {
    where.push('name = ?');
    params.push(filter.name);
  }
  if (filter.status !== undefined) {
    where.push('status = ?');
    params.push(filter.status);
  }
  const rows = await query(`SELECT * FROM model_promotions${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT 500`, params);
  return rows.map(toPromotion);
}
