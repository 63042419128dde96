/**
 * PostgreSQL adapter (pg). Same schema and queries as SQLite: `?` placeholders are rewritten to `$n` once per
 * statement text. A pool serves reads; a transaction holds one client. Migrations take an advisory lock so that
 * several engines starting at once migrate once.
 */
import pg from 'pg';
import { BatonError, messageOf } from '../../../errors.ts';
import { runGroup, type Row, type SqlDriver, type SqlValue } from '../sql/driver.ts';

const MIGRATION_LOCK = 0x6261746f6e; // "baton"

const rewritten = new Map<string, string>();
function toPg(sql: string): string {
  let out = rewritten.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    if (rewritten.size > 2000) rewritten.clear();
    rewritten.set(sql, out);
  }
  return out;
}

export function openPostgresDriver(url: string, options: { max?: number } = {}): SqlDriver {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 4 });
  pool.on('error', () => {
    /* idle client errors surface on the next query */
  });
  const safeUrl = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  const wrap = (err: unknown): BatonError =>
    err instanceof BatonError
      ? err
      : new BatonError('store', `PostgreSQL store ${safeUrl} failed: ${messageOf(err)}. Check that the server is running and the URL is right.`, { cause: err });

  /** Runs fn in BEGIN … COMMIT on one pooled client; rolls back and wraps the error on failure. */
  async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw wrap(err);
    }
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw wrap(err);
    } finally {
      client.release();
    }
  }

  return {
    dialect: 'postgres',
    url: safeUrl,
    async transaction(groups) {
      // Engines sharing a store lock node rows in whatever order their batches name them, so PostgreSQL may pick
      // one of two transactions as a deadlock victim (or fail one for serialization). Nothing of it was applied:
      // run it again, after a short random pause so the two do not collide again.
      for (let attempt = 1; ; attempt++) {
        try {
          return await inTransaction(async (client) => {
            const results: boolean[] = [];
            for (const g of groups) {
              results.push(await runGroup(g, async (st) => (await client.query(toPg(st.sql), st.params as unknown[])).rowCount ?? 0));
            }
            return results;
          });
        } catch (err) {
          const code = ((err as { cause?: { code?: string } }).cause ?? {}).code;
          if ((code !== '40P01' && code !== '40001') || attempt >= 8) throw err;
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
        }
      }
    },
    async query(sql, params: SqlValue[] = []) {
      try {
        return (await pool.query(toPg(sql), params as unknown[])).rows as Row[];
      } catch (err) {
        throw wrap(err);
      }
    },
    migrate(ddl, readApplied, plan) {
      return inTransaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await client.query(ddl);
        const applied = new Set((await client.query(readApplied)).rows.map((r: Row) => Number(r.version)));
        for (const st of plan(applied)) await client.query(toPg(st.sql), st.params as unknown[]);
      });
    },
    async close() {
      await pool.end();
    },
  };
}
