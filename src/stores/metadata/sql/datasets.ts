/**
 * Dataset versions in SQL, for both dialects: the `putDatasetVersion` mutation and the dataset reads.
 *
 * Version numbers are max + 1 per name. Two registrations of one name never compute the same number: each first
 * upserts the name's row in `datasets`, which holds a row lock until commit (PostgreSQL; SQLite transactions are
 * serialized anyway), and the insert that follows is a new statement, so under read committed it sees every
 * version committed before the lock was granted. No statement ever fails on a conflict, so the engine's commit
 * holding it never aborts. Equal content (name, sha256) is one version: the insert is skipped when it exists.
 */
import { BatonError } from '../../../errors.ts';
import type { AttemptRef, DatasetLineage, DatasetSummary, DatasetVersionRecord, NewDatasetVersion } from '../../../ports/metadata.ts';
import type { Row, SqlValue, Statement } from './driver.ts';

type Query = (sql: string, params?: SqlValue[]) => Promise<Row[]>;

/** Statements of one `putDatasetVersion`; the insert decides the result (false: the content already had a version). */
export function putDatasetVersion(v: NewDatasetVersion): Statement[] {
  const by = v.producedBy;
  // Casts: PostgreSQL cannot type a bare parameter in a SELECT list (it does not look at the target columns).
  return [
    {
      sql: `INSERT INTO datasets (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET name = excluded.name`,
      params: [v.name, v.createdAt],
    },
    {
      sql: `INSERT INTO dataset_versions (name, version, sha256, format, size, row_count, schema_json, profile_ref, created_at, run_id, node_id, attempt)
            SELECT CAST(? AS TEXT), (SELECT COALESCE(MAX(version), 0) + 1 FROM dataset_versions WHERE name = ?), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT),
                   CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS INTEGER)
            WHERE NOT EXISTS (SELECT 1 FROM dataset_versions WHERE name = ? AND sha256 = ?)${by ? ` AND EXISTS (SELECT 1 FROM attempts WHERE run_id = ? AND node_id = ? AND attempt = ? AND state = 'succeeded')` : ''}`,
      params: [
        v.name, v.name, v.sha256, v.format, v.size, v.rows, JSON.stringify(v.schema), v.profileRef ?? null, v.createdAt,
        by?.runId ?? null, by?.nodeId ?? null, by?.attempt ?? null,
        v.name, v.sha256,
        ...(by ? [by.runId, by.nodeId, by.attempt] : []),
      ],
      decides: true,
    },
  ];
}

function toVersion(r: Row): DatasetVersionRecord {
  const out: DatasetVersionRecord = {
    name: String(r.name),
    version: Number(r.version),
    sha256: String(r.sha256),
    format: String(r.format) as DatasetVersionRecord['format'],
    size: Number(r.size),
    rows: Number(r.row_count),
    schema: JSON.parse(String(r.schema_json)) as DatasetVersionRecord['schema'],
    createdAt: Number(r.created_at),
  };
  if (r.profile_ref !== null && r.profile_ref !== undefined) out.profileRef = String(r.profile_ref);
  if (r.run_id !== null && r.run_id !== undefined) out.producedBy = { runId: String(r.run_id), nodeId: String(r.node_id), attempt: Number(r.attempt) };
  return out;
}

export async function listDatasets(query: Query): Promise<DatasetSummary[]> {
  const rows = await query(`SELECT name, MAX(version) AS latest, COUNT(*) AS versions, MAX(created_at) AS updated_at FROM dataset_versions GROUP BY name ORDER BY name`);
  return rows.map((r) => ({ name: String(r.name), latest: Number(r.latest), versions: Number(r.versions), updatedAt: Number(r.updated_at) }));
}

export async function getDatasetVersions(query: Query, name: string): Promise<DatasetVersionRecord[]> {
  return (await query(`SELECT * FROM dataset_versions WHERE name = ? ORDER BY version`, [name])).map(toVersion);
}

export async function getDatasetVersion(query: Query, name: string, ref: number | 'latest' | string): Promise<DatasetVersionRecord | undefined> {
  if (typeof ref === 'number') return (await query(`SELECT * FROM dataset_versions WHERE name = ? AND version = ?`, [name, ref])).map(toVersion)[0];
  if (ref === 'latest') return (await query(`SELECT * FROM dataset_versions WHERE name = ? ORDER BY version DESC LIMIT 1`, [name])).map(toVersion)[0];
  const prefix = ref.toLowerCase();
  if (!/^[0-9a-f]{4,64}$/.test(prefix)) return undefined;
  const rows = (await query(`SELECT * FROM dataset_versions WHERE name = ? AND sha256 LIKE ? ORDER BY version LIMIT 10`, [name, `${prefix}%`])).map(toVersion);
  if (rows.length > 1) {
    throw new BatonError('usage', `"${ref}" matches ${rows.length} versions of dataset "${name}" (${rows.map((v) => `${v.version}: ${v.sha256.slice(0, 12)}`).join(', ')}). Give more digits, or the version number.`);
  }
  return rows[0];
}

export async function getDatasetLineage(query: Query, name: string, version: number): Promise<DatasetLineage | undefined> {
  const v = await getDatasetVersion(query, name, version);
  if (!v) return undefined;
  const rows = await query(`SELECT run_id, node_id, attempt FROM lineage WHERE sha256 = ? AND direction = 'read' ORDER BY run_id, node_id, attempt`, [v.sha256]);
  const readBy: AttemptRef[] = rows.map((r) => ({ runId: String(r.run_id), nodeId: String(r.node_id), attempt: Number(r.attempt) }));
  return { ...(v.producedBy ? { producedBy: v.producedBy } : {}), readBy };
}
