/**
 * `baton/models`: saving and loading models in Baton's format. Flavors: `js` (models written in JavaScript, see
 * `defineJsModel`) and `onnx` (needs the optional peer dependency onnxruntime-node).
 */
export { loadModel, saveModel, readManifest, registerFlavor, flavorNames, getFlavor, MODEL_FORMAT, MANIFEST_FILE } from '../models/model.ts';
export type { Batch, FieldSpec, Model, ModelFlavor, ModelManifest, ModelSignature, Predictions, Row, TensorData, TensorValue } from '../models/model.ts';
export { defineJsModel, jsModel, jsModelKinds, JsModel, jsFlavor, type JsPredictor, type JsModelKind } from '../models/js-flavor.ts';
export { loadOnnxModel, OnnxModel, onnxFlavor, type OnnxLoadOptions, type FeatureMap } from '../models/onnx-flavor.ts';
