/**
 * The embedded OnlineStore: one SQLite file (default `.baton/online.db`, apart from the metadata store so serving
 * reads never queue behind orchestration writes), through better-sqlite3. Reads are synchronous point lookups on a
 * prepared statement — the promise around them is the only async cost.
 *
 * Layout, chosen for read speed: `online_views(name → id, version, watermark)` and one generic
 * `online_values(view_id, key, ts, vals)` table, WITHOUT ROWID with PRIMARY KEY (view_id, key), so a read is one
 * B-tree descent that lands on the row itself (no rowid indirection). `key` is the JSON of the join-key values;
 * `vals` the JSON of the feature values. A generic table (vs one per view) keeps every statement prepared once.
 *
 * Writes: `INSERT … ON CONFLICT DO UPDATE … WHERE excluded.ts > ts` — the "keep only if newer" rule is one
 * statement, in one transaction per call. WAL + synchronous=NORMAL as in the metadata store: a write survives a
 * process crash; readers never block the writer.
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BatonError, messageOf } from '../../../errors.ts';
import type { OnlineRow, OnlineStore, OnlineValue, StoredValues, ViewState } from '../../../ports/online.ts';
import { checkRow, checkWatermark } from '../rows.ts';

export interface SqliteOnlineOptions {
  /** @default '.baton/online.db'; ':memory:' for a throwaway store */
  path?: string;
  /** How long a writer waits for another process's transaction. @default 10000 */
  busyTimeoutMs?: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS online_views (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, version TEXT NOT NULL, watermark INTEGER
  );
  CREATE TABLE IF NOT EXISTS online_values (
    view_id INTEGER NOT NULL, key TEXT NOT NULL, ts INTEGER NOT NULL, vals TEXT NOT NULL,
    PRIMARY KEY (view_id, key)
  ) WITHOUT ROWID;
`;

interface ViewRow {
  id: number;
  version: string;
  watermark: number | null;
}

export class SqliteOnlineStore implements OnlineStore {
  readonly location: string;
  private readonly ids = new Map<string, number>();
  private closed = false;
  private readonly stmt: {
    view: Database.Statement<[string], ViewRow>;
    insertView: Database.Statement<[string, string]>;
    setVersion: Database.Statement<[string, number]>;
    setWatermark: Database.Statement<[number, number]>;
    clear: Database.Statement<[number]>;
    upsert: Database.Statement<[number, string, number, string]>;
    get: Database.Statement<[number, string], { ts: number; vals: string }>;
  };
  private readonly writeTx: Database.Transaction<(id: number, rows: OnlineRow[]) => number>;
  private readonly ensureTx: Database.Transaction<(name: string, version: string) => number>;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {
    this.location = file;
    this.stmt = {
      view: db.prepare('SELECT id, version, watermark FROM online_views WHERE name = ?'),
      insertView: db.prepare('INSERT INTO online_views (name, version) VALUES (?, ?)'),
      setVersion: db.prepare('UPDATE online_views SET version = ?, watermark = NULL WHERE id = ?'),
      setWatermark: db.prepare('UPDATE online_views SET watermark = ? WHERE id = ?'),
      clear: db.prepare('DELETE FROM online_values WHERE view_id = ?'),
      upsert: db.prepare(
        'INSERT INTO online_values (view_id, key, ts, vals) VALUES (?, ?, ?, ?) ON CONFLICT (view_id, key) DO UPDATE SET ts = excluded.ts, vals = excluded.vals WHERE excluded.ts > online_values.ts',
      ),
      get: db.prepare('SELECT ts, vals FROM online_values WHERE view_id = ? AND key = ?'),
    };
    this.ensureTx = db.transaction((name: string, version: string) => {
      const row = this.stmt.view.get(name);
      if (!row) return Number(this.stmt.insertView.run(name, version).lastInsertRowid);
      if (row.version !== version) {
        this.stmt.clear.run(row.id);
        this.stmt.setVersion.run(version, row.id);
      }
      return row.id;
    });
    this.writeTx = db.transaction((id: number, rows: OnlineRow[]) => {
      let stored = 0;
      for (const r of rows) stored += this.stmt.upsert.run(id, JSON.stringify(r.key), r.ts, JSON.stringify(r.values)).changes;
      return stored;
    });
  }

  static open(options: SqliteOnlineOptions = {}): SqliteOnlineStore {
    const given = options.path ?? '.baton/online.db';
    const file = given === ':memory:' ? given : resolve(given);
    if (file !== ':memory:') {
      if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) {
        throw new BatonError('store', `The online store path ${file} is a directory, not a SQLite file. Use ${file}/online.db.`);
      }
      try {
        mkdirSync(dirname(file), { recursive: true });
      } catch (err) {
        throw new BatonError('store', `Cannot create the folder for the online store ${file}: ${messageOf(err)}. Choose a writable path.`, { cause: err });
      }
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: options.busyTimeoutMs ?? 10_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
      return new SqliteOnlineStore(db, file);
    } catch (err) {
      db?.close();
      throw storeError(file, err);
    }
  }

  write(view: string, version: string, rows: OnlineRow[]): Promise<number> {
    return this.run(() => {
      rows.forEach(checkRow(view));
      const id = this.ensureTx.immediate(view, version);
      this.ids.set(view, id);
      return rows.length ? this.writeTx.immediate(id, rows) : 0;
    });
  }

  read(view: string, keys: string[][], features?: string[]): Promise<(StoredValues | null)[]> {
    return this.run(() => {
      const id = this.ids.get(view) ?? this.lookup(view);
      const out: (StoredValues | null)[] = new Array(keys.length);
      for (let i = 0; i < keys.length; i++) {
        const row = this.stmt.get.get(id, JSON.stringify(keys[i]));
        if (!row) {
          out[i] = null;
          continue;
        }
        const all = JSON.parse(row.vals) as Record<string, OnlineValue>;
        let values = all;
        if (features) {
          values = {};
          for (const f of features) values[f] = all[f] ?? null;
        }
        out[i] = { ts: row.ts, values };
      }
      return out;
    });
  }

  watermark(view: string): Promise<ViewState | null> {
    return this.run(() => {
      const row = this.stmt.view.get(view);
      return row ? { version: row.version, watermark: row.watermark } : null;
    });
  }

  setWatermark(view: string, version: string, ts: number): Promise<void> {
    return this.run(() => {
      checkWatermark(view, ts);
      const id = this.ensureTx.immediate(view, version);
      this.ids.set(view, id);
      this.stmt.setWatermark.run(Math.trunc(ts), id);
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }

  private lookup(view: string): number {
    const row = this.stmt.view.get(view);
    if (!row) throw new BatonError('not_found', `The online store has no feature view "${view}". Run materialize for it first.`);
    this.ids.set(view, row.id);
    return row.id;
  }

  /** Runs a synchronous body as a promise, with the backend's errors as BatonErrors. */
  private run<T>(body: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new BatonError('store', `The online store ${this.file} is closed; open a new one.`));
    try {
      return Promise.resolve(body());
    } catch (err) {
      return Promise.reject(storeError(this.file, err));
    }
  }
}

function storeError(file: string, err: unknown): BatonError {
  if (err instanceof BatonError) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new BatonError('store', `The online store ${file} is not a valid SQLite database (${messageOf(err)}). Point it at another file, or move this one away to start fresh.`, { cause: err });
  }
  if (code === 'SQLITE_BUSY') return new BatonError('store', `The online store ${file} stayed locked by another process past the busy timeout. Retry, or raise busyTimeoutMs.`, { cause: err });
  return new BatonError('store', `Online store ${file} failed: ${messageOf(err)}`, { cause: err });
}
