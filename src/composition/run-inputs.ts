/**
 * What a run's inputs name outside Baton.
 *
 * - Parameter markers become handles before the workflow sees its parameters: `{ $file: PATH }` (a file or folder,
 *   stored in the artifact store: a file handle or a dir handle) and `{ $dataset: 'NAME@VERSION' | 'NAME@latest' }`
 *   (that version's dataset handle). The CLI writes them for `--param data=@PATH` and `--param data=dataset:NAME@V`;
 *   the client and the HTTP API pass the same objects. Since handles are content-addressed, the cache follows the
 *   content, whereas a path string would not.
 * - Local paths named by string task inputs are fingerprinted for cache keys (runtime/path-fingerprints.ts), with the
 *   memo of file hashes kept beside the artifacts.
 */
import { stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { BatonError } from '../errors.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { FingerprintPaths } from '../ports/path-fingerprints.ts';
import { artifactAccess } from '../runtime/artifact-access.ts';
import { localPathFingerprints } from '../runtime/path-fingerprints.ts';
import type { DatasetHandle, DirHandle, FileHandle } from '../sdk/handles.ts';

export interface ParamRefDeps {
  artifacts: ArtifactStore;
  datasets: { handle(ref: string): Promise<DatasetHandle> };
  /** Where relative `$file` paths resolve. @default process.cwd() */
  cwd?: string;
}

const FORMATS: Record<string, FileHandle['format']> = { '.csv': 'csv', '.parquet': 'parquet', '.json': 'json', '.jsonl': 'json', '.ndjson': 'json' };

function marker(v: unknown): { $file: string } | { $dataset: string } | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.$file === 'string') return { $file: o.$file };
  if (typeof o.$dataset === 'string') return { $dataset: o.$dataset };
  return undefined;
}

async function fileHandle(path: string, name: string, deps: ParamRefDeps): Promise<FileHandle | DirHandle> {
  const abs = resolve(deps.cwd ?? process.cwd(), path);
  const s = await stat(abs).catch(() => undefined);
  if (!s || !(s.isFile() || s.isDirectory())) {
    throw new BatonError('not_found', `Parameter "${name}" names ${path} (${abs}), which is not an existing file or folder. Check the path after "@" (write @@ for a literal "@").`);
  }
  // Handles are made exactly as a task's ctx.artifacts makes them; no scratch space is needed to store.
  const access = artifactAccess(deps.artifacts, () => Promise.reject(new Error('no scratch space while storing parameters')));
  if (s.isDirectory()) return access.putDir(abs);
  const format = FORMATS[extname(abs).toLowerCase()];
  return access.putFile(abs, format ? { format } : {});
}

/** Returns the parameters with every `$file` / `$dataset` marker replaced by its handle (other values as given). */
export async function resolveParamRefs(params: unknown, deps: ParamRefDeps, name = ''): Promise<unknown> {
  const m = marker(params);
  if (m && '$file' in m) return fileHandle(m.$file, name || '(all)', deps);
  if (m && '$dataset' in m) return deps.datasets.handle(m.$dataset);
  if (Array.isArray(params)) return Promise.all(params.map((v, i) => resolveParamRefs(v, deps, `${name}[${i}]`)));
  if (params && typeof params === 'object' && Object.getPrototypeOf(params) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(params)) out[k] = await resolveParamRefs(v, deps, name ? `${name}.${k}` : k);
    return out;
  }
  return params;
}

const fingerprinters = new Map<string, FingerprintPaths>();

/** The embedded path fingerprinter (one per artifact store and process, so its in-memory memo is shared by runs). */
export function pathFingerprints(artifactsUrl: string): FingerprintPaths {
  let f = fingerprinters.get(artifactsUrl);
  if (!f) {
    // Its memo of large files' hashes is kept under the local artifact store (`file:PATH`).
    f = localPathFingerprints(artifactsUrl.startsWith('file:') ? { memoFile: join(artifactsUrl.slice('file:'.length), 'memo', 'path-fingerprints.json') } : {});
    fingerprinters.set(artifactsUrl, f);
  }
  return f;
}
