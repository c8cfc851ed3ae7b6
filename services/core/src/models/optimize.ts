/**
 * Minimisation for maximum-likelihood fits: Nelder–Mead (adaptive coefficients of Gao & Han 2012,
 * so it behaves in 3-4 dimensions as in 2), a central-difference Hessian for the observed
 * information, and a small symmetric inverse for the covariance. No npm optimiser is both
 * maintained and typed (fmin 0.0.4 and numeric 1.2.6 are last published years ago), and these
 * are short enough to test directly.
 */

export interface Minimum {
  x: number[];
  value: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

export interface NelderMeadOptions {
  /** Initial simplex step per coordinate (default 0.5: on log-parameters a factor of 1.65). */
  step?: number;
  maxIterations?: number;
  /** Stop when the simplex's values and coordinates both spread less than these. */
  fTolerance?: number;
  xTolerance?: number;
}

export function nelderMead(f: (x: number[]) => number, start: readonly number[], options: NelderMeadOptions = {}): Minimum {
  const n = start.length;
  const step = options.step ?? 0.5;
  const maxIterations = options.maxIterations ?? 2_000 * n;
  const fTol = options.fTolerance ?? 1e-10;
  const xTol = options.xTolerance ?? 1e-6;
  const reflect = 1;
  const expand = 1 + 2 / n;
  const contract = 0.75 - 1 / (2 * n);
  const shrink = 1 - 1 / n;
  let evaluations = 0;
  const value = (x: number[]) => {
    evaluations++;
    const v = f(x);
    return Number.isNaN(v) ? Number.POSITIVE_INFINITY : v;
  };

  const points: number[][] = [start.slice()];
  for (let i = 0; i < n; i++) {
    const p = start.slice();
    p[i] = (p[i] as number) + step;
    points.push(p);
  }
  let values = points.map(value);
  const along = (from: number[], to: number[], t: number) => from.map((v, i) => v + t * ((to[i] as number) - v));

  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    const order = values.map((_, i) => i).sort((i, j) => (values[i] as number) - (values[j] as number));
    const sorted = order.map((i) => points[i] as number[]);
    values = order.map((i) => values[i] as number);
    points.splice(0, points.length, ...sorted);
    const best = values[0] as number;
    const worst = values[n] as number;
    let spread = 0;
    for (let i = 1; i <= n; i++)
      for (let d = 0; d < n; d++) spread = Math.max(spread, Math.abs(((points[i] as number[])[d] as number) - ((points[0] as number[])[d] as number)));
    if (Math.abs(worst - best) <= fTol * (1 + Math.abs(best)) && spread <= xTol) {
      converged = true;
      break;
    }

    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let d = 0; d < n; d++) centroid[d] = (centroid[d] as number) + ((points[i] as number[])[d] as number) / n;
    const worstPoint = points[n] as number[];
    const reflected = along(centroid, worstPoint, -reflect);
    const fr = value(reflected);
    if (fr < best) {
      const expanded = along(centroid, worstPoint, -reflect * expand);
      const fe = value(expanded);
      if (fe < fr) {
        points[n] = expanded;
        values[n] = fe;
      } else {
        points[n] = reflected;
        values[n] = fr;
      }
      continue;
    }
    if (fr < (values[n - 1] as number)) {
      points[n] = reflected;
      values[n] = fr;
      continue;
    }
    // Contract outside (towards the reflection) or inside (towards the worst point).
    const outside = fr < worst;
    const contracted = outside ? along(centroid, reflected, contract) : along(centroid, worstPoint, contract);
    const fc = value(contracted);
    if (fc < (outside ? fr : worst)) {
      points[n] = contracted;
      values[n] = fc;
      continue;
    }
    for (let i = 1; i <= n; i++) {
      points[i] = along(points[0] as number[], points[i] as number[], shrink);
      values[i] = value(points[i] as number[]);
    }
  }
  let bestIndex = 0;
  for (let i = 1; i <= n; i++) if ((values[i] as number) < (values[bestIndex] as number)) bestIndex = i;
  return { x: (points[bestIndex] as number[]).slice(), value: values[bestIndex] as number, iterations, evaluations, converged };
}

/**
 * Nelder–Mead restarted from its own answer until a restart no longer improves: a simplex that
 * collapsed early (a known failure in curved valleys) gets a fresh, full-sized one.
 */
export function minimise(f: (x: number[]) => number, start: readonly number[], options: NelderMeadOptions & { restarts?: number } = {}): Minimum {
  let result = nelderMead(f, start, options);
  let { evaluations, iterations } = result;
  for (let i = 0; i < (options.restarts ?? 3); i++) {
    const again = nelderMead(f, result.x, { ...options, step: (options.step ?? 0.5) / 4 });
    evaluations += again.evaluations;
    iterations += again.iterations;
    const improved = result.value - again.value > 1e-9 * (1 + Math.abs(result.value));
    if (again.value <= result.value) result = again;
    if (!improved) break;
  }
  return { ...result, evaluations, iterations };
}

/** Hessian of f at x by central differences with step h (per coordinate). */
export function hessian(f: (x: number[]) => number, x: readonly number[], h = 1e-4): number[][] {
  const n = x.length;
  const at = (di: number, si: number, dj: number, sj: number) => {
    const p = x.slice();
    p[di] = (p[di] as number) + si * h;
    p[dj] = (p[dj] as number) + sj * h;
    return f(p);
  };
  const f0 = f(x.slice());
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const row = out[i] as number[];
    row[i] = (at(i, 1, i, 1) - 2 * f0 + at(i, -1, i, -1)) / (4 * h * h);
    for (let j = 0; j < i; j++) {
      const v = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h * h);
      row[j] = v;
      (out[j] as number[])[i] = v;
    }
  }
  return out;
}

/** Inverse of a small square matrix (Gauss–Jordan, partial pivoting); null when singular. */
export function invert(m: readonly (readonly number[])[]): number[][] | null {
  const n = m.length;
  const a = m.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs((a[r] as number[])[col] as number) > Math.abs((a[pivot] as number[])[col] as number)) pivot = r;
    const pv = (a[pivot] as number[])[col] as number;
    if (!Number.isFinite(pv) || Math.abs(pv) < 1e-300) return null;
    [a[col], a[pivot]] = [a[pivot] as number[], a[col] as number[]];
    const prow = a[col] as number[];
    for (let k = 0; k < 2 * n; k++) prow[k] = (prow[k] as number) / pv;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const row = a[r] as number[];
      const factor = row[col] as number;
      if (factor !== 0) for (let k = 0; k < 2 * n; k++) row[k] = (row[k] as number) - factor * (prow[k] as number);
    }
  }
  return a.map((row) => row.slice(n));
}
