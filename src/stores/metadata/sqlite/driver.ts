/**
 * SQLite adapter (better-sqlite3): the embedded default, a WAL-mode file under .baton/. better-sqlite3 is
 * synchronous, so a transaction runs start to end without yielding; concurrent writers in other processes wait on
 * SQLite's busy timeout instead of failing with "database is locked".
 *
 * Durability: WAL with synchronous=NORMAL by default — every commit survives a crash of the process (the engine's
 * SIGKILL test relies on this); an OS crash or power loss may lose the last commits but never corrupts the file.
 * `?sync=full` in the store URL fsyncs every commit.
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BatonError, messageOf } from '../../../errors.ts';
import { runGroupSync, type Row, type SqlDriver, type SqlValue, type Statement } from '../sql/driver.ts';

export interface SqliteOptions {
  /** 'normal' (default) or 'full' (fsync each commit). */
  sync?: 'normal' | 'full';
  /** How long a writer waits for another process's transaction. @default 10000 */
  busyTimeoutMs?: number;
}

export function openSqliteDriver(path: string, options: SqliteOptions = {}): SqlDriver {
  const file = path === ':memory:' ? path : resolve(path);
  const url = `sqlite:${file}`;
  if (file !== ':memory:') {
    try {
      if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) {
        throw new BatonError('store', `The metadata store path ${file} is a directory, not a SQLite file. Use --store sqlite:${file}/baton.db.`);
      }
      mkdirSync(dirname(file), { recursive: true });
    } catch (err) {
      if (err instanceof BatonError) throw err;
      throw new BatonError('store', `Cannot create the folder for the metadata store ${file}: ${messageOf(err)}. Choose a writable path with --store.`, { cause: err });
    }
  }
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: options.busyTimeoutMs ?? 10_000 });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (err) {
    throw storeError(file, err);
  }

  const cache = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      if (cache.size > 500) cache.clear();
      cache.set(sql, s);
    }
    return s;
  };
  const exec = (s: Statement): number => prepare(s.sql).run(...(s.params as SqlValue[])).changes;
  const tx = db.transaction((groups: Iterable<Statement>[]) => groups.map((g) => runGroupSync(g, exec)));

  return {
    dialect: 'sqlite',
    url,
    transaction(groups) {
      try {
        return Promise.resolve(tx.immediate(groups));
      } catch (err) {
        return Promise.reject(storeError(file, err));
      }
    },
    query(sql, params = []) {
      try {
        const s = prepare(sql);
        return Promise.resolve(s.reader ? (s.all(...params) as Row[]) : (s.run(...params), []));
      } catch (err) {
        return Promise.reject(storeError(file, err));
      }
    },
    migrate(ddl, readApplied, plan) {
      // Synchronous start to end: a migration never yields while it holds SQLite's write lock.
      try {
        db.exec(ddl);
        db.transaction(() => {
          const applied = new Set((db.prepare(readApplied).all() as Row[]).map((r) => Number(r.version)));
          for (const s of plan(applied)) db.prepare(s.sql).run(...(s.params as SqlValue[]));
        }).immediate();
        cache.clear();
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(storeError(file, err));
      }
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}

function storeError(file: string, err: unknown): BatonError {
  if (err instanceof BatonError) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new BatonError('store', `The metadata store ${file} is not a valid Baton SQLite database (${messageOf(err)}). Baton did not modify it. Point --store at another file, or move this one away to start fresh.`, { cause: err });
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY') {
    return new BatonError('store', `Cannot open the metadata store ${file} for writing (${messageOf(err)}). Check the path and its permissions, or choose another with --store.`, { cause: err });
  }
  if (code === 'SQLITE_BUSY') {
    return new BatonError('store', `The metadata store ${file} stayed locked by another process past the busy timeout. Retry, or raise it with ?busyTimeoutMs=.`, { cause: err });
  }
  return new BatonError('store', `Metadata store ${file} failed: ${messageOf(err)}`, { cause: err });
}
