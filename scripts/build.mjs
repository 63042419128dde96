#!/usr/bin/env node
// Compiles src/ to dist/ (ESM .js, .d.ts, source maps) with tsconfig.build.json. Incremental: a second build with
// no change takes a few seconds, so `npm test` can build before every run. Output whose source file is gone is
// removed, so an incremental dist never keeps a deleted module. `--clean` starts from an empty dist/.
// Usage: node scripts/build.mjs [--clean]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
if (process.argv.includes('--clean')) rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  console.error('Build failed: fix the type errors above (npm run typecheck shows the same).');
  process.exit(r.status ?? 1);
}

// Stale output: dist/a/b.js (.d.ts, .map) whose src/a/b.ts no longer exists.
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
for (const file of walk(dist)) {
  const m = /^(.*)\.(js|d\.ts)(\.map)?$/.exec(relative(dist, file));
  if (m && !existsSync(join(root, 'src', `${m[1]}.ts`))) rmSync(file);
}
