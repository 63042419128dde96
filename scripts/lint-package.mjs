#!/usr/bin/env node
// Checks the package as npm would publish it: builds dist/ (incrementally), packs a tarball without lifecycle
// scripts, then runs publint (exports, files, fields) and Are the Types Wrong? (types resolve for every subpath
// under Node's ESM resolution) on that tarball. Fails when either reports an error.
// Usage: npm run lint:package
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
};

if (run(process.execPath, [join(root, 'scripts/build.mjs')]) !== 0) process.exit(1);
const dir = mkdtempSync(join(tmpdir(), 'baton-lint-package-'));
let failed = false;
try {
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
  if (pack.status !== 0) {
    process.stderr.write(pack.stderr);
    process.exit(1);
  }
  const tarball = join(dir, JSON.parse(pack.stdout)[0].filename);
  const bin = (name) => join(root, 'node_modules/.bin', name);
  console.log('publint:');
  failed = run(bin('publint'), ['run', tarball, '--strict']) !== 0 || failed;
  console.log('attw (esm-only):');
  failed = run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'table-flipped']) !== 0 || failed;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
