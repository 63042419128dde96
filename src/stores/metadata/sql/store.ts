/**
 * SqlMetadataStore: the one implementation of MetadataStore, over a SqlDriver (SQLite or PostgreSQL). Reads map
 * rows to domain records; writes compile mutations (mutations.ts) and run them in one transaction.
 */
import { BatonError } from '../../../errors.ts';
import type {
  AttemptRecord,
  CacheEntry,
  DatasetLineage,
  DatasetSummary,
  DatasetVersionRecord,
  EngineRecord,
  EventRecord,
  LineageRecord,
  LogRecord,
  MetadataStore,
  Mutation,
  NodeRecord,
  RunFilter,
  RunRecord,
  StoredValue,
} from '../../../ports/metadata.ts';
import type { HistoryOptions, MetricHistory, TrackingRunDetails, TrackingSearch, TrackingSearchPage } from '../../../ports/tracking.ts';
import type { Row, SqlDriver, SqlValue } from './driver.ts';
import { getDatasetLineage, getDatasetVersion, getDatasetVersions, listDatasets } from './datasets.ts';
import { compileMutation } from './mutations.ts';
import { getAliasHistory, getModelAliases, getModelInputs, getModelVersion, getModelVersionByRegistration, getModelVersions, getModelVersionsOfRun, getPromotion, listModels, listPromotions } from './registry.ts';
import type { AliasMoveRecord, ModelAliasRecord, ModelInput, ModelSummary, ModelVersionRecord, PromotionRecord, PromotionStatus } from '../../../ports/registry.ts';
import { getMetricHistory, getTrackingRun, searchRuns } from './tracking.ts';
import { DIALECT_WORDS, LATEST_VERSION, MIGRATIONS, MIGRATIONS_TABLE } from './schema.ts';

const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
const str = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));
const parse = (v: unknown): unknown => (v === null || v === undefined ? undefined : JSON.parse(String(v)));

function storedValue(row: Row, prefix = 'output_'): StoredValue | undefined {
  const hash = row[`${prefix}hash`];
  if (hash === null || hash === undefined) return undefined;
  const v: StoredValue = { hash: String(hash) };
  const j = row[`${prefix}json`];
  const r = row[`${prefix}ref`];
  if (j !== null && j !== undefined) v.json = String(j);
  if (r !== null && r !== undefined) v.ref = String(r);
  return v;
}

function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function toRun(r: Row): RunRecord {
  return compact({
    id: String(r.id),
    workflow: String(r.workflow),
    status: String(r.status) as RunRecord['status'],
    file: String(r.file),
    params: parse(r.params),
    options: (parse(r.options) ?? {}) as Record<string, unknown>,
    codeHash: str(r.code_hash),
    codeRef: str(r.code_ref),
    outputBinding: parse(r.output_binding) as RunRecord['outputBinding'],
    output: storedValue(r),
    error: str(r.error),
    cancelRequested: Number(r.cancel_requested) === 1,
    owner: str(r.owner),
    createdAt: Number(r.created_at),
    endedAt: num(r.ended_at),
  });
}

function toNode(r: Row): NodeRecord {
  return compact({
    runId: String(r.run_id),
    id: String(r.id),
    seq: Number(r.seq),
    spec: parse(r.spec) as NodeRecord['spec'],
    state: String(r.state) as NodeRecord['state'],
    attempts: Number(r.attempts),
    retryBase: Number(r.retry_base),
    leaseOwner: str(r.lease_owner),
    leaseUntil: num(r.lease_until),
    notBefore: num(r.not_before),
    output: storedValue(r),
    input: storedValue(r, 'input_'),
    cacheKey: str(r.cache_key),
    cacheParts: parse(r.cache_parts),
    cachedFrom: str(r.cached_from),
    expansion: parse(r.expansion) as NodeRecord['expansion'],
    error: str(r.error),
    startedAt: num(r.started_at),
    endedAt: num(r.ended_at),
  });
}

function toAttempt(r: Row): AttemptRecord {
  return compact({
    runId: String(r.run_id),
    nodeId: String(r.node_id),
    attempt: Number(r.attempt),
    state: String(r.state) as AttemptRecord['state'],
    executor: String(r.executor),
    owner: String(r.owner),
    startedAt: Number(r.started_at),
    endedAt: num(r.ended_at),
    error: str(r.error),
    errorKind: str(r.error_kind),
    cpuMs: num(r.cpu_ms),
    peakRssMb: num(r.peak_rss_mb),
    exitCode: num(r.exit_code),
  });
}

function toCache(r: Row): CacheEntry {
  return {
    key: String(r.key),
    task: String(r.task),
    runId: String(r.run_id),
    nodeId: String(r.node_id),
    output: storedValue(r) as StoredValue,
    parts: parse(r.parts),
    createdAt: Number(r.created_at),
  };
}

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

