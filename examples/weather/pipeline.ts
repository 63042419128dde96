/**
 * Weather model training as a Baton workflow: which model best predicts Seattle's weather (drizzle, fog, rain, snow,
 * sun) from the day's measurements and yesterday's weather?
 *
 *   load CSV → validate columns → features → seeded train/test split
 *     → train every candidate in parallel (map) → evaluate each on the test split (map)
 *     ∥ tune logistic regression (TPE + median pruning, trials scored on a validation fold cut from the train split,
 *       never on the test split) → train and evaluate its best params as one more candidate, "logreg tuned"
 *     → pick the best candidate by macro-F1 → register it as model "weather-classifier" (flavor 'js')
 *
 * Large values (rows, features, the split, every trained model) are stored as artifacts and passed as file handles;
 * only small summaries travel inline. Every task is deterministic given its input, so a second run is all cache hits.
 *
 * Run it: npx baton run examples/weather/pipeline.ts --param seed=7 --param testFraction=0.25 [--param tuneTrials=0]
 * (or `npm run demo`, which runs it with a progress display and a short report); `npx baton study RUN` shows the study.
 */
import { file, float, map, medianPruner, modelRegistration, task, tpe, tune, workflow, z, type FileHandle, type Ref, type TaskContext } from 'baton';
import { featureRows, weatherClassifier } from './lib/classifier.ts';
import { WEATHER_LABELS, holdOutLast, loadWeatherCsv, makeFeatures, splitTrainTest, validateColumns, type Dataset, type FeatureSet, type TrainTestSplit } from './lib/data.ts';
import { evaluate, majorityClass } from './lib/metrics.ts';
import { DEFAULT_PARAMS, MODEL_KINDS, predict, trainModel, type ModelKind, type SerializedModel } from './lib/models.ts';

// ---------------------------------------------------------------------------------------------------------------
// Schemas

const ModelKindSchema = z.enum(MODEL_KINDS as readonly ModelKind[] as [ModelKind, ...ModelKind[]]);

export const CandidateSchema = z.object({
  /** Display name; defaults to the kind followed by the parameters that differ from the defaults. */
  name: z.string().optional(),
  kind: ModelKindSchema,
  /** Hyper-parameters over DEFAULT_PARAMS[kind]; unknown keys fail the train task. */
  params: z.record(z.string(), z.number()).default({}),
});
export type Candidate = z.output<typeof CandidateSchema>;

/** Two or more variants of each model kind. */
export const DEFAULT_CANDIDATES: Candidate[] = [
  { kind: 'logreg', params: {} },
  { kind: 'logreg', params: { l2: 0.01, iterations: 500 } },
  { kind: 'tree', params: { maxDepth: 4 } },
  { kind: 'tree', params: { maxDepth: 8 } },
  { kind: 'forest', params: {} },
  { kind: 'forest', params: { nTrees: 100, maxDepth: 6 } },
  { kind: 'knn', params: { k: 5 } },
  { kind: 'knn', params: {} },
  { kind: 'naive-bayes', params: {} },
  { kind: 'naive-bayes', params: { varSmoothing: 0.01 } },
];

const MetricsSchema = z.object({
  accuracy: z.number(),
  macroF1: z.number(),
  /** F1 per class label. */
  f1: z.record(z.string(), z.number()),
  /** confusion[true][predicted], in label order. */
  confusion: z.array(z.array(z.number())),
});

const BaselineSchema = z.object({ label: z.string(), accuracy: z.number(), macroF1: z.number() });

/** The logreg hyper-parameters the study tunes (iterations stay at DEFAULT_PARAMS.logreg.iterations). */
const LogregTuningParams = z.object({ learningRate: z.number().positive(), l2: z.number().nonnegative() });

/** One trial's result: macro-F1 and accuracy on the validation fold (the last part of the train split). */
const TrialScoreSchema = z.object({
  macroF1: z.number(),
  accuracy: z.number(),
  /** Rows the trial trained on and was scored on. */
  nFit: z.number().int(),
  nValidation: z.number().int(),
});

