/**
 * Fingerprints of local files and folders named by task inputs (the PathFingerprints port). A file's fingerprint is
 * its sha256; it is computed only when the file's (path, size, mtime, ctime, inode) changed since it was last
 * hashed. The memo lives in memory, and for files of PERSIST_MIN_BYTES or more also in a small memo file beside the
 * artifacts, so an unchanged 10 GB CSV costs one `stat` per run; small files are cheaper to hash than to remember
 * (a log file a task appends to would otherwise churn the memo).
 * A folder's fingerprint is the hash of its sorted (relative path, file hash) list; walks are bounded
 * (MAX_DIR_ENTRIES), skip `.git`, `node_modules` and `.baton`, and do not follow symlinked folders.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, renameSync, writeFileSync } from 'node:fs';
import { statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { FingerprintPaths, PathScan } from '../ports/path-fingerprints.ts';

/** Entries (files and folders) a folder walk visits before the folder is reported as too large. */
export const MAX_DIR_ENTRIES = 10_000;
/** Folders never walked: version control, dependencies, Baton's own store. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.baton']);
/** Files at least this large have their hash remembered across processes. */
export const PERSIST_MIN_BYTES = 1024 * 1024;
/** Memo entries kept in the memo file (oldest dropped first) and in memory (cleared when exceeded). */
const MAX_SAVED = 10_000;
const MAX_IN_MEMORY = 50_000;
/** Least time between two writes of the memo file; what is left is written when the process exits. */
const SAVE_EVERY_MS = 2000;

/** Memo writers with unsaved entries, flushed synchronously at exit (one listener for all of them). */
const pending = new Set<() => void>();
let exitHook = false;
function flushAtExit(flush: () => void): void {
  pending.add(flush);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const f of pending) f();
  });
}

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
  const maxEntries = options.maxDirEntries ?? MAX_DIR_ENTRIES;
  const memo = new Map<string, string>();
  /** Entries for the memo file: loaded once, then added to. */
  let saved: Map<string, string> | undefined;
  let dirty = false;
  let lastSave = 0;
  let timer: NodeJS.Timeout | undefined;

  async function loadSaved(): Promise<Map<string, string>> {
    if (saved) return saved;
    saved = new Map();
    if (options.memoFile) {
      try {
        const data = JSON.parse(await readFile(options.memoFile, 'utf8')) as Record<string, string>;
        for (const [k, v] of Object.entries(data)) if (typeof v === 'string') saved.set(k, v);
      } catch {
        /* no memo yet, or an unreadable one: start afresh (it only saves work) */
      }
    }
    return saved;
  }

  function snapshot(): { tmp: string; text: string } | undefined {
    pending.delete(flushSync);
    if (!options.memoFile || !dirty || !saved) return undefined;
    dirty = false;
    lastSave = Date.now();
    const text = JSON.stringify(Object.fromEntries([...saved.entries()].slice(-MAX_SAVED)));
    return { tmp: `${options.memoFile}.${process.pid}-${randomBytes(4).toString('hex')}`, text };
  }

  async function save(): Promise<void> {
    const snap = snapshot();
    if (!snap) return;
    try {
      await mkdir(dirname(options.memoFile!), { recursive: true });
      await writeFile(snap.tmp, snap.text);
      await rename(snap.tmp, options.memoFile!); // atomic: concurrent engines overwrite each other, never corrupt
    } catch {
      /* the memo is an optimisation; failing to save it costs a re-hash next time */
    }
  }

  function flushSync(): void {
    const snap = snapshot();
    if (!snap) return;
    try {
      writeFileSync(snap.tmp, snap.text);
      renameSync(snap.tmp, options.memoFile!);
    } catch {
      /* as above */
    }
  }

  async function saveSoon(): Promise<void> {
    if (!dirty || timer) return;
    if (Date.now() - lastSave >= SAVE_EVERY_MS) return save();
    timer = setTimeout(() => {
      timer = undefined;
      void save();
    }, SAVE_EVERY_MS);
    timer.unref();
  }

  async function fileHash(abs: string, s: { size: bigint; mtimeNs: bigint; ctimeNs: bigint; ino: bigint; dev: bigint }): Promise<string> {
    const key = `${abs}\0${s.size}\0${s.mtimeNs}\0${s.ctimeNs}\0${s.ino}\0${s.dev}`;
    const persist = !!options.memoFile && s.size >= BigInt(PERSIST_MIN_BYTES);
    let h = memo.get(key) ?? (persist ? (await loadSaved()).get(key) : undefined);
    if (!h) {
      h = await hashFile(abs);
      if (persist) {
        saved!.set(key, h);
        dirty = true;
        flushAtExit(flushSync);
      }
    }
    if (memo.size >= MAX_IN_MEMORY) memo.clear();
    memo.set(key, h);
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

  /**
   * Most input strings name no file: they are ruled out with one synchronous stat each (a few µs, no thread-pool
   * round trip), so tasks without path inputs pay almost nothing — this runs on every cache lookup.
   */
  const existing = (abs: string) => {
    try {
      const s = statSync(abs, { bigint: true, throwIfNoEntry: false });
      return s && (s.isFile() || s.isDirectory()) ? s : undefined;
    } catch {
      return undefined; // ENOTDIR, ENAMETOOLONG, EACCES…: not a path we can read
    }
  };

  return async (candidates, { content }): Promise<PathScan> => {
    const scan: PathScan = { paths: {}, skipped: {} };
    let hashed = false;
    for (const c of new Set(candidates)) {
      const abs = resolve(options.cwd ?? process.cwd(), c);
      const s = existing(abs);
      if (!s) continue;
      if (!content) {
        scan.paths[c] = s.isFile() ? 'file' : 'dir';
        continue;
      }
      hashed = true;
      try {
        scan.paths[c] = s.isFile() ? `file:${await fileHash(abs, s)}` : `dir:${await dirHash(abs)}`;
      } catch (err) {
        if (err instanceof TooLarge) scan.skipped[c] = `a folder with more than ${maxEntries} entries`;
        else scan.skipped[c] = `unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
      }
    }
    if (hashed) await saveSoon();
    return scan;
  };
}
