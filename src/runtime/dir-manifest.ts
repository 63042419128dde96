/**
 * Directory artifacts: the manifest that stores a folder (its files by content hash, and its symbolic links), how a
 * folder is scanned into one, and how a manifest is checked before it is materialised.
 *
 * The link rule (putDir): a symbolic link whose target resolves inside the folder is kept, as a link entry with a
 * relative target, so the folder materialises with the same shape. A link whose target resolves outside the folder
 * is refused with an error naming it: its content is not part of the folder, and a stored link to outside would
 * lead out of every folder it is materialised into. FIFOs, sockets and devices are refused as well.
 *
 * A manifest may be forged (anyone can store bytes and pass a handle to them), so materialising checks every entry:
 * relative paths of real names only (no "", "." or ".."), links in the canonical form putDir writes ("../" steps
 * first, then names) resolving inside the folder, and every parent folder a real folder inside it.
 */
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { BatonError } from '../errors.ts';

export interface ManifestFile {
  path: string;
  sha256: string;
  size: number;
}

export interface ManifestLink {
  path: string;
  /** Relative to the link's folder, in canonical form: `../` steps first, then names; `.` for the folder itself. */
  target: string;
}

export interface Manifest {
  files: ManifestFile[];
  /** Left out when the folder has no links, so folders without links keep the hash they always had. */
  links?: ManifestLink[];
}

/** True when `p` is `root` or inside it (compared with a trailing separator: /tmp/abcX is not inside /tmp/abc). */
export function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

const toPosix = (p: string): string => p.split(sep).join('/');

/** The files (relative paths, sorted) and links of a folder, by the link rule above. */
export async function scanFolder(folder: string): Promise<{ files: string[]; links: ManifestLink[] }> {
  const root = await realpath(folder);
  const files: string[] = [];
  const links: ManifestLink[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      const rel = toPosix(relative(root, p));
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.push(rel);
      else if (e.isSymbolicLink()) links.push({ path: rel, target: await linkTarget(folder, root, p, rel) });
      else throw new BatonError('usage', `putDir(${JSON.stringify(folder)}): "${rel}" is not a file, folder or symbolic link (a FIFO, socket or device). Only files, folders and links inside the folder can be stored; remove it or store the folder without it.`);
    }
  };
  await walk(root);
  files.sort();
  links.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, links };
}

/** The canonical relative target of a link in a folder being stored, or an error when it points outside. */
async function linkTarget(folder: string, root: string, p: string, rel: string): Promise<string> {
  const raw = await readlink(p);
  // The link's folder is a real folder (the walk never enters links), so a lexical resolve is its real first step.
  const resolved = await realpath(p).catch(() => resolve(dirname(p), raw)); // dangling: where it would point
  if (!isInside(root, resolved)) {
    throw new BatonError(
      'usage',
      `putDir(${JSON.stringify(folder)}): "${rel}" is a symbolic link to ${JSON.stringify(raw)}, outside the folder. A stored folder keeps links only when they point inside it; copy the target into the folder (e.g. cp -L) or remove the link.`,
    );
  }
  return toPosix(relative(dirname(p), resolved)) || '.';
}

const badManifest = (sha256: string, why: string): BatonError =>
  new BatonError('artifact', `Directory manifest ${sha256} is not valid: ${why}. The handle was forged or its manifest is damaged; store the folder again with ctx.artifacts.putDir and pass the handle it returns.`);

/** Parses and checks a stored manifest's shape and entry paths. */
export function parseManifest(sha256: string, bytes: Buffer): Manifest {
  let m: unknown;
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw badManifest(sha256, 'it is not JSON');
  }
  const o = m as Partial<Manifest> | null;
  if (!o || typeof o !== 'object' || !Array.isArray(o.files) || (o.links !== undefined && !Array.isArray(o.links))) throw badManifest(sha256, 'it has no list of files');
  for (const f of o.files) {
    if (!f || typeof f !== 'object' || typeof f.sha256 !== 'string') throw badManifest(sha256, `entry ${JSON.stringify(f)} has no sha256`);
    checkEntryPath(sha256, f.path);
  }
  for (const l of o.links ?? []) {
    if (!l || typeof l !== 'object') throw badManifest(sha256, `link entry ${JSON.stringify(l)} is not an object`);
    checkEntryPath(sha256, l.path);
    checkLinkTarget(sha256, l);
  }
  return o as Manifest;
}

function checkEntryPath(sha256: string, path: unknown): void {
  if (typeof path !== 'string' || path.includes('\0') || path.includes('\\') || path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw badManifest(sha256, `entry ${JSON.stringify(path)} is not a relative path inside the folder`);
  }
}

function checkLinkTarget(sha256: string, l: ManifestLink): void {
  const t = l.target as unknown;
  const parts = typeof t === 'string' ? t.split('/') : [];
  const ups = parts.findIndex((part) => part !== '..');
  const names = ups < 0 ? [] : parts.slice(ups);
  const canonical = typeof t === 'string' && !t.includes('\0') && !t.includes('\\') && (t === '.' || names.every((part) => part !== '' && part !== '.' && part !== '..'));
  // Lexically inside: the link's depth allows that many "../" steps.
  if (!canonical || (ups < 0 ? parts.length : ups) > l.path.split('/').length - 1) {
    throw badManifest(sha256, `link ${JSON.stringify(l.path)} → ${JSON.stringify(t)} leads outside the folder`);
  }
}

/**
 * Checks that `dest`'s parent folder is a real folder inside `root` (not reached through a link), so creating
 * `dest` cannot write outside. `checked` caches folders already checked.
 */
export async function assertRealParent(sha256: string, root: string, dest: string, checked: Set<string>): Promise<void> {
  const parent = dirname(dest);
  if (checked.has(parent)) return;
  const real = await realpath(parent);
  if (real !== parent || !isInside(root, real) || !(await lstat(parent)).isDirectory()) {
    throw badManifest(sha256, `the folder of ${JSON.stringify(relative(root, dest))} is reached through a link`);
  }
  checked.add(parent);
}