/** What the summary says about the tuning study (null when tuning is off). */
const StudySummarySchema = z.object({
  /** The study's node id: `npx baton study RUN ID`. */
  id: z.string(),
  trials: z.number().int(),
  counts: z.object({ complete: z.number().int(), pruned: z.number().int(), failed: z.number().int() }),
  /** Training iterations the trials ran, of the `budget` they would have run unpruned. */
  iterations: z.object({ run: z.number().int(), budget: z.number().int() }),
  best: z.object({ number: z.number().int(), params: LogregTuningParams, validation: TrialScoreSchema }),
});
export type StudySummary = z.output<typeof StudySummarySchema>;

const TrainedSchema = z.object({
  name: z.string(),
  kind: ModelKindSchema,
  /** Resolved hyper-parameters (defaults merged with the candidate's). */
  params: z.record(z.string(), z.number()),
  model: file(),
  trainMs: z.number(),
});

const EvaluatedSchema = TrainedSchema.extend({ metrics: MetricsSchema });
export type Evaluated = z.output<typeof EvaluatedSchema>;

/** The columns a weather row must have (WeatherRow field names). */
export const REQUIRED_COLUMNS = ['date', 'precipitation', 'tempMax', 'tempMin', 'wind', 'weather'];

/** Contents of the split artifact. */
interface SplitFile {
  labels: string[];
  featureNames: string[];
  train: TrainTestSplit['train'];
  test: TrainTestSplit['test'];
  trainDates: string[];
  testDates: string[];
}

async function readJson<T>(ctx: TaskContext, handle: FileHandle): Promise<T> {
  return JSON.parse((await ctx.artifacts.read(handle)).toString('utf8')) as T;
}

function putJson(ctx: TaskContext, value: unknown, name: string): Promise<FileHandle> {
  return ctx.artifacts.putBytes(JSON.stringify(value), name, { format: 'json' });
}

