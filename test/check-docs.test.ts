// scripts/check-docs.mjs (run by `npm run lint`) type-checks the ```ts blocks of Markdown pages: a page whose code
// matches the API passes, and a wrong import, a wrong call or a src/ import fails with the page's own line numbers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'baton-check-docs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function check(name: string, markdown: string): { status: number | null; stderr: string; stdout: string } {
  const page = join(dir, name);
  writeFileSync(page, markdown);
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'check-docs.mjs'), page], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const fence = '```';

test('a page whose code blocks match the API passes, and a later block imports an earlier named one', { timeout: 120_000 }, () => {
  const r = check('good.md', [
    '# Good',
    `${fence}ts`,
    '// file: hello.ts',
    "import { task, workflow, z } from 'baton';",
    "export const greet = task({ name: 'docs.greet', input: z.object({ name: z.string() }), output: z.string(), run: ({ name }) => `Hello, ${name}!` });",
    "export default workflow({ name: 'docs.hello', params: z.object({ name: z.string() }) }, ({ name }) => ({ message: greet({ name }) }));",
    fence,
    `${fence}ts`,
    "import hello from './hello.ts';",
    'console.log(hello.name);',
    fence,
    `${fence}ts no-check`,
    'run: async (input, ctx) => { … }',
    fence,
  ].join('\n'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /2 code block\(s\) type-check, 1 fragment\(s\) marked no-check/);
});

test('a wrong import, a wrong call and a src/ import fail, each pointed at its line in the page', { timeout: 120_000 }, () => {
  const r = check('bad.md', [
    '# Bad',                                                   // 1
    `${fence}ts`,                                              // 2
    "import { taskk } from 'baton';",                          // 3: no such export
    'console.log(taskk);',                                     // 4
    fence,                                                     // 5
    '',                                                        // 6
    `${fence}ts`,                                              // 7
    "import { task, z } from 'baton';",                        // 8
    "task({ name: 42, input: z.object({}), output: z.string(), run: () => 'x' });", // 9: name must be a string
    fence,                                                     // 10
    `${fence}ts`,                                              // 11
    "import { z } from '../src/sdk/index.ts';",                // 12: reaches into src/
    'console.log(z);',                                         // 13
    fence,
  ].join('\n'));
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /bad\.md:3:\d+: error TS\d+: .*taskk/);
  assert.match(r.stderr, /bad\.md:9:\d+: error TS\d+: Type 'number' is not assignable to type 'string'/);
  assert.match(r.stderr, /bad\.md:11: imports from src\//);
});
