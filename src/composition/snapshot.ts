/**
 * Code snapshot of a run: the workflow file bundled with its local imports (packages left external) by esbuild,
 * stored in the artifact store. Its hash says exactly what code a run started with.
 */
import { build } from 'esbuild';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ArtifactStore } from '../ports/artifacts.ts';
import { sha256 } from '../values/codec.ts';

const memo = new Map<string, { codeHash: string; codeRef: string; inputs: { path: string; mtimeMs: number; size: number }[] }>();

function unchanged(inputs: { path: string; mtimeMs: number; size: number }[]): boolean {
  for (const i of inputs) {
    const st = statSync(i.path, { throwIfNoEntry: false });
    if (!st || st.mtimeMs !== i.mtimeMs || st.size !== i.size) return false;
  }
  return true;
}

export async function snapshotCode(file: string, artifacts: ArtifactStore): Promise<{ codeHash: string; codeRef: string } | undefined> {
  // Re-bundling is skipped while none of the bundled files changed (same process, e.g. a server starting runs).
  const known = memo.get(file);
  if (known && unchanged(known.inputs) && (await artifacts.has(known.codeRef))) return { codeHash: known.codeHash, codeRef: known.codeRef };
  try {
    const out = await build({ entryPoints: [file], bundle: true, write: false, packages: 'external', platform: 'node', format: 'esm', logLevel: 'silent', sourcemap: false, metafile: true });
    const text = out.outputFiles[0]?.text ?? '';
    const { sha256: codeRef } = await artifacts.put(text);
    const inputs = Object.keys(out.metafile.inputs).map((p) => resolve(p)).flatMap((path) => {
      const st = statSync(path, { throwIfNoEntry: false });
      return st ? [{ path, mtimeMs: st.mtimeMs, size: st.size }] : [];
    });
    memo.set(file, { codeHash: sha256(text), codeRef, inputs });
    return { codeHash: sha256(text), codeRef };
  } catch {
    return undefined; // a snapshot is a record, not a precondition: the run still starts
  }
}