/** `forest nTrees=100 maxDepth=6`: the kind plus the parameters that differ from its defaults. */
export function candidateName(kind: ModelKind, params: Record<string, number>): string {
  const defaults = DEFAULT_PARAMS[kind];
  const diff = Object.entries(params).filter(([k, v]) => defaults[k] !== v);
  return [kind, ...diff.map(([k, v]) => `${k}=${v}`)].join(' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Tasks (module top level: worker processes import this file to find them by name)

export const load = task({
  name: 'weather.load',
  description: 'Reads seattle-weather.csv from the vega-datasets package and stores its rows as JSON.',
  input: z.object({}),
  output: z.object({ rows: file(), count: z.number().int(), columns: z.array(z.string()) }),
  run: async (_input, ctx) => {
    const rows = loadWeatherCsv();
    console.log(`loaded ${rows.length} rows (${rows[0]?.date} … ${rows.at(-1)?.date})`);
    return { rows: await putJson(ctx, rows, 'weather-rows.json'), count: rows.length, columns: Object.keys(rows[0] ?? {}) };
  },
});

export const validate = task({
  name: 'weather.validate',
  description: 'Fails with a clear message when required columns are missing or empty.',
  input: z.object({ rows: file(), required: z.array(z.string()).default(REQUIRED_COLUMNS) }),
  output: z.object({ rows: file(), count: z.number().int(), classCounts: z.record(z.string(), z.number().int()) }),
  run: async ({ rows: handle, required }, ctx) => {
    const rows = await readJson<Record<string, unknown>[]>(ctx, handle);
    const problems = validateColumns(rows, required);
    if (problems.length > 0) {
      // Columns absent from every row are reported once by name; other problems (empty values) row by row.
      const absent = required.filter((col) => rows.length > 0 && rows.every((r) => !(col in r)));
      const rest = problems.filter((p) => !absent.some((col) => p.endsWith(`missing column "${col}"`)));
      const parts = [
        ...(absent.length ? [`the data set is missing required column(s) ${absent.map((a) => `"${a}"`).join(', ')} (it has ${Object.keys(rows[0] ?? {}).map((k) => `"${k}"`).join(', ')})`] : []),
        ...(rest.length ? [`${rest.length} missing or empty value(s): ${rest.slice(0, 3).join('; ')}${rest.length > 3 ? `; and ${rest.length - 3} more` : ''}`] : []),
      ];
      throw new Error(`${parts.join('; ')}. Check the input CSV or the "required" columns.`);
    }
    const classCounts: Record<string, number> = {};
    for (const r of rows) classCounts[String(r.weather)] = (classCounts[String(r.weather)] ?? 0) + 1;
    console.log(`${rows.length} rows have all of ${required.join(', ')}`);
    return { rows: handle, count: rows.length, classCounts };
  },
});

export const features = task({
  name: 'weather.features',
  description: 'Turns rows into a numeric feature matrix (sorted by date; yesterday’s weather as features).',
  input: z.object({ rows: file() }),
  output: z.object({ features: file(), rows: z.number().int(), featureNames: z.array(z.string()) }),
  run: async ({ rows }, ctx) => {
    const fs = makeFeatures(await readJson(ctx, rows));
    return { features: await putJson(ctx, fs, 'features.json'), rows: fs.X.length, featureNames: fs.featureNames };
  },
});

export const split = task({
  name: 'weather.split',
  description: 'Deterministic train/test split (seeded), plus the majority-class baseline on the test split.',
  input: z.object({ features: file(), seed: z.number().int(), testFraction: z.number(), strategy: z.enum(['shuffle', 'chronological']) }),
  output: z.object({ split: file(), nTrain: z.number().int(), nTest: z.number().int(), baseline: BaselineSchema }),
  run: async ({ features: handle, seed, testFraction, strategy }, ctx) => {
    const fs = await readJson<FeatureSet>(ctx, handle);
    const s = splitTrainTest(fs, { seed, testFraction, strategy });
    const content: SplitFile = {
      labels: fs.labels,
      featureNames: fs.featureNames,
      train: s.train,
      test: s.test,
      trainDates: s.trainIndex.map((i) => fs.dates[i]!),
      testDates: s.testIndex.map((i) => fs.dates[i]!),
    };
    const majority = majorityClass(s.train.y);
    const e = evaluate(s.test.y, s.test.y.map(() => majority), fs.labels.length);
    console.log(`${s.train.X.length} train / ${s.test.X.length} test rows (${strategy}, seed ${seed})`);
    return {
      split: await putJson(ctx, content, 'split.json'),
      nTrain: s.train.X.length,
      nTest: s.test.X.length,
      baseline: { label: fs.labels[majority]!, accuracy: e.accuracy, macroF1: e.macroF1 },
    };
  },
});

/** Fraction of the train split held out (its last rows) to score tuning trials; the test split is never used. */
export const VALIDATION_FRACTION = 0.2;
/** A trial reports its validation macro-F1 every this many iterations (the steps the pruner compares). */
export const REPORT_EVERY = 25;
export const TUNED_CANDIDATE = 'logreg tuned';

/** Contents of the validation-fold artifact: the train split cut in two; no test rows. */
interface FoldFile {
  labels: string[];
  fit: Dataset;
  validation: Dataset;
}

export const validationFold = task({
  name: 'weather.validation-fold',
  description: 'Cuts the train split into rows to fit and a validation fold (its last rows) for tuning; leaves the test split out.',
  input: z.object({ split: file(), fraction: z.number().gt(0).lt(1) }),
  output: z.object({ fold: file(), nFit: z.number().int(), nValidation: z.number().int() }),
  run: async ({ split: handle, fraction }, ctx) => {
    const data = await readJson<SplitFile>(ctx, handle);
    const { fit, validation } = holdOutLast(data.train, fraction);
    const content: FoldFile = { labels: data.labels, fit, validation };
    console.log(`${fit.X.length} rows to fit, ${validation.X.length} to validate (the last ${fraction * 100}% of the train split)`);
    return { fold: await putJson(ctx, content, 'validation-fold.json'), nFit: fit.X.length, nValidation: validation.X.length };
  },
});

export const tuneLogreg = task({
  name: 'weather.tune-logreg',
  description: 'One tuning trial: trains logreg on the fold’s fit rows, reports and returns macro-F1 on its validation rows.',
  resources: { cpu: 1 },
  input: z.object({ params: LogregTuningParams, fold: file(), seed: z.number().int() }),
  output: TrialScoreSchema,
  run: async ({ params, fold: handle, seed }, ctx) => {
    const { labels, fit, validation } = await readJson<FoldFile>(ctx, handle);
    const score = (predicted: number[]) => evaluate(validation.y, predicted, labels.length);
    // ctx.report throws TrialPruned when the median pruner stops this trial: it propagates out of trainModel.
    const model = trainModel('logreg', params, { ...fit, nClasses: labels.length }, seed, {
      progressEvery: REPORT_EVERY,
      onProgress: ({ iteration, predict: now }) => ctx.report(iteration, score(now(validation.X)).macroF1),
    });
    const e = score(predict(model, validation.X));
    console.log(`learningRate ${params.learningRate.toPrecision(3)}, l2 ${params.l2.toPrecision(3)}: validation macro-F1 ${e.macroF1.toFixed(3)}`);
    return { macroF1: e.macroF1, accuracy: e.accuracy, nFit: fit.X.length, nValidation: validation.X.length };
  },
});

export const tunedCandidate = task({
  name: 'weather.tuned-candidate',
  description: 'Turns the study’s best logreg params into the candidate "logreg tuned" and summarises the study.',
  input: z.object({
    studyId: z.string(),
    /** The study's result (a StudyResult; only these fields are read). */
    study: z.object({
      best: z.object({ number: z.number().int(), params: LogregTuningParams, output: TrialScoreSchema }),
      trials: z.array(z.object({ number: z.number().int(), intermediate: z.array(z.tuple([z.number(), z.number()])) })),
      counts: StudySummarySchema.shape.counts,
    }),
  }),
  output: z.object({ candidate: CandidateSchema, study: StudySummarySchema }),
  run: ({ studyId, study }) => {
    const { best, trials, counts } = study;
    // A trial's last report is at the iteration it stopped at (the last one unless pruned; failed trials: none).
    const iterations = { run: trials.reduce((sum, t) => sum + (t.intermediate.at(-1)?.[0] ?? 0), 0), budget: trials.length * (DEFAULT_PARAMS.logreg.iterations as number) };
    console.log(`${studyId}: best of ${trials.length} trials is #${best.number}, validation macro-F1 ${best.output.macroF1.toFixed(3)}`);
    return {
      candidate: { name: TUNED_CANDIDATE, kind: 'logreg' as const, params: best.params },
      study: { id: studyId, trials: trials.length, counts, iterations, best: { number: best.number, params: best.params, validation: best.output } },
    };
  },
});

export const train = task({
  name: 'weather.train',
  description: 'Trains one candidate model on the train split and stores it as model.json.',
  resources: { cpu: 1 },
  retries: 1,
  input: z.object({ split: file(), candidate: CandidateSchema, seed: z.number().int() }),
  output: TrainedSchema,
  run: async ({ split: handle, candidate, seed }, ctx) => {
    const data = await readJson<SplitFile>(ctx, handle);
    const t0 = performance.now();
    const model = trainModel(candidate.kind, candidate.params, { ...data.train, nClasses: data.labels.length }, seed);
    const trainMs = Math.round(performance.now() - t0);
    const name = candidate.name ?? candidateName(candidate.kind, candidate.params);
    const stored = await putJson(ctx, model, 'model.json');
    console.log(`trained ${name} in ${trainMs} ms (${(stored.size / 1024).toFixed(0)} KiB)`);
    return { name, kind: candidate.kind, params: model.params, model: stored, trainMs };
  },
});

export const evaluateModel = task({
  name: 'weather.evaluate',
  description: 'Scores one trained model on the test split: accuracy, macro-F1, per-class F1, confusion matrix.',
  input: z.object({ split: file(), trained: TrainedSchema }),
  output: EvaluatedSchema,
  run: async ({ split: handle, trained }, ctx) => {
    const [data, model] = await Promise.all([readJson<SplitFile>(ctx, handle), readJson<SerializedModel>(ctx, trained.model)]);
    const e = evaluate(data.test.y, predict(model, data.test.X), data.labels.length);
    const f1 = Object.fromEntries(data.labels.map((l, i) => [l, e.perClass[i]?.f1 ?? 0]));
    console.log(`${trained.name}: accuracy ${e.accuracy.toFixed(3)}, macro-F1 ${e.macroF1.toFixed(3)}`);
    // Every candidate is a tracking run: `npx baton runs search "metrics.macroF1 > 0.5" --order-by "metrics.macroF1 desc"`.
    ctx.log.params({ candidate: trained.name, kind: trained.kind, ...trained.params });
    ctx.log.metric('macroF1', e.macroF1);
    ctx.log.metric('accuracy', e.accuracy);
    ctx.log.metric('train_ms', trained.trainMs);
    return { ...trained, metrics: { accuracy: e.accuracy, macroF1: e.macroF1, f1, confusion: e.confusion } };
  },
});

/** Best first: higher macro-F1, then higher accuracy, then name (so the order is total and stable). */
export function rankCandidates<T extends { name: string; metrics: { macroF1: number; accuracy: number } }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => b.metrics.macroF1 - a.metrics.macroF1 || b.metrics.accuracy - a.metrics.accuracy || a.name.localeCompare(b.name));
}

