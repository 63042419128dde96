/**
 * The 'js' flavor: native JavaScript models. A predictor is any object with `predict(rows)` and `toJSON()`;
 * its kind is registered once per process with a loader that rebuilds a predictor from that JSON:
 *
 *   defineJsModel('weather-tree', { load: (state) => wrap(state as TreeModel) });
 *   const model = jsModel('weather-tree', wrap(trained), { inputs: [...], outputs: [...] });
 *   await saveModel(model, dir);            // model.json + state.json
 *   const again = await loadModel(dir);     // calls the 'weather-tree' loader
 *
 * Files: state.json = { kind, state: predictor.toJSON() }. The state must be plain JSON data.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkRows,
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
} from './model.ts';

export interface JsPredictor {
  /** One prediction per row (single output), or column-wise predictions keyed by output name. */
  predict(rows: readonly Row[]): unknown[] | Predictions | Promise<unknown[] | Predictions>;
  /** Plain JSON state that the kind's loader turns back into an equivalent predictor. */
  toJSON(): unknown;
}

export interface JsModelKind {
  readonly kind: string;
  load(state: unknown): JsPredictor | Promise<JsPredictor>;
}

const kinds = new Map<string, JsModelKind>();

/** Registers a kind of JS model and its loader. Redefining a kind replaces its loader. */
export function defineJsModel(kind: string, def: { load(state: unknown): JsPredictor | Promise<JsPredictor> }): JsModelKind {
  if (!/^[A-Za-z0-9][\w.:/-]*$/.test(kind)) throw modelError(`invalid js model kind ${JSON.stringify(kind)}`);
  const k: JsModelKind = { kind, load: (state) => def.load(state) };
  kinds.set(kind, k);
  return k;
}

export function jsModelKinds(): string[] {
  return [...kinds.keys()].sort();
}

export const STATE_FILE = 'state.json';

export class JsModel implements Model {
  readonly flavor = 'js';
  constructor(
    readonly kind: string,
    readonly predictor: JsPredictor,
    readonly signature: ModelSignature,
    readonly metadata: Record<string, unknown>,
  ) {}

  async predict(batch: Batch): Promise<Predictions> {
    if (!isRowBatch(batch)) throw modelError(`js model '${this.kind}' takes a batch of rows, not tensors`);
    checkRows(batch, this.signature.inputs);
    const out = await this.predictor.predict(batch);
    const outputs = this.signature.outputs;
    let result: Predictions;
    if (Array.isArray(out)) {
      if (outputs.length !== 1) throw modelError(`js model '${this.kind}' returned one array but its signature has ${outputs.length} outputs`);
      result = { [outputs[0]!.name]: out };
    } else if (out && typeof out === 'object') {
      result = out;
    } else {
      throw modelError(`js model '${this.kind}' predict() returned ${typeof out}; expected an array or { output: array }`);
    }
    for (const spec of outputs) {
      const col = result[spec.name];
      if (!Array.isArray(col)) throw modelError(`js model '${this.kind}' predict() returned no output '${spec.name}'`);
      if (col.length !== batch.length) throw modelError(`js model '${this.kind}' returned ${col.length} values for '${spec.name}' from ${batch.length} rows`);
    }
    return result;
  }
}

/**
 * Wraps a predictor as a Model. `inputs` are the row columns it reads (type 'number' etc.); `outputs` default
 * to one output named 'prediction'. The kind must be defined with defineJsModel (so the model can be loaded).
 */
export function jsModel(
  kind: string,
  predictor: JsPredictor,
  options: { inputs: FieldSpec[]; outputs?: FieldSpec[]; metadata?: Record<string, unknown> },
): JsModel {
  if (!kinds.has(kind)) throw modelError(`js model kind '${kind}' is not defined; call defineJsModel('${kind}', { load }) first`);
  if (typeof predictor?.predict !== 'function' || typeof predictor.toJSON !== 'function') {
    throw modelError(`a js model predictor needs predict(rows) and toJSON() methods`);
  }
  const signature: ModelSignature = {
    kind: 'columns',
    inputs: options.inputs,
    outputs: options.outputs ?? [{ name: 'prediction', type: 'any' }],
  };
  return new JsModel(kind, predictor, signature, options.metadata ?? {});
}

function assertJsonSafe(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw modelError(`js model state is not JSON-safe: ${path} is ${value}`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertJsonSafe(v, `${path}[${i}]`));
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw modelError(`js model state is not JSON-safe: ${path} is a ${(value as object).constructor?.name ?? 'class'} instance`);
    }
    for (const [k, v] of Object.entries(value)) assertJsonSafe(v, `${path}.${k}`);
    return;
  }
  throw modelError(`js model state is not JSON-safe: ${path} is a ${typeof value}`);
}

export const jsFlavor: ModelFlavor<JsModel> = {
  name: 'js',
  async save(model, dir) {
    if (!(model instanceof JsModel)) throw modelError(`the js flavor saves models made with jsModel()`);
    const state = model.predictor.toJSON();
    assertJsonSafe(state, 'state');
    await writeFile(join(dir, STATE_FILE), JSON.stringify({ kind: model.kind, state }));
    return [STATE_FILE];
  },
  async load(dir: string, manifest: ModelManifest) {
    const file = join(dir, STATE_FILE);
    let parsed: { kind?: unknown; state?: unknown };
    try {
      parsed = JSON.parse(await readFile(file, 'utf8')) as typeof parsed;
    } catch (cause) {
      throw modelError(`cannot read js model state ${file}: ${(cause as Error).message}`, { cause });
    }
    const kind = typeof parsed.kind === 'string' ? parsed.kind : '';
    const def = kinds.get(kind);
    if (!def) {
      throw modelError(`js model kind '${kind}' (saved in ${dir}) is not defined in this process; call defineJsModel('${kind}', { load }) before loading it`);
    }
    const predictor = await def.load(parsed.state);
    return new JsModel(kind, predictor, manifest.signature, manifest.metadata);
  },
};
