/**
 * The `ctx.artifacts` object a task uses: stores files, bytes and directories and opens handles, recording every
 * artifact read and written for lineage.
 */
import { mkdtemp, mkdir, readdir, stat, symlink, copyFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { ArtifactAccess } from '../sdk/context.ts';
import type { DirHandle, FileHandle } from '../sdk/handles.ts';
import { canonicalJson } from '../values/codec.ts';

export interface RecordingAccess extends ArtifactAccess {
  /** Artifacts read and written through this object (lineage). */
  readonly readSet: Set<string>;
  readonly writtenSet: Set<string>;
}

interface Manifest {
  files: { path: string; sha256: string; size: number }[];
}

async function walk(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(root, p)));
    else if (e.isFile()) out.push(relative(root, p));
  }
  return out.sort();
}

export function artifactAccess(store: ArtifactStore, scratch: () => Promise<string>): RecordingAccess {
  const read = new Set<string>();
  const written = new Set<string>();
  const access: RecordingAccess = {
    readSet: read,
    writtenSet: written,
    async putFile(path, options = {}) {
      const { sha256, size } = await store.putFile(path);
      written.add(sha256);
      return { $artifact: 'file', sha256, size, name: options.name ?? basename(path), ...(options.format ? { format: options.format } : {}) };
    },
    async putBytes(data, name, options = {}) {
      const { sha256, size } = await store.put(data);
      written.add(sha256);
      return { $artifact: 'file', sha256, size, name, ...(options.format ? { format: options.format } : {}) };
    },
    async putDir(path, options = {}) {
      const manifest: Manifest = { files: [] };
      let total = 0;
      for (const rel of await walk(path)) {
        const { sha256, size } = await store.putFile(join(path, rel));
        written.add(sha256);
        manifest.files.push({ path: rel.split('\\').join('/'), sha256, size });
        total += size;
      }
      const { sha256 } = await store.put(canonicalJson(manifest));
      written.add(sha256);
      return { $artifact: 'dir', sha256, size: total, name: options.name ?? basename(path), files: manifest.files.length };
    },
    async path(handle: FileHandle) {
      read.add(handle.sha256);
      return store.localPath(handle.sha256);
    },
    async read(handle: FileHandle) {
      read.add(handle.sha256);
      return store.read(handle.sha256);
    },
    async dirPath(handle: DirHandle) {
      read.add(handle.sha256);
      const manifest = JSON.parse((await store.read(handle.sha256)).toString('utf8')) as Manifest;
      const target = await mkdtemp(join(await scratch(), `${handle.name}-`));
      for (const f of manifest.files) {
        read.add(f.sha256);
        const dest = join(target, f.path);
        if (!dest.startsWith(target)) throw new Error(`Directory manifest ${handle.sha256} has an entry outside its root: ${f.path}`);
        await mkdir(dirname(dest), { recursive: true });
        const src = await store.localPath(f.sha256);
        await symlink(src, dest).catch(() => copyFile(src, dest));
      }
      return target;
    },
  };
  return access;
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
