/**
 * SQLite adapter (better-sqlite3): the embedded default, a WAL-mode file under .baton/. better-sqlite3 is
 * synchronous, so a transaction runs start to end without yielding; concurrent writers in other processes wait on
 * SQLite's busy timeout instead of failing with "database is locked".
 *
 * Durability: WAL with synchronous=NORMAL by default — every commit survives a crash of the process (the engine's
 * SIGKILL test relies on this); an OS crash or power loss may lose the last commits but never corrupts the file.
 * `?sync=full` in the store URL fsyncs every commit.
 *
 * Location: checked first (location.ts): a bad path fails at once; a file that is not SQLite, or SQLite without
 * Baton's schema, is refused and left untouched; a 0-byte file is a new store. A store this process cannot write
 * (read-only file or folder) is opened read-only: reading commands work, migrations are not run (the schema must
 * be current), and the first write fails with a store error saying why.
 */
import Database from 'better-sqlite3';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BatonError, messageOf } from '../../../errors.ts';
import { runGroupSync, type Row, type SqlDriver, type SqlValue, type Statement } from '../sql/driver.ts';
import { MIGRATIONS_TABLE } from '../sql/schema.ts';
import { checkStoreLocation } from './location.ts';

export interface SqliteOptions {
  /** 'normal' (default) or 'full' (fsync each commit). */
  sync?: 'normal' | 'full';
  /** How long a writer waits for another process's transaction. @default 10000 */
  busyTimeoutMs?: number;
}

export function openSqliteDriver(path: string, options: SqliteOptions = {}): SqlDriver {
  const file = path === ':memory:' ? path : resolve(path);
  const url = `sqlite:${file}`;
  // Why the store is opened read-only (the file or its folder cannot be written), or undefined.
  let readOnly: string | undefined;
  let db: Database.Database;
  try {
    const location = file === ':memory:' ? undefined : checkStoreLocation(file);
    readOnly = location?.writable === false ? location.readOnlyBecause : undefined;
    if (readOnly && location?.kind === 'empty') {
      throw new BatonError('store', `The metadata store ${file} is empty and read-only (${readOnly}), so Baton can neither read runs from it nor create it. Make it writable, or point --store at another store.`);
    }
    db = readOnly ? openReadOnly(file, readOnly, options) : new Database(file, { timeout: options.busyTimeoutMs ?? 10_000 });
    refuseForeign(db, file);
    if (!readOnly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    }
    db.pragma('foreign_keys = ON');
  } catch (err) {
    throw storeError(file, err, readOnly);
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
        return Promise.reject(storeError(file, err, readOnly));
      }
    },
    query(sql, params = []) {
      try {
        const s = prepare(sql);
        return Promise.resolve(s.reader ? (s.all(...params) as Row[]) : (s.run(...params), []));
      } catch (err) {
        return Promise.reject(storeError(file, err, readOnly));
      }
    },
    migrate(ddl, readApplied, plan) {
      if (readOnly) return checkSchemaReadOnly(db, file, readOnly, readApplied, plan);
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
        return Promise.reject(storeError(file, err, readOnly));
      }
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}

/**
 * Opens a store this process may not write. SQLite opens a WAL database read-only only if it can use the -shm file
 * beside it; in a read-only folder with no -shm (the last writer closed cleanly and removed it) it cannot, so the
 * store is read from a snapshot of the file in memory instead. That is exact: without a -wal file every commit is
 * in the main file. With a -wal file but no usable -shm, nothing consistent can be read: refused.
 */
function openReadOnly(file: string, reason: string, options: SqliteOptions): Database.Database {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs ?? 10_000 });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('SQLITE_READONLY') && !code.startsWith('SQLITE_CANTOPEN')) throw err;
    if ((statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 0) {
      throw new BatonError('store', `The metadata store ${file} has commits in ${file}-wal that SQLite cannot read while ${reason}. Make the folder writable (or run as its owner) so SQLite can open it.`, { cause: err });
    }
  }
  const image = readFileSync(file);
  // Bytes 18-19 say "WAL mode" (2); an in-memory database reads only the rollback-journal format (1).
  if (image.length >= 20) image[18] = image[19] = 1;
  return new Database(image, { readonly: true });
}

/** A SQLite file with tables but without Baton's schema belongs to something else: never migrate into it. */
function refuseForeign(db: Database.Database, file: string): void {
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
  if (tables.length === 0 || tables.includes(MIGRATIONS_TABLE)) return;
  db.close();
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? `, … (${tables.length} tables)` : '');
  throw new BatonError(
    'store',
    `The metadata store ${file} is a SQLite database of something else (tables ${shown}; no ${MIGRATIONS_TABLE} table), not a Baton store. Baton did not modify it. Point --store at another file, or move this one away to start a new store.`,
  );
}

/** Read-only stores are never migrated: fine if already current, else say what to do. */
function checkSchemaReadOnly(db: Database.Database, file: string, reason: string, readApplied: string, plan: (applied: Set<number>) => Statement[]): Promise<void> {
  try {
    const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(MIGRATIONS_TABLE) !== undefined;
    const applied = new Set(exists ? (db.prepare(readApplied).all() as Row[]).map((r) => Number(r.version)) : []);
    if (plan(applied).length > 0) {
      throw new BatonError(
        'store',
        `The metadata store ${file} needs ${exists ? 'a schema upgrade' : 'its tables created'} before use, but it is opened read-only (${reason}). Run one Baton command with write access to it first, or make it writable.`,
      );
    }
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(storeError(file, err, reason));
  }
}

function storeError(file: string, err: unknown, readOnly?: string): BatonError {
  if (err instanceof BatonError) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new BatonError('store', `The metadata store ${file} is not a valid Baton SQLite database (${messageOf(err)}). Baton did not modify it. Point --store at another file, or move this one away to start fresh.`, { cause: err });
  }
  if (readOnly && (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN')) {
    return new BatonError(
      'store',
      `Cannot write to the metadata store ${file}: it is opened read-only because ${readOnly}. Reading commands (runs, show, logs) work; this one needs to write. Make the folder and file writable (or run as their owner), or use another store with --store.`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY')) {
    return new BatonError('store', `Cannot open the metadata store ${file} for writing (${messageOf(err)}). Check the path and its permissions, or choose another with --store.`, { cause: err });
  }
  if (code === 'SQLITE_BUSY') {
    return new BatonError('store', `The metadata store ${file} stayed locked by another process past the busy timeout. Retry, or raise it with ?busyTimeoutMs=.`, { cause: err });
  }
  return new BatonError('store', `Metadata store ${file} failed: ${messageOf(err)}`, { cause: err });
}
