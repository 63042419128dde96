// Small, dependency-free classifiers behind one interface (train -> plain JSON model -> predict)
// for the weather example: softmax logistic regression, CART tree, random forest, kNN, Gaussian NB.
//
// Why not ml-cart / ml-random-forest / ml-logistic-regression (all installed)? Measured on this data,
// ml-cart's split search is quadratic (~0.5 s for one depth-6 tree, ~4 s for a 20-tree forest), its
// toJSON() returns live class instances (ml-matrix Matrix leaves) and `maxDepth: Infinity` (not valid
// JSON), and ml-logistic-regression is one-vs-rest without standardisation. The versions here train
// in milliseconds, are deterministic from one seed, and their models are plain data by construction.

import { checkSeed, mulberry32, randomInt } from './rng.ts';
import type { Dataset } from './data.ts';

export type ModelKind = 'logreg' | 'tree' | 'forest' | 'knn' | 'naive-bayes';
export const MODEL_KINDS: readonly ModelKind[] = ['logreg', 'tree', 'forest', 'knn', 'naive-bayes'];

export type ModelParams = Record<string, number>;

/**
 * Every accepted hyper-parameter per kind, with its default. Unknown keys are rejected.
 * - logreg: full-batch gradient descent on standardised features; `l2` is the weight penalty.
 * - tree / forest: `maxFeatures` = features tried per split; 0 means all (tree) or round(sqrt(p))
 *   (forest), a value in (0, 1) a fraction of p, an integer >= 1 a count. Forest trees are grown on
 *   bootstrap samples of `sampleFraction * n` rows and vote by averaging leaf class frequencies.
 * - knn: `weighted` 1 weights neighbours by 1 / distance, 0 gives a plain majority vote.
 * - naive-bayes: `varSmoothing` x (largest feature variance) is added to every variance (as sklearn);
 *   the default 1e-3 (sklearn: 1e-9) matters here because the 0/1 features have ~zero variance
 *   within some classes (1e-9 scored ~0.3 test accuracy on this data, 1e-3 ~0.8).
 */
export const DEFAULT_PARAMS: Readonly<Record<ModelKind, Readonly<ModelParams>>> = {
  logreg: { learningRate: 0.5, iterations: 300, l2: 0.001 },
  tree: { maxDepth: 6, minSamplesLeaf: 5, maxFeatures: 0 },
  forest: { nTrees: 50, maxDepth: 10, minSamplesLeaf: 2, maxFeatures: 0, sampleFraction: 1 },
  knn: { k: 15, weighted: 1 },
  'naive-bayes': { varSmoothing: 0.001 },
};

export const MODEL_FORMAT = 'weather-model/v1';

interface ModelBase {
  format: typeof MODEL_FORMAT;
  nFeatures: number;
  nClasses: number;
  /** Resolved hyper-parameters (defaults merged with the caller's). */
  params: ModelParams;
  seed: number;
}

export interface LogRegModel extends ModelBase {
  kind: 'logreg';
  mean: number[];
  scale: number[];
  /** weights[class][feature], on standardised features. */
  weights: number[][];
  bias: number[];
}

/** A tree as parallel arrays; node 0 is the root. Leaves have feature -1 and non-empty counts. */
export interface TreeNodes {
  feature: number[];
  /** Go left when x[feature] <= threshold. */
  threshold: number[];
  left: number[];
  right: number[];
  /** Training class counts at leaves ([] for internal nodes). */
  counts: number[][];
}

export interface TreeModel extends ModelBase {
  kind: 'tree';
  tree: TreeNodes;
}

export interface ForestModel extends ModelBase {
  kind: 'forest';
  trees: TreeNodes[];
}

export interface KnnModel extends ModelBase {
  kind: 'knn';
  mean: number[];
  scale: number[];
  /** Standardised training rows and their labels. */
  X: number[][];
  y: number[];
}

export interface NaiveBayesModel extends ModelBase {
  kind: 'naive-bayes';
  classCounts: number[];
  /** means[class][feature] and variances[class][feature] (smoothing already added). */
  means: number[][];
  variances: number[][];
}

/** A trained model: plain JSON-safe data (no class instances, NaN or Infinity). */
export type SerializedModel = LogRegModel | TreeModel | ForestModel | KnnModel | NaiveBayesModel;

