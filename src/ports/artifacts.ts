/**
 * ArtifactStore: content-addressed bytes. Keys are sha256 hex digests of the content, so a key can never name a
 * path outside the store and the same bytes are stored once. A store never hands out content that does not match
 * its key: content that was altered, swapped or replaced by a link in the store is refused with
 * BatonError('artifact') naming the key and saying the store is corrupt or was tampered with.
 */
import type { Readable } from 'node:stream';

export interface PutResult {
  sha256: string;
  size: number;
}

export interface ArtifactStore {
  readonly url: string;
  /** Streams content in, hashing as it goes; returns its sha256 and size. Writing existing content is a no-op. */
  put(content: Readable | Uint8Array | string): Promise<PutResult>;
  /** Stores a local file without reading it twice where possible. */
  putFile(path: string): Promise<PutResult>;
  has(sha256: string): Promise<boolean>;
  /**
   * Streams the content; throws BatonError('artifact') naming the key when missing. The content is verified as it
   * streams: when it does not match its key the stream fails with BatonError('artifact') before it ends.
   */
  get(sha256: string): Promise<Readable>;
  /** The whole content, verified against its key. */
  read(sha256: string): Promise<Buffer>;
  /**
   * A local file path holding the content (read-only), fetching it to a local cache first for remote stores. The
   * caller reads the file itself, so the store checks it is the file it stored (and verifies it when unsure).
   */
  localPath(sha256: string): Promise<string>;
}