export const select = task({
  name: 'weather.select',
  description: 'Picks the best candidate by macro-F1 (ties by accuracy) and summarises every candidate.',
  input: z.object({
    evaluated: z.array(EvaluatedSchema).min(1),
    baseline: BaselineSchema,
    data: z.object({ rows: z.number().int(), nTrain: z.number().int(), nTest: z.number().int(), classCounts: z.record(z.string(), z.number().int()) }),
    /** The tuned candidate, evaluated like the others, and its study; null when tuning is off. */
    tuning: z.object({ study: StudySummarySchema, evaluated: EvaluatedSchema }).nullable(),
  }),
  output: z.object({
    best: EvaluatedSchema,
    candidates: z.array(z.object({ name: z.string(), kind: ModelKindSchema, accuracy: z.number(), macroF1: z.number(), trainMs: z.number(), model: file() })),
    baseline: BaselineSchema,
    beatsBaseline: z.boolean(),
    data: z.object({ rows: z.number().int(), nTrain: z.number().int(), nTest: z.number().int(), classCounts: z.record(z.string(), z.number().int()), labels: z.array(z.string()) }),
    /** The logreg tuning study (null when tuneTrials is 0); its best params are the "logreg tuned" candidate. */
    study: StudySummarySchema.nullable(),
  }),
  run: ({ evaluated, baseline, data, tuning }) => {
    const ranked = rankCandidates(tuning ? [...evaluated, tuning.evaluated] : evaluated);
    const best = ranked[0]!;
    console.log(`best: ${best.name} (macro-F1 ${best.metrics.macroF1.toFixed(3)}, accuracy ${best.metrics.accuracy.toFixed(3)})`);
    return {
      best,
      candidates: ranked.map((r) => ({ name: r.name, kind: r.kind, accuracy: r.metrics.accuracy, macroF1: r.metrics.macroF1, trainMs: r.trainMs, model: r.model })),
      baseline,
      beatsBaseline: best.metrics.macroF1 > baseline.macroF1 && best.metrics.accuracy > baseline.accuracy,
      data: { ...data, labels: [...WEATHER_LABELS] },
      study: tuning?.study ?? null,
    };
  },
});

