/** Data validation: a schema plus expectations, checked over a data file through the OfflineEngine port. */
export { validate, type ValidateOptions } from './validate.ts';
export { defineSuite, freshness, inSet, matches, nullShare, parseSuite, range, rowCount, sql, unique, type CheckOptions, type ColumnSpec, type ColumnType, type ExpectationInput, type Severity, type Suite, type SuiteInput } from './suite.ts';
export { formatReport, type ExpectationResult, type Observed, type Report, type ResultKind } from './report.ts';
export { SuiteError, type SuiteErrorReason } from './errors.ts';
