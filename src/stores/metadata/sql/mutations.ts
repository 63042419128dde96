/**
 * Compiles domain mutations into SQL statements, once for both dialects. The conditional mutations are where the
 * engine's safety lives: a claim only succeeds on a claimable node with the expected attempt count, and a finish
 * only applies while the attempt still holds the node (fencing), so an attempt that ran twice commits once.
 */
import type { Mutation, NodeRecord, StoredValue } from '../../../ports/metadata.ts';
import { putDatasetVersion } from './datasets.ts';
import type { SqlValue, Statement } from './driver.ts';
import { decideModelPromotion, moveModelAlias, registerModelVersion, requestModelPromotion } from './registry.ts';
import { endTrackingRun, logTracking, startTrackingRun } from './tracking.ts';

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const opt = (v: string | number | undefined | null): SqlValue => (v === undefined ? null : v);
const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

function valueCols(v: StoredValue | undefined): SqlValue[] {
  return [v?.json ?? null, v?.ref ?? null, v?.hash ?? null];
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Multi-row inserts, chunked to stay under parameter limits. */
function insertRows(table: string, columns: string[], rows: SqlValue[][], conflict = ''): Statement[] {
  const out: Statement[] = [];
  const per = Math.max(1, Math.floor(900 / columns.length));
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const values = chunk.map(() => `(${placeholders(columns.length)})`).join(', ');
    out.push({ sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}${conflict}`, params: chunk.flat() });
  }
  return out;
}

const NODE_COLUMNS = ['run_id', 'id', 'seq', 'spec', 'state', 'attempts', 'retry_base', 'output_json', 'output_ref', 'output_hash', 'expansion', 'error'];

function nodeRow(n: NodeRecord): SqlValue[] {
  return [n.runId, n.id, n.seq, JSON.stringify(n.spec), n.state, n.attempts, n.retryBase, ...valueCols(n.output), json(n.expansion), opt(n.error)];
}

/**
 * The nodes' INSERTs, built one statement at a time as the transaction runs them: an expansion of 100,000 map items
 * then never holds every row's spec JSON and parameters at once (it set the engine's peak memory). Iterable more
 * than once: a transaction that is retried (PostgreSQL deadlock victim) runs them again.
 */
function insertNodeRows(nodes: readonly NodeRecord[]): Iterable<Statement> {
  const per = Math.max(1, Math.floor(900 / NODE_COLUMNS.length));
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < nodes.length; i += per) yield* insertRows('nodes', NODE_COLUMNS, nodes.slice(i, i + per).map(nodeRow), ' ON CONFLICT (run_id, id) DO NOTHING');
    },
  };
}

export function compileMutation(m: Mutation): Iterable<Statement> {
  switch (m.type) {
    case 'insertRun': {
      const r = m.run;
      return [{
        sql: `INSERT INTO runs (id, workflow, status, file, params, options, code_hash, code_ref, output_binding, output_json, output_ref, output_hash, error, cancel_requested, owner, created_at, ended_at)
              VALUES (${placeholders(17)})`,
        params: [r.id, r.workflow, r.status, r.file, JSON.stringify(r.params ?? null), JSON.stringify(r.options), opt(r.codeHash), opt(r.codeRef), JSON.stringify(r.outputBinding), ...valueCols(r.output), opt(r.error), r.cancelRequested ? 1 : 0, opt(r.owner), r.createdAt, opt(r.endedAt)],
      }];
    }
    case 'updateRun': {
      const sets: string[] = [];
      const params: SqlValue[] = [];
      const set = (col: string, v: SqlValue) => {
        sets.push(`${col} = ?`);
        params.push(v);
      };
      if (m.status !== undefined) set('status', m.status);
      if (m.output !== undefined) {
        set('output_json', m.output.json ?? null);
        set('output_ref', m.output.ref ?? null);
        set('output_hash', m.output.hash);
      }
      if (m.error !== undefined) set('error', m.error);
      if (m.endedAt !== undefined) set('ended_at', m.endedAt);
      if (m.owner !== undefined) set('owner', m.owner);
      if (m.cancelRequested !== undefined) set('cancel_requested', m.cancelRequested ? 1 : 0);
      if (m.codeHash !== undefined) set('code_hash', m.codeHash);
      if (m.codeRef !== undefined) set('code_ref', m.codeRef);
      if (sets.length === 0) return [];
      return [{ sql: `UPDATE runs SET ${sets.join(', ')} WHERE id = ?`, params: [...params, m.runId] }];
    }
    case 'insertNodes': {
      if (!m.ifParent) return insertNodeRows(m.nodes);
      // INSERT … SELECT so the row goes in only if the parent's expansion is ours (casts give PostgreSQL the types).
      const cols = NODE_COLUMNS.map((c) => (c === 'seq' || c === 'attempts' || c === 'retry_base' ? 'CAST(? AS INTEGER)' : 'CAST(? AS TEXT)')).join(', ');
      const parent = m.ifParent;
      return m.nodes.map((n) => ({
        sql: `INSERT INTO nodes (${NODE_COLUMNS.join(', ')}) SELECT ${cols} WHERE EXISTS (SELECT 1 FROM nodes p WHERE p.run_id = ? AND p.id = ? AND p.expansion = ?) ON CONFLICT (run_id, id) DO NOTHING`,
        params: [...nodeRow(n), n.runId, parent.nodeId, JSON.stringify(parent.expansion)],
      }));
    }
    case 'claim': {
      const dead = m.deadOwners.length ? ` OR lease_owner IN (${placeholders(m.deadOwners.length)})` : '';
      const deps = m.deps ?? [];
      const depsGuard = deps.length
        ? ` AND NOT EXISTS (SELECT 1 FROM nodes d WHERE d.run_id = ? AND d.id IN (${placeholders(deps.length)}) AND d.state <> 'succeeded')`
        : '';
      const specGuard = m.ifSpec !== undefined ? ' AND spec = ?' : '';
      return [
        {
          sql: `UPDATE nodes SET state = 'running', attempts = ?, lease_owner = ?, lease_until = ?, not_before = NULL,
                  error = NULL, started_at = COALESCE(started_at, ?)${m.input ? ', input_json = ?, input_ref = ?, input_hash = ?, cache_key = ?, cache_parts = ?' : ''}
                WHERE run_id = ? AND id = ? AND attempts = ? AND (
                  state = 'pending'
                  OR (state = 'retrying' AND COALESCE(not_before, 0) <= ?)
                  OR (state = 'running' AND (lease_until < ?${dead})))${depsGuard}${specGuard}`,
          params: [m.attempt, m.owner, m.leaseUntil, m.now, ...(m.input ? [...valueCols(m.input), opt(m.key), json(m.parts)] : []), m.runId, m.nodeId, m.attempt - 1, m.now, m.now, ...m.deadOwners, ...(deps.length ? [m.runId, ...deps] : []), ...(m.ifSpec !== undefined ? [m.ifSpec] : [])],
        },
        ...(m.attempt > 1
          ? [{
              // The previous attempt of a node taken over from a dead or expired engine is marked lost — or released,
              // when it was only claimed ahead and never started.
              sql: `UPDATE attempts SET state = CASE WHEN state = 'claimed' THEN 'released' ELSE 'lost' END, ended_at = ?,
                      error = CASE WHEN state = 'claimed' THEN 'claimed ahead; the engine stopped before starting it' ELSE 'the engine running it stopped (lease expired)' END
                    WHERE run_id = ? AND node_id = ? AND attempt = ? AND state IN ('running', 'claimed')`,
              params: [m.now, m.runId, m.nodeId, m.attempt - 1],
              onlyIf: true,
            }]
          : []),
        {
          sql: `INSERT INTO attempts (run_id, node_id, attempt, state, executor, owner, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          params: [m.runId, m.nodeId, m.attempt, m.ahead ? 'claimed' : 'running', m.executor, m.owner, m.now],
          onlyIf: true,
        },
      ];
    }
    case 'startAttempts':
      return m.attempts.map((a) => ({
        sql: `UPDATE attempts SET state = 'running', started_at = ? WHERE run_id = ? AND node_id = ? AND attempt = ? AND state = 'claimed'`,
        params: [m.at, m.runId, a.nodeId, a.attempt],
      }));
    case 'releaseAttempts':
      return m.attempts.map((a) => ({
        sql: `UPDATE attempts SET state = 'released', ended_at = ?, error = ? WHERE run_id = ? AND node_id = ? AND attempt = ? AND state = 'claimed'`,
        params: [m.at, m.reason, m.runId, a.nodeId, a.attempt],
      }));
    case 'finish':
      return [
        {
          sql: `UPDATE nodes SET state = ?, output_json = ?, output_ref = ?, output_hash = ?, error = ?, not_before = ?,
                  lease_owner = NULL, lease_until = NULL, ended_at = ?, started_at = CASE WHEN retry_base + 1 = ? THEN COALESCE(?, started_at) ELSE started_at END
                WHERE run_id = ? AND id = ? AND attempts = ? AND lease_owner = ? AND state = 'running'`,
          params: [m.nodeState, ...valueCols(m.output), opt(m.error), opt(m.notBefore), m.at, m.attempt, opt(m.startedAt), m.runId, m.nodeId, m.attempt, m.owner],
          decides: true,
        },
        {
          sql: `UPDATE attempts SET state = ?, ended_at = ?, error = ?, error_kind = ?, cpu_ms = ?, peak_rss_mb = ?, exit_code = ?, started_at = COALESCE(?, started_at) WHERE run_id = ? AND node_id = ? AND attempt = ?`,
          params: [m.attemptState, m.at, opt(m.error), opt(m.errorKind), opt(m.cpuMs), opt(m.peakRssMb), opt(m.exitCode), opt(m.startedAt), m.runId, m.nodeId, m.attempt],
          onlyIf: true,
        },
        {
          sql: `UPDATE attempts SET state = 'lost', ended_at = ?, error = ? WHERE run_id = ? AND node_id = ? AND attempt = ?`,
          params: [m.at, 'finished after another attempt took the node over; its result was discarded', m.runId, m.nodeId, m.attempt],
          onlyIf: false,
        },
      ];
    case 'setState': {
      const terminal = ['succeeded', 'failed', 'skipped', 'upstream_failed', 'cancelled'].includes(m.state);
      const sets = m.retryBase === undefined ? ['state = ?', 'ended_at = COALESCE(?, ended_at)'] : ['state = ?'];
      const params: SqlValue[] = m.retryBase === undefined ? [m.state, terminal ? m.at : null] : [m.state];
      if (m.output) {
        sets.push('output_json = ?', 'output_ref = ?', 'output_hash = ?');
        params.push(...valueCols(m.output));
      }
      if (m.cachedFrom !== undefined) {
        sets.push('cached_from = ?');
        params.push(m.cachedFrom);
      }
      if (m.error !== undefined) {
        sets.push('error = ?');
        params.push(m.error);
      }
      if (m.expansion !== undefined) {
        sets.push('expansion = ?');
        params.push(JSON.stringify(m.expansion));
      }
      if (m.input !== undefined) {
        sets.push('input_json = ?', 'input_ref = ?', 'input_hash = ?', 'cache_key = ?', 'cache_parts = ?');
        params.push(...valueCols(m.input), opt(m.key), json(m.parts));
      }
      if (m.retryBase !== undefined) {
        sets.push('retry_base = ?', 'lease_owner = NULL', 'lease_until = NULL', 'not_before = NULL', 'ended_at = NULL');
        params.push(m.retryBase);
      }
      if (m.state === 'running') {
        sets.push('started_at = COALESCE(started_at, ?)');
        params.push(m.at);
      }
      const guard = m.ifExpansion !== undefined ? ` AND COALESCE(expansion, '') = ?` : '';
      return [{
        sql: `UPDATE nodes SET ${sets.join(', ')} WHERE run_id = ? AND id = ? AND state IN (${placeholders(m.from.length)})${guard}`,
        params: [...params, m.runId, m.nodeId, ...m.from, ...(m.ifExpansion !== undefined ? [m.ifExpansion === null ? '' : JSON.stringify(m.ifExpansion)] : [])],
      }];
    }
    case 'setInput':
      return [{
        sql: `UPDATE nodes SET input_json = ?, input_ref = ?, input_hash = ?, cache_key = ?, cache_parts = ? WHERE run_id = ? AND id = ?`,
        params: [...valueCols(m.input), opt(m.key), json(m.parts), m.runId, m.nodeId],
      }];
    case 'putCode':
      return insertRows('code_versions', ['hash', 'task', 'parts', 'created_at'], [[m.hash, m.task, JSON.stringify(m.parts), m.at]], ' ON CONFLICT (hash) DO NOTHING');
    case 'renewLeases':
      if (m.nodeIds.length === 0) return [];
      return chunks(m.nodeIds, 500).map((ids) => ({
        sql: `UPDATE nodes SET lease_until = ? WHERE run_id = ? AND id IN (${placeholders(ids.length)}) AND lease_owner = ? AND state = 'running'`,
        params: [m.leaseUntil, m.runId, ...ids, m.owner],
      }));
    case 'events':
      return insertRows('events', ['run_id', 'at', 'type', 'node_id', 'attempt', 'data'], m.events.map((e) => [e.runId, e.at, e.type, opt(e.nodeId), opt(e.attempt), json(e.data)]));
    case 'logs':
      return insertRows('logs', ['run_id', 'node_id', 'attempt', 'stream', 'at', 'text'], m.logs.map((l) => [l.runId, l.nodeId, l.attempt, l.stream, l.at, l.text]));
    case 'putCache': {
      const e = m.entry;
      return insertRows('cache', ['key', 'task', 'run_id', 'node_id', 'output_json', 'output_ref', 'output_hash', 'parts', 'created_at'],
        [[e.key, e.task, e.runId, e.nodeId, ...valueCols(e.output), JSON.stringify(e.parts), e.createdAt]],
        ' ON CONFLICT (key) DO NOTHING');
    }
    case 'lineage':
      return insertRows('lineage', ['run_id', 'node_id', 'attempt', 'sha256', 'direction'], m.records.map((r) => [r.runId, r.nodeId, r.attempt, r.sha256, r.direction]), ' ON CONFLICT DO NOTHING');
    case 'putDatasetVersion':
      return putDatasetVersion(m.version);
    case 'startTrackingRun':
      return startTrackingRun(m.run, m.ifAttempt);
    case 'endTrackingRun':
      return endTrackingRun(m.runId, m.status, m.endTime);
    case 'logTracking':
      return logTracking(m.batch);
    case 'registerModelVersion':
      return registerModelVersion(m.version, m.ifAttempt);
    case 'moveModelAlias':
      return moveModelAlias(m.move);
    case 'requestModelPromotion':
      return requestModelPromotion(m.promotion);
    case 'decideModelPromotion':
      return decideModelPromotion(m.id, m.status, m.actor, m.at, m.reason, m.move);
  }
}
