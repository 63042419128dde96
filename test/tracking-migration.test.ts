// The migration adding value_num (schema.ts, "tracking: logged artifacts; …") on a store that already holds
// tracking data: params and tags logged before it get their numeric copy filled in — including text a double cannot
// hold, which must not make the migration fail — so numeric filters answer as the reference evaluator does. On
// SQLite and PostgreSQL, each built with the migrations before it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openMetadataStore } from '../src/composition/adapters.ts';
import { DIALECT_WORDS, MIGRATIONS } from '../src/stores/metadata/sql/schema.ts';
import { searchInMemory, textNumber, type RunRecord } from '../src/tracking/search/evaluate.ts';
import { parseFilter } from '../src/tracking/search/parser.ts';
import { freshPostgresDatabase } from './support/postgres.ts';

const VERSION = MIGRATIONS.find((m) => m.name.startsWith('tracking: logged artifacts'))!.version;
const VALUES = ['6', '6.0', '1e1', '1E+1', '-3', '0.5', '-0', '06', '+6', ' 6', '6.', '.5', 'six', '', '1e400', '-1e400', '1e-400', '1' + '0'.repeat(400), '0.' + '0'.repeat(400) + '1', '1e99999999', '12345678901234567890'];
const FILTERS = ['params.v >= 6', 'params.v < 0', 'params.v = 0', 'params.v != 6', 'params.v > 1e300', 'tags.v in (6, 10)', "params.v = '06'"];

/** Statements creating the schema as it was before that migration, then the tracking rows of `runs`. */
function before(dialect: 'sqlite' | 'postgres', runs: RunRecord[]): string[] {
  const d = DIALECT_WORDS[dialect];
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  return [
    `CREATE TABLE baton_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${d.bigint} NOT NULL)`,
    ...MIGRATIONS.filter((m) => m.version < VERSION).flatMap((m) => [...m.sql(d), `INSERT INTO baton_migrations VALUES (${m.version}, ${q(m.name)}, 0)`]),
    ...runs.flatMap((r) => [
      `INSERT INTO tracking_runs (id, experiment, status, start_time) VALUES (${q(r.id)}, 'e', 'succeeded', ${r.startTime})`,
      ...Object.entries(r.params).map(([k, v]) => `INSERT INTO tracking_params (run_id, key, value) VALUES (${q(r.id)}, ${q(k)}, ${q(v)})`),
      ...Object.entries(r.tags).map(([k, v]) => `INSERT INTO tracking_tags (run_id, key, value) VALUES (${q(r.id)}, ${q(k)}, ${q(v)})`),
    ]),
  ];
}

const runs: RunRecord[] = VALUES.map((v, i) => ({ id: `r${String(i).padStart(2, '0')}`, experiment: 'e', name: null, status: 'succeeded', startTime: i, endTime: null, params: { v }, metrics: {}, tags: { v } }));

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`[${dialect}] migration ${VERSION} fills in the numeric copy of params and tags logged before it`, async () => {
    let url: string;
    let cleanup: () => Promise<void>;
    if (dialect === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'baton-migration-'));
      url = `sqlite:${join(dir, 'b.db')}`;
      const db = new Database(join(dir, 'b.db'));
      for (const s of before('sqlite', runs)) db.exec(s);
      db.close();
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else {
      const fresh = await freshPostgresDatabase();
      url = fresh.url;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      for (const s of before('postgres', runs)) await client.query(s);
      await client.end();
      cleanup = () => fresh.drop();
    }
    try {
      const store = await openMetadataStore(url); // migrates to the latest version
      try {
        for (const filter of FILTERS) {
          const expected = searchInMemory(runs, parseFilter(filter)).map((r) => r.id);
          const got = (await store.searchRuns({ filter, orderBy: 'attributes.run_id' })).runs.map((r) => r.id);
          assert.deepEqual(got, expected, filter);
        }
        assert.ok(searchInMemory(runs, parseFilter('params.v >= 6')).length >= 5, 'the filters see the numbers');
        // What evaluate.ts says each text holds, for the record: out of range follows JavaScript.
        assert.deepEqual([textNumber('1e400'), textNumber('1e-400'), textNumber('06')], [Infinity, 0, null]);
      } finally {
        await store.close();
      }
    } finally {
      await cleanup();
    }
  });
}
