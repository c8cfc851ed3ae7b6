/** How close predictions came to what happened: totals, MAE, Pearson and Spearman correlation. */

export interface Accuracy {
  customers: number;
  totalPredicted: number;
  totalActual: number;
  meanAbsoluteError: number;
  /** Null when either side has no variance. */
  pearson: number | null;
  spearman: number | null;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  const n = a.length;
  if (n < 2 || b.length !== n) return null;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
}

/** Ranks 1..n with ties given their average rank (so many zero actuals do not bias Spearman). */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (values[i] as number) - (values[j] as number));
  const out = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1] as number] === values[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k] as number] = rank;
    i = j + 1;
  }
  return out;
}

export const spearman = (a: ArrayLike<number>, b: ArrayLike<number>): number | null => pearson(ranks(a), ranks(b));

export function accuracy(predicted: ArrayLike<number>, actual: ArrayLike<number>): Accuracy {
  if (predicted.length !== actual.length) throw new RangeError('predicted and actual differ in length');
  let tp = 0;
  let ta = 0;
  let abs = 0;
  for (let i = 0; i < predicted.length; i++) {
    tp += predicted[i] as number;
    ta += actual[i] as number;
    abs += Math.abs((predicted[i] as number) - (actual[i] as number));
  }
  return {
    customers: predicted.length,
    totalPredicted: tp,
    totalActual: ta,
    meanAbsoluteError: predicted.length > 0 ? abs / predicted.length : 0,
    pearson: pearson(predicted, actual),
    spearman: spearman(predicted, actual),
  };
}
