/**
 * `baton/features`: the feature store. Entities and feature views, point-in-time-correct historical retrieval,
 * training sets saved as dataset versions, materialisation to an online store and online lookups.
 */
export { entity, featureView, canonicalDefinition, portablePath, FEATURE_TYPES } from '../features/definitions.ts';
export type { Entity, EntityInput, FeatureSource, FeatureType, FeatureView, FeatureViewInput } from '../features/definitions.ts';
export { FeatureError, type FeatureErrorReason } from '../features/errors.ts';
export { getHistoricalFeatures, type EntityRowValue, type HistoricalRequest, type HistoricalResult, type ViewUsed } from '../features/historical.ts';
export { saveTrainingSet, type SavedTrainingSet, type TrainingSetOptions, type TrainingSetRequest } from '../features/training-set.ts';
export type { TransformContext, TransformFn, TransformOutput, TransformRow } from '../features/transform.ts';
export type { FeatureViewRef } from '../data/datasets/feature-views.ts';
export { materialize, type MaterializeOptions, type MaterializeResult } from '../features/online/materialize.ts';
export { getOnlineFeatures, type FeatureStatus, type OnlineRequest, type OnlineResult } from '../features/online/serve.ts';
export { startFeatureServer, ONLINE_PATH, type FeatureServerOptions } from '../features/online/http.ts';
export { OnlineFeatureError, type OnlineErrorReason } from '../features/online/errors.ts';
export type { OnlineStore } from '../ports/online.ts';
export type { OfflineEngine } from '../ports/offline.ts';
