// Code hash of a task definition: its own text, the top-level declarations of its file that it uses (transitively),
// the content of the local modules it imports (transitively) and the versions of the packages they import.
// The definition and its same-file declarations are normalised to their tokens, so comment and formatting edits in the
// task's file change nothing; imported modules are hashed on their raw content (exact and fast, so conservative).
import type ts from 'typescript';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Identifier, Node, SourceFile } from 'typescript';

export type CodeHash = {
  /** sha256 hex of the canonical parts */
  hash: string;
  parts: {
    /** sha256 of the definition text plus the same-file declarations it references */
    definition: string;
    /** local module path (relative to the task file's directory, `/`-separated) → sha256 of its raw content */
    modules: Record<string, string>;
    /** package name → installed version */
    packages: Record<string, string>;
  };
  /** absolute paths of every file that contributed */
  files: string[];
};
export type CodeHashOptions = {
  /** task name: prefer the call whose object-literal argument has `name: '<name>'` */
  name?: string;
  /** hashed instead when the file cannot be read (REPL, eval), typically the run function's `toString()` */
  fallbackSource?: string;
};

type TS = typeof ts;
const req = createRequire(import.meta.url);
let tsLib: TS | undefined;
// Loaded on first use only (~150 ms); createRequire keeps computeCodeHash synchronous.
const getTs = (): TS => (tsLib ??= req('typescript') as TS);

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const CODE = /\.[cm]?[jt]sx?$/;
const MISSING = 'missing';

type Refs = { names: Set<string>; specs: string[] };
type Parsed = {
  sf: SourceFile;
  decls: Map<string, Node[]>;
  imports: Map<string, { spec: string; line: string }>;
  /** `import './x'`: no binding, so it counts for every task in the file */
  sideEffects: string[];
  /** every static module specifier (imports and re-exports) */
  specs: string[];
};
type Entry = { key: string; text: string; parsed?: Parsed; module?: { hash: string; specs: string[] } };

// Memoised per (path, mtimeMs, size).
const entries = new Map<string, Entry>();
function readEntry(path: string): Entry | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  const key = `${st.mtimeMs}:${st.size}`;
  const hit = entries.get(path);
  if (hit?.key === key) return hit;
  const entry: Entry = { key, text: readFileSync(path, 'utf8') };
  entries.set(path, entry);
  return entry;
}

function parseSource(path: string, text: string): SourceFile {
  const ts = getTs();
  const kind = path.endsWith('.tsx') ? ts.ScriptKind.TSX : path.endsWith('.jsx') ? ts.ScriptKind.JSX
    : /\.[cm]?ts$/.test(path) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const opts = { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone };
  return ts.createSourceFile(path, text, opts, true, kind);
}

function bindingNames(name: Node, out: string[] = []): string[] {
  const ts = getTs();
  if (ts.isIdentifier(name)) out.push(name.text);
  else if (ts.isObjectBindingPattern(name) || ts.isArrayBindingPattern(name))
    for (const el of name.elements) if (ts.isBindingElement(el)) bindingNames(el.name, out);
  return out;
}

function parse(path: string, entry: Entry): Parsed {
  if (entry.parsed) return entry.parsed;
  const ts = getTs();
  const sf = parseSource(path, entry.text);
  const p: Parsed = { sf, decls: new Map(), imports: new Map(), sideEffects: [], specs: [] };
  const declare = (name: string, node: Node) => p.decls.set(name, [...(p.decls.get(name) ?? []), node]);
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const spec = st.moduleSpecifier.text;
      const bind = (local: string, imported: string) =>
        p.imports.set(local, { spec, line: `import ${imported} as ${local} from ${JSON.stringify(spec)}` });
      p.specs.push(spec);
      const clause = st.importClause;
      if (!clause) p.sideEffects.push(spec);
      if (clause?.name) bind(clause.name.text, 'default');
      const nb = clause?.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) bind(nb.name.text, '*');
      else if (nb) for (const el of nb.elements) bind(el.name.text, (el.propertyName ?? el.name).text);
    } else if (ts.isImportEqualsDeclaration(st)) {
      const ref = st.moduleReference;
      if (ts.isExternalModuleReference(ref) && ts.isStringLiteral(ref.expression)) {
        p.specs.push(ref.expression.text);
        p.imports.set(st.name.text, { spec: ref.expression.text, line: `import ${st.name.text} = require(${ref.expression.text})` });
      } else declare(st.name.text, st);
    } else if (ts.isExportDeclaration(st)) {
      if (st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) p.specs.push(st.moduleSpecifier.text);
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) for (const n of bindingNames(d.name)) declare(n, d);
    } else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isEnumDeclaration(st) || ts.isInterfaceDeclaration(st)
      || ts.isTypeAliasDeclaration(st) || ts.isModuleDeclaration(st)) && st.name && ts.isIdentifier(st.name)) {
      declare(st.name.text, st);
    }
  }
  return (entry.parsed = p);
}

