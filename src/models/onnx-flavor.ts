/**
 * The 'onnx' flavor: models exported to ONNX (e.g. trained in Python with sklearn/torch and converted), run with
 * onnxruntime-node on the CPU. onnxruntime-node is imported dynamically the first time an ONNX model is loaded,
 * so nothing else pays for it. It is an optional peer dependency: without it, loading an ONNX model fails with a
 * BatonError naming the install command. Models are never downloaded: they come from a local file, bytes or a saved model.
 *
 *   const model = await loadOnnxModel('linear.onnx', { features: ['a', 'b', 'c'] });
 *   await model.predict([{ a: 1, b: 2, c: 3 }]);                 // rows -> tensor [N, 3] in feature order
 *   await model.predict({ tensors: { x: { data: Float32Array.from([1, 2, 3]), dims: [1, 3] } } });
 *   await saveModel(model, dir);                                  // model.json + model.onnx
 *
 * Signature: read from the ONNX file (input/output names, element types, shapes; symbolic dims as strings).
 * Feature order for row batches: `features` (metadata.features), either a list (single-input models) or
 * { inputName: [column, ...] }. Without it, a row must carry each input by name (a number or a flat array).
 * Outputs come back column-wise as plain arrays, one entry per batch row (a number for [N] / [N, 1] outputs).
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as OrtTypes from 'onnxruntime-node';
import { BatonError } from '../errors.ts';
import {
  isRowBatch,
  modelError,
  type Batch,
  type FieldSpec,
  type Model,
  type ModelFlavor,
  type ModelManifest,
  type ModelSignature,
  type Predictions,
  type Row,
  type TensorValue,
} from './model.ts';

type Ort = typeof OrtTypes;
let ortPromise: Promise<Ort> | undefined;

/**
 * Loads onnxruntime-node once, on first use.
 * @internal Not in the published types: onnxruntime-node is optional, so no public declaration may name its types.
 */
export function onnxRuntime(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').then(
    (m) => ((m as unknown as { default?: Ort }).default ?? m) as Ort,
    (cause: unknown) => {
      ortPromise = undefined;
      // An optional peer dependency of Baton: only ONNX models need it, and its install downloads ~300 MB.
      const missing = (cause as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && /onnxruntime-node/.test((cause as Error).message);
      throw modelError(
        missing
          ? 'ONNX models need the onnxruntime-node package, which is not installed (it is an optional peer dependency of Baton). Install it in your project: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node'
          : `cannot load onnxruntime-node (needed for ONNX models): ${(cause as Error).message}. Reinstall it: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node`,
        { cause },
      );
    },
  );
  return ortPromise;
}

export type FeatureMap = readonly string[] | Record<string, readonly string[]>;

export interface OnnxLoadOptions {
  /** Row columns feeding each input, in tensor order (see the file comment). Stored as metadata.features. */
  features?: FeatureMap;
  metadata?: Record<string, unknown>;
  /** onnxruntime-node's `InferenceSession.SessionOptions` (typed loosely: onnxruntime-node is an optional peer). */
  sessionOptions?: Record<string, unknown>;
}

export const ONNX_FILE = 'model.onnx';
const NUMERIC_TYPES = new Set(['float32', 'float64', 'int32', 'int64', 'uint8', 'int8', 'bool']);

function toSpecs(metas: readonly OrtTypes.InferenceSession.ValueMetadata[]): FieldSpec[] {
  return metas.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor' }));
}