/** The registered model's name: `npx baton models show weather-classifier@champion`. */
export const MODEL_NAME = 'weather-classifier';

export const register = task({
  name: 'weather.register',
  description: 'Registers the winner as a version of model "weather-classifier" (a saved js model), once it reproduces its test scores.',
  input: z.object({ best: EvaluatedSchema, split: file() }),
  output: z.object({ model: modelRegistration() }),
  run: async ({ best, split: handle }, ctx) => {
    const [data, trained] = await Promise.all([readJson<SplitFile>(ctx, handle), readJson<SerializedModel>(ctx, best.model)]);
    const { featureNames, labels } = data;
    const model = weatherClassifier({ model: trained, featureNames, labels }, { candidate: best.name, params: best.params });
    // What is registered is what was evaluated: the wrapped model must score the test split as weather.evaluate did.
    const predicted = (await model.predict(featureRows(featureNames, data.test.X))).weather as string[];
    const e = evaluate(data.test.y, predicted.map((label) => labels.indexOf(label)), labels.length);
    if (Math.abs(e.macroF1 - best.metrics.macroF1) > 1e-12 || Math.abs(e.accuracy - best.metrics.accuracy) > 1e-12) {
      throw new Error(`The model to register (${best.name}) scores macro-F1 ${e.macroF1} and accuracy ${e.accuracy} on the test split, but weather.evaluate measured ${best.metrics.macroF1} and ${best.metrics.accuracy}. Check that weather-classifier (lib/classifier.ts) predicts as lib/models.ts does.`);
    }
    const registration = await ctx.models.register(MODEL_NAME, model, {
      metrics: { macroF1: best.metrics.macroF1, accuracy: best.metrics.accuracy },
      tags: { kind: best.kind, candidate: best.name },
      // The model's own inputs and output (this task's types describe the task, not the model).
      signature: { input: z.object(Object.fromEntries(featureNames.map((f) => [f, z.number()]))), output: z.object({ weather: z.enum(labels as [string, ...string[]]) }) },
      description: `Seattle weather (${labels.join(', ')}) from the day's measurements and yesterday's weather; the best of the candidates by test macro-F1.`,
    });
    console.log(`registered ${best.name} as ${MODEL_NAME} (${registration.registrationId})`);
    return { model: registration };
  },
});

