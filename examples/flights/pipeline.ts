/**
 * Flight-delay features as a Baton workflow, on the real flights data from vega-datasets (3M US flights, Jan–Jun 2001):
 *
 *   slice flights-3m.parquet with DuckDB → register it as dataset `flights` → validate it (flights expectations)
 *     → per-origin daily and per-route daily delay statistics (as of each day: 7- and 30-day windows), in parallel,
 *       registered as datasets `origin_daily` and `route_daily`
 *     → a point-in-time-correct training set for a sample of flights (label: delay > 15 min) with
 *       getHistoricalFeatures, registered as `flights_training` with the feature-view versions it was built from
 *       (saveTrainingSet) → a summary with a leakage check
 *
 * Every task is deterministic given its input (seeded samples, ordered outputs), so a second run is all cache hits and
 * re-registering the same content keeps each dataset's version.
 *
 * Run it: npx baton run examples/flights/pipeline.ts --param rows=200000
 * (or `node --import tsx examples/flights/run.ts`, which adds a progress display and a short report).
 */
import { join } from 'node:path';
import { dataset, task, workflow, z, type DatasetHandle, type TaskContext } from 'baton';
import { matches, range, rowCount, sql, validationTask } from 'baton/data';
import { entity, featureView, saveTrainingSet, type FeatureView } from 'baton/features';
import { flightsParquetPath, flightsSourceId, lit } from './data.ts';

export const FULL_ROWS = 3_000_000;
const DAY_MS = 86_400_000;
/** Feature rows older than this (relative to the flight) are not used: the stats are stale. */
export const FEATURE_TTL_MS = 3 * DAY_MS;

// ---------------------------------------------------------------------------------------------------------------
// The flights expectations

export const FLIGHTS_SUITE = {
  name: 'flights',
  schema: { date: 'timestamp', delay: 'integer', distance: 'integer', origin: 'string', destination: 'string' } as const,
  expectations: [
    rowCount({ min: 1_000, max: FULL_ROWS }),
    range('date', { min: '2001-01-01', max: '2001-12-31' }),
    // A flight more than a day early or two days late is a broken record.
    range('delay', { min: -1_440, max: 2_880 }),
    // Arriving more than 100 minutes early is implausible, but the real data has 3 such flights (−212, −953 and
    // −1116 min, in February 2001): worth a look, not a reason to stop the pipeline.
    range('delay', { min: -100, name: 'delay >= -100 min', severity: 'warn' }),
    range('distance', { min: 1, max: 6_000 }),
    matches('origin', '^[A-Z]{3}$'),
    matches('destination', '^[A-Z]{3}$'),
    sql('origin differs from destination', 'SELECT * FROM source WHERE origin = destination'),
  ],
};

// ---------------------------------------------------------------------------------------------------------------
// Entities and feature views

export const origin = entity({ name: 'origin', joinKeys: ['origin'], description: 'The departure airport (IATA code).' });
export const route = entity({ name: 'route', joinKeys: ['origin', 'destination'], description: 'An origin → destination pair.' });

/** The features each daily table has, prefixed `origin_` or `route_`. */
const STAT_FEATURES = { flights_1d: 'BIGINT', flights_7d: 'BIGINT', delay_7d: 'DOUBLE', late_rate_7d: 'DOUBLE', flights_30d: 'BIGINT', delay_30d: 'DOUBLE', late_rate_30d: 'DOUBLE', as_of: 'TIMESTAMP' } as const;
const prefixed = (prefix: string) => Object.fromEntries(Object.entries(STAT_FEATURES).map(([k, v]) => [`${prefix}_${k}`, v]));

/** Per-origin delay statistics as of each day (the file is the `origin_daily` dataset version's). */
export function originStatsView(path: string): FeatureView {
  return featureView({ name: 'origin_stats', entities: [origin], source: { path, format: 'parquet' }, timestampField: 'as_of', ttlMs: FEATURE_TTL_MS, features: prefixed('origin') });
}

