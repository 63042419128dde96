#!/usr/bin/env node
// Checks the layering of src/ (run by `npm run lint`): no import cycle between top-level folders, and ports import
// no adapter or feature. Hand-written rather than dependency-cruiser because its cycle rule sees modules, not the
// folders that are our layers. Reads import specifiers with a regex (type-only imports count too: a cycle of types
// is still a cycle of concepts).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname, 'src');

/** Folders a port may import from: other ports, the error root, and the plain-data spec module. */
const PORT_MAY_IMPORT = new Set(['ports', 'errors.ts', 'spec']);

function files(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts)$/.test(e.name) && !/\.test\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

const top = (file) => relative(root, file).split(sep)[0];
const edges = new Map(); // folder → Map(folder → [file → import])
const problems = [];
const importRe = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

for (const file of files(root)) {
  const text = readFileSync(file, 'utf8');
  const from = top(file);
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(root + sep)) continue;
    const to = top(target);
    if (to === from) continue;
    if (from === 'ports' && !PORT_MAY_IMPORT.has(to)) problems.push(`${relative(root, file)} imports ${spec}: a port may import only other ports, errors.ts and spec/ (ports speak the domain; features and adapters depend on ports, not the reverse).`);
    if (!edges.has(from)) edges.set(from, new Map());
    const out = edges.get(from);
    if (!out.has(to)) out.set(to, []);
    out.get(to).push(`${relative(root, file)} → ${spec}`);
  }
}

// Strongly connected components (Tarjan) of the folder graph: each with more than one folder is a cycle.
let index = 0;
const idx = new Map(), low = new Map(), stack = [], on = new Set(), sccs = [];
function connect(v) {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!idx.has(w)) { connect(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const c = [];
    let w;
    do { w = stack.pop(); on.delete(w); c.push(w); } while (w !== v);
    if (c.length > 1) sccs.push(c);
  }
}
for (const v of edges.keys()) if (!idx.has(v)) connect(v);
for (const c of sccs) {
  const set = new Set(c);
  const lines = [];
  for (const a of c) for (const [b, why] of edges.get(a) ?? []) if (set.has(b)) lines.push(`  ${a} → ${b}: ${why.slice(0, 3).join('; ')}${why.length > 3 ? ` (+${why.length - 3} more)` : ''}`);
  problems.push(`Import cycle between folders ${c.sort().join(', ')}. Break it by moving the shared piece down a layer:\n${lines.join('\n')}`);
}
if (problems.length) {
  console.error(problems.join('\n\n'));
  console.error(`\n${problems.length} layering problem(s) in src/.`);
  process.exit(1);
}
console.log(`layers: ${edges.size} folders, no cycles, ports import only ports.`);
