/**
 * ArtifactStore: content-addressed bytes. Keys are sha256 hex digests of the content, so a key can never name a
 * path outside the store and the same bytes are stored once.
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
  /** Streams the content; throws BatonError('artifact') naming the key when missing. */
  get(sha256: string): Promise<Readable>;
  read(sha256: string): Promise<Buffer>;
  /** A local file path holding the content (read-only), fetching it to a local cache first for remote stores. */
  localPath(sha256: string): Promise<string>;
}