export interface TrainingData extends Dataset {
  /** Number of classes; defaults to max(y) + 1. Pass it when a class may be missing from y. */
  nClasses?: number;
}

/** What an iterative trainer (logreg) shows of itself while it trains. */
export interface TrainingProgress {
  /** Iterations completed so far (1, 2, …, iterations). */
  iteration: number;
  /** Iterations in all. */
  iterations: number;
  /** Predicts class indices for the rows of X with the weights as they are now. Valid during the callback only. */
  predict(X: number[][]): number[];
}

export interface TrainOptions {
  /**
   * Called every `progressEvery` iterations and after the last one, for kinds trained iteratively (logreg only; any
   * other kind rejects it). It observes and never changes the result; a throw stops training and propagates (so a
   * tuning trial's `ctx.report` may prune it from here).
   */
  onProgress?: (progress: TrainingProgress) => void;
  /** @default 25 */
  progressEvery?: number;
}

/**
 * Trains a model of the given kind. Deterministic: the same inputs and seed give an identical
 * model, with or without `options.onProgress`. (logreg, knn and naive-bayes use no randomness; the
 * seed is still recorded.)
 */
export function trainModel(kind: ModelKind, params: ModelParams, train: TrainingData, seed: number, options: TrainOptions = {}): SerializedModel {
  if (!MODEL_KINDS.includes(kind)) throw new Error(`unknown model kind ${JSON.stringify(kind)}; expected one of ${MODEL_KINDS.join(', ')}`);
  const resolved = resolveParams(kind, params);
  const progress = progressOptions(kind, options);
  const s = checkSeed(seed);
  const { X, y } = train;
  const nFeatures = checkMatrix(X, undefined, 'train.X');
  if (X.length === 0) throw new Error('train.X is empty');
  if (y.length !== X.length) throw new Error(`train.X has ${X.length} rows but train.y has ${y.length}`);
  const nClasses = train.nClasses ?? y.reduce((m, v) => Math.max(m, v), -1) + 1;
  if (!Number.isInteger(nClasses) || nClasses < 1) throw new Error(`nClasses must be a positive integer, got ${nClasses}`);
  y.forEach((label, i) => {
    if (!Number.isInteger(label) || label < 0 || label >= nClasses) {
      throw new Error(`train.y[${i}] = ${label} is not a class index in [0, ${nClasses})`);
    }
  });
  const base = { format: MODEL_FORMAT, nFeatures, nClasses, params: resolved, seed: s } as const;

  let model: SerializedModel;
  switch (kind) {
    case 'logreg':
      model = { ...base, kind, ...trainLogReg(X, y, nClasses, resolved, progress) };
      break;
    case 'tree': {
      const maxFeatures = featureCount(resolved.maxFeatures ?? 0, nFeatures, nFeatures);
      const all = X.map((_, i) => i);
      model = { ...base, kind, tree: growTree(columns(X), y, all, nClasses, treeOptions(resolved, maxFeatures), mulberry32(s)) };
      break;
    }
    case 'forest':
      model = { ...base, kind, trees: trainForest(X, y, nClasses, resolved, s) };
      break;
    case 'knn':
      model = { ...base, kind, ...trainKnn(X, y) };
      break;
    case 'naive-bayes':
      model = { ...base, kind, ...trainNaiveBayes(X, y, nClasses, resolved) };
      break;
  }
  assertJsonSafe(model, 'model');
  return model;
}

