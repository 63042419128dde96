/**
 * Model formats: one `Model` interface over several flavors (native JS models, ONNX, ...).
 *
 * A saved model is a directory (so it can be stored with `ctx.artifacts.putDir` and loaded back):
 *
 *   model.json      manifest: { format: 'baton-model/v1', flavor, signature, metadata, files }
 *   <flavor files>  e.g. model.onnx (onnx) or state.json (js)
 *
 * `saveModel(model, dir)` writes the manifest and asks the model's flavor to write its files;
 * `loadModel(dir)` reads the manifest and hands the directory to the flavor named in it. Built-in flavors
 * ('js', 'onnx') are imported lazily, so loading a JS model never loads onnxruntime-node.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BatonError } from '../errors.ts';

/** One named input or output. Columns use 'number' | 'integer' | 'string' | 'boolean' | 'any';
 *  tensors use ONNX element types ('float32', 'int64', ...) plus a shape (strings/null are free dims). */
export interface FieldSpec {
  name: string;
  type: string;
  shape?: (number | string | null)[];
  description?: string;
}

export interface ModelSignature {
  /** 'columns': predict takes rows keyed by input name; 'tensors': inputs are named tensors. */
  kind: 'columns' | 'tensors';
  inputs: FieldSpec[];
  outputs: FieldSpec[];
}

export type Row = Record<string, unknown>;
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | readonly number[] | readonly bigint[] | readonly boolean[];
export interface TensorValue {
  data: TensorData;
  dims: readonly number[];
}
/** A batch: rows (records keyed by column name) or named tensors (`{ tensors: { x: { data, dims } } }`). */
export type Batch = readonly Row[] | { tensors: Record<string, TensorValue | Float32Array> };

/** Predictions, column-wise: output name -> one value per batch row (a scalar, or a nested array). */
export type Predictions = Record<string, unknown[]>;

export interface Model {
  readonly flavor: string;
  readonly signature: ModelSignature;
  readonly metadata: Record<string, unknown>;
  predict(batch: Batch): Promise<Predictions>;
}

export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  flavor: string;
  signature: ModelSignature;
  metadata: Record<string, unknown>;
  /** Flavor files, relative to the model directory. */
  files: string[];
}

export interface ModelFlavor<M extends Model = Model> {
  readonly name: string;
  /** Writes the flavor's files into `dir` (which exists and is empty); returns their relative paths. */
  save(model: M, dir: string): Promise<string[]>;
  /** Loads a model saved by `save`; `manifest` is the parsed model.json. */
  load(dir: string, manifest: ModelManifest): Promise<M>;
}

export const MODEL_FORMAT = 'baton-model/v1';
export const MANIFEST_FILE = 'model.json';

export function modelError(message: string, options?: { cause?: unknown }): BatonError {
  return new BatonError('data_invalid', message, options);
}

// ---------------------------------------------------------------------------------------------
// Flavor registry

const flavors = new Map<string, ModelFlavor>();
const builtins: Record<string, () => Promise<ModelFlavor>> = {
  js: async () => (await import('./js-flavor.ts')).jsFlavor as unknown as ModelFlavor,
  onnx: async () => (await import('./onnx-flavor.ts')).onnxFlavor as unknown as ModelFlavor,
};

export function registerFlavor(flavor: ModelFlavor): void {
  const existing = flavors.get(flavor.name);
  if (existing && existing !== flavor) throw modelError(`model flavor '${flavor.name}' is already registered`);
  flavors.set(flavor.name, flavor);
}

export function flavorNames(): string[] {
  return [...new Set([...Object.keys(builtins), ...flavors.keys()])].sort();
}

export async function getFlavor(name: string): Promise<ModelFlavor> {
  const found = flavors.get(name);
  if (found) return found;
  const builtin = builtins[name];
  if (builtin) {
    const flavor = await builtin();
    flavors.set(name, flavor);
    return flavor;
  }
  throw modelError(`unknown model flavor '${name}'; known flavors: ${flavorNames().join(', ')} (register others with registerFlavor)`);
}

