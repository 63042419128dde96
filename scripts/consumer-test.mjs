#!/usr/bin/env node
// The consumer test: Baton as another project gets it. Packs the tarball (`npm pack`, which builds through
// `prepare`), creates a fresh project in a temp folder outside the repository from scripts/consumer/, installs the
// tarball with a real `npm install` (plus typescript and @types/node for the type-check), type-checks the project
// with its own tsconfig (strict, module NodeNext), runs its TypeScript workflow and a plain .mjs workflow with
// `npx baton run`, and reads the run back through `baton/client`. better-sqlite3 may compile from source (minutes).
// Usage: node scripts/consumer-test.mjs   (BATON_CONSUMER_KEEP=1 keeps the temp folder)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const started = Date.now();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'baton-consumer-'));
const project = join(dir, 'project');
// The project's own .baton/ folder, whatever the caller's environment points Baton at.
const env = { ...process.env, NO_COLOR: '1' };
for (const k of ['BATON_STORE', 'BATON_ARTIFACTS', 'BATON_ONLINE', 'BATON_EXECUTOR']) delete env[k];
let ok = false;

function step(title, cmd, args, cwd, check = () => undefined) {
  const t = Date.now();
  process.stderr.write(`consumer: ${title}…\n`);
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout}\n${r.stderr}\nconsumer: ${title} failed (exit ${r.status}): ${cmd} ${args.join(' ')} in ${cwd}\n`);
    process.exit(1);
  }
  check(r.stdout);
  process.stderr.write(`consumer: ${title} ok (${((Date.now() - t) / 1000).toFixed(1)} s)\n`);
  return r.stdout;
}

try {
  const packed = step('npm pack', 'npm', ['pack', '--json', '--pack-destination', dir], root);
  const [{ filename, size, unpackedSize, entryCount }] = JSON.parse(packed.slice(packed.indexOf('[')));
  process.stderr.write(`consumer: ${filename}: ${(size / 1024).toFixed(0)} KiB packed, ${(unpackedSize / 1024).toFixed(0)} KiB unpacked, ${entryCount} files\n`);
  cpSync(join(root, 'scripts/consumer'), project, { recursive: true });
  const dev = pkg.devDependencies;
  step('npm install (tarball, typescript, @types/node)', 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, filename), `typescript@${dev.typescript ?? pkg.dependencies.typescript}`, `@types/node@${dev['@types/node']}`], project);
  step('tsc (strict, NodeNext)', 'npx', ['tsc', '-p', 'tsconfig.json'], project);
  step('npx baton run workflow.ts', 'npx', ['baton', 'run', 'workflow.ts', '--json'], project, (out) => {
    const result = JSON.parse(out.trim().split('\n').at(-1));
    if (result.status !== 'succeeded') throw new Error(`workflow.ts: ${out}`);
  });
  step('baton/client reads the run', process.execPath, ['inspect.mjs'], project, (out) => process.stderr.write(out));
  step('npx baton run plain.mjs', 'npx', ['baton', 'run', 'plain.mjs', '--json'], project, (out) => {
    const result = JSON.parse(out.trim().split('\n').at(-1));
    if (result.status !== 'succeeded' || result.output !== 'Hello, consumer!') throw new Error(`plain.mjs: ${out}`);
  });
  // A JavaScript workflow must load without TypeScript support: a resolve hook fails the run if tsx is loaded.
  const hook = join(dir, 'no-tsx.mjs');
  writeFileSync(hook, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(\`export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/node_modules/tsx/')) throw new Error('tsx was loaded for a JavaScript workflow: ' + r.url); return r; }\`));\n`);
  step('plain.mjs runs without tsx', process.execPath, ['--import', hook, 'node_modules/baton/bin/baton.mjs', 'run', 'plain.mjs', '--json', '-e', 'processes'], project);
  ok = true;
  console.log(`consumer test passed in ${((Date.now() - started) / 1000).toFixed(0)} s (${filename}, ${(unpackedSize / 1024 / 1024).toFixed(1)} MiB unpacked)`);
} finally {
  if (ok && !process.env.BATON_CONSUMER_KEEP) rmSync(dir, { recursive: true, force: true });
  else process.stderr.write(`consumer: project kept in ${project}\n`);
}