/** Identifier in a reading position (not `a.b`'s `b`, not a non-shorthand object key or member name). */
function isReference(id: Identifier): boolean {
  const ts = getTs();
  const p = id.parent;
  if (!p) return true;
  if (ts.isPropertyAccessExpression(p) || ts.isQualifiedName(p)) return ts.isPropertyAccessExpression(p) ? p.name !== id : p.right !== id;
  if (ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isGetAccessorDeclaration(p)
    || ts.isSetAccessorDeclaration(p) || ts.isPropertySignature(p) || ts.isMethodSignature(p) || ts.isEnumMember(p)
    || ts.isJsxAttribute(p)) return p.name !== id;
  if (ts.isBindingElement(p) || ts.isImportSpecifier(p)) return p.propertyName !== id;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return p.label !== id;
  return true;
}

const refCache = new WeakMap<Node, Refs>();
/** Names a node references, plus the specifiers of `import('x')` / `require('x')` calls inside it. */
function refs(node: Node): Refs {
  const hit = refCache.get(node);
  if (hit) return hit;
  const ts = getTs();
  const r: Refs = { names: new Set(), specs: [] };
  const visit = (n: Node): void => {
    if (ts.isIdentifier(n)) {
      if (isReference(n)) r.names.add(n.text);
      return;
    }
    if (ts.isCallExpression(n) && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0])
      && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) {
      r.specs.push(n.arguments[0].text);
    }
    ts.forEachChild(n, visit);
  };
  visit(node);
  refCache.set(node, r);
  return r;
}

const normCache = new WeakMap<Node, string>();
/** The node's tokens joined by single spaces: comments and layout vanish, literals stay exact. */
function normalise(node: Node, sf: SourceFile): string {
  const hit = normCache.get(node);
  if (hit !== undefined) return hit;
  const ts = getTs();
  const out: string[] = [];
  const walk = (n: Node): void => {
    const kids = n.getChildren(sf);
    if (kids.length > 0) return kids.forEach(walk);
    let t = n.getText(sf);
    if (n.kind === ts.SyntaxKind.JsxText) t = t.replace(/\s+/g, ' ').trim();
    if (t) out.push(t);
  };
  walk(node);
  const text = out.join(' ');
  normCache.set(node, text);
  return text;
}

