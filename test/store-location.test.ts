// Bad metadata store locations through the real CLI: an impossible path fails at once with exit 5 naming it; a file
// that is not a Baton store is refused and left byte-for-byte untouched; a 0-byte file becomes a new store; a
// read-only .baton still serves reading commands and refuses writes with a clear message.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { EXIT_CODES } from '../src/errors.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/baton.mjs');
const hello = join(root, 'examples/hello/hello.ts');
let dir: string;

function baton(cwd: string, args: string[], options: SpawnSyncOptions = {}): { code: number; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, ...options });
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), ms: Date.now() - t0 };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-store-location-'));
  chmodSync(dir, 0o755); // readable by the unprivileged user of the read-only test
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a store path whose folder cannot be created fails at once with exit 5, naming the folder and the fix', () => {
  // Under /proc, Node's recursive mkdir loops forever on ENOENT: this used to spin for half an hour.
  const r = baton(dir, ['runs', '--store', 'sqlite:/proc/1/nope/baton.db'], { timeout: 60_000 });
  assert.equal(r.code, EXIT_CODES.store, r.stderr);
  assert.match(r.stderr, /Cannot create the folder \/proc\/1\/nope for the metadata store \/proc\/1\/nope\/baton\.db/);
  assert.match(r.stderr, /Choose a writable path with --store/);
  // A folder path under a regular file fails the same way.
  writeFileSync(join(dir, 'plain'), 'x');
  const b = baton(dir, ['runs', '--store', `sqlite:${join(dir, 'plain/sub/baton.db')}`]);
  assert.equal(b.code, EXIT_CODES.store, b.stderr);
  assert.match(b.stderr, /metadata store .*plain\/sub\/baton\.db: ENOTDIR/);
});

test('a file that is not SQLite is refused with exit 5 and left untouched', () => {
  const file = join(dir, 'notes.db');
  const content = 'my notes, not a database\n'.repeat(200);
  writeFileSync(file, content);
  const r = baton(dir, ['runs', '--store', `sqlite:${file}`]);
  assert.equal(r.code, EXIT_CODES.store, r.stderr);
  assert.match(r.stderr, /notes\.db is not a valid Baton SQLite database: it is not SQLite at all \(it starts with "my notes, not a "\)/);
  assert.match(r.stderr, /Baton did not modify it\. Point --store at another file/);
  assert.equal(readFileSync(file, 'utf8'), content);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('notes.db')), ['notes.db'], 'no -wal or -shm created beside it');
});

test('a SQLite database without Baton\'s schema is refused with exit 5, never migrated into', () => {
  const file = join(dir, 'app.db');
  const db = new Database(file);
  db.exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')`);
  db.close();
  const bytes = readFileSync(file);
  const r = baton(dir, ['run', hello, '-e', 'inline', '--store', `sqlite:${file}`]);
  assert.equal(r.code, EXIT_CODES.store, r.stderr);
  assert.match(r.stderr, /app\.db is a SQLite database of something else \(tables users; no baton_migrations table\), not a Baton store/);
  assert.ok(readFileSync(file).equals(bytes), 'the file is byte-for-byte unchanged (not even switched to WAL)');
});

test('a 0-byte file is a new store: Baton initialises it and runs', () => {
  // SQLite creates a store file empty and writes its first page later, so an empty file is what a process killed
  // while creating the store leaves (and what a second engine starting on a fresh folder sees).
  const file = join(dir, 'empty.db');
  writeFileSync(file, '');
  const r = baton(dir, ['run', hello, '-e', 'inline', '--json', '--store', `sqlite:${file}`, '--artifacts', `file:${join(dir, 'artifacts-empty')}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).status, 'succeeded');
  const runs = baton(dir, ['runs', '--store', `sqlite:${file}`]);
  assert.equal(runs.code, 0, runs.stderr);
  assert.match(runs.stdout, /hello\s+succeeded/);
});

test('a read-only .baton still serves runs and show; a command that writes fails with exit 5 saying why', (t) => {
  const project = join(dir, 'project');
  const ok = baton(dir, ['run', hello, '-e', 'inline', '--json', '--store', `sqlite:${join(project, '.baton/baton.db')}`, '--artifacts', `file:${join(project, '.baton/artifacts')}`]);
  assert.equal(ok.code, 0, ok.stderr);
  const runId = (JSON.parse(ok.stdout) as { runId: string }).runId;
  // Read-only for whoever runs the next commands: as root, permissions do not apply, so run them as "nobody".
  const asUser: SpawnSyncOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const chmodAll = (path: string, mode: (isDir: boolean) => number) => {
    chmodSync(path, mode(statSync(path).isDirectory()));
    if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chmodAll(join(path, f), mode);
  };
  chmodAll(project, (isDir) => (isDir ? 0o555 : 0o444));
  t.after(() => chmodAll(project, (isDir) => (isDir ? 0o755 : 0o644)));
  assert.deepEqual(readdirSync(join(project, '.baton')).filter((f) => f.startsWith('baton.db')), ['baton.db'], 'no -wal/-shm left: SQLite cannot open it read-only in place');

  const runs = baton(project, ['runs'], asUser);
  assert.equal(runs.code, 0, runs.stderr);
  assert.match(runs.stdout, new RegExp(`${runId}\\s+hello\\s+succeeded`));
  const show = baton(project, ['show', runId], asUser);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /status\s+succeeded/);
  assert.match(show.stdout, /hello\.greet\s+succeeded/);

  const write = baton(project, ['run', hello, '-e', 'inline'], asUser);
  assert.equal(write.code, EXIT_CODES.store, write.stderr);
  assert.match(write.stderr, /Cannot write to the metadata store .*\.baton\/baton\.db: it is opened read-only because the file .* is not writable/);
  assert.match(write.stderr, /Make the folder and file writable/);
  assert.doesNotMatch(write.stderr, /\n\s+at /, 'no stack trace');
});
