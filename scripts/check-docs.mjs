#!/usr/bin/env node
/**
 * Docs cannot drift from the API: every ```ts block in README.md and docs/*.md is written out as a file under
 * .docs-check/ and type-checked with `tsc --noEmit` (the repo's strict NodeNext settings plus the `baton-source`
 * export condition, so `baton/*` resolves to src/ through the package's self-reference).
 *
 * Conventions for a block:
 * - It is a complete module: it imports what it uses, from `baton` or `baton/*` only (no src/ paths).
 * - `// file: NAME.ts` as its first line names the file, so later blocks of the same document can import it
 *   (`import hello from './hello.ts'`); otherwise it is written as `LINE.ts` after the line it starts on.
 * - ```ts no-check opts a fragment out. Keep these rare: a fragment is not checked, so it can drift.
 *
 * Usage: node scripts/check-docs.mjs [FILE.md …]   (default: README.md and docs/*.md). Exit 1 on any error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const given = process.argv.length > 2;
// Named files (a test's fixtures) get their own folder, so a test never races `npm run lint` for the default one.
const outDir = join(root, '.docs-check', given ? `files-${process.pid}` : 'docs');

const docs = given
  ? process.argv.slice(2).map((f) => resolve(f))
  : [join(root, 'README.md'), ...(existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => join(root, 'docs', f)) : [])];

/** The fenced blocks of one Markdown file: language, flags, first line number, text. */
function blocks(text) {
  const found = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang, flags] = open;
    if (fence.startsWith('`') && flags.includes('`')) continue; // inline code at a line's start, not a fence (CommonMark)
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j].trim().startsWith(fence) && lines[j].trim().replace(/[`~]/g, '') === '') break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    found.push({ lang, flags: flags.trim().split(/\s+/).filter(Boolean), line: i + 1, text: body.join('\n') });
    i = j;
  }
  return found;
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const origin = new Map(); // written file (relative to the repo) → "doc.md:line"
let checked = 0;
let skipped = 0;
const problems = [];
for (const doc of docs) {
  const docName = relative(root, doc);
  const folder = join(outDir, docName.replace(/\.md$/, '').replace(/[^\w]+/g, '-'));
  mkdirSync(folder, { recursive: true });
  for (const b of blocks(readFileSync(doc, 'utf8'))) {
    if (b.lang !== 'ts' && b.lang !== 'typescript') continue;
    if (b.flags.includes('no-check')) { skipped++; continue; }
    const named = /^\/\/ file: ([\w.-]+\.ts)\s*$/.exec(b.text.split('\n')[0] ?? '');
    const name = named ? named[1] : `${b.line}.ts`;
    const path = join(folder, name);
    if (existsSync(path)) problems.push(`${docName}:${b.line}: a second block names ${name}`);
    if (/from\s+['"][./]*src\//.test(b.text)) problems.push(`${docName}:${b.line}: imports from src/; import from 'baton' or 'baton/*' instead`);
    // `export {}` keeps a block without imports or exports a module, so its names do not clash with other blocks.
    writeFileSync(path, `${b.text}\nexport {};\n`);
    origin.set(relative(root, path), { doc: docName, line: b.line });
    checked++;
  }
}

writeFileSync(join(outDir, 'tsconfig.json'), JSON.stringify({
  extends: relative(outDir, join(root, 'tsconfig.json')),
  compilerOptions: { noEmit: true, customConditions: ['baton-source'] },
  include: ['./**/*.ts'],
  exclude: [],
}, null, 2));

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = checked > 0 ? spawnSync(process.execPath, [tsc, '-p', join(outDir, 'tsconfig.json'), '--pretty', 'false'], { cwd: root, encoding: 'utf8' }) : { status: 0, stdout: '' };
// Point each error at the Markdown line it comes from: the block's first code line is the fence's line + 1.
const errors = (r.stdout + (r.stderr ?? '')).split('\n').filter(Boolean).map((l) => {
  const m = /^(.+?\.ts)\((\d+),(\d+)\): (.*)$/.exec(l);
  const o = m && origin.get(m[1]);
  return o ? `${o.doc}:${o.line + Number(m[2])}:${m[3]}: ${m[4]}` : l;
});
problems.push(...errors);

if (problems.length > 0 || r.status !== 0) {
  const count = problems.filter((l) => !l.startsWith(' ')).length;
  process.stderr.write(`check-docs: ${count} problem(s) in the code blocks of ${docs.map((d) => basename(d)).join(', ')}:\n${problems.join('\n')}\n`);
  process.stderr.write(`(the files are kept in ${relative(root, outDir)}/ to look at)\n`);
  process.exit(1);
}
rmSync(outDir, { recursive: true, force: true });
process.stdout.write(`check-docs: ${checked} code block(s) type-check${skipped ? `, ${skipped} fragment(s) marked no-check` : ''}.\n`);
