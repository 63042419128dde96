/** The feature store: definitions (entities, feature views) and point-in-time-correct historical retrieval. */
export { canonicalDefinition, entity, FEATURE_TYPES, featureView, type Entity, type EntityInput, type FeatureSource, type FeatureType, type FeatureView, type FeatureViewInput } from './definitions.ts';
export { FeatureError, type FeatureErrorReason } from './errors.ts';
export { getHistoricalFeatures, type EntityRowValue, type HistoricalRequest, type HistoricalResult, type ViewUsed } from './historical.ts';
