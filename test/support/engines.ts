/** Helpers for tests that run engines in child processes: read a SQLite store from outside, start engines. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

const root = new URL('../..', import.meta.url).pathname;
const driver = join(root, 'test/fixtures/drive-run.ts');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A read-only query on a SQLite store that another process writes. */
export function query<T>(store: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(store, { readonly: true, timeout: 5000 });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Queries (with `?` placeholders) on a store another process writes: SQLite (read-only) or PostgreSQL. */
export function storeQuery(url: string): (<T>(sql: string, ...params: unknown[]) => Promise<T[]>) & { close(): Promise<void> } {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    return Object.assign(<T>(sql: string, ...params: unknown[]) => Promise.resolve(query<T>(file, sql, ...params)), { close: () => Promise.resolve() });
  }
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const run = async <T>(sql: string, ...params: unknown[]): Promise<T[]> => {
    let n = 0;
    return (await pool.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
  };
  return Object.assign(run, { close: () => pool.end() });
}

/** Starts `n` engine processes (test/fixtures/drive-run.ts) on one run, together; resolves to what each reported. */
export function driveWithEngines<T = { status: string; engine: string }>(storeUrl: string, artifacts: string, runId: string, dir: string, n = 3): Promise<T[]> {
  const barrier = mkdtempSync(join(dir, 'barrier-'));
  return Promise.all(
    Array.from({ length: n }, () =>
      new Promise<T>((resolve, reject) => {
        const child = spawn(process.execPath, ['--conditions=baton-source', '--import', 'tsx', driver, storeUrl, artifacts, runId, barrier, String(n)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as T) : reject(new Error(`engine exited ${code}: ${err}`))));
      }),
    ),
  );
}