/** Per-route delay statistics as of each day (the file is the `route_daily` dataset version's). */
export function routeStatsView(path: string): FeatureView {
  return featureView({ name: 'route_stats', entities: [route], source: { path, format: 'parquet' }, timestampField: 'as_of', ttlMs: FEATURE_TTL_MS, features: prefixed('route') });
}

/** The training set's columns: the entity rows, then the features. */
export const TRAINING_COLUMNS = ['flight_id', 'origin', 'destination', 'distance', 'event_timestamp', 'label', ...Object.keys(prefixed('origin')), ...Object.keys(prefixed('route'))];

// ---------------------------------------------------------------------------------------------------------------
// SQL

/**
 * Daily delay statistics per key, as of each day. Every key gets a row for every calendar day from its first flight to
 * the last day of the data (days without flights count 0), with windows over the days up to and including that day.
 * `as_of` is the midnight after the day: the stats are known once the day is over, so a flight is only ever joined
 * with stats of earlier days — never with its own day's (or later) flights.
 */
export function dailyStatsSql(flights: string, keys: string[], prefix: string): string {
  const k = keys.join(', ');
  const window = (days: number) => `(PARTITION BY ${k} ORDER BY day RANGE BETWEEN INTERVAL ${days - 1} DAYS PRECEDING AND CURRENT ROW)`;
  return `
WITH f AS (SELECT ${k}, CAST(date AS DATE) AS day, delay FROM ${flights}),
days AS (SELECT CAST(unnest(generate_series(CAST(min(day) AS TIMESTAMP), CAST(max(day) AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE) AS day FROM f),
daily AS (SELECT ${k}, day, count(*) AS n, sum(delay) AS s, count(*) FILTER (WHERE delay > 15) AS late FROM f GROUP BY ALL),
first AS (SELECT ${k}, min(day) AS first_day FROM daily GROUP BY ALL),
filled AS (
  SELECT ${keys.map((c) => `first.${c}`).join(', ')}, days.day, coalesce(daily.n, 0) AS n, coalesce(daily.s, 0) AS s, coalesce(daily.late, 0) AS late
  FROM first JOIN days ON days.day >= first.first_day
  LEFT JOIN daily ON ${keys.map((c) => `daily.${c} = first.${c}`).join(' AND ')} AND daily.day = days.day
),
w AS (
  SELECT ${k}, day, n,
    CAST(sum(n) OVER w7 AS BIGINT) AS n7, CAST(sum(s) OVER w7 AS DOUBLE) AS s7, CAST(sum(late) OVER w7 AS DOUBLE) AS l7,
    CAST(sum(n) OVER w30 AS BIGINT) AS n30, CAST(sum(s) OVER w30 AS DOUBLE) AS s30, CAST(sum(late) OVER w30 AS DOUBLE) AS l30
  FROM filled WINDOW w7 AS ${window(7)}, w30 AS ${window(30)}
)
SELECT ${k}, CAST(day + INTERVAL 1 DAY AS TIMESTAMP) AS as_of,
  CAST(n AS BIGINT) AS ${prefix}_flights_1d,
  n7 AS ${prefix}_flights_7d, s7 / nullif(n7, 0) AS ${prefix}_delay_7d, l7 / nullif(n7, 0) AS ${prefix}_late_rate_7d,
  n30 AS ${prefix}_flights_30d, s30 / nullif(n30, 0) AS ${prefix}_delay_30d, l30 / nullif(n30, 0) AS ${prefix}_late_rate_30d,
  CAST(day + INTERVAL 1 DAY AS TIMESTAMP) AS ${prefix}_as_of
FROM w ORDER BY ${k}, day`;
}

// ---------------------------------------------------------------------------------------------------------------
// Tasks (module top level: worker processes import this file to find them by name)

