// Classification metrics for the weather example: accuracy, macro-averaged F1, confusion matrix,
// plus per-class precision/recall/F1 and a majority-class baseline.

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true samples of this class. */
  support: number;
}

export interface Evaluation {
  accuracy: number;
  /**
   * Unweighted mean of per-class F1 over the classes that occur in yTrue or yPred; a class that
   * appears in neither is left out (its F1 is undefined). Precision or recall with a zero
   * denominator counts as 0, as in scikit-learn.
   */
  macroF1: number;
  /** confusion[trueClass][predictedClass] = count. */
  confusion: number[][];
  perClass: ClassMetrics[];
}

export function evaluate(yTrue: readonly number[], yPred: readonly number[], nClasses: number): Evaluation {
  if (yTrue.length !== yPred.length) {
    throw new Error(`evaluate: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  }
  if (yTrue.length === 0) throw new Error('evaluate: no labels');
  if (!Number.isInteger(nClasses) || nClasses < 1) throw new Error(`evaluate: nClasses must be a positive integer, got ${nClasses}`);

  const confusion = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as number;
    const p = yPred[i] as number;
    for (const [name, v] of [['yTrue', t], ['yPred', p]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= nClasses) {
        throw new Error(`evaluate: ${name}[${i}] = ${v} is not a class index in [0, ${nClasses})`);
      }
    }
    const row = confusion[t] as number[];
    row[p] = (row[p] as number) + 1;
    if (t === p) correct++;
  }

  const perClass: ClassMetrics[] = [];
  let f1Sum = 0;
  let f1Count = 0;
  for (let c = 0; c < nClasses; c++) {
    const tp = (confusion[c] as number[])[c] as number;
    const support = (confusion[c] as number[]).reduce((s, v) => s + v, 0);
    const predicted = confusion.reduce((s, row) => s + (row[c] as number), 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ precision, recall, f1, support });
    if (support > 0 || predicted > 0) {
      f1Sum += f1;
      f1Count++;
    }
  }

  return { accuracy: correct / yTrue.length, macroF1: f1Count > 0 ? f1Sum / f1Count : 0, confusion, perClass };
}

/** Most frequent class in y (ties go to the lowest index). */
export function majorityClass(y: readonly number[]): number {
  if (y.length === 0) throw new Error('majorityClass: empty label list');
  const counts = new Map<number, number>();
  for (const v of y) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = y[0] as number;
  for (const [v, c] of counts) {
    const bestCount = counts.get(best) as number;
    if (c > bestCount || (c === bestCount && v < best)) best = v;
  }
  return best;
}