export class SqlMetadataStore implements MetadataStore {
  constructor(private readonly db: SqlDriver) {}

  get url(): string {
    return this.db.url;
  }
  get dialect(): 'sqlite' | 'postgres' {
    return this.db.dialect;
  }

  async migrate(): Promise<void> {
    const words = DIALECT_WORDS[this.db.dialect];
    await this.db.migrate(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${words.bigint} NOT NULL)`,
      `SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`,
      (applied) => {
        const newest = Math.max(0, ...applied);
        if (newest > LATEST_VERSION) {
          throw new BatonError('store', `The metadata store at ${this.db.url} has schema version ${newest}, newer than this Baton understands (${LATEST_VERSION}). Upgrade Baton, or point --store at another store.`);
        }
        return MIGRATIONS.filter((m) => !applied.has(m.version)).flatMap((m) => [
          ...m.sql(words).map((sql) => ({ sql, params: [] })),
          { sql: `INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`, params: [m.version, m.name, Date.now()] },
        ]);
      },
    );
  }

  apply(mutations: readonly Mutation[]): Promise<boolean[]> {
    return this.db.transaction(mutations.map(compileMutation));
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const rows = await this.db.query(`SELECT * FROM runs WHERE id = ?`, [runId]);
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.workflow) {
      where.push('workflow = ?');
      params.push(filter.workflow);
    }
    if (filter.before !== undefined) {
      where.push('created_at < ?');
      params.push(filter.before);
    }
    const sql = `SELECT * FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    const rows = await this.db.query(sql, [...params, filter.limit ?? 50]);
    return rows.map(toRun);
  }

  async findRunIds(prefix: string): Promise<string[]> {
    const rows = await this.db.query(`SELECT id FROM runs WHERE id = ? OR id LIKE ? ORDER BY created_at DESC LIMIT 5`, [prefix, `${prefix.replace(/[%_]/g, '')}%`]);
    const ids = rows.map((r) => String(r.id));
    return ids.includes(prefix) ? [prefix] : ids;
  }

  async getNodes(runId: string): Promise<NodeRecord[]> {
    return (await this.db.query(`SELECT * FROM nodes WHERE run_id = ? ORDER BY seq`, [runId])).map(toNode);
  }

  async getNode(runId: string, nodeId: string): Promise<NodeRecord | undefined> {
    const rows = await this.db.query(`SELECT * FROM nodes WHERE run_id = ? AND id = ?`, [runId, nodeId]);
    return rows[0] ? toNode(rows[0]) : undefined;
  }

  async getAttempts(runId: string, nodeId?: string): Promise<AttemptRecord[]> {
    const rows = nodeId
      ? await this.db.query(`SELECT * FROM attempts WHERE run_id = ? AND node_id = ? ORDER BY attempt`, [runId, nodeId])
      : await this.db.query(`SELECT * FROM attempts WHERE run_id = ? ORDER BY started_at, node_id, attempt`, [runId]);
    return rows.map(toAttempt);
  }

  async getEvents(runId: string, afterSeq = 0, limit = 100_000): Promise<EventRecord[]> {
    const rows = await this.db.query(`SELECT * FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?`, [runId, afterSeq, limit]);
    return rows.map((r) => compact({
      runId: String(r.run_id),
      seq: Number(r.seq),
      at: Number(r.at),
      type: String(r.type),
      nodeId: str(r.node_id),
      attempt: num(r.attempt),
      data: parse(r.data),
    }));
  }

  async getLogs(runId: string, options: { nodeId?: string; attempt?: number; afterSeq?: number } = {}): Promise<LogRecord[]> {
    const where = ['run_id = ?', 'seq > ?'];
    const params: SqlValue[] = [runId, options.afterSeq ?? 0];
    if (options.nodeId !== undefined) {
      where.push('node_id = ?');
      params.push(options.nodeId);
    }
    if (options.attempt !== undefined) {
      where.push('attempt = ?');
      params.push(options.attempt);
    }
    const rows = await this.db.query(`SELECT * FROM logs WHERE ${where.join(' AND ')} ORDER BY seq`, params);
    return rows.map((r) => ({
      runId: String(r.run_id),
      nodeId: String(r.node_id),
      attempt: Number(r.attempt),
      seq: Number(r.seq),
      stream: String(r.stream) as LogRecord['stream'],
      at: Number(r.at),
      text: String(r.text),
    }));
  }

