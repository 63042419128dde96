/**
 * Fingerprints of local files and folders named by task inputs (the PathFingerprints port). A file's fingerprint is
 * its sha256; it is computed only when the file's (path, size, mtime, ctime, inode) changed since it was last
 * hashed, remembered in a small memo file beside the artifacts, so an unchanged 10 GB CSV costs one `stat` per run.
 * A folder's fingerprint is the hash of its sorted (relative path, file hash) list; walks are bounded
 * (MAX_DIR_ENTRIES), skip `.git`, `node_modules` and `.baton`, and do not follow symlinked folders.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { FingerprintPaths, PathScan } from '../ports/path-fingerprints.ts';

/** Entries (files and folders) a folder walk visits before the folder is reported as too large. */
export const MAX_DIR_ENTRIES = 10_000;
/** Folders never walked: version control, dependencies, Baton's own store. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.baton']);
/** Memo entries kept (oldest dropped first). */
const MAX_MEMO = 20_000;

class TooLarge extends Error {}

interface Options {
  /** Where relative paths resolve. @default process.cwd() */
  cwd?: string;
  /** The memo file of (path, size, mtime, ctime, inode) → sha256; none → memo in this process only. */
  memoFile?: string;
  /** @default MAX_DIR_ENTRIES */
  maxDirEntries?: number;
}

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function localPathFingerprints(options: Options = {}): FingerprintPaths {
  const cwd = options.cwd ?? process.cwd();
  const maxEntries = options.maxDirEntries ?? MAX_DIR_ENTRIES;
  let memo: Map<string, string> | undefined;
  let added = 0;

  async function loadMemo(): Promise<Map<string, string>> {
    if (memo) return memo;
    memo = new Map();
    if (options.memoFile) {
      try {
        const saved = JSON.parse(await readFile(options.memoFile, 'utf8')) as Record<string, string>;
        for (const [k, v] of Object.entries(saved)) if (typeof v === 'string') memo.set(k, v);
      } catch {
        /* no memo yet, or an unreadable one: start afresh (it only saves work) */
      }
    }
    return memo;
  }

  async function saveMemo(): Promise<void> {
    if (!options.memoFile || added === 0 || !memo) return;
    added = 0;
    const entries = [...memo.entries()].slice(-MAX_MEMO);
    const tmp = `${options.memoFile}.${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(dirname(options.memoFile), { recursive: true });
      await writeFile(tmp, JSON.stringify(Object.fromEntries(entries)));
      await rename(tmp, options.memoFile); // atomic: concurrent engines overwrite each other, never corrupt
    } catch {
      /* the memo is an optimisation; failing to save it costs a re-hash next time */
    }
  }

  async function fileHash(abs: string, s: { size: bigint; mtimeNs: bigint; ctimeNs: bigint; ino: bigint; dev: bigint }): Promise<string> {
    const m = await loadMemo();
    const key = `${abs}\0${s.size}\0${s.mtimeNs}\0${s.ctimeNs}\0${s.ino}\0${s.dev}`;
    let h = m.get(key);
    if (!h) {
      h = await hashFile(abs);
      m.set(key, h);
      added++;
    }
    return h;
  }

  async function dirHash(abs: string): Promise<string> {
    const lines: string[] = [];
    let seen = 0;
    const walk = async (dir: string, rel: string): Promise<void> => {
      const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        if (++seen > maxEntries) throw new TooLarge();
        const p = join(dir, e.name);
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          if (!SKIPPED_DIRS.has(e.name)) await walk(p, r);
        } else if (e.isFile() || e.isSymbolicLink()) {
          const s = await stat(p, { bigint: true }).catch(() => undefined);
          if (s?.isFile()) lines.push(`${r}\t${await fileHash(p, s)}`);
        }
      }
    };
    await walk(abs, '');
    return createHash('sha256').update(lines.join('\n')).digest('hex');
  }

  return async (candidates, { content }): Promise<PathScan> => {
    const scan: PathScan = { paths: {}, skipped: {} };
    for (const c of new Set(candidates)) {
      const abs = resolve(cwd, c);
      const s = await stat(abs, { bigint: true }).catch(() => undefined);
      if (!s || !(s.isFile() || s.isDirectory())) continue;
      if (!content) {
        scan.paths[c] = s.isFile() ? 'file' : 'dir';
        continue;
      }
      try {
        scan.paths[c] = s.isFile() ? `file:${await fileHash(abs, s)}` : `dir:${await dirHash(abs)}`;
      } catch (err) {
        if (err instanceof TooLarge) scan.skipped[c] = `a folder with more than ${maxEntries} entries`;
        else scan.skipped[c] = `unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
      }
    }
    await saveMemo();
    return scan;
  };
}
