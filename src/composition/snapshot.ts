/**
 * Code snapshot of a run: the workflow file bundled with its local imports (packages left external) by esbuild,
 * stored in the artifact store. Its hash says exactly what code a run started with.
 */
import { build } from 'esbuild';
import type { ArtifactStore } from '../ports/artifacts.ts';
import { sha256 } from '../values/codec.ts';

export async function snapshotCode(file: string, artifacts: ArtifactStore): Promise<{ codeHash: string; codeRef: string } | undefined> {
  try {
    const out = await build({ entryPoints: [file], bundle: true, write: false, packages: 'external', platform: 'node', format: 'esm', logLevel: 'silent', sourcemap: false });
    const text = out.outputFiles[0]?.text ?? '';
    const { sha256: codeRef } = await artifacts.put(text);
    return { codeHash: sha256(text), codeRef };
  } catch {
    return undefined; // a snapshot is a record, not a precondition: the run still starts
  }
}
