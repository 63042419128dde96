/**
 * Checks a SQLite store's location before SQLite touches it, so a bad path fails at once with a message naming it,
 * and a file that is not a Baton store is never modified.
 *
 * What a path may hold:
 * - nothing: the store is created (and its missing folders, one level at a time: Node's recursive mkdir loops
 *   forever on some paths, such as under /proc);
 * - a 0-byte file: treated as a NEW store. SQLite itself creates the file empty and writes its first page only
 *   when the journal mode is set, so an empty file is exactly what a Baton process leaves when it is killed while
 *   creating the store, and what a second process sees when two start on a fresh folder at once. Refusing it
 *   would make both of those fail; an empty file holds nothing that initialising it could destroy;
 * - a SQLite file: opened (the driver then refuses one that holds tables but not Baton's schema);
 * - anything else: refused, untouched.
 *
 * Whether the store can be written decides how it is opened: a reader (`baton runs`, `baton show`) on a read-only
 * `.baton` still works, read-only (see driver.ts).
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { BatonError, messageOf } from '../../../errors.ts';

const SQLITE_HEADER = 'SQLite format 3\u0000';

export interface StoreLocation {
  /** What the path holds now. */
  kind: 'missing' | 'empty' | 'sqlite';
  /** Whether this process may write the file and create files beside it (SQLite's -wal and -shm). */
  writable: boolean;
  /** When not writable: which of the two is not, for messages. */
  readOnlyBecause?: string;
}

/** Inspects (and for a new store, prepares the folder of) the store file `file`, an absolute path. */
export function checkStoreLocation(file: string): StoreLocation {
  let stat;
  try {
    stat = statSync(file, { throwIfNoEntry: false });
  } catch (err) {
    throw new BatonError('store', `Cannot reach the metadata store ${file}: ${messageOf(err)}. Choose a path you can read and write with --store sqlite:PATH.`, { cause: err });
  }
  if (stat?.isDirectory()) {
    throw new BatonError('store', `The metadata store path ${file} is a directory, not a SQLite file. Use --store sqlite:${file}/baton.db.`);
  }
  if (!stat) {
    makeFolder(dirname(file), file);
    return { kind: 'missing', writable: true };
  }
  if (!stat.isFile()) {
    throw new BatonError('store', `The metadata store path ${file} is not a regular file. Point --store at a file (sqlite:PATH), for example sqlite:.baton/baton.db.`);
  }
  const readOnlyBecause = !canWrite(file) ? `the file ${file} is not writable` : !canWrite(dirname(file)) ? `its folder ${dirname(file)} is not writable` : undefined;
  const writable = readOnlyBecause === undefined;
  if (stat.size === 0) return { kind: 'empty', writable, ...(readOnlyBecause ? { readOnlyBecause } : {}) };
  const head = readHead(file, SQLITE_HEADER.length);
  if (head.toString('latin1') !== SQLITE_HEADER) {
    const shown = JSON.stringify(head.toString('latin1').replace(/[^\x20-\x7e]/g, '.'));
    throw new BatonError(
      'store',
      `The metadata store ${file} is not a valid Baton SQLite database: it is not SQLite at all (it starts with ${shown}). Baton did not modify it. Point --store at another file, or move this one away to start a new store.`,
    );
  }
  return { kind: 'sqlite', writable, ...(readOnlyBecause ? { readOnlyBecause } : {}) };
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readHead(file: string, length: number): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, 0);
    return buf.subarray(0, n);
  } catch (err) {
    throw new BatonError('store', `Cannot read the metadata store ${file}: ${messageOf(err)}. Check its permissions, or choose another path with --store.`, { cause: err });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Creates `dir` and its missing parents one level at a time; any failure is a store error naming the folder. */
function makeFolder(dir: string, file: string): void {
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    let st;
    try {
      st = statSync(cur, { throwIfNoEntry: false });
    } catch (err) {
      throw folderError(cur, file, err);
    }
    if (st) {
      if (!st.isDirectory()) throw folderError(cur, file, new Error(`${cur} exists and is not a folder`));
      break;
    }
    missing.push(cur);
    const parent = dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d, { throwIfNoEntry: false })?.isDirectory()) continue; // created meanwhile
      throw folderError(d, file, err);
    }
  }
}

function folderError(dir: string, file: string, err: unknown): BatonError {
  return new BatonError(
    'store',
    `Cannot create the folder ${dir} for the metadata store ${file}: ${messageOf(err)}. Choose a writable path with --store sqlite:PATH, or create the folder first.`,
    { cause: err },
  );
}