export const slice = task({
  name: 'flights.slice',
  description: 'Takes a seeded sample of `rows` flights from flights-3m.parquet (all of them for 3M) and registers it as dataset "flights".',
  input: z.object({ rows: z.number().int().positive(), seed: z.number().int(), source: z.string() }),
  output: z.object({ flights: dataset(), rows: z.number().int(), sourceRows: z.number().int() }),
  run: async ({ rows, seed }, ctx) => {
    const engine = await ctx.offline();
    const src = `read_parquet(${lit(flightsParquetPath())}, file_row_number = true)`;
    const [{ n } = { n: 0 }] = await engine.query(`SELECT count(*) AS n FROM ${src}`);
    const total = Number(n);
    // A sample spread over the whole half-year (not the first days), chosen by a seeded hash: the same rows every run.
    const picked = rows >= total ? src : `(SELECT * FROM ${src} ORDER BY hash(file_row_number, ${seed}), file_row_number LIMIT ${rows})`;
    const out = join(ctx.workDir, 'flights.parquet');
    await engine.query(`COPY (SELECT date, delay, distance, origin, destination FROM ${picked} ORDER BY date, file_row_number) TO ${lit(out)} (FORMAT PARQUET)`);
    const flights = await ctx.datasets.write('flights', out);
    console.log(`flights: ${flights.dataset.rows.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows (${(flights.size / 2 ** 20).toFixed(1)} MiB Parquet, seed ${seed})`);
    return { flights, rows: flights.dataset.rows, sourceRows: total };
  },
});

export const validateFlights = validationTask({ name: 'flights.validate', suite: FLIGHTS_SUITE, description: 'Checks the flights slice: schema, delay and distance ranges, airport codes, row count.' });

const DailyOutput = z.object({ stats: dataset(), rows: z.number().int(), keys: z.number().int(), days: z.number().int() });

async function writeDaily(ctx: TaskContext, flights: DatasetHandle, name: string, keys: string[], prefix: string): Promise<z.input<typeof DailyOutput>> {
  const engine = await ctx.offline();
  const rel = await engine.relation({ path: await ctx.datasets.path(flights), format: 'parquet' });
  const out = join(ctx.workDir, `${name}.parquet`);
  await engine.query(`COPY (${dailyStatsSql(rel, keys, prefix)}) TO ${lit(out)} (FORMAT PARQUET)`);
  const stats = await ctx.datasets.write(name, out);
  const [c] = await engine.query(`SELECT count(DISTINCT (${keys.join(', ')})) AS keys, count(DISTINCT as_of) AS days FROM ${await engine.relation({ path: out, format: 'parquet' })}`);
  console.log(`${name}: ${stats.dataset.rows.toLocaleString('en-US')} rows (${c?.keys} ${prefix}s × up to ${c?.days} days)`);
  return { stats, rows: stats.dataset.rows, keys: Number(c?.keys ?? 0), days: Number(c?.days ?? 0) };
}

export const originDaily = task({
  name: 'flights.origin_daily',
  description: 'Per-origin delay statistics as of each day (flights, mean delay and late share over 1/7/30 days).',
  input: z.object({ flights: dataset(), validated: z.boolean() }),
  output: DailyOutput,
  run: ({ flights }, ctx) => writeDaily(ctx, flights, 'origin_daily', ['origin'], 'origin'),
});

export const routeDaily = task({
  name: 'flights.route_daily',
  description: 'Per-route (origin → destination) delay statistics as of each day.',
  input: z.object({ flights: dataset(), validated: z.boolean() }),
  output: DailyOutput,
  run: ({ flights }, ctx) => writeDaily(ctx, flights, 'route_daily', ['origin', 'destination'], 'route'),
});

