/**
 * Resolves bindings to values during a run: literals, upstream outputs (decoded once and memoised) and paths into
 * them. `encode` turns a binding into a stored value, reusing an upstream's stored value when the binding is the
 * whole output, so passing a large value along costs nothing.
 */
import type { ArtifactStore } from '../ports/artifacts.ts';
import type { StoredValue } from '../ports/metadata.ts';
import { getPath, type Binding } from '../sdk/refs.ts';
import { decodeShallow, encodeValue, sha256, DEFAULT_INLINE_LIMIT } from '../values/codec.ts';

export class ValueResolver {
  private memo = new Map<string, Promise<unknown>>();

  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly outputOf: (nodeId: string) => StoredValue | undefined,
    private readonly inlineLimit = DEFAULT_INLINE_LIMIT,
  ) {}

  clear(): void {
    this.memo.clear();
  }

  output(nodeId: string): Promise<unknown> {
    let p = this.memo.get(nodeId);
    if (!p) {
      const stored = this.outputOf(nodeId);
      p = stored ? decodeShallow(stored, this.artifacts) : Promise.resolve(undefined);
      this.memo.set(nodeId, p);
    }
    return p;
  }

  async resolve(b: Binding): Promise<unknown> {
    if ('lit' in b) return b.lit;
    if ('ref' in b) return getPath(await this.output(b.ref), b.path ?? []);
    if ('obj' in b) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(b.obj)) {
        const value = await this.resolve(v);
        if (value !== undefined) out[k] = value;
      }
      return out;
    }
    if ('arr' in b) return Promise.all(b.arr.map((x) => this.resolve(x)));
    throw new Error(`a map item placeholder (${JSON.stringify(b)}) was left unexpanded`);
  }

  async encode(b: Binding): Promise<StoredValue> {
    if ('ref' in b && (!b.path || b.path.length === 0)) {
      const stored = this.outputOf(b.ref);
      if (stored) return stored;
    }
    return (await encodeValue(await this.resolve(b), this.artifacts, this.inlineLimit)).stored;
  }

  /** The list of outputs of the given nodes, as one stored value, without decoding inline outputs. */
  async gather(nodeIds: readonly string[]): Promise<StoredValue> {
    const parts: string[] = [];
    for (const id of nodeIds) {
      const stored = this.outputOf(id);
      if (stored?.json !== undefined && !stored.json.startsWith('{"$undefined"')) parts.push(stored.json);
      else parts.push(JSON.stringify((await this.output(id)) ?? null));
    }
    const json = `[${parts.join(',')}]`;
    const hash = sha256(json);
    if (Buffer.byteLength(json) <= this.inlineLimit) return { json, hash };
    const { sha256: ref } = await this.artifacts.put(json);
    return { ref, hash };
  }
}
