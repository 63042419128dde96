/**
 * `baton/data`: data validation (suites, `validate`, the `validationTask` workflow step), profiling and drift,
 * dataset references. Datasets themselves are written and read in tasks through `ctx.datasets`.
 */
export { validate, type ValidateOptions } from '../data/validation/validate.ts';
export { defineSuite, freshness, inSet, matches, nullShare, parseSuite, range, rowCount, sql, unique } from '../data/validation/suite.ts';
export type { CheckOptions, ColumnSpec, ColumnType, ExpectationInput, Severity, Suite, SuiteInput } from '../data/validation/suite.ts';
export { formatReport, type ExpectationResult, type Observed, type Report, type ResultKind } from '../data/validation/report.ts';
export { SuiteError, type SuiteErrorReason } from '../data/validation/errors.ts';
export { validationTask, summarise, ValidationSummarySchema, ExpectationSummarySchema } from '../data/validation/step.ts';
export type { ValidationTaskOptions, ValidationSummary } from '../data/validation/step.ts';
export { profileSource, equalWidthEdges, ProfileError, PROFILE_VERSION, QUANTILES } from '../data/profiling/profile.ts';
export type { ColumnProfile, DatasetProfile, Histogram, NumericStats, ProfileErrorReason, ProfileOptions, QuantileKey, StringStats, TopValues } from '../data/profiling/profile.ts';
export { diffProfiles, formatDiff, jensenShannonDistance, populationStabilityIndex, rebin } from '../data/profiling/diff.ts';
export type { Change, ColumnDiff, DiffOptions, Drift, ProfileDiff, SchemaColumn } from '../data/profiling/diff.ts';
export { parseDatasetRef, formatRef, checkDatasetName, DATASET_FORMATS, type DatasetRef } from '../data/datasets/ref.ts';
export type { OfflineEngine } from '../ports/offline.ts';