  async getLineage(runId: string, nodeId?: string): Promise<LineageRecord[]> {
    const rows = nodeId
      ? await this.db.query(`SELECT * FROM lineage WHERE run_id = ? AND node_id = ? ORDER BY attempt, direction, sha256`, [runId, nodeId])
      : await this.db.query(`SELECT * FROM lineage WHERE run_id = ? ORDER BY node_id, attempt, direction, sha256`, [runId]);
    return rows.map((r) => ({
      runId: String(r.run_id),
      nodeId: String(r.node_id),
      attempt: Number(r.attempt),
      sha256: String(r.sha256),
      direction: String(r.direction) as LineageRecord['direction'],
    }));
  }

  async lookupCache(keys: readonly string[]): Promise<Map<string, CacheEntry>> {
    const out = new Map<string, CacheEntry>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const rows = await this.db.query(`SELECT * FROM cache WHERE key IN (${placeholders(chunk.length)})`, chunk);
      for (const r of rows) out.set(String(r.key), toCache(r));
    }
    return out;
  }

  async getCode(hashes: readonly string[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    if (hashes.length === 0) return out;
    const rows = await this.db.query(`SELECT hash, parts FROM code_versions WHERE hash IN (${placeholders(hashes.length)})`, [...hashes]);
    for (const r of rows) out.set(String(r.hash), parse(r.parts));
    return out;
  }

  async recentCacheEntries(task: string, limit: number): Promise<CacheEntry[]> {
    return (await this.db.query(`SELECT * FROM cache WHERE task = ? ORDER BY created_at DESC LIMIT ?`, [task, limit])).map(toCache);
  }

  private readonly query = (sql: string, params?: SqlValue[]) => this.db.query(sql, params);

  listDatasets(): Promise<DatasetSummary[]> {
    return listDatasets(this.query);
  }

  getDatasetVersions(name: string): Promise<DatasetVersionRecord[]> {
    return getDatasetVersions(this.query, name);
  }

  getDatasetVersion(name: string, ref: number | 'latest' | string): Promise<DatasetVersionRecord | undefined> {
    return getDatasetVersion(this.query, name, ref);
  }

  getDatasetLineage(name: string, version: number): Promise<DatasetLineage | undefined> {
    return getDatasetLineage(this.query, name, version);
  }

  searchRuns(search: TrackingSearch): Promise<TrackingSearchPage> {
    return searchRuns(this.query, this.db.dialect, search);
  }

  getTrackingRun(id: string): Promise<TrackingRunDetails | undefined> {
    return getTrackingRun(this.query, id);
  }

  getMetricHistory(runId: string, key: string, options?: HistoryOptions): Promise<MetricHistory> {
    return getMetricHistory(this.query, runId, key, options);
  }

  listModels(): Promise<ModelSummary[]> {
    return listModels(this.query);
  }

  getModelVersions(name: string): Promise<ModelVersionRecord[]> {
    return getModelVersions(this.query, name);
  }

  getModelVersion(name: string, version: number): Promise<ModelVersionRecord | undefined> {
    return getModelVersion(this.query, name, version);
  }

  getModelVersionByRegistration(registrationId: string): Promise<ModelVersionRecord | undefined> {
    return getModelVersionByRegistration(this.query, registrationId);
  }

  getModelVersionsOfRun(runId: string, nodeId?: string): Promise<ModelVersionRecord[]> {
    return getModelVersionsOfRun(this.query, runId, nodeId);
  }

  getModelInputs(name: string, version: number): Promise<ModelInput[]> {
    return getModelInputs(this.query, name, version);
  }

  getModelAliases(name: string): Promise<ModelAliasRecord[]> {
    return getModelAliases(this.query, name);
  }

  getAliasHistory(name: string, alias?: string): Promise<AliasMoveRecord[]> {
    return getAliasHistory(this.query, name, alias);
  }

  getPromotion(id: string): Promise<PromotionRecord | undefined> {
    return getPromotion(this.query, id);
  }

  listPromotions(filter?: { name?: string; status?: PromotionStatus }): Promise<PromotionRecord[]> {
    return listPromotions(this.query, filter);
  }

  async registerEngine(e: EngineRecord): Promise<void> {
    await this.db.transaction([[{
      sql: `INSERT INTO engines (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
      params: [e.id, e.host, e.pid, e.startedAt, e.heartbeatAt],
    }]]);
  }

  async heartbeatEngine(id: string, at: number): Promise<void> {
    await this.db.transaction([[{ sql: `UPDATE engines SET heartbeat_at = ? WHERE id = ?`, params: [at, id] }]]);
  }

  async getEngines(ids: readonly string[]): Promise<EngineRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query(`SELECT * FROM engines WHERE id IN (${placeholders(ids.length)})`, [...ids]);
    return rows.map((r) => ({ id: String(r.id), host: String(r.host), pid: Number(r.pid), startedAt: Number(r.started_at), heartbeatAt: Number(r.heartbeat_at) }));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