// ---------------------------------------------------------------------------------------------
// Save / load

/** Saves `model` as a directory at `dir` (created; must be absent or empty). Returns the manifest. */
export async function saveModel(model: Model, dir: string): Promise<ModelManifest> {
  const flavor = await getFlavor(model.flavor);
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw modelError(`cannot save model: directory ${dir} is not empty`);
  const metadata = JSON.parse(JSON.stringify(model.metadata ?? {})) as Record<string, unknown>;
  const files = await flavor.save(model, dir);
  if (files.includes(MANIFEST_FILE)) throw modelError(`flavor '${flavor.name}' must not write ${MANIFEST_FILE}`);
  const manifest: ModelManifest = { format: MODEL_FORMAT, flavor: flavor.name, signature: model.signature, metadata, files: [...files].sort() };
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** Reads the manifest of a saved model (`path` is the model directory or its model.json). */
export async function readManifest(path: string): Promise<{ dir: string; manifest: ModelManifest }> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new BatonError('not_found', `model not found: ${path} does not exist`);
  const dir = info.isDirectory() ? path : dirname(path);
  const file = info.isDirectory() ? join(path, MANIFEST_FILE) : path;
  if (!info.isDirectory() && basename(path) !== MANIFEST_FILE) {
    throw modelError(`${path} is not a saved model: pass the model directory or its ${MANIFEST_FILE} (for a bare .onnx file use loadOnnxModel)`);
  }
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) throw modelError(`${dir} is not a saved model: it has no ${MANIFEST_FILE}`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (cause) {
    throw modelError(`${file} is not valid JSON`, { cause });
  }
  const m = manifest as Partial<ModelManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== MODEL_FORMAT || typeof m.flavor !== 'string' || !m.signature || !Array.isArray(m.files)) {
    throw modelError(`${file} is not a ${MODEL_FORMAT} manifest (needs format, flavor, signature, files)`);
  }
  for (const f of m.files) {
    const ok = await stat(join(dir, f)).then((s) => s.isFile(), () => false);
    if (!ok) throw modelError(`saved model ${dir} is incomplete: ${f} listed in ${MANIFEST_FILE} is missing`);
  }
  return { dir, manifest: { ...m, metadata: m.metadata ?? {} } as ModelManifest };
}

/** Loads a saved model with the flavor named in its manifest. */
export async function loadModel(path: string): Promise<Model> {
  const { dir, manifest } = await readManifest(path);
  const flavor = await getFlavor(manifest.flavor);
  return flavor.load(dir, manifest);
}

// ---------------------------------------------------------------------------------------------
// Helpers for flavors

export function isRowBatch(batch: Batch): batch is readonly Row[] {
  return Array.isArray(batch);
}

const COLUMN_TYPES = new Set(['number', 'integer', 'string', 'boolean', 'any']);

/** Checks rows against column input specs: every input present with the declared type. */
export function checkRows(rows: readonly Row[], inputs: readonly FieldSpec[]): void {
  rows.forEach((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw modelError(`batch row ${i} is not an object`);
    for (const spec of inputs) {
      const v = row[spec.name];
      if (v === undefined) {
        throw modelError(`batch row ${i} is missing input '${spec.name}' (model inputs: ${inputs.map((s) => s.name).join(', ')})`);
      }
      if (!COLUMN_TYPES.has(spec.type) || spec.type === 'any') continue;
      const ok =
        spec.type === 'number' ? typeof v === 'number' && Number.isFinite(v) :
        spec.type === 'integer' ? Number.isInteger(v) :
        typeof v === spec.type;
      if (!ok) throw modelError(`batch row ${i}: input '${spec.name}' must be ${spec.type === 'number' ? 'a finite number' : `a ${spec.type}`}, got ${JSON.stringify(v)}`);
    }
  });
}