export const trainingSet = task({
  name: 'flights.training',
  description: 'A point-in-time-correct training set: sampled flights (label: delay > 15 min) with origin and route features as of their departure.',
  input: z.object({ flights: dataset(), originDaily: dataset(), routeDaily: dataset(), sample: z.number().int().positive(), seed: z.number().int() }),
  output: z.object({ training: dataset(), rows: z.number().int(), columns: z.array(z.string()), views: z.array(z.object({ name: z.string(), version: z.string() })) }),
  run: async ({ flights, originDaily: o, routeDaily: r, sample, seed }, ctx) => {
    const engine = await ctx.offline();
    const views = [originStatsView(await ctx.datasets.path(o)), routeStatsView(await ctx.datasets.path(r))];
    // Entity rows: one per sampled flight, its departure time as the event time. The delay itself is not a column.
    const entities = {
      sql: `SELECT * FROM (
              SELECT row_number() OVER (ORDER BY date, origin, destination, delay, distance) AS flight_id,
                     origin, destination, distance, date AS event_timestamp, delay > 15 AS label
              FROM flights)
            ORDER BY hash(flight_id, ${seed}), flight_id LIMIT ${sample}`,
      inputs: { flights: { path: await ctx.datasets.path(flights), format: 'parquet' as const } },
    };
    // Registered as dataset `flights_training` with the feature views (name + version) it was built from; ordered by
    // flight so the same input gives the same bytes (and dataset version).
    const result = await saveTrainingSet(engine, ctx.datasets, 'flights_training', { entities, features: views, orderBy: ['flight_id'] }, { dir: ctx.workDir });
    console.log(`flights_training: ${result.rowCount.toLocaleString('en-US')} rows × ${result.columns.length} columns; views ${result.views.map((v) => `${v.name}@${v.version.slice(0, 12)}`).join(', ')}`);
    return { training: result.saved, rows: result.rowCount, columns: result.columns, views: result.views };
  },
});

const SummarySchema = z.object({
  flights: z.object({ rows: z.number().int(), sourceRows: z.number().int(), sha256: z.string() }),
  validation: z.object({ passed: z.boolean(), failed: z.number().int(), warnings: z.number().int(), warned: z.array(z.object({ name: z.string(), violations: z.number().optional() })) }),
  features: z.object({ originDailyRows: z.number().int(), origins: z.number().int(), routeDailyRows: z.number().int(), routes: z.number().int(), ttlDays: z.number() }),
  training: z.object({
    rows: z.number().int(),
    columns: z.array(z.string()),
    positives: z.number().int(),
    positiveShare: z.number(),
    /** Share of rows with a (non-null) value, per feature. */
    coverage: z.record(z.string(), z.number()),
    /** Rows with any feature stamped after their event time (must be 0), and the latest feature stamp relative to the event. */
    leakage: z.object({ violations: z.number().int(), maxFeatureLagMs: z.number().nullable() }),
    views: z.array(z.object({ name: z.string(), version: z.string() })),
  }),
});
export type FlightsSummary = z.output<typeof SummarySchema>;

