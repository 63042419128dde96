// Loading, validation, feature engineering and train/test splitting for the Seattle weather
// data set shipped by the `vega-datasets` npm package (read from disk, never from the network).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vegaDatasetsRoot } from '../../vega.ts';
import { checkSeed, mulberry32, randomInt } from './rng.ts';

/** Class names in label-index order (alphabetical): y = 0 means drizzle, ... y = 4 means sun. */
export const WEATHER_LABELS = ['drizzle', 'fog', 'rain', 'snow', 'sun'] as const;
export type WeatherLabel = (typeof WEATHER_LABELS)[number];

/** The CSV header, in file order. */
export const WEATHER_COLUMNS = ['date', 'precipitation', 'temp_max', 'temp_min', 'wind', 'weather'] as const;

export interface WeatherRow {
  /** ISO calendar date, YYYY-MM-DD. */
  date: string;
  /** Millimetres, >= 0. */
  precipitation: number;
  /** Degrees Celsius. */
  tempMax: number;
  /** Degrees Celsius, <= tempMax. */
  tempMin: number;
  /** Metres per second, >= 0. */
  wind: number;
  weather: WeatherLabel;
}

export interface Dataset {
  X: number[][];
  y: number[];
}

export interface FeatureSet extends Dataset {
  /** Class names; `labels[y[i]]` is the weather of row i. */
  labels: string[];
  /** Column names of X. */
  featureNames: string[];
  /** Date of each row of X (rows are in chronological order). */
  dates: string[];
}

export interface SplitOptions {
  /** Fraction of rows held out for testing, strictly between 0 and 1. */
  testFraction: number;
  /** Integer seed for the shuffle (ignored by the chronological strategy). */
  seed: number;
  /**
   * 'shuffle' (default): seeded Fisher–Yates shuffle of row indices, last `testFraction` go to test.
   * 'chronological': the latest `testFraction` of rows (in input order) form the test set.
   */
  strategy?: 'shuffle' | 'chronological';
}

export interface TrainTestSplit {
  train: Dataset;
  test: Dataset;
  /** Indices into the input rows, in the order they appear in train/test. */
  trainIndex: number[];
  testIndex: number[];
}

/**
 * Absolute path of `data/seattle-weather.csv` inside the installed vega-datasets package.
 */
export function defaultWeatherCsvPath(): string {
  return join(vegaDatasetsRoot(), 'data', 'seattle-weather.csv');
}


/** Reads and validates the weather CSV (defaults to the copy in vega-datasets). */
export function loadWeatherCsv(path: string = defaultWeatherCsvPath()): WeatherRow[] {
  return parseWeatherCsv(readFileSync(path, 'utf8'), path);
}

/**
 * Parses the weather CSV text. The format is simple (no quoting, comma separated, header first),
 * so it is split by hand. Any malformed row throws an Error naming the source, 1-based line number,
 * column and what was expected. Trailing blank lines are ignored; blank lines elsewhere are errors.
 */
export function parseWeatherCsv(text: string, source = 'seattle-weather.csv'): WeatherRow[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new Error(`${source}: file is empty, expected a header line`);

  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const expectedHeader = WEATHER_COLUMNS.join(',');
  if (header.join(',') !== expectedHeader) {
    throw new Error(`${source} line 1: expected header "${expectedHeader}", got "${lines[0] ?? ''}"`);
  }

  const rows: WeatherRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    rows.push(parseRow(lines[i] ?? '', i + 1, source));
  }
  return rows;
}

