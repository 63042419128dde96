import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { captureCallSite, computeCodeHash, diffCodeHash, type CodeHash } from './index.ts';

const TASKS = `import { z } from 'zod';
import { features } from './lib/features.js';
import { other } from './lib/other.ts';
import fake from 'fakepkg';
import { readFileSync } from 'node:fs';
import path from 'path';

const task = (def: unknown) => def;

function shared(n: number) { return n + 1; }
function onlyA(n: number) { return shared(n) * 2; }
const onlyB = (n: number) => n - 1;

export const a = task({
  name: 'a',
  input: z.number(),
  run: async (x: number[]) => onlyA(features(x).length) + fake.k + readFileSync.length,
});

export const b = task({
  name: 'b',
  run: async (x: number) => onlyB(shared(x)) + other + path.sep.length,
});

export const both = [
  task({ name: 'c', run: () => onlyA(1) }),
  task({ name: 'd', run: () => onlyB(1) }),
];
`;

let clock = Date.now() / 1000;
function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'codehash-'));
  const write = (rel: string, text: string) => {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    clock += 10; // the memo keys on (mtime, size): make every write visible even within one millisecond
    utimesSync(path, clock, clock);
  };
  const edit = (rel: string, from: string | RegExp, to: string) => {
    const text = readFileSync(join(dir, rel), 'utf8');
    const next = text.replace(from, to);
    assert.notEqual(next, text, `edit of ${rel} did nothing`);
    write(rel, next);
  };
  write('tasks.ts', TASKS);
  write('lib/features.ts', `import { scale } from './util.js';\nimport { Matrix } from 'ml-fake';\nexport function features(x: number[]) { return x.map(scale); }\nexport const M = Matrix;\n`);
  write('lib/util.ts', `export const scale = (v: number) => v * 2;\n`);
  write('lib/other.ts', `export const other = 1;\n`);
  write('node_modules/fakepkg/package.json', JSON.stringify({ name: 'fakepkg', version: '1.0.0' }));
  write('node_modules/ml-fake/package.json', JSON.stringify({ name: 'ml-fake', version: '6.1.0' }));
  const file = join(dir, 'tasks.ts');
  const lineOf = (marker: string) => readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;
  const hash = (name: string): CodeHash => {
    const line = lineOf(name.length === 1 && 'ab'.includes(name) ? `export const ${name} = task` : `name: '${name}'`);
    return computeCodeHash({ file, line }, { name });
  };
  return { dir, write, edit, hash, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('collects the definition, its helpers, local modules and packages', (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const a = f.hash('a');
  assert.deepEqual(Object.keys(a.parts.modules), ['lib/features.ts', 'lib/util.ts']);
  assert.deepEqual(a.parts.packages, { fakepkg: '1.0.0', 'ml-fake': '6.1.0', zod: 'not installed' });
  assert.equal(a.files.length, 3);
  const b = f.hash('b');
  assert.deepEqual(Object.keys(b.parts.modules), ['lib/other.ts']);
  assert.deepEqual(b.parts.packages, {});
  assert.equal(f.hash('a').hash, a.hash, 'stable');
  assert.notEqual(a.hash, b.hash);
  assert.deepEqual(diffCodeHash(a.parts, f.hash('a').parts), []);
});

test('editing another task or a helper only it uses leaves the hash alone', (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const a0 = f.hash('a');
  const b0 = f.hash('b');
  f.edit('tasks.ts', 'path.sep.length,', 'path.sep.length * 3,');
  assert.equal(f.hash('a').hash, a0.hash);
  const b1 = f.hash('b');
  assert.notEqual(b1.hash, b0.hash);
  assert.deepEqual(diffCodeHash(b0.parts, b1.parts), ['definition of the task changed']);
  f.edit('tasks.ts', 'n - 1', 'n - 2');
  assert.equal(f.hash('a').hash, a0.hash);
  assert.notEqual(f.hash('b').hash, b1.hash);
  f.write('tasks.ts', `function unrelated() { return 1; }\n` + readFileSync(join(f.dir, 'tasks.ts'), 'utf8'));
  assert.equal(f.hash('a').hash, a0.hash, 'lines shifted by an unrelated helper');
});

test('editing a helper the task uses changes the hash, transitively', (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const a0 = f.hash('a');
  f.edit('tasks.ts', 'shared(n) * 2', 'shared(n) * 3');
  const a1 = f.hash('a');
  assert.notEqual(a1.hash, a0.hash);
  const b1 = f.hash('b');
  f.edit('tasks.ts', 'return n + 1', 'return n + 2'); // shared: used by both, by a through onlyA
  assert.notEqual(f.hash('a').hash, a1.hash);
  assert.notEqual(f.hash('b').hash, b1.hash);
});

test('the named call is preferred within a statement holding several tasks', (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const c0 = f.hash('c');
  const d0 = f.hash('d');
  assert.notEqual(c0.parts.definition, d0.parts.definition);
  f.edit('tasks.ts', 'onlyB(1)', 'onlyB(2)');
  assert.equal(f.hash('c').hash, c0.hash);
  assert.notEqual(f.hash('d').hash, d0.hash);
});

test('editing an imported local module (also transitively) changes the hash and the diff names it', (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const a0 = f.hash('a');
  const b0 = f.hash('b');
  f.edit('lib/util.ts', 'v * 2', 'v * 4');
  const a1 = f.hash('a');
  assert.notEqual(a1.hash, a0.hash);
  assert.deepEqual(diffCodeHash(a0.parts, a1.parts), ['imported module lib/util.ts changed']);
  assert.equal(f.hash('b').hash, b0.hash);
  f.edit('tasks.ts', 'fake.k +', 'fake.k + other +');
  assert.deepEqual(diffCodeHash(a1.parts, f.hash('a').parts), ['definition of the task changed', 'module lib/other.ts is now imported']);
});

test('comment and whitespace edits change nothing', (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const a0 = f.hash('a');
  f.edit('tasks.ts', "  name: 'a',", "  // the a task\n  name:   'a', /* inline */");
  f.edit('tasks.ts', 'return shared(n) * 2;', '\n  return shared(n)\n    * 2; // doubled\n');
  assert.equal(f.hash('a').hash, a0.hash);
  f.edit('lib/util.ts', 'v * 2;', 'v * 2; // scale\n');
  assert.notEqual(f.hash('a').hash, a0.hash, 'imported modules hash their raw content');
  f.edit('tasks.ts', 'fake.k', "fake['k ']");
  const a1 = f.hash('a');
  f.edit('tasks.ts', "fake['k ']", "fake['k  ']"); // whitespace inside a literal does count
  assert.notEqual(f.hash('a').hash, a1.hash);
});

test('a package version change is detected', (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const a0 = f.hash('a');
  f.write('node_modules/fakepkg/package.json', JSON.stringify({ name: 'fakepkg', version: '1.0.1' }));
  const a1 = f.hash('a');
  assert.notEqual(a1.hash, a0.hash);
  assert.deepEqual(diffCodeHash(a0.parts, a1.parts), ['package fakepkg changed 1.0.0 → 1.0.1']);
});

test('unreadable files fall back to the given source', () => {
  const site = { file: 'REPL3', line: 1 };
  const h = computeCodeHash(site, { fallbackSource: 'async (x) => x + 1' });
  assert.equal(h.parts.definition, computeCodeHash(site, { fallbackSource: 'async (x) => x + 1' }).parts.definition);
  assert.notEqual(h.hash, computeCodeHash(site, { fallbackSource: 'async (x) => x + 2' }).hash);
  assert.throws(() => computeCodeHash(site));
});

test('captureCallSite points at the calling line of this file, skipping SDK frames', async (t) => {
  const self = fileURLToPath(import.meta.url);
  const lineOf = (marker: string) => readFileSync(self, 'utf8').split('\n').findIndex((l) => l.includes(`@${marker}`)) + 1;
  const site = captureCallSite(); // @direct
  assert.deepEqual(site && { file: site.file, line: site.line }, { file: self, line: lineOf('direct') });

  const dir = mkdtempSync(join(tmpdir(), 'codehash-sdk-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sdk = join(dir, 'fake-sdk', 'task.mts');
  mkdirSync(dirname(sdk));
  const callsite = pathToFileURL(join(dirname(self), 'callsite.ts')).href;
  writeFileSync(sdk, `import { captureCallSite } from '${callsite}';\ntype Def = { name: string };\nexport function task(def: Def) {\n  return { def, site: captureCallSite(['fake-sdk/']) };\n}\n`);
  type Task = (d: { name: string }) => { site: ReturnType<typeof captureCallSite> };
  const { task } = (await import(pathToFileURL(sdk).href)) as { task: Task };
  const defined = task({ // @through-sdk
    name: 'here',
  });
  assert.equal(defined.site?.file, self);
  assert.equal(defined.site?.line, lineOf('through-sdk'));
  const h = computeCodeHash(defined.site!, { name: 'here' });
  assert.match(h.hash, /^[0-9a-f]{64}$/);
});