export const summarise = task({
  name: 'flights.summary',
  description: 'Training-set figures: rows, class balance, feature coverage, and a leakage check (fails when a feature is newer than its flight).',
  input: z.object({
    training: dataset(),
    views: z.array(z.object({ name: z.string(), version: z.string() })),
    flights: z.object({ rows: z.number().int(), sourceRows: z.number().int(), sha256: z.string() }),
    validation: z.object({ passed: z.boolean(), failed: z.number().int(), warnings: z.number().int(), results: z.array(z.object({ name: z.string(), passed: z.boolean(), severity: z.string(), violations: z.number().optional() }).loose()) }),
    origin: z.object({ rows: z.number().int(), keys: z.number().int() }).loose(),
    route: z.object({ rows: z.number().int(), keys: z.number().int() }).loose(),
  }),
  output: SummarySchema,
  run: async ({ training, views, flights, validation, origin: o, route: r }, ctx) => {
    const engine = await ctx.offline();
    const rel = await engine.relation({ path: await ctx.datasets.path(training), format: 'parquet' });
    const columns = training.dataset.schema.map((c) => c.name);
    const features = columns.filter((c) => c.startsWith('origin_') || c.startsWith('route_'));
    const asOf = ['origin_as_of', 'route_as_of'];
    const [row] = await engine.query(`SELECT count(*) AS n, count(*) FILTER (WHERE label) AS pos,
      count(*) FILTER (WHERE ${asOf.map((c) => `${c} > event_timestamp`).join(' OR ')}) AS leaks,
      max(greatest(${asOf.map((c) => `epoch_ms(${c}) - epoch_ms(event_timestamp)`).join(', ')})) AS lag,
      ${features.map((f, i) => `count(${f}) AS c${i}`).join(', ')} FROM ${rel}`);
    const n = Number(row?.n ?? 0);
    const leakage = { violations: Number(row?.leaks ?? 0), maxFeatureLagMs: row?.lag === null || row?.lag === undefined ? null : Number(row.lag) };
    if (leakage.violations > 0) throw new Error(`Leakage: ${leakage.violations} training rows have a feature stamped after their event time.`);
    const coverage = Object.fromEntries(features.map((f, i) => [f, n ? Number(row?.[`c${i}`] ?? 0) / n : 0]));
    const positives = Number(row?.pos ?? 0);
    console.log(`training set: ${n} rows, ${((positives / (n || 1)) * 100).toFixed(1)}% late (> 15 min), no feature newer than its flight (latest feature ${leakage.maxFeatureLagMs === null ? 'n/a' : `${(-leakage.maxFeatureLagMs / 60_000).toFixed(0)} min`} before it)`);
    return {
      flights,
      validation: { passed: validation.passed, failed: validation.failed, warnings: validation.warnings, warned: validation.results.filter((x) => !x.passed && x.severity === 'warn').map((x) => ({ name: x.name, ...(x.violations !== undefined ? { violations: x.violations } : {}) })) },
      features: { originDailyRows: o.rows, origins: o.keys, routeDailyRows: r.rows, routes: r.keys, ttlDays: FEATURE_TTL_MS / DAY_MS },
      training: { rows: n, columns, positives, positiveShare: n ? positives / n : 0, coverage, leakage, views },
    };
  },
});

// ---------------------------------------------------------------------------------------------------------------
// The workflow

export const FlightsParams = z.object({
  /** Flights to take from the 3M (a seeded sample over the whole half-year); 3,000,000 takes them all. */
  rows: z.number().int().min(1_000).max(FULL_ROWS).default(200_000),
  /** Seeds the flights sample and the training sample. */
  // The default seed's sample includes one of the 3 real delays below −100 min, so even small slices show the warning.
  seed: z.number().int().min(0).default(559),
  /** Flights in the training set (sampled from the slice). */
  sample: z.number().int().positive().default(50_000),
});
export type FlightsParamsInput = z.input<typeof FlightsParams>;

/** Part of the slice task's input: a new vega-datasets version re-reads the file. */
const SOURCE = flightsSourceId();

export default workflow(
  { name: 'flights-features', description: 'Flight-delay features with a point-in-time-correct training set, on the vega-datasets flights.', params: FlightsParams },
  ({ rows, seed, sample }) => {
    const s = slice({ rows, seed, source: SOURCE });
    const checked = validateFlights({ data: s.flights });
    const o = originDaily({ flights: s.flights, validated: checked.passed });
    const r = routeDaily({ flights: s.flights, validated: checked.passed });
    const t = trainingSet({ flights: s.flights, originDaily: o.stats, routeDaily: r.stats, sample, seed });
    return summarise({
      training: t.training,
      views: t.views,
      flights: { rows: s.rows, sourceRows: s.sourceRows, sha256: s.flights.sha256 },
      validation: { passed: checked.passed, failed: checked.failed, warnings: checked.warnings, results: checked.results },
      origin: o,
      route: r,
    });
  },
);
