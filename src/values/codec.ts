/**
 * How task inputs and outputs are stored. Values are JSON (canonical: sorted keys, so equal values hash equally);
 * bytes become `{ "$blob": sha256 }` artifacts; an encoded value over the inline limit is itself stored as an
 * artifact and referenced by hash. The hash of the canonical JSON identifies the value for caching.
 */
import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { StoredValue } from '../ports/metadata.ts';

/** Encoded values larger than this many bytes are stored as artifacts. @default 65536 */
export const DEFAULT_INLINE_LIMIT = 64 * 1024;

const UNDEFINED = '{"$undefined":true}';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (value === undefined) return UNDEFINED;
  return stringify(value) ?? 'null';
}

export interface Encoded {
  stored: StoredValue;
  /** Artifacts created while encoding (blobs, the value itself when large). */
  written: string[];
  /** Artifacts the value refers to (file/dir handles and blobs): lineage. */
  refs: string[];
}

function hasBytes(value: unknown): boolean {
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.some(hasBytes);
  if (value && typeof value === 'object') return Object.values(value).some(hasBytes);
  return false;
}

async function replaceBytes(value: unknown, artifacts: ArtifactStore, written: string[]): Promise<unknown> {
  if (value instanceof Uint8Array) {
    const { sha256: key, size } = await artifacts.put(value);
    written.push(key);
    return { $blob: key, size };
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => replaceBytes(v, artifacts, written)));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await replaceBytes(v, artifacts, written);
    return out;
  }
  return value;
}

/** Collects artifact hashes referenced by handles and blobs inside a (decoded or encoded) value. */
export function collectRefs(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, into);
  } else if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const o = value as Record<string, unknown>;
    if (typeof o.$blob === 'string') into.add(o.$blob);
    if ((o.$artifact === 'file' || o.$artifact === 'dir') && typeof o.sha256 === 'string') into.add(o.sha256);
    for (const v of Object.values(o)) if (v && typeof v === 'object') collectRefs(v, into);
  }
  return into;
}

export async function encodeValue(value: unknown, artifacts: ArtifactStore, inlineLimit = DEFAULT_INLINE_LIMIT): Promise<Encoded> {
  const written: string[] = [];
  const plain = hasBytes(value) ? await replaceBytes(value, artifacts, written) : value;
  const json = canonicalJson(plain);
  const hash = sha256(json);
  const refs = [...collectRefs(plain)];
  if (Buffer.byteLength(json) <= inlineLimit) return { stored: { json, hash }, written, refs };
  const { sha256: ref } = await artifacts.put(json);
  written.push(ref);
  return { stored: { ref, hash }, written, refs };
}

/** Encodes a value known to hold no bytes, without an artifact store (small values only). */
export function encodeInline(value: unknown): StoredValue {
  const json = canonicalJson(value);
  return { json, hash: sha256(json) };
}

export async function storedJson(stored: StoredValue, artifacts: ArtifactStore): Promise<string> {
  if (stored.json !== undefined) return stored.json;
  if (stored.ref) return (await artifacts.read(stored.ref)).toString('utf8');
  throw new Error('stored value has neither json nor ref');
}

async function restoreBytes(value: unknown, artifacts: ArtifactStore): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => restoreBytes(v, artifacts)));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$blob === 'string' && Object.keys(o).length <= 2) return artifacts.read(o.$blob);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = await restoreBytes(v, artifacts);
    return out;
  }
  return value;
}

/** Parses a stored value's JSON, leaving blobs as `{ $blob }` markers (for the engine, which never needs bytes). */
export async function decodeShallow(stored: StoredValue, artifacts: ArtifactStore): Promise<unknown> {
  const json = await storedJson(stored, artifacts);
  if (json === UNDEFINED) return undefined;
  return JSON.parse(json) as unknown;
}

/** Decodes a stored value fully: blobs become Buffers. */
export async function decodeValue(stored: StoredValue, artifacts: ArtifactStore): Promise<unknown> {
  const value = await decodeShallow(stored, artifacts);
  return stored.json !== undefined && !stored.json.includes('"$blob"') ? value : restoreBytes(value, artifacts);
}