/** Predicts class indices for the rows of X. Works on models straight from trainModel or JSON.parse. */
export function predict(model: SerializedModel, X: number[][]): number[] {
  if (model.format !== MODEL_FORMAT) throw new Error(`unsupported model format ${JSON.stringify(model.format)}`);
  checkMatrix(X, model.nFeatures, 'X');
  switch (model.kind) {
    case 'logreg':
      return X.map((row) => argmax(logRegScores(model, standardiseRow(row, model.mean, model.scale))));
    case 'tree':
      return X.map((row) => argmax(leafCounts(model.tree, row)));
    case 'forest':
      return X.map((row) => argmax(forestVotes(model, row)));
    case 'knn':
      return X.map((row) => knnPredictRow(model, standardiseRow(row, model.mean, model.scale)));
    case 'naive-bayes':
      return X.map((row) => argmax(naiveBayesLogPosterior(model, row)));
    default: {
      const unknown: never = model;
      throw new Error(`unknown model kind ${JSON.stringify((unknown as { kind?: unknown }).kind)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function resolveParams(kind: ModelKind, params: ModelParams): ModelParams {
  const defaults = DEFAULT_PARAMS[kind];
  for (const [key, value] of Object.entries(params)) {
    if (!(key in defaults)) {
      throw new Error(`unknown parameter "${key}" for ${kind}; allowed: ${Object.keys(defaults).join(', ')}`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`parameter "${key}" must be a finite number`);
  }
  const p: ModelParams = { ...defaults, ...params };
  const positiveInt = (key: string): void => {
    const v = p[key];
    if (v === undefined || !Number.isInteger(v) || v < 1) throw new Error(`parameter "${key}" must be a positive integer, got ${String(v)}`);
  };
  const positive = (key: string): void => {
    const v = p[key];
    if (v === undefined || !(v > 0)) throw new Error(`parameter "${key}" must be > 0, got ${String(v)}`);
  };
  const nonNegative = (key: string): void => {
    const v = p[key];
    if (v === undefined || !(v >= 0)) throw new Error(`parameter "${key}" must be >= 0, got ${String(v)}`);
  };
  switch (kind) {
    case 'logreg':
      positive('learningRate');
      positiveInt('iterations');
      nonNegative('l2');
      break;
    case 'forest':
    case 'tree':
      if (kind === 'forest') {
        positiveInt('nTrees');
        positive('sampleFraction');
      }
      positiveInt('maxDepth');
      positiveInt('minSamplesLeaf');
      nonNegative('maxFeatures');
      break;
    case 'knn':
      positiveInt('k');
      if (p.weighted !== 0 && p.weighted !== 1) throw new Error(`parameter "weighted" must be 0 or 1, got ${String(p.weighted)}`);
      break;
    case 'naive-bayes':
      nonNegative('varSmoothing');
      break;
  }
  return p;
}

function progressOptions(kind: ModelKind, options: TrainOptions): Progress | undefined {
  const { onProgress, progressEvery = 25 } = options;
  if (onProgress === undefined) return undefined;
  if (kind !== 'logreg') throw new Error(`onProgress is only supported for logreg (trained iteratively), not ${kind}; leave it out for ${kind}`);
  if (!Number.isInteger(progressEvery) || progressEvery < 1) throw new Error(`progressEvery must be a positive integer, got ${String(progressEvery)}`);
  return { every: progressEvery, onProgress };
}

/** Validates a numeric matrix (rectangular, finite); returns its column count. */
function checkMatrix(X: number[][], nFeatures: number | undefined, name: string): number {
  const width = nFeatures ?? X[0]?.length ?? 0;
  X.forEach((row, i) => {
    if (row.length !== width) throw new Error(`${name}[${i}] has ${row.length} features, expected ${width}`);
    for (let j = 0; j < row.length; j++) {
      if (!Number.isFinite(row[j])) throw new Error(`${name}[${i}][${j}] is not a finite number`);
    }
  });
  return width;
}

function assertJsonSafe(value: unknown, path: string): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`internal error: ${path} is ${value}, not JSON-safe`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => assertJsonSafe(v, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertJsonSafe(v, `${path}.${k}`);
  }
}

/** Index of the largest value; ties go to the lowest index. */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

function columns(X: number[][]): Float64Array[] {
  const width = X[0]?.length ?? 0;
  return Array.from({ length: width }, (_, j) => Float64Array.from(X, (row) => row[j] as number));
}

function standardiser(X: number[][]): { mean: number[]; scale: number[] } {
  const n = X.length;
  const mean: number[] = [];
  const scale: number[] = [];
  for (const col of columns(X)) {
    let m = 0;
    for (const v of col) m += v;
    m /= n;
    let ss = 0;
    for (const v of col) ss += (v - m) ** 2;
    const sd = Math.sqrt(ss / n);
    mean.push(m);
    scale.push(sd > 1e-12 ? sd : 1);
  }
  return { mean, scale };
}

function standardiseRow(row: readonly number[], mean: readonly number[], scale: readonly number[]): number[] {
  return row.map((v, j) => (v - (mean[j] as number)) / (scale[j] as number));
}

function featureCount(setting: number, nFeatures: number, fallback: number): number {
  if (setting === 0) return fallback;
  const count = setting < 1 ? Math.ceil(setting * nFeatures) : Math.floor(setting);
  return Math.max(1, Math.min(nFeatures, count));
}

// ---------------------------------------------------------------------------------------------
// Softmax logistic regression (multinomial), full-batch gradient descent, L2 on weights only.

interface Progress {
  every: number;
  onProgress: (progress: TrainingProgress) => void;
}

function trainLogReg(X: number[][], y: number[], nClasses: number, p: ModelParams, progress?: Progress) {
  const { mean, scale } = standardiser(X);
  const Z = X.map((row) => standardiseRow(row, mean, scale));
  const n = Z.length;
  const d = mean.length;
  const lr = p.learningRate as number;
  const l2 = p.l2 as number;
  const W = Array.from({ length: nClasses }, () => new Float64Array(d));
  const b = new Float64Array(nClasses);
  const gW = Array.from({ length: nClasses }, () => new Float64Array(d));
  const gb = new Float64Array(nClasses);
  const prob = new Float64Array(nClasses);
  const iterations = p.iterations as number;
  // Predicts with W and b as they are when called (the same scores as logRegScores on the finished model).
  const predictNow = (rows: number[][]): number[] => {
    checkMatrix(rows, d, 'X');
    const now = { weights: W.map((w) => Array.from(w)), bias: Array.from(b) };
    return rows.map((row) => argmax(logRegScores(now, standardiseRow(row, mean, scale))));
  };

  for (let iter = 0; iter < iterations; iter++) {
    for (const g of gW) g.fill(0);
    gb.fill(0);
    for (let i = 0; i < n; i++) {
      const z = Z[i] as number[];
      let max = -Infinity;
      for (let c = 0; c < nClasses; c++) {
        const w = W[c] as Float64Array;
        let s = b[c] as number;
        for (let j = 0; j < d; j++) s += (w[j] as number) * (z[j] as number);
        prob[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < nClasses; c++) {
        const e = Math.exp((prob[c] as number) - max);
        prob[c] = e;
        sum += e;
      }
      for (let c = 0; c < nClasses; c++) {
        const err = (prob[c] as number) / sum - (y[i] === c ? 1 : 0);
        gb[c] = (gb[c] as number) + err;
        const g = gW[c] as Float64Array;
        for (let j = 0; j < d; j++) g[j] = (g[j] as number) + err * (z[j] as number);
      }
    }
    for (let c = 0; c < nClasses; c++) {
      const w = W[c] as Float64Array;
      const g = gW[c] as Float64Array;
      for (let j = 0; j < d; j++) w[j] = (w[j] as number) - lr * ((g[j] as number) / n + l2 * (w[j] as number));
      b[c] = (b[c] as number) - lr * ((gb[c] as number) / n);
    }
    const done = iter + 1;
    if (progress && (done % progress.every === 0 || done === iterations)) progress.onProgress({ iteration: done, iterations, predict: predictNow });
  }
  return { mean, scale, weights: W.map((w) => Array.from(w)), bias: Array.from(b) };
}

function logRegScores(model: Pick<LogRegModel, 'weights' | 'bias'>, z: readonly number[]): number[] {
  return model.weights.map((w, c) => w.reduce((s, wj, j) => s + wj * (z[j] as number), model.bias[c] as number));
}

// ---------------------------------------------------------------------------------------------
// CART classification tree (Gini impurity). Each node sorts its rows once per candidate feature
// and sweeps the split point with running class counts, so a node costs O(m * n log n).

interface TreeOptions {
  maxDepth: number;
  minSamplesLeaf: number;
  maxFeatures: number;
}

function treeOptions(p: ModelParams, maxFeatures: number): TreeOptions {
  return { maxDepth: p.maxDepth as number, minSamplesLeaf: p.minSamplesLeaf as number, maxFeatures };
}

/** Grows a tree on `rows` (indices into the columns; repeats allowed, as in a bootstrap sample). */
function growTree(
  cols: Float64Array[],
  y: readonly number[],
  rows: number[],
  nClasses: number,
  opts: TreeOptions,
  rand: () => number,
): TreeNodes {
  const nFeatures = cols.length;
  const tree: TreeNodes = { feature: [], threshold: [], left: [], right: [], counts: [] };
  const featureOrder = Array.from({ length: nFeatures }, (_, j) => j);

  const classCounts = (idx: readonly number[]): number[] => {
    const counts = new Array<number>(nClasses).fill(0);
    for (const i of idx) counts[y[i] as number] = (counts[y[i] as number] as number) + 1;
    return counts;
  };

  const grow = (idx: number[], depth: number): number => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.counts.push([]);
    const counts = classCounts(idx);
    const n = idx.length;
    const pure = counts.some((c) => c === n);
    const split = depth >= opts.maxDepth || pure || n < 2 * opts.minSamplesLeaf ? undefined : bestSplit(idx, counts);
    if (split === undefined) {
      tree.counts[id] = counts;
      return id;
    }
    const col = cols[split.feature] as Float64Array;
    const leftIdx = idx.filter((i) => (col[i] as number) <= split.threshold);
    const rightIdx = idx.filter((i) => (col[i] as number) > split.threshold);
    tree.feature[id] = split.feature;
    tree.threshold[id] = split.threshold;
    tree.left[id] = grow(leftIdx, depth + 1);
    tree.right[id] = grow(rightIdx, depth + 1);
    return id;
  };

  const bestSplit = (idx: number[], counts: number[]): { feature: number; threshold: number } | undefined => {
    const n = idx.length;
    // Maximise sum_c L_c^2 / nL + sum_c R_c^2 / nR, i.e. minimise the weighted Gini impurity.
    let bestScore = counts.reduce((s, c) => s + c * c, 0) / n + 1e-12;
    let best: { feature: number; threshold: number } | undefined;
    // Partial Fisher–Yates: the first maxFeatures entries of featureOrder are this node's candidates.
    for (let k = 0; k < opts.maxFeatures && opts.maxFeatures < nFeatures; k++) {
      const j = k + randomInt(rand, nFeatures - k);
      const tmp = featureOrder[k] as number;
      featureOrder[k] = featureOrder[j] as number;
      featureOrder[j] = tmp;
    }
    const left = new Array<number>(nClasses);
    const right = new Array<number>(nClasses);
    for (let k = 0; k < opts.maxFeatures; k++) {
      const f = featureOrder[k] as number;
      const col = cols[f] as Float64Array;
      const sorted = [...idx].sort((a, b) => (col[a] as number) - (col[b] as number) || a - b);
      left.fill(0);
      for (let c = 0; c < nClasses; c++) right[c] = counts[c] as number;
      let sqL = 0;
      let sqR = counts.reduce((s, c) => s + c * c, 0);
      for (let pos = 0; pos < n - 1; pos++) {
        const c = y[sorted[pos] as number] as number;
        sqL += 2 * (left[c] as number) + 1;
        left[c] = (left[c] as number) + 1;
        sqR -= 2 * (right[c] as number) - 1;
        right[c] = (right[c] as number) - 1;
        const nL = pos + 1;
        const nR = n - nL;
        if (nL < opts.minSamplesLeaf || nR < opts.minSamplesLeaf) continue;
        const a = col[sorted[pos] as number] as number;
        const bNext = col[sorted[pos + 1] as number] as number;
        if (a === bNext) continue;
        const score = sqL / nL + sqR / nR;
        if (score > bestScore) {
          bestScore = score;
          const mid = a + (bNext - a) / 2;
          best = { feature: f, threshold: mid < bNext ? mid : a };
        }
      }
    }
    return best;
  };

  grow(rows, 0);
  return tree;
}

function leafCounts(tree: TreeNodes, row: readonly number[]): number[] {
  let node = 0;
  for (;;) {
    const f = tree.feature[node];
    if (f === undefined) throw new Error(`corrupt tree: node ${node} does not exist`);
    if (f < 0) return tree.counts[node] ?? [];
    node = ((row[f] as number) <= (tree.threshold[node] as number) ? tree.left[node] : tree.right[node]) as number;
  }
}

// ---------------------------------------------------------------------------------------------
// Random forest: bootstrap rows per tree, random feature subset per split, soft voting.

function trainForest(X: number[][], y: number[], nClasses: number, p: ModelParams, seed: number): TreeNodes[] {
  const rand = mulberry32(seed);
  const cols = columns(X);
  const n = X.length;
  const nFeatures = cols.length;
  const opts = treeOptions(p, featureCount(p.maxFeatures as number, nFeatures, Math.max(1, Math.round(Math.sqrt(nFeatures)))));
  const sampleSize = Math.max(1, Math.round(n * (p.sampleFraction as number)));
  const trees: TreeNodes[] = [];
  for (let t = 0; t < (p.nTrees as number); t++) {
    const rows = Array.from({ length: sampleSize }, () => randomInt(rand, n));
    trees.push(growTree(cols, y, rows, nClasses, opts, rand));
  }
  return trees;
}

function forestVotes(model: ForestModel, row: readonly number[]): number[] {
  const votes = new Array<number>(model.nClasses).fill(0);
  for (const tree of model.trees) {
    const counts = leafCounts(tree, row);
    const total = counts.reduce((s, c) => s + c, 0);
    counts.forEach((c, k) => (votes[k] = (votes[k] as number) + c / total));
  }
  return votes;
}

// ---------------------------------------------------------------------------------------------
// k-nearest neighbours on standardised features (Euclidean). Distance ties go to the earlier row.

function trainKnn(X: number[][], y: number[]) {
  const { mean, scale } = standardiser(X);
  return { mean, scale, X: X.map((row) => standardiseRow(row, mean, scale)), y: [...y] };
}

function knnPredictRow(model: KnnModel, z: readonly number[]): number {
  const k = Math.min(model.params.k as number, model.X.length);
  const dist = model.X.map((row, i) => {
    let s = 0;
    for (let j = 0; j < row.length; j++) s += ((row[j] as number) - (z[j] as number)) ** 2;
    return { d: Math.sqrt(s), i };
  });
  dist.sort((a, b) => a.d - b.d || a.i - b.i);
  const votes = new Array<number>(model.nClasses).fill(0);
  for (const { d, i } of dist.slice(0, k)) {
    const c = model.y[i] as number;
    votes[c] = (votes[c] as number) + (model.params.weighted === 1 ? 1 / (d + 1e-9) : 1);
  }
  return argmax(votes);
}

// ---------------------------------------------------------------------------------------------
// Gaussian naive Bayes.

function trainNaiveBayes(X: number[][], y: number[], nClasses: number, p: ModelParams) {
  const d = X[0]?.length ?? 0;
  const { scale } = standardiser(X);
  const maxVar = Math.max(...scale.map((s) => s * s));
  const epsilon = (p.varSmoothing as number) * maxVar;
  const classCounts = new Array<number>(nClasses).fill(0);
  const means = Array.from({ length: nClasses }, () => new Array<number>(d).fill(0));
  const variances = Array.from({ length: nClasses }, () => new Array<number>(d).fill(0));
  X.forEach((row, i) => {
    const c = y[i] as number;
    classCounts[c] = (classCounts[c] as number) + 1;
    const m = means[c] as number[];
    row.forEach((v, j) => (m[j] = (m[j] as number) + v));
  });
  means.forEach((m, c) => {
    const count = classCounts[c] as number;
    if (count > 0) m.forEach((v, j) => (m[j] = v / count));
  });
  X.forEach((row, i) => {
    const c = y[i] as number;
    const m = means[c] as number[];
    const v = variances[c] as number[];
    row.forEach((x, j) => (v[j] = (v[j] as number) + (x - (m[j] as number)) ** 2));
  });
  variances.forEach((v, c) => {
    const count = classCounts[c] as number;
    // Absent classes keep variance 1 so the model stays finite; predict skips them anyway.
    v.forEach((s, j) => (v[j] = count > 0 ? s / count + epsilon : 1));
    if (count > 0 && v.some((s) => !(s > 0))) {
      throw new Error('naive-bayes: a feature has zero variance within a class; use varSmoothing > 0');
    }
  });
  return { classCounts, means, variances };
}

function naiveBayesLogPosterior(model: NaiveBayesModel, row: readonly number[]): number[] {
  const total = model.classCounts.reduce((s, c) => s + c, 0);
  return model.classCounts.map((count, c) => {
    if (count === 0) return -Infinity;
    const m = model.means[c] as number[];
    const v = model.variances[c] as number[];
    let lp = Math.log(count / total);
    row.forEach((x, j) => {
      const variance = v[j] as number;
      lp -= 0.5 * (Math.log(2 * Math.PI * variance) + (x - (m[j] as number)) ** 2 / variance);
    });
    return lp;
  });
}