/** The definition node: the call named `name` (near `line`) if there is one, else the top-level statement at `line`. */
function findRoot(sf: SourceFile, line: number, name: string | undefined): Node {
  const ts = getTs();
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const stmt = sf.statements.find((s) => lineOf(s.getStart(sf)) <= line && lineOf(s.end) >= line);
  if (name === undefined) return stmt ?? sf;
  const named = (n: Node): boolean => (ts.isCallExpression(n) || ts.isNewExpression(n)) && (n.arguments ?? []).some((a) =>
    (ts.isStringLiteralLike(a) && a.text === name) || (ts.isObjectLiteralExpression(a) && a.properties.some((pr) =>
      ts.isPropertyAssignment(pr) && pr.name.getText(sf).replace(/^['"]|['"]$/g, '') === 'name'
      && ts.isStringLiteralLike(pr.initializer) && pr.initializer.text === name)));
  const search = (scope: Node): Node[] => {
    const found: Node[] = [];
    const visit = (n: Node): void => {
      if (named(n)) found.push(n);
      ts.forEachChild(n, visit);
    };
    visit(scope);
    return found;
  };
  let calls = stmt ? search(stmt) : [];
  if (calls.length === 0) calls = search(sf);
  const dist = (n: Node) => Math.abs(lineOf(n.getStart(sf)) - line);
  return calls.sort((a, b) => dist(a) - dist(b))[0] ?? stmt ?? sf;
}

/** A local module: sha256 of its raw content (exact, and no parse needed) plus the specifiers it imports. */
function moduleInfo(path: string): { hash: string; specs: string[] } | undefined {
  const entry = readEntry(path);
  if (!entry) return undefined;
  if (entry.module) return entry.module;
  // preProcessFile only scans: static imports, re-exports, import() and require(), ~10x faster than a parse.
  const specs = CODE.test(path) ? getTs().preProcessFile(entry.text, true, true).importedFiles.map((f) => f.fileName) : [];
  return (entry.module = { hash: sha(entry.text), specs });
}

function resolveLocal(base: string): string | undefined {
  const swapped = base.replace(/\.(m|c)?js(x?)$/, (_m, mc: string | undefined, x: string) => `.${mc ?? ''}ts${x}`);
  const candidates = [base, swapped, ...['.ts', '.tsx', '.mts', '.js', '.mjs', '.cjs', '.json'].map((e) => base + e),
    join(base, 'index.ts'), join(base, 'index.tsx'), join(base, 'index.js')];
  return candidates.find((c) => readEntry(c) !== undefined);
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function packageVersion(name: string, from: string): string {
  for (const dir of createRequire(from).resolve.paths(name) ?? []) {
    const entry = readEntry(join(dir, name, 'package.json'));
    if (!entry) continue;
    try {
      return String((JSON.parse(entry.text) as { version?: unknown }).version ?? 'unknown');
    } catch {
      return 'unknown';
    }
  }
  return 'not installed';
}

function finish(definition: string, modules: Record<string, string>, packages: Record<string, string>, files: string[]): CodeHash {
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const parts = { definition, modules: sorted(modules), packages: sorted(packages) };
  const canonical = JSON.stringify(['baton-codehash/1', parts.definition, Object.entries(parts.modules), Object.entries(parts.packages)]);
  return { hash: sha(canonical), parts, files };
}

export function computeCodeHash(site: { file: string; line: number; column?: number }, options: CodeHashOptions = {}): CodeHash {
  const file = site.file.startsWith('file:') ? fileURLToPath(site.file) : site.file;
  const entry = isAbsolute(file) ? readEntry(file) : undefined;
  if (!entry) {
    if (options.fallbackSource === undefined) throw new Error(`codehash: cannot read ${file} and no fallbackSource was given`);
    return finish(sha(options.fallbackSource), {}, {}, []);
  }
  const p = parse(file, entry);
  const root = findRoot(p.sf, site.line, options.name);

  // Same-file closure: declarations and imports reachable from the definition.
  const parts: Node[] = [];
  const importLines = new Set<string>(p.sideEffects.map((s) => `import ${JSON.stringify(s)}`));
  const specs = [...p.sideEffects];
  const seenNames = new Set<string>();
  const seenNodes = new Set<Node>([root]);
  const queue: Node[] = [root];
  for (let node = queue.pop(); node; node = queue.pop()) {
    const r = refs(node);
    specs.push(...r.specs);
    for (const name of r.names) {
      if (seenNames.has(name)) continue;
      seenNames.add(name);
      const imp = p.imports.get(name);
      if (imp) {
        importLines.add(imp.line);
        specs.push(imp.spec);
      }
      for (const d of p.decls.get(name) ?? []) {
        if (seenNodes.has(d)) continue;
        seenNodes.add(d);
        parts.push(d);
        queue.push(d);
      }
    }
  }
  parts.sort((a, b) => a.pos - b.pos);
  const definition = sha([root, ...parts].map((n) => normalise(n, p.sf)).concat([...importLines].sort()).join('\n'));

  // Modules and packages, transitively through local modules.
  const modules: Record<string, string> = {};
  const packages: Record<string, string> = {};
  const files = [file];
  const visited = new Set<string>([file]);
  const dir = dirname(file);
  const visit = (list: string[], from: string): void => {
    for (const spec of list) {
      if (spec.startsWith('node:') || isBuiltin(spec)) continue;
      let target: string | undefined;
      if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('file:')) {
        target = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(dirname(from), spec);
      } else if (spec.startsWith('#')) {
        try {
          target = createRequire(from).resolve(spec);
        } catch {
          continue;
        }
        if (/[\\/]node_modules[\\/]/.test(target)) continue;
      } else {
        const name = packageName(spec);
        packages[name] ??= packageVersion(name, from);
        continue;
      }
      const path = resolveLocal(target) ?? target;
      if (visited.has(path)) continue;
      visited.add(path);
      const info = moduleInfo(path);
      modules[relative(dir, path).split(sep).join('/')] = info?.hash ?? MISSING;
      if (!info) continue;
      files.push(path);
      visit(info.specs, path);
    }
  };
  visit(specs, file);
  return finish(definition, modules, packages, files);
}
