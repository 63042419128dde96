import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { localPathFingerprints, PERSIST_MIN_BYTES } from './path-fingerprints.ts';

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-fp-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('only candidates naming existing files or folders are fingerprinted; the content decides, not the mtime', withDir(async (dir) => {
  const fp = localPathFingerprints({ cwd: dir });
  writeFileSync(join(dir, 'a.csv'), 'x\n1\n');
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'd', 'b.txt'), 'b');
  const first = await fp(['a.csv', 'd', 'missing.csv', 'hello'], { content: true });
  assert.deepEqual(Object.keys(first.paths).sort(), ['a.csv', 'd']);
  assert.match(first.paths['a.csv']!, /^file:[0-9a-f]{64}$/);
  assert.match(first.paths.d!, /^dir:[0-9a-f]{64}$/);
  const later = new Date(Date.now() + 120_000);
  utimesSync(join(dir, 'a.csv'), later, later);
  assert.deepEqual((await fp(['a.csv'], { content: true })).paths['a.csv'], first.paths['a.csv']);
  writeFileSync(join(dir, 'a.csv'), 'x\n2\n'); // same size, new content
  assert.notEqual((await fp(['a.csv'], { content: true })).paths['a.csv'], first.paths['a.csv']);
  writeFileSync(join(dir, 'd', 'c.txt'), 'c');
  assert.notEqual((await fp(['d'], { content: true })).paths.d, first.paths.d);
  assert.deepEqual((await fp(['a.csv', 'd'], { content: false })).paths, { 'a.csv': 'file', d: 'dir' });
}));

test('a folder with more entries than the bound is reported as skipped, not walked to the end', withDir(async (dir) => {
  mkdirSync(join(dir, 'big'));
  for (let i = 0; i < 30; i++) writeFileSync(join(dir, 'big', `f${i}`), String(i));
  const scan = await localPathFingerprints({ cwd: dir, maxDirEntries: 20 })(['big'], { content: true });
  assert.deepEqual(scan.paths, {});
  assert.deepEqual(scan.skipped, { big: 'a folder with more than 20 entries' });
}));

test("large files' hashes are remembered in the memo file and reused while (size, mtime, ctime, inode) stay the same", withDir(async (dir) => {
  const memoFile = join(dir, 'memo', 'fp.json');
  const big = join(dir, 'big.bin');
  writeFileSync(big, Buffer.alloc(PERSIST_MIN_BYTES, 1));
  writeFileSync(join(dir, 'small.txt'), 'small');
  const first = await localPathFingerprints({ cwd: dir, memoFile })(['big.bin', 'small.txt'], { content: true });
  const memo = JSON.parse(readFileSync(memoFile, 'utf8')) as Record<string, string>;
  assert.equal(Object.keys(memo).length, 1, 'only the large file is remembered');
  const [key] = Object.keys(memo);
  assert.ok(key!.startsWith(`${big}\0`));
  // A fresh fingerprinter (a new process) answers from the memo: plant a marker hash to see that it was not re-read.
  writeFileSync(memoFile, JSON.stringify({ [key!]: 'f'.repeat(64) }));
  assert.equal((await localPathFingerprints({ cwd: dir, memoFile })(['big.bin'], { content: true })).paths['big.bin'], `file:${'f'.repeat(64)}`);
  assert.notEqual(first.paths['big.bin'], `file:${'f'.repeat(64)}`);
}));
