/**
 * Versioned migrations of the metadata schema, written once for both dialects. Types differ only in a few words
 * (integer keys, big integers), filled in per dialect. Add a migration by appending to MIGRATIONS; never edit one
 * that has shipped.
 */

export interface Migration {
  version: number;
  name: string;
  sql: (d: DialectWords) => string[];
}

export interface DialectWords {
  /** For the rare statement written differently per dialect (a data migration), never for plain DDL. */
  dialect: 'sqlite' | 'postgres';
  /** Increasing integer primary key column type. */
  serial: string;
  bigint: string;
  /**
   * Table option for tables keyed by their primary key: on SQLite the row lives in the key's b-tree, so a write
   * touches one page fewer (each commit writes every touched page to the WAL: fewer pages, faster commits).
   */
  clustered: string;
}

export const DIALECT_WORDS: Record<'sqlite' | 'postgres', DialectWords> = {
  // INTEGER PRIMARY KEY without AUTOINCREMENT still increases (rows are never deleted) and skips sqlite_sequence.
  sqlite: { dialect: 'sqlite', serial: 'INTEGER PRIMARY KEY', bigint: 'INTEGER', clustered: ' WITHOUT ROWID' },
  postgres: { dialect: 'postgres', serial: 'BIGSERIAL PRIMARY KEY', bigint: 'BIGINT', clustered: '' },
};