function parseRow(line: string, lineNo: number, source: string): WeatherRow {
  const cells = line.split(',');
  const fail = (column: string, expected: string, got: string): never => {
    throw new Error(`${source} line ${lineNo}, column "${column}": expected ${expected}, got ${JSON.stringify(got)}`);
  };
  if (cells.length !== WEATHER_COLUMNS.length) {
    throw new Error(
      `${source} line ${lineNo}: expected ${WEATHER_COLUMNS.length} comma-separated columns, got ${cells.length}`,
    );
  }
  const [dateCell, precipCell, maxCell, minCell, windCell, weatherCell] = cells.map((c) => c.trim()) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];

  if (!isIsoDate(dateCell)) fail('date', 'a valid date in YYYY-MM-DD form', dateCell);
  const num = (column: string, cell: string, nonNegative: boolean): number => {
    const value = cell === '' ? Number.NaN : Number(cell);
    if (!Number.isFinite(value) || (nonNegative && value < 0)) {
      fail(column, nonNegative ? 'a non-negative number' : 'a finite number', cell);
    }
    return value;
  };
  const precipitation = num('precipitation', precipCell, true);
  const tempMax = num('temp_max', maxCell, false);
  const tempMin = num('temp_min', minCell, false);
  if (tempMin > tempMax) fail('temp_min', `a value <= temp_max (${maxCell})`, minCell);
  const wind = num('wind', windCell, true);
  if (!isWeatherLabel(weatherCell)) fail('weather', `one of ${WEATHER_LABELS.join(', ')}`, weatherCell);

  return { date: dateCell, precipitation, tempMax, tempMin, wind, weather: weatherCell as WeatherLabel };
}

function isWeatherLabel(value: string): value is WeatherLabel {
  return (WEATHER_LABELS as readonly string[]).includes(value);
}

function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/**
 * Checks that every record has each required column with a non-empty value (not undefined, null,
 * '' or NaN). Returns human-readable problems (empty when all is well); record numbers are 0-based.
 */
export function validateColumns<T extends object>(rows: readonly T[], required: readonly string[]): string[] {
  const problems: string[] = [];
  if (rows.length === 0) problems.push('no rows');
  rows.forEach((item, i) => {
    const row = item as Readonly<Record<string, unknown>>;
    for (const column of required) {
      if (!(column in row)) {
        problems.push(`row ${i}: missing column "${column}"`);
        continue;
      }
      const value = row[column];
      if (value === undefined || value === null || value === '' || (typeof value === 'number' && Number.isNaN(value))) {
        problems.push(`row ${i}: column "${column}" is empty`);
      }
    }
  });
  return problems;
}

const DAY_MS = 86_400_000;

function dayOfYear(date: string): { doy: number; daysInYear: number } {
  const year = Number(date.slice(0, 4));
  const t = Date.parse(`${date}T00:00:00Z`);
  const doy = Math.round((t - Date.UTC(year, 0, 1)) / DAY_MS); // 0-based
  const daysInYear = Math.round((Date.UTC(year + 1, 0, 1) - Date.UTC(year, 0, 1)) / DAY_MS);
  return { doy, daysInYear };
}

/**
 * Turns rows into a numeric design matrix. Rows are sorted by date first. Features: the four raw
 * measurements, log1p(precipitation), a wet-day flag, the temperature range, day-of-year as
 * sine/cosine, and the previous day's precipitation and weather (one-hot). "Previous day" is only
 * filled when the preceding row is exactly one calendar day earlier; otherwise (e.g. the first row)
 * those features are 0. Same-day weather is never used as a feature, only as the label.
 */
