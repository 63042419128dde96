import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OfflineError } from '../../../ports/offline.ts';
import { DuckDBOfflineEngine } from './engine.ts';

describe('DuckDB offline engine', () => {
  let dir: string;
  let engine: DuckDBOfflineEngine;
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const rejectsWith = async (promise: Promise<unknown>, reason: string, pattern: RegExp) => {
    await assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof OfflineError, `expected an OfflineError, got ${String(err)}`);
      assert.equal(err.reason, reason);
      assert.match(err.message, pattern);
      return true;
    });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-offline-'));
    engine = await DuckDBOfflineEngine.open({ threads: 2 });
  });
  after(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads CSV, Parquet and JSON files and describes their columns in domain kinds', async () => {
    const csv = file('people.csv', 'id,name,score,born\n1,ann,2.5,2001-02-03\n2,bob,,2002-03-04\n');
    assert.deepEqual(
      (await engine.describe(csv)).map((c) => [c.name, c.kind]),
      [['id', 'integer'], ['name', 'string'], ['score', 'float'], ['born', 'date']],
    );
    const parquet = join(dir, 'people.parquet');
    await engine.query(`COPY (SELECT * FROM ${await engine.relation(csv)}) TO '${parquet}' (FORMAT parquet)`);
    const json = file('people.json', '[{"id": 1, "tags": ["a"], "at": "x"}, {"id": 2, "tags": [], "at": null}]');
    assert.deepEqual((await engine.describe(json)).map((c) => c.kind), ['integer', 'list', 'string']);
    const rows = await engine.query(`SELECT id, name, score, born FROM ${await engine.relation(parquet)} ORDER BY id`);
    assert.deepEqual(rows, [
      { id: 1, name: 'ann', score: 2.5, born: new Date('2001-02-03T00:00:00Z') },
      { id: 2, name: 'bob', score: null, born: new Date('2002-03-04T00:00:00Z') },
    ]);
  });

  it('binds parameters and converts 64-bit integers to numbers, or exact strings beyond 2^53', async () => {
    const [row] = await engine.query('SELECT $1::BIGINT + 1 AS n, 9007199254740993::BIGINT AS big, 1.25::DECIMAL(5,2) AS d, $2 AS s', [41, "it's"]);
    assert.deepEqual(row, { n: 42, big: '9007199254740993', d: 1.25, s: "it's" });
  });

  it('reads a path with quotes in it (the path is escaped as a SQL string)', async () => {
    const path = file("it's a 'file'.csv", 'a\n1\n2\n');
    assert.deepEqual(await engine.query(`SELECT sum(a) AS s FROM ${await engine.relation(path)}`), [{ s: 3 }]);
  });

  it('reads a semicolon CSV with an unusual extension when told the format', async () => {
    const path = file('data.dat', 'a;b\n1;x\n');
    await rejectsWith(engine.describe(path), 'unknown_format', /format: 'csv' \| 'parquet' \| 'json'/);
    assert.deepEqual((await engine.describe({ path, format: 'csv' })).map((c) => c.name), ['a', 'b']);
  });

  it('names a missing file, where it looked, and the fix', async () => {
    await rejectsWith(engine.describe(join(dir, 'nope.parquet')), 'missing_file', /nope\.parquet" does not exist .*Check the path/);
    await assert.rejects(engine.relation(join(dir, 'nope.csv')), { code: 'not_found' });
  });

  it('refuses an empty file with the fix', async () => {
    await rejectsWith(engine.relation(file('empty.csv', '')), 'empty_file', /empty\.csv" is empty \(0 bytes\)\. A CSV file needs at least a header row/);
    await rejectsWith(engine.relation(file('empty.parquet', '')), 'empty_file', /empty\.parquet" is empty/);
  });

  it('reports a malformed CSV with the offending line instead of reading each line as one column', async () => {
    const rows = ['id,name,score', ...Array.from({ length: 20 }, (_, i) => `${i},n${i},${i}.5`)];
    rows.splice(8, 0, '99,x,1,extra');
    await rejectsWith(engine.describe(file('ragged.csv', `${rows.join('\n')}\n`)), 'malformed_file', /ragged\.csv" is malformed.*Line 9 has 4 fields where the header has 3/);
  });

  it('reports a bad row past the sniffer\'s sample when the scan reaches it', async () => {
    const rows = ['id,name', ...Array.from({ length: 30_000 }, (_, i) => `${i},n${i}`), '30000,x,extra'];
    const path = file('late.csv', `${rows.join('\n')}\n`);
    const rel = await engine.relation(path); // the sniffer sees only the good start
    await rejectsWith(engine.query(`SELECT count(*) FROM ${rel}`), 'malformed_file', /late\.csv" is malformed: CSV Error on Line: 30002.*30000,x,extra/);
  });

  it('reports a file that is not Parquet, and a broken JSON file', async () => {
    await rejectsWith(engine.describe(file('junk.parquet', 'not parquet at all')), 'malformed_file', /junk\.parquet" is not a readable Parquet file/);
    await rejectsWith(engine.describe(file('broken.json', '{"a": 1}\n{"a":\n')), 'malformed_file', /broken\.json" cannot be read/);
  });

  it('wraps SQL errors with the query', async () => {
    await rejectsWith(engine.query('SELECT nope FROM range(3)'), 'query_failed', /Query failed: .*nope[\s\S]*in: SELECT nope/);
  });
});
