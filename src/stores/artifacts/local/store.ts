/**
 * Local-folder artifact store: content-addressed files under `<root>/ab/cd/<sha256>`. Content is streamed into a
 * temporary file while hashed, then renamed into place, so a crash never leaves a half-written artifact under its
 * key. Keys are validated as sha256 hex before any path is built, so no key can escape the root.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BatonError } from '../../../errors.ts';
import type { ArtifactStore, PutResult } from '../../../ports/artifacts.ts';

const SHA = /^[0-9a-f]{64}$/;

export function assertKey(key: string): void {
  if (!SHA.test(key)) {
    throw new BatonError('artifact', `Artifact key ${JSON.stringify(key)} is not a sha256 hex digest. Artifact keys are content hashes; pass the sha256 from a handle.`);
  }
}

export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  private readonly tmp: string;
  private ready: Promise<void> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
    this.tmp = join(this.root, 'tmp');
  }

  get url(): string {
    return `file:${this.root}`;
  }

  private init(): Promise<void> {
    this.ready ??= mkdir(this.tmp, { recursive: true }).then(() => undefined);
    return this.ready;
  }

  /** Path of a key inside the root (key validated first). */
  pathOf(sha256: string): string {
    assertKey(sha256);
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
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
      if (await exists(final)) {
        await rm(tmpFile, { force: true });
      } else {
        await mkdir(join(final, '..'), { recursive: true });
        await chmod(tmpFile, 0o444);
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
    return exists(this.pathOf(sha256));
  }

  async get(sha256: string): Promise<Readable> {
    return createReadStream(await this.localPath(sha256));
  }

  async read(sha256: string): Promise<Buffer> {
    return readFile(await this.localPath(sha256));
  }

  async localPath(sha256: string): Promise<string> {
    const p = this.pathOf(sha256);
    if (!(await exists(p))) {
      throw new BatonError('artifact', `Artifact ${sha256} is not in the artifact store ${this.root}. It may have been deleted, or the run used another store (--artifacts).`);
    }
    return p;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
