export * from './model.ts';
export { defineJsModel, jsModel, jsModelKinds, JsModel, jsFlavor, type JsPredictor, type JsModelKind } from './js-flavor.ts';
export { loadOnnxModel, OnnxModel, onnxFlavor, onnxRuntime, type OnnxLoadOptions, type FeatureMap } from './onnx-flavor.ts';
