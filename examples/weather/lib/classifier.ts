/**
 * The weather classifier as a Baton model (flavor 'js', kind 'weather-classifier'): a trained model from
 * ./models.ts with the names of the features it reads and the labels it predicts. `predict` takes rows keyed by
 * feature name and returns the weather label of each. Saved with saveModel (or registered with
 * ctx.models.register), it loads back with loadModel in any process that imports this module: importing it defines
 * the kind's loader.
 */
import { defineJsModel, jsModel, type JsModel, type JsPredictor, type Row } from 'baton/models';
import { predict, type SerializedModel } from './models.ts';

export const CLASSIFIER_KIND = 'weather-classifier';

/** What a saved classifier holds (its state.json): plain JSON. */
export interface ClassifierState {
  model: SerializedModel;
  /** The model's inputs, in the order of its feature vectors. */
  featureNames: string[];
  /** Class index → label. */
  labels: string[];
}

class WeatherPredictor implements JsPredictor {
  constructor(private readonly state: ClassifierState) {}

  predict(rows: readonly Row[]): string[] {
    const { model, featureNames, labels } = this.state;
    return predict(model, rows.map((r) => featureNames.map((f) => Number(r[f])))).map((i) => labels[i]!);
  }

  toJSON(): ClassifierState {
    return this.state;
  }
}

defineJsModel(CLASSIFIER_KIND, { load: (state) => new WeatherPredictor(state as ClassifierState) });

/** A trained model as a Model: one number input per feature, one output `weather` (the label). */
export function weatherClassifier(state: ClassifierState, metadata: Record<string, unknown> = {}): JsModel {
  return jsModel(CLASSIFIER_KIND, new WeatherPredictor(state), {
    inputs: state.featureNames.map((name) => ({ name, type: 'number' })),
    outputs: [{ name: 'weather', type: 'string' }],
    metadata,
  });
}

/** Feature vectors as the rows a classifier takes (keyed by feature name). */
export function featureRows(featureNames: readonly string[], X: readonly (readonly number[])[]): Row[] {
  return X.map((x) => Object.fromEntries(featureNames.map((f, i) => [f, x[i]])));
}
