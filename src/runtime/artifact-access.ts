/**
 * The `ctx.artifacts` object a task uses: stores files, bytes and directories and opens handles, recording every
 * artifact read and written for lineage.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, mkdtemp, realpath, stat, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BatonError } from '../errors.ts';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { ArtifactAccess } from '../sdk/context.ts';
import { DirHandleSchema, FileHandleSchema, type DirHandle, type FileHandle } from '../sdk/handles.ts';
import { canonicalJson } from '../values/codec.ts';
import { safeBaseName } from '../values/names.ts';
import { assertRealParent, isInside, parseManifest, scanFolder, type Manifest } from './dir-manifest.ts';

export interface RecordingAccess extends ArtifactAccess {
  /** Artifacts read and written through this object (lineage). */
  readonly readSet: Set<string>;
  readonly writtenSet: Set<string>;
}

const shown = (v: unknown): string => {
  try {
    return (JSON.stringify(v) ?? String(v)).slice(0, 200);
  } catch {
    return typeof v;
  }
};

/** Checks a handle given by user code or decoded from input (it may be forged): its key and kind. */
function checked<T extends FileHandle | DirHandle>(handle: T, kind: 'file' | 'dir', call: string): T {
  const r = (kind === 'dir' ? DirHandleSchema : FileHandleSchema).safeParse(handle);
  if (!r.success) {
    throw new BatonError('artifact', `ctx.artifacts.${call} needs a ${kind} handle ({ $artifact: '${kind}', sha256, size, name, … }), got ${shown(handle)}. Pass a handle returned by ctx.artifacts.put${kind === 'dir' ? 'Dir' : 'File'}.`);
  }
  return handle;
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
      // Links inside the folder are kept as links; a link to outside it is refused (the rule: ./dir-manifest.ts).
      const scanned = await scanFolder(path);
      const manifest: Manifest = { files: [], ...(scanned.links.length ? { links: scanned.links } : {}) };
      let total = 0;
      for (const rel of scanned.files) {
        const { sha256, size } = await store.putFile(join(path, rel));
        written.add(sha256);
        manifest.files.push({ path: rel, sha256, size });
        total += size;
      }
      const { sha256 } = await store.put(canonicalJson(manifest));
      written.add(sha256);
      return { $artifact: 'dir', sha256, size: total, name: options.name ?? basename(path), files: manifest.files.length };
    },
    async path(handle: FileHandle) {
      checked(handle, 'file', 'path(handle)');
      read.add(handle.sha256);
      return store.localPath(handle.sha256);
    },
    async read(handle: FileHandle) {
      checked(handle, 'file', 'read(handle)');
      read.add(handle.sha256);
      return store.read(handle.sha256);
    },
    async dirPath(handle: DirHandle) {
      checked(handle, 'dir', 'dirPath(handle)');
      read.add(handle.sha256);
      const manifest = parseManifest(handle.sha256, await store.read(handle.sha256));
      // The handle's name is only a label (handles can be forged): its safe base name names the folder.
      const base = await realpath(await scratch());
      const target = await realpath(await mkdtemp(join(base, `${safeBaseName(handle.name, 'dir')}-`)));
      if (target === base || !isInside(base, target)) throw new BatonError('internal', `Folder ${target} for directory ${handle.sha256} is outside the scratch folder ${base}.`);
      const folders = new Set<string>();
      // Files first, links last: no file is written through a link the manifest made.
      for (const f of manifest.files) {
        read.add(f.sha256);
        const dest = join(target, f.path);
        if (dest === target || !isInside(target, dest)) throw new BatonError('artifact', `Directory manifest ${handle.sha256} has an entry outside its root: ${f.path}`);
        await mkdir(join(dest, '..'), { recursive: true });
        await assertRealParent(handle.sha256, target, dest, folders);
        const src = await store.localPath(f.sha256);
        // Where links cannot be made (Windows without the right), a copy; EXCL so an existing entry is never written through.
        await symlink(src, dest).catch(() => copyFile(src, dest, constants.COPYFILE_EXCL));
      }
      for (const l of manifest.links ?? []) {
        const dest = join(target, l.path);
        await mkdir(join(dest, '..'), { recursive: true });
        await assertRealParent(handle.sha256, target, dest, folders);
        await symlink(l.target, dest);
      }
      return target;
    },
  };
  return access;
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