export function makeFeatures(rows: readonly WeatherRow[]): FeatureSet {
  const problems = validateColumns(rows, [
    'date',
    'precipitation',
    'tempMax',
    'tempMin',
    'wind',
    'weather',
  ]);
  if (problems.length > 0) throw new Error(`makeFeatures: invalid rows: ${problems.slice(0, 5).join('; ')}`);

  const sorted = [...rows].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const featureNames = [
    'precipitation',
    'log1p_precipitation',
    'wet_day',
    'temp_max',
    'temp_min',
    'wind',
    'temp_range',
    'day_of_year_sin',
    'day_of_year_cos',
    'prev_precipitation',
    ...WEATHER_LABELS.map((l) => `prev_weather_${l}`),
  ];
  const X: number[][] = [];
  const y: number[] = [];
  const dates: string[] = [];
  sorted.forEach((row, i) => {
    const { doy, daysInYear } = dayOfYear(row.date);
    const angle = (2 * Math.PI * doy) / daysInYear;
    const prev = i > 0 ? sorted[i - 1] : undefined;
    const hasPrev = prev !== undefined && Date.parse(row.date) - Date.parse(prev.date) === DAY_MS;
    X.push([
      row.precipitation,
      Math.log1p(row.precipitation),
      row.precipitation > 0 ? 1 : 0,
      row.tempMax,
      row.tempMin,
      row.wind,
      row.tempMax - row.tempMin,
      Math.sin(angle),
      Math.cos(angle),
      hasPrev ? prev.precipitation : 0,
      ...WEATHER_LABELS.map((l) => (hasPrev && prev.weather === l ? 1 : 0)),
    ]);
    y.push(WEATHER_LABELS.indexOf(row.weather));
    dates.push(row.date);
  });
  return { X, y, labels: [...WEATHER_LABELS], featureNames, dates };
}

/**
 * Deterministic train/test split. Default strategy is a seeded random shuffle (mulberry32 +
 * Fisher–Yates), so the same seed always yields the same split; 'chronological' holds out the
 * last rows instead. The test set gets round(n * testFraction) rows, clamped to [1, n - 1].
 */
export function splitTrainTest(data: Dataset, options: SplitOptions): TrainTestSplit {
  const { testFraction, strategy = 'shuffle' } = options;
  const n = data.X.length;
  if (data.y.length !== n) throw new Error(`splitTrainTest: X has ${n} rows but y has ${data.y.length}`);
  if (n < 2) throw new Error(`splitTrainTest: need at least 2 rows, got ${n}`);
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new Error(`splitTrainTest: testFraction must be in (0, 1), got ${String(testFraction)}`);
  }
  const seed = checkSeed(options.seed);

  const order = Array.from({ length: n }, (_, i) => i);
  if (strategy === 'shuffle') {
    const rand = mulberry32(seed);
    for (let i = n - 1; i > 0; i--) {
      const j = randomInt(rand, i + 1);
      const tmp = order[i] as number;
      order[i] = order[j] as number;
      order[j] = tmp;
    }
  }
  const nTest = Math.min(n - 1, Math.max(1, Math.round(n * testFraction)));
  const trainIndex = order.slice(0, n - nTest);
  const testIndex = order.slice(n - nTest);
  const pick = (idx: number[]): Dataset => ({
    X: idx.map((i) => [...(data.X[i] as number[])]),
    y: idx.map((i) => data.y[i] as number),
  });
  return { train: pick(trainIndex), test: pick(testIndex), trainIndex, testIndex };
}

/**
 * Holds out the last round(n * fraction) rows of a training set (clamped to [1, n - 1]) as a
 * validation fold, for model selection that never looks at the test split. Deterministic, no
 * shuffle: a 'shuffle' train split is already in seeded random order, and in a 'chronological' one
 * the fold is the latest training days (validation after fitting, as in a forecast).
 */
export function holdOutLast(data: Dataset, fraction: number): { fit: Dataset; validation: Dataset } {
  const n = data.X.length;
  if (data.y.length !== n) throw new Error(`holdOutLast: X has ${n} rows but y has ${data.y.length}`);
  if (n < 2) throw new Error(`holdOutLast: need at least 2 rows, got ${n}`);
  if (!(fraction > 0 && fraction < 1)) throw new Error(`holdOutLast: fraction must be in (0, 1), got ${String(fraction)}`);
  const nFit = n - Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
  return {
    fit: { X: data.X.slice(0, nFit), y: data.y.slice(0, nFit) },
    validation: { X: data.X.slice(nFit), y: data.y.slice(nFit) },
  };
}
