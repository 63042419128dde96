/** Online serving: incremental materialization into an OnlineStore, getOnlineFeatures, and its HTTP endpoint. */
export { OnlineFeatureError, type OnlineErrorReason } from './errors.ts';
export { ONLINE_PATH, startFeatureServer, type FeatureServerOptions } from './http.ts';
export { materialize, type MaterializeOptions, type MaterializeResult } from './materialize.ts';
export { getOnlineFeatures, type FeatureStatus, type OnlineRequest, type OnlineResult } from './serve.ts';
