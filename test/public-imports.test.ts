// The README and the examples show Baton as a user gets it: every import of Baton goes through a public entry
// (`baton`, `baton/client`, …, as listed in package.json#exports), never a relative path into src/ or test/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const exported = new Set(Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports).map((k) => (k === '.' ? 'baton' : `baton/${k.slice(2)}`)));

/** Module specifiers of static imports, re-exports and import() calls with a string literal. */
function specifiers(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push((m[1] ?? m[2] ?? m[3])!);
  }
  return out;
}

/** What is wrong with one import, written in `file` (a path under the repository), or undefined. */
function problem(spec: string, file: string): string | undefined {
  if (spec === 'baton' || spec.startsWith('baton/')) return exported.has(spec) ? undefined : `${spec} is not a public entry (package.json#exports: ${[...exported].join(', ')})`;
  if (!spec.startsWith('.')) return undefined;
  const target = relative(root, resolve(dirname(file), spec));
  if (/^(src|test|dist)(\/|$)/.test(target)) return `${spec} reaches into ${target.split('/')[0]}/: import it from a baton/* entry instead`;
  return undefined;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : /\.(ts|mts|js|mjs)$/.test(e.name) ? [join(dir, e.name)] : []));
}

test('the import checker flags src/ and test/ paths and unknown subpaths, and accepts the public entries', () => {
  const file = join(root, 'examples/flights/pipeline.ts');
  assert.match(problem('../../src/features/index.ts', file)!, /reaches into src\//);
  assert.match(problem('../../test/support/platform.ts', file)!, /reaches into test\//);
  assert.match(problem('baton/internal', file)!, /not a public entry/);
  assert.equal(problem('baton/features', file), undefined);
  assert.equal(problem('./data.ts', file), undefined);
  assert.deepEqual(specifiers(`import a from './a.ts';\nimport { b,\n c } from "baton/data";\nexport * from '../x.ts';\nawait import('./y.ts');\nimport './side.ts';`).sort(), ['./a.ts', 'baton/data', '../x.ts', './side.ts', './y.ts'].sort());
});

test('every example imports Baton only through its public entries', () => {
  const bad: string[] = [];
  for (const file of walk(join(root, 'examples'))) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const why = problem(spec, file);
      if (why) bad.push(`${relative(root, file)}: ${why}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('every README code block imports Baton only through its public entries', () => {
  const readme = join(root, 'README.md');
  const bad: string[] = [];
  let blocks = 0;
  for (const m of readFileSync(readme, 'utf8').matchAll(/^\s*```(?:ts|typescript|js|javascript|mjs)\s*\n([\s\S]*?)^\s*```/gm)) {
    blocks++;
    for (const spec of specifiers(m[1]!)) {
      const why = problem(spec, readme);
      if (why) bad.push(`README.md: ${why}`);
    }
  }
  assert.ok(blocks > 0, 'README.md has TypeScript code blocks');
  assert.deepEqual(bad, []);
});