function fmtShape(shape: readonly (number | string | null)[] | undefined): string {
  return `[${(shape ?? []).map((d) => (typeof d === 'number' ? String(d) : (d ?? '?'))).join(', ')}]`;
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export class OnnxModel implements Model {
  readonly flavor = 'onnx';
  readonly signature: ModelSignature;
  private readonly features: Record<string, readonly string[]>;

  /** @internal Made by loadOnnxModel. */
  constructor(
    private readonly ort: Ort,
    /** @internal The onnxruntime-node session. */
    readonly session: OrtTypes.InferenceSession,
    /** The ONNX file's bytes (written by saveModel). */
    readonly bytes: Uint8Array,
    readonly metadata: Record<string, unknown>,
    source: string,
  ) {
    this.signature = { kind: 'tensors', inputs: toSpecs(session.inputMetadata), outputs: toSpecs(session.outputMetadata) };
    this.features = normaliseFeatures(metadata.features as FeatureMap | undefined, this.signature.inputs, source);
  }

  async predict(batch: Batch): Promise<Predictions> {
    const feeds = isRowBatch(batch) ? this.rowFeeds(batch) : this.tensorFeeds(batch.tensors);
    let results: OrtTypes.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds);
    } catch (cause) {
      throw modelError(`ONNX model failed to run: ${(cause as Error).message.trim()}`, { cause });
    }
    const out: Predictions = {};
    for (const spec of this.signature.outputs) {
      const t = results[spec.name];
      if (!t) continue;
      out[spec.name] = splitRows(plainArray(t.data), t.dims);
    }
    return out;
  }

  /** Releases the native session. */
  async close(): Promise<void> {
    await this.session.release();
  }

  private spec(name: string): FieldSpec {
    const spec = this.signature.inputs.find((s) => s.name === name);
    if (!spec) throw modelError(`unknown ONNX input '${name}'; model inputs: ${this.inputList()}`);
    return spec;
  }

  private inputList(): string {
    return this.signature.inputs.map((s) => `${s.name} ${s.type}${fmtShape(s.shape)}`).join(', ');
  }

  private makeTensor(spec: FieldSpec, values: ArrayLike<unknown>, dims: readonly number[]): OrtTypes.Tensor {
    const shape = spec.shape ?? [];
    if (shape.length !== dims.length || shape.some((d, i) => typeof d === 'number' && d !== dims[i])) {
      throw modelError(`input '${spec.name}' has shape ${fmtShape(dims)} but the model expects ${spec.type}${fmtShape(shape)}`);
    }
    if (values.length !== product(dims)) {
      throw modelError(`input '${spec.name}' has ${values.length} values, but shape ${fmtShape(dims)} needs ${product(dims)}`);
    }
    if (!NUMERIC_TYPES.has(spec.type)) throw modelError(`input '${spec.name}' has type ${spec.type}, which this flavor cannot feed yet`);
    const Ctor = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array, int8: Int8Array, bool: Uint8Array }[spec.type as 'float32'];
    let data: Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | BigInt64Array;
    if (spec.type === 'int64') {
      data = values instanceof BigInt64Array ? values : BigInt64Array.from(Array.from(values, (v) => BigInt(v as number)));
    } else if (values instanceof Ctor) {
      data = values;
    } else {
      data = (Ctor as typeof Float32Array).from(Array.from(values, (v) => Number(v)));
    }
    return new this.ort.Tensor(spec.type as 'float32', data as Float32Array, dims);
  }

  private tensorFeeds(tensors: Record<string, TensorValue | Float32Array>): Record<string, OrtTypes.Tensor> {
    const feeds: Record<string, OrtTypes.Tensor> = {};
    for (const [name, value] of Object.entries(tensors)) {
      const spec = this.spec(name);
      if (ArrayBuffer.isView(value)) {
        // A bare typed array: infer the batch size from the input's fixed trailing dims.
        const shape = spec.shape ?? [];
        const inner = shape.slice(1);
        if (shape.length === 0 || inner.some((d) => typeof d !== 'number')) {
          throw modelError(`input '${name}' has shape ${fmtShape(shape)}: pass { data, dims } instead of a bare typed array`);
        }
        const per = product(inner as number[]);
        if (value.length % per !== 0) throw modelError(`input '${name}' has ${value.length} values, not a multiple of ${per} (shape ${fmtShape(shape)})`);
        feeds[name] = this.makeTensor(spec, value, [value.length / per, ...(inner as number[])]);
      } else {
        feeds[name] = this.makeTensor(spec, value.data, value.dims);
      }
    }
    const missing = this.signature.inputs.filter((s) => !(s.name in feeds));
    if (missing.length) throw modelError(`missing ONNX input${missing.length > 1 ? 's' : ''} ${missing.map((s) => `'${s.name}'`).join(', ')}; model inputs: ${this.inputList()}`);
    return feeds;
  }

  private rowFeeds(rows: readonly Row[]): Record<string, OrtTypes.Tensor> {
    if (rows.length === 0) throw modelError('cannot predict an empty batch');
    const feeds: Record<string, OrtTypes.Tensor> = {};
    for (const spec of this.signature.inputs) {
      const shape = spec.shape ?? [];
      const cols = this.features[spec.name];
      const values: unknown[] = [];
      let width: number;
      if (cols) {
        width = cols.length;
        rows.forEach((row, i) => {
          for (const c of cols) {
            const v = row[c];
            if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint') {
              throw modelError(`batch row ${i}: feature '${c}' (input '${spec.name}') must be a number, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
            }
            values.push(v);
          }
        });
      } else {
        width = -1;
        rows.forEach((row, i) => {
          const v = row[spec.name];
          const flat = Array.isArray(v) ? (v as unknown[]).flat(Infinity) : ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v === undefined ? undefined : [v];
          if (!flat) {
            throw modelError(`batch row ${i} has no input '${spec.name}'; give rows that key, or map row columns to it with features (model inputs: ${this.inputList()})`);
          }
          if (width === -1) width = flat.length;
          else if (flat.length !== width) throw modelError(`batch row ${i}: input '${spec.name}' has ${flat.length} values, row 0 had ${width}`);
          values.push(...flat);
        });
      }
      let dims: number[];
      if (shape.length === 1) {
        if (width !== 1) throw modelError(`input '${spec.name}' has shape ${fmtShape(shape)} (one value per row) but rows give ${width}`);
        dims = [rows.length];
      } else if (shape.length === 2) {
        dims = [rows.length, width];
      } else {
        const inner = shape.slice(1);
        if (inner.some((d) => typeof d !== 'number')) throw modelError(`input '${spec.name}' has shape ${fmtShape(shape)}; feed it as a tensor`);
        dims = [rows.length, ...(inner as number[])];
      }
      feeds[spec.name] = this.makeTensor(spec, values, dims);
    }
    return feeds;
  }
}

function normaliseFeatures(features: FeatureMap | undefined, inputs: readonly FieldSpec[], source: string): Record<string, readonly string[]> {
  if (features === undefined) return {};
  const check = (cols: unknown, input: string): readonly string[] => {
    if (!Array.isArray(cols) || cols.length === 0 || !cols.every((c) => typeof c === 'string')) {
      throw modelError(`features for ONNX input '${input}' must be a non-empty list of column names`);
    }
    const spec = inputs.find((s) => s.name === input)!;
    const shape = spec.shape ?? [];
    const width = shape.length === 2 ? shape[1] : shape.length === 1 ? 1 : undefined;
    if (typeof width === 'number' && width !== cols.length) {
      throw modelError(`${cols.length} features given for ONNX input '${input}' of shape ${fmtShape(shape)} (${source}); it takes ${width}`);
    }
    return cols as string[];
  };
  if (Array.isArray(features)) {
    if (inputs.length !== 1) {
      throw modelError(`features is a list but the ONNX model has ${inputs.length} inputs (${inputs.map((s) => s.name).join(', ')}); give { input: [columns] }`);
    }
    return { [inputs[0]!.name]: check(features, inputs[0]!.name) };
  }
  const out: Record<string, readonly string[]> = {};
  for (const [name, cols] of Object.entries(features)) {
    if (!inputs.some((s) => s.name === name)) throw modelError(`features name ONNX input '${name}', but the model inputs are ${inputs.map((s) => s.name).join(', ')}`);
    out[name] = check(cols, name);
  }
  return out;
}

function plainArray(data: OrtTypes.Tensor['data']): unknown[] {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    return Array.from(data as BigInt64Array, (v) => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v));
  }
  return Array.from(data as ArrayLike<unknown>);
}

function reshape(flat: unknown[], dims: readonly number[]): unknown[] {
  if (dims.length <= 1) return flat;
  const step = product(dims.slice(1));
  const out: unknown[] = [];
  for (let i = 0; i < dims[0]!; i++) out.push(reshape(flat.slice(i * step, (i + 1) * step), dims.slice(1)));
  return out;
}

/** Splits a tensor along its first dim: one value per batch row (scalar for [N] and [N, 1]). */
function splitRows(flat: unknown[], dims: readonly number[]): unknown[] {
  if (dims.length === 0) return flat;
  if (dims.length === 1 || (dims.length === 2 && dims[1] === 1)) return flat;
  return reshape(flat, dims);
}

/** Loads an ONNX model from a .onnx file or its bytes. */
export async function loadOnnxModel(source: string | Uint8Array, options: OnnxLoadOptions = {}): Promise<OnnxModel> {
  let bytes: Uint8Array;
  let label: string;
  if (typeof source === 'string') {
    label = source;
    const info = await stat(source).catch(() => undefined);
    if (!info) throw new BatonError('not_found', `ONNX model file not found: ${source}`);
    if (!info.isFile()) throw modelError(`ONNX model path ${source} is not a file`);
    bytes = new Uint8Array(await readFile(source));
  } else {
    label = 'ONNX bytes';
    bytes = source;
  }
  if (bytes.length === 0) throw modelError(`${label} is not an ONNX model: it is empty`);
  const ort = await onnxRuntime();
  let session: OrtTypes.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, (options.sessionOptions ?? {}) as OrtTypes.InferenceSession.SessionOptions);
  } catch (cause) {
    throw modelError(`${label} is not a valid ONNX model: ${(cause as Error).message.trim()}`, { cause });
  }
  const metadata: Record<string, unknown> = { ...(options.metadata ?? {}) };
  if (options.features !== undefined) metadata.features = options.features;
  try {
    return new OnnxModel(ort, session, bytes, metadata, label);
  } catch (err) {
    await session.release();
    throw err;
  }
}

export const onnxFlavor: ModelFlavor<OnnxModel> = {
  name: 'onnx',
  async save(model, dir) {
    if (!(model instanceof OnnxModel)) throw modelError('the onnx flavor saves models made with loadOnnxModel()');
    await writeFile(join(dir, ONNX_FILE), model.bytes);
    return [ONNX_FILE];
  },
  async load(dir: string, manifest: ModelManifest) {
    const model = await loadOnnxModel(join(dir, ONNX_FILE), { metadata: manifest.metadata });
    const saved = manifest.signature?.inputs?.map((s) => s.name).join(',');
    const actual = model.signature.inputs.map((s) => s.name).join(',');
    if (saved !== undefined && saved !== actual) {
      await model.close();
      throw modelError(`saved model ${dir}: model.json lists inputs ${saved} but ${ONNX_FILE} has ${actual}`);
    }
    return model;
  },
};
