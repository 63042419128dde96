/**
 * Local-folder artifact store: content-addressed files under `<root>/ab/cd/<sha256>`. Content is streamed into a
 * temporary file while hashed, then renamed into place, so a crash never leaves a half-written artifact under its
 * key. Keys are validated as sha256 hex before any path is built, so no key can escape the root.
 *
 * The folder is trusted no further than it must be, because anyone with access to it can change it:
 * - `get` and `read` hash the content as it is read (one pass, no second read) and fail with code 'artifact'
 *   naming the key when it does not match: the store is corrupt or was tampered with.
 * - Files are opened with O_NOFOLLOW (and O_NONBLOCK, so a planted FIFO cannot hang a read) and checked to be
 *   regular files, and the `ab/cd` folders are checked on their real paths (once per folder and store object: reads
 *   verify content anyway), so a symbolic link planted in the store is refused, never followed.
 * - `localPath` hands out a path for others to read, so it cannot hash while they read. Each stored file is sealed
 *   instead: read-only, with a modification time derived from its key (`sealOf`). Writing to a file, replacing it
 *   or moving another artifact onto its name changes that time, and a file whose seal does not match is hashed
 *   once more before its path is given out (and sealed again when it is intact). A file stored by an older Baton
 *   has no seal and is verified once, on first use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, realpath, rename, rm, utimes, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline as pipelineCb, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BatonError } from '../../../errors.ts';
import type { ArtifactStore, PutResult } from '../../../ports/artifacts.ts';

const SHA = /^[0-9a-f]{64}$/;
/** 0 where the platform has no O_NOFOLLOW (Windows): the lstat checks still apply there. */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;
/** 2000-01-01T00:00:00Z: seals are times from here on. */
const SEAL_BASE = 946_684_800;

export function assertKey(key: string): void {
  if (!SHA.test(key)) {
    throw new BatonError('artifact', `Artifact key ${JSON.stringify(key)} is not a sha256 hex digest. Artifact keys are content hashes; pass the sha256 from a handle.`);
  }
}

/**
 * The modification time (seconds) of the stored file for `sha256`: 2000-01-01 plus an even number of seconds taken
 * from the key (even, so file systems that keep times in 2-second steps keep it exactly).
 */
export function sealOf(sha256: string): number {
  return SEAL_BASE + 2 * parseInt(sha256.slice(0, 7), 16);
}

const isSealed = (st: Stats, sha256: string): boolean => st.isFile() && st.mtimeMs === sealOf(sha256) * 1000;

