/**
 * The feature store: definitions (entities, feature views over files, SQL or TS transforms), point-in-time-correct
 * historical retrieval, and training sets saved as dataset versions with the feature views they used.
 */
export { canonicalDefinition, portablePath, entity, FEATURE_TYPES, featureView, type Entity, type EntityInput, type FeatureSource, type FeatureType, type FeatureView, type FeatureViewInput } from './definitions.ts';
export { FeatureError, type FeatureErrorReason } from './errors.ts';
export { getHistoricalFeatures, type EntityRowValue, type HistoricalRequest, type HistoricalResult, type ViewUsed } from './historical.ts';
export { saveTrainingSet, type SavedTrainingSet, type TrainingSetOptions, type TrainingSetRequest } from './training-set.ts';
export type { TransformContext, TransformFn, TransformOutput, TransformRow } from './transform.ts';
export type { FeatureViewRef } from '../data/datasets/feature-views.ts';