/** Bookkeeping table of applied migrations. Its presence is what marks a SQLite file as a Baton store. */
export const MIGRATIONS_TABLE = 'baton_migrations';

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'core: runs, nodes, attempts, events, logs, cache, lineage, code versions, engines',
    sql: (d) => [
      `CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        workflow TEXT NOT NULL,
        status TEXT NOT NULL,
        file TEXT NOT NULL,
        params TEXT NOT NULL,
        options TEXT NOT NULL,
        code_hash TEXT,
        code_ref TEXT,
        output_binding TEXT NOT NULL,
        output_json TEXT,
        output_ref TEXT,
        output_hash TEXT,
        error TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        owner TEXT,
        created_at ${d.bigint} NOT NULL,
        ended_at ${d.bigint}
      )`,
      `CREATE INDEX runs_created ON runs (created_at)`,
      `CREATE INDEX runs_workflow ON runs (workflow, created_at)`,
      `CREATE INDEX runs_status ON runs (status, created_at)`,
      `CREATE TABLE nodes (
        run_id TEXT NOT NULL,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        spec TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        retry_base INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until ${d.bigint},
        not_before ${d.bigint},
        output_json TEXT,
        output_ref TEXT,
        output_hash TEXT,
        input_json TEXT,
        input_ref TEXT,
        input_hash TEXT,
        cache_key TEXT,
        cache_parts TEXT,
        cached_from TEXT,
        expansion TEXT,
        error TEXT,
        started_at ${d.bigint},
        ended_at ${d.bigint},
        PRIMARY KEY (run_id, id)
      )${d.clustered}`,
      `CREATE TABLE attempts (
        run_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        state TEXT NOT NULL,
        executor TEXT NOT NULL,
        owner TEXT NOT NULL,
        started_at ${d.bigint} NOT NULL,
        ended_at ${d.bigint},
        error TEXT,
        error_kind TEXT,
        cpu_ms DOUBLE PRECISION,
        peak_rss_mb DOUBLE PRECISION,
        exit_code INTEGER,
        PRIMARY KEY (run_id, node_id, attempt)
      )${d.clustered}`,
      `CREATE TABLE events (
        seq ${d.serial},
        run_id TEXT NOT NULL,
        at ${d.bigint} NOT NULL,
        type TEXT NOT NULL,
        node_id TEXT,
        attempt INTEGER,
        data TEXT
      )`,
      `CREATE INDEX events_run ON events (run_id, seq)`,
      `CREATE TABLE logs (
        seq ${d.serial},
        run_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        stream TEXT NOT NULL,
        at ${d.bigint} NOT NULL,
        text TEXT NOT NULL
      )`,
      `CREATE INDEX logs_run ON logs (run_id, node_id, seq)`,
      `CREATE TABLE cache (
        key TEXT PRIMARY KEY,
        task TEXT NOT NULL,
        run_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        output_json TEXT,
        output_ref TEXT,
        output_hash TEXT NOT NULL,
        parts TEXT NOT NULL,
        created_at ${d.bigint} NOT NULL
      )${d.clustered}`,
      // No index on cache.task: only \`cache explain\` lists a task's entries, and every index costs each commit a page.
      `CREATE TABLE lineage (
        run_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        direction TEXT NOT NULL,
        PRIMARY KEY (run_id, node_id, attempt, sha256, direction)
      )${d.clustered}`,
      `CREATE INDEX lineage_sha ON lineage (sha256)`,
      `CREATE TABLE code_versions (
        hash TEXT PRIMARY KEY,
        task TEXT NOT NULL,
        parts TEXT NOT NULL,
        created_at ${d.bigint} NOT NULL
      )${d.clustered}`,
      `CREATE TABLE engines (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at ${d.bigint} NOT NULL,
        heartbeat_at ${d.bigint} NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'datasets: named, content-addressed dataset versions',
    sql: (d) => [
      // One row per dataset name. Registering a version first upserts this row, which locks it until commit: the
      // version number (max + 1) is then computed by one registration of that name at a time, on both dialects.
      `CREATE TABLE datasets (
        name TEXT PRIMARY KEY,
        created_at ${d.bigint} NOT NULL
      )${d.clustered}`,
      `CREATE TABLE dataset_versions (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        format TEXT NOT NULL,
        size ${d.bigint} NOT NULL,
        row_count ${d.bigint} NOT NULL,
        schema_json TEXT NOT NULL,
        profile_ref TEXT,
        created_at ${d.bigint} NOT NULL,
        run_id TEXT,
        node_id TEXT,
        attempt INTEGER,
        PRIMARY KEY (name, version)
      )${d.clustered}`,
      `CREATE UNIQUE INDEX dataset_versions_sha ON dataset_versions (name, sha256)`,
    ],
  },
  {
    version: 3,
    name: 'tracking: experiments, tracking runs, params, tags, metric history and latest metrics',
    // Names and columns are the ones src/stores/metadata/sql/search.ts queries; its RECOMMENDED_INDEXES are created here.
    sql: (d) => [
      `CREATE TABLE tracking_experiments (
        name TEXT PRIMARY KEY,
        created_at ${d.bigint} NOT NULL
      )${d.clustered}`,
      `CREATE TABLE tracking_runs (
        id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL,
        name TEXT,
        status TEXT NOT NULL,
        start_time ${d.bigint} NOT NULL,
        end_time ${d.bigint},
        parent_id TEXT,
        workflow_run_id TEXT,
        node_id TEXT,
        attempt INTEGER
      )`,
      `CREATE INDEX tracking_runs_parent ON tracking_runs (parent_id)`,
      `CREATE TABLE tracking_params (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      )${d.clustered}`,
      `CREATE TABLE tracking_tags (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      )${d.clustered}`,
      // Full history, clustered by (run, key, step): a history read is one range scan. Identical points (same step,
      // time and value) are one row, so a retried flush stores nothing twice.
      `CREATE TABLE tracking_metrics (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        step ${d.bigint} NOT NULL,
        ts ${d.bigint} NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (run_id, key, step, ts, value)
      )${d.clustered}`,
      // Summaries of each run of TILE_STEPS consecutive steps of a metric, kept up to date as points arrive, so a
      // chart of a million-point history reads about two thousand rows instead of a million.
      `CREATE TABLE tracking_metric_tiles (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        tile ${d.bigint} NOT NULL,
        n ${d.bigint} NOT NULL,
        vmin DOUBLE PRECISION NOT NULL,
        vmin_step ${d.bigint} NOT NULL,
        vmax DOUBLE PRECISION NOT NULL,
        vmax_step ${d.bigint} NOT NULL,
        PRIMARY KEY (run_id, key, tile)
      )${d.clustered}`,
      `CREATE TABLE tracking_latest_metrics (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        step ${d.bigint} NOT NULL,
        ts ${d.bigint} NOT NULL,
        PRIMARY KEY (run_id, key)
      )${d.clustered}`,
      // A copy of RECOMMENDED_INDEXES as of this migration (a shipped migration never changes; a test compares).
      'CREATE INDEX tracking_latest_metrics_kv ON tracking_latest_metrics (key, value, run_id)',
      'CREATE INDEX tracking_params_kv ON tracking_params (key, value, run_id)',
      'CREATE INDEX tracking_tags_kv ON tracking_tags (key, value, run_id)',
      'CREATE INDEX tracking_runs_experiment ON tracking_runs (experiment, start_time)',
      'CREATE INDEX tracking_runs_start ON tracking_runs (start_time)',
    ],
  },
  {
    version: 4,
    name: 'model registry: models, versions, aliases with their history, promotions',
    sql: (d) => [
      // A model's row is also the lock its registrations and alias moves take (see src/stores/metadata/sql/registry.ts).
      `CREATE TABLE models (
        name TEXT PRIMARY KEY,
        created_at ${d.bigint} NOT NULL,
        description TEXT
      )${d.clustered}`,
      `CREATE TABLE model_versions (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        registration_id TEXT NOT NULL,
        artifact TEXT NOT NULL,
        flavor TEXT NOT NULL,
        signature TEXT,
        metrics TEXT NOT NULL,
        tags TEXT NOT NULL,
        description TEXT,
        run_id TEXT,
        node_id TEXT,
        attempt INTEGER,
        code_hash TEXT,
        created_at ${d.bigint} NOT NULL,
        PRIMARY KEY (name, version)
      )${d.clustered}`,
      `CREATE UNIQUE INDEX model_versions_registration ON model_versions (registration_id)`,
      `CREATE INDEX model_versions_run ON model_versions (run_id, node_id)`,
      `CREATE TABLE model_aliases (
        name TEXT NOT NULL,
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at ${d.bigint} NOT NULL,
        PRIMARY KEY (name, alias)
      )${d.clustered}`,
      `CREATE TABLE model_alias_history (
        seq ${d.serial},
        name TEXT NOT NULL,
        alias TEXT NOT NULL,
        from_version INTEGER,
        to_version INTEGER NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        at ${d.bigint} NOT NULL
      )`,
      `CREATE INDEX model_alias_history_alias ON model_alias_history (name, alias, seq)`,
      `CREATE TABLE model_promotions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        reason TEXT NOT NULL,
        gate_report TEXT,
        decided_by TEXT,
        decided_at ${d.bigint},
        decision_reason TEXT,
        created_at ${d.bigint} NOT NULL
      )`,
      `CREATE INDEX model_promotions_status ON model_promotions (status, created_at)`,
      `CREATE INDEX model_promotions_name ON model_promotions (name, created_at)`,
    ],
  },
  {
    version: 5,
    name: 'tracking: logged artifacts; numeric copies of param and tag values',
    sql: (d) => [
      // value_num: the number a param or tag value holds when its text looks like a JSON number (the rule of
      // src/tracking/search/evaluate.ts NUMERIC_TEXT), else NULL. logTracking writes it; a numeric filter compares it
      // (one range scan of tracking_params_kn) instead of checking and casting every value of the key.
      'ALTER TABLE tracking_params ADD COLUMN value_num DOUBLE PRECISION',
      'ALTER TABLE tracking_tags ADD COLUMN value_num DOUBLE PRECISION',
      ...backfillValueNum(d, 'tracking_params'),
      ...backfillValueNum(d, 'tracking_tags'),
      'CREATE INDEX tracking_params_kn ON tracking_params (key, value_num, run_id)',
      // One row per (tracking run, name); a later artifact under the same name replaces the earlier one. `handle` is
      // the handle as JSON; kind/sha256/size/dataset are copied out of it for queries.
      `CREATE TABLE tracking_artifacts (
        run_id TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size ${d.bigint} NOT NULL,
        dataset TEXT,
        handle TEXT NOT NULL,
        logged_at ${d.bigint} NOT NULL,
        PRIMARY KEY (run_id, name)
      )${d.clustered}`,
      'CREATE INDEX tracking_artifacts_sha ON tracking_artifacts (sha256)',
    ],
  },
];

/**
 * Migration 5's fill of value_num for rows logged before it. SQLite: JSON's number grammar is NUMERIC_TEXT (JSON
 * allows surrounding whitespace, NUMERIC_TEXT does not). PostgreSQL: the same regex (no `?` in it: the driver would
 * take it for a parameter), then a cast; values a double cannot hold (1e400, 1e-400) would make the cast raise, so
 * short ones are cast in bulk and the rest one by one, out-of-range ones becoming ±Infinity or 0 as in JavaScript.
 */
function backfillValueNum(d: DialectWords, table: string): string[] {
  if (d.dialect === 'sqlite') {
    return [
      `UPDATE ${table} SET value_num = CASE WHEN json_valid(value) AND length(trim(value, ' ' || char(9, 10, 13))) = length(value)
        THEN CASE WHEN json_type(value) IN ('integer', 'real') THEN CAST(value AS REAL) END END`,
    ];
  }
  const number = (exponentDigits: string) => `'^-{0,1}(0|[1-9][0-9]*)([.][0-9]+){0,1}([eE][-+]{0,1}[0-9]${exponentDigits}){0,1}$'`;
  return [
    // At most 40 characters and a two-digit exponent: between 1e-140 and 1e140, always a double.
    `UPDATE ${table} SET value_num = CAST(value AS DOUBLE PRECISION) WHERE length(value) <= 40 AND value ~ ${number('{1,2}')}`,
    `DO $$
    DECLARE r RECORD;
    BEGIN
      FOR r IN SELECT run_id, key, value FROM ${table} WHERE value_num IS NULL AND value ~ ${number('+')} LOOP
        BEGIN
          UPDATE ${table} SET value_num = CAST(r.value AS DOUBLE PRECISION) WHERE run_id = r.run_id AND key = r.key;
        EXCEPTION WHEN numeric_value_out_of_range OR invalid_text_representation THEN
          BEGIN
            UPDATE ${table} SET value_num = CASE WHEN abs(CAST(r.value AS NUMERIC)) < 1 THEN 0 WHEN r.value LIKE '-%' THEN CAST('-Infinity' AS DOUBLE PRECISION) ELSE CAST('Infinity' AS DOUBLE PRECISION) END
              WHERE run_id = r.run_id AND key = r.key;
          EXCEPTION WHEN OTHERS THEN
            UPDATE ${table} SET value_num = CASE WHEN r.value ~ '[eE]-' THEN 0 WHEN r.value LIKE '-%' THEN CAST('-Infinity' AS DOUBLE PRECISION) ELSE CAST('Infinity' AS DOUBLE PRECISION) END
              WHERE run_id = r.run_id AND key = r.key;
          END;
        END;
      END LOOP;
    END $$`,
  ];
}

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