export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  private readonly tmp: string;
  private ready: Promise<void> | undefined;
  /** The root's real path (the root itself may be a link, e.g. /tmp on macOS); found on first use. */
  private realRoot: string | undefined;
  /** `ab/cd` folders found to be real folders under the root. */
  private readonly realFolders = new Set<string>();

  constructor(root: string) {
    this.root = resolve(root);
    this.tmp = join(this.root, 'tmp');
  }

  get url(): string {
    return `file:${this.root}`;
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.tmp, { recursive: true });
      const st = await lstat(this.tmp);
      if (!st.isDirectory()) throw this.tampered('(temporary files)', this.tmp, 'its temporary folder is a symbolic link or not a folder');
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** Path of a key inside the root (key validated first). */
  pathOf(sha256: string): string {
    assertKey(sha256);
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /**
   * The key's path, with its folders checked on their real paths: `ab/cd` must be folders under the root, not links
   * to elsewhere. A folder that does not exist yet passes (the content is then missing).
   */
  private async checkedPath(sha256: string): Promise<string> {
    const p = this.pathOf(sha256);
    const folder = sha256.slice(0, 4);
    if (this.realFolders.has(folder)) return p;
    const root = await this.rootReal();
    const want = join(root, sha256.slice(0, 2), sha256.slice(2, 4));
    let missing = false;
    const real = await realpath(dirname(p)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
      missing = true;
      return want;
    });
    if (real !== want) throw this.tampered(sha256, p, `its folder ${dirname(p)} leads to ${real}, outside the store (a symbolic link was planted)`);
    if (!missing) this.realFolders.add(folder);
    return p;
  }

  private async rootReal(): Promise<string> {
    if (this.realRoot) return this.realRoot;
    try {
      return (this.realRoot = await realpath(this.root));
    } catch {
      return this.root; // no store yet: every key is missing
    }
  }

  private missing(sha256: string): BatonError {
    return new BatonError('artifact', `Artifact ${sha256} is not in the artifact store ${this.root}. It may have been deleted, or the run used another store (--artifacts).`);
  }

  private tampered(sha256: string, p: string, why: string): BatonError {
    return new BatonError(
      'artifact',
      `Artifact ${sha256} in the artifact store ${this.root} is corrupt or was tampered with: ${why}. Baton refuses to use it. Delete ${p} and re-run the task that wrote it (or restore the store from a backup).`,
    );
  }

  /** Opens the key's file for reading without following a link, checked to be a regular file. */
  private async openChecked(sha256: string): Promise<{ fh: FileHandle; p: string; size: number }> {
    const p = await this.checkedPath(sha256);
    let fh: FileHandle;
    try {
      fh = await open(p, constants.O_RDONLY | NOFOLLOW | NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw this.missing(sha256);
      if (code === 'ELOOP' || code === 'EMLINK') throw this.tampered(sha256, p, 'it is a symbolic link');
      throw err;
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw this.tampered(sha256, p, 'it is not a regular file');
    }
    return { fh, p, size: st.size };
  }

  async put(content: Readable | Uint8Array | string): Promise<PutResult> {
    await this.init();
    const tmpFile = join(this.tmp, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const source = content instanceof Readable ? content : Readable.from([typeof content === 'string' ? Buffer.from(content) : Buffer.from(content.buffer, content.byteOffset, content.byteLength)]);
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(tmpFile),
      );
      const sha256 = hash.digest('hex');
      const final = this.pathOf(sha256);
      await mkdir(dirname(final), { recursive: true });
      await this.checkedPath(sha256);
      const existing = await lstat(final).catch(() => undefined);
      if (existing && isSealed(existing, sha256)) {
        await rm(tmpFile, { force: true });
      } else {
        // Missing, or not what this store wrote (a link, an unsealed or altered file): the fresh copy replaces it.
        // rename replaces a link itself, never its target.
        await chmod(tmpFile, 0o444);
        await seal(tmpFile, sha256);
        await rename(tmpFile, final);
      }
      return { sha256, size };
    } catch (err) {
      await rm(tmpFile, { force: true });
      throw err;
    }
  }

  async putFile(path: string): Promise<PutResult> {
    return this.put(createReadStream(path));
  }

  async has(sha256: string): Promise<boolean> {
    const p = await this.checkedPath(sha256);
    const st = await lstat(p).catch(() => undefined);
    return st?.isFile() === true;
  }

  /** Streams the content, hashing it on the way: the stream fails (before it ends) when it does not match its key. */
  async get(sha256: string): Promise<Readable> {
    const { fh, p } = await this.openChecked(sha256);
    const hash = createHash('sha256');
    const verify = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
      flush: (done) => {
        const got = hash.digest('hex');
        done(got === sha256 ? null : this.tampered(sha256, p, `its content hashes to ${got}`));
      },
    });
    // pipeline, not pipe: a read error of the file reaches the returned stream.
    return pipelineCb(fh.createReadStream(), verify, () => undefined);
  }

  async read(sha256: string): Promise<Buffer> {
    const { fh, p, size } = await this.openChecked(sha256);
    let data: Buffer;
    try {
      // The size is known from the check's fstat: read into one buffer (fh.readFile would fstat again).
      data = Buffer.allocUnsafe(size);
      let at = 0;
      while (at < size) {
        const { bytesRead } = await fh.read(data, at, size - at, at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      if (at < size) data = data.subarray(0, at); // shrunk while read: the hash below says so
    } finally {
      await fh.close();
    }
    const got = createHash('sha256').update(data).digest('hex');
    if (got !== sha256) throw this.tampered(sha256, p, `its content hashes to ${got}`);
    return data;
  }

  /** A path to the content: a regular file under the root, sealed, or hashed again (once) when its seal is off. */
  async localPath(sha256: string): Promise<string> {
    const p = await this.checkedPath(sha256);
    const st = await lstat(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw this.missing(sha256);
      throw err;
    });
    if (st.isSymbolicLink()) throw this.tampered(sha256, p, 'it is a symbolic link');
    if (!st.isFile()) throw this.tampered(sha256, p, 'it is not a regular file');
    if (isSealed(st, sha256)) return p;
    // Changed since it was stored (or stored before seals): hash it now, once, and seal it again when intact.
    const { fh } = await this.openChecked(sha256);
    const hash = createHash('sha256');
    try {
      for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    } finally {
      await fh.close();
    }
    const got = hash.digest('hex');
    if (got !== sha256) throw this.tampered(sha256, p, `its content hashes to ${got}`);
    // A store owned by another user or on a read-only disk cannot be sealed: it is then verified on every use.
    await seal(p, sha256).catch(() => undefined);
    return p;
  }
}

/** Sets the file's modification time to its key's seal. */
async function seal(path: string, sha256: string): Promise<void> {
  await utimes(path, Date.now() / 1000, sealOf(sha256));
}