// ---------------------------------------------------------------------------------------------------------------
// The workflow

export const WeatherParams = z.object({
  /** Seeds the train/test shuffle and every randomised model. */
  seed: z.number().int().min(0).default(42),
  /** Fraction of days held out for testing. */
  testFraction: z.number().gt(0).lt(1).default(0.2),
  /** 'shuffle' (seeded) or 'chronological' (the latest days are the test set). */
  strategy: z.enum(['shuffle', 'chronological']).default('shuffle'),
  /** Models to compare; each is trained in its own task, in parallel. */
  candidates: z.array(CandidateSchema).min(1).default(DEFAULT_CANDIDATES),
  /** Trials of the logreg tuning study (TPE + median pruning); its best params become one more candidate. 0: no tuning. */
  tuneTrials: z.number().int().min(0).default(24),
});
export type WeatherParamsInput = z.input<typeof WeatherParams>;

/** The node id of the tuning study (its trials are `weather.tune-logreg-study[0]`, …): `npx baton study RUN`. */
export const STUDY_ID = 'weather.tune-logreg-study';

/** Tunes logreg's learning rate and L2 penalty on the validation fold: TPE, median pruning on the reports. */
function tuneLogregStudy(fold: Ref<FileHandle>, seed: number, trials: number) {
  return tune(tuneLogreg, {
    id: STUDY_ID,
    space: { learningRate: float(0.01, 3, { log: true }), l2: float(1e-5, 0.1, { log: true }) },
    direction: 'maximize',
    metric: 'macroF1',
    trials,
    // Two at a time (the listed candidates train alongside). Trial k is drawn from trials 0..k−2 whatever the
    // timing, so a second run draws the same trials and is answered by the cache.
    parallelism: 2,
    sampler: tpe({ startupTrials: 8 }),
    // Steps are iterations (reports at 25, 50, …, 300). Once 5 trials completed, a trial whose best validation
    // macro-F1 so far is below theirs (median) at the same iteration stops there, from its first report on.
    pruner: medianPruner({ startupTrials: 5, warmupSteps: REPORT_EVERY }),
    seed,
    inputs: { fold, seed },
  });
}

export default workflow(
  { name: 'weather-train', description: 'Train and compare weather classifiers on the Seattle weather data set.', params: WeatherParams },
  ({ seed, testFraction, strategy, candidates, tuneTrials }) => {
    const raw = load({});
    const valid = validate({ rows: raw.rows });
    const fs = features({ rows: valid.rows });
    const sp = split({ features: fs.features, seed, testFraction, strategy });
    // The listed candidates train while the study runs; the tuned one follows it (same tasks, its own node ids).
    const trained = map(train, candidates, (candidate) => ({ split: sp.split, candidate, seed }));
    const evaluated = map(evaluateModel, trained, (t) => ({ split: sp.split, trained: t }));
    let tuning = null;
    if (tuneTrials > 0) {
      const fold = validationFold({ split: sp.split, fraction: VALIDATION_FRACTION });
      const tuned = tunedCandidate({ studyId: STUDY_ID, study: tuneLogregStudy(fold.fold, seed, tuneTrials) });
      const model = train.with({ id: 'weather.train-tuned' })({ split: sp.split, candidate: tuned.candidate, seed });
      tuning = { study: tuned.study, evaluated: evaluateModel.with({ id: 'weather.evaluate-tuned' })({ split: sp.split, trained: model }) };
    }
    const s = select({
      evaluated,
      baseline: sp.baseline,
      data: { rows: valid.count, nTrain: sp.nTrain, nTest: sp.nTest, classCounts: valid.classCounts },
      tuning,
    });
    const registered = register({ best: s.best, split: sp.split });
    // The summary, and the winner's registration (`platform.models.registered(summary.model)` gives its version).
    return { best: s.best, candidates: s.candidates, baseline: s.baseline, beatsBaseline: s.beatsBaseline, data: s.data, study: s.study, model: registered.model };
  },
);
