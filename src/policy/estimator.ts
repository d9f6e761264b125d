/**
 * The free difficulty estimator: ridge regression from a prompt's text features to the logit of the base
 * model's pass@1, fitted from labelled outcomes. Pure; predicting is a dot product, cheap on a Worker.
 */
import { mixSeeds, Rng } from "../engine/random";
import { promptFeatures } from "./features";

export interface RidgeModel {
  /** Per-feature mean and scale used to standardise inputs. */
  means: number[];
  scales: number[];
  weights: number[];
  bias: number;
  lambda: number;
}

/** Logit of a pass@1 estimated from `samples` samples, kept finite at 0 and 1. */
export function passLogit(passAt1: number, samples: number): number {
  const p = (passAt1 * samples + 0.5) / (samples + 1);
  return Math.log(p / (1 - p));
}

/** Predicted logit of pass@1 for a prompt: higher is easier. */
export function predictLogit(model: RidgeModel, text: string): number {
  return predictFeatures(model, promptFeatures(text));
}

export function predictFeatures(model: RidgeModel, x: readonly number[]): number {
  let z = model.bias;
  for (let j = 0; j < model.weights.length; j++)
    z += (model.weights[j] as number) * (((x[j] as number) - (model.means[j] as number)) / (model.scales[j] as number));
  return z;
}

/** Solve A w = b for a symmetric positive definite A (Gaussian elimination with partial pivoting). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i] as number]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++)
      if (Math.abs((M[r] as number[])[c] as number) > Math.abs((M[p] as number[])[c] as number)) p = r;
    [M[c], M[p]] = [M[p] as number[], M[c] as number[]];
    const pivot = (M[c] as number[])[c] as number;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = ((M[r] as number[])[c] as number) / pivot;
      if (f === 0) continue;
      for (let k = c; k <= n; k++)
        (M[r] as number[])[k] = ((M[r] as number[])[k] as number) - f * ((M[c] as number[])[k] as number);
    }
  }
  return M.map((row, i) => (row[n] as number) / (row[i] as number));
}

/** Solve A x = b for a symmetric positive definite A by its Cholesky factor (a sixth of elimination's work). */
function solveCholesky(A: number[][], b: number[]): number[] {
  const n = b.length;
  const L = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const Li = L[i] as Float64Array;
    const Ai = A[i] as number[];
    for (let j = 0; j <= i; j++) {
      const Lj = L[j] as Float64Array;
      let sum = Ai[j] as number;
      for (let k = 0; k < j; k++) sum -= (Li[k] as number) * (Lj[k] as number);
      Li[j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / (Lj[j] as number);
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const Li = L[i] as Float64Array;
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= (Li[k] as number) * (y[k] as number);
    y[i] = sum / (Li[i] as number);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let k = i + 1; k < n; k++) sum -= ((L[k] as Float64Array)[i] as number) * (x[k] as number);
    x[i] = sum / ((L[i] as Float64Array)[i] as number);
  }
  return x;
}

/** Per-feature mean and standard deviation; a feature that never varies gets scale 1 (and, with a penalty, weight 0). */
function standardisation(X: readonly number[][]): { means: number[]; scales: number[] } {
  const n = X.length;
  const d = (X[0] ?? []).length;
  const means = new Array<number>(d).fill(0);
  const scales = new Array<number>(d).fill(0);
  for (const x of X) for (let j = 0; j < d; j++) means[j] = (means[j] as number) + (x[j] as number) / n;
  for (const x of X)
    for (let j = 0; j < d; j++) scales[j] = (scales[j] as number) + ((x[j] as number) - (means[j] as number)) ** 2 / n;
  for (let j = 0; j < d; j++) scales[j] = Math.sqrt(scales[j] as number) || 1;
  return { means, scales };
}

/** A seeded random order of n items and each item's fold (0 or 1) in two-fold cross-validation. */
function twoFolds(n: number, seed: number): { order: number[]; fold: number[] } {
  const rng = new Rng(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const fold = new Array<number>(n);
  order.forEach((p, i) => (fold[p] = i % 2));
  return { order, fold };
}

function fitWithLambda(X: readonly number[][], y: readonly number[], lambda: number): RidgeModel {
  const n = X.length;
  const d = (X[0] ?? []).length;
  const { means, scales } = standardisation(X);
  const Z = X.map((x) => x.map((v, j) => (v - (means[j] as number)) / (scales[j] as number)));
  const bias = y.reduce((a, b) => a + b, 0) / n;
  const A = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? lambda : 0)));
  const b = new Array<number>(d).fill(0);
  Z.forEach((z, r) => {
    const yr = (y[r] as number) - bias;
    for (let i = 0; i < d; i++) {
      b[i] = (b[i] as number) + (z[i] as number) * yr;
      const Ai = A[i] as number[];
      for (let j = 0; j < d; j++) Ai[j] = (Ai[j] as number) + (z[i] as number) * (z[j] as number);
    }
  });
  return { means, scales, weights: solve(A, b), bias, lambda };
}

export const LAMBDAS = [0.1, 1, 10, 100, 1000];

/**
 * Fit a ridge model, choosing its penalty by two-fold cross-validation (squared error on held-out
 * problems), then refitting on everything. Folds are drawn from `seed`.
 */
export function fitRidge(
  X: readonly number[][],
  y: readonly number[],
  seed: number,
): { model: RidgeModel; cvError: number } {
  if (X.length < 4) throw new Error(`the estimator needs at least 4 labelled problems, got ${X.length}`);
  const { order, fold } = twoFolds(X.length, mixSeeds(seed, 0xe57));
  let best = { lambda: LAMBDAS[0] as number, error: Infinity };
  for (const lambda of LAMBDAS) {
    let err = 0;
    for (let f = 0; f < 2; f++) {
      const tr = order.filter((i) => fold[i] !== f);
      const te = order.filter((i) => fold[i] === f);
      const m = fitWithLambda(
        tr.map((i) => X[i] as number[]),
        tr.map((i) => y[i] as number),
        lambda,
      );
      for (const i of te) err += (predictFeatures(m, X[i] as number[]) - (y[i] as number)) ** 2;
    }
    if (err < best.error) best = { lambda, error: err };
  }
  return { model: fitWithLambda(X, y, best.lambda), cvError: best.error / X.length };
}

/** Bin of a predicted logit given ascending thresholds: bin 1 is the easiest (highest predicted pass@1). */
export function binOf(z: number, thresholds: readonly number[]): number {
  // thresholds are the 20/40/60/80% quantiles of predicted logits; above the highest is bin 1.
  let above = 0;
  for (const t of thresholds) if (z > t) above++;
  return thresholds.length + 1 - above;
}

/**
 * A difficulty estimator fitted from logged outcomes instead of pass@1 labels: penalised logistic regression
 * of "the solve was right" on the prompt's features, with one offset per configuration that ran (so a hard
 * prompt is not confused with a cheap arm). The difficulty score is the feature part plus the mean offset:
 * the logit of being right with a typical configuration; higher is easier, like the ridge model's logit.
 */
export interface OutcomeFit {
  model: RidgeModel;
  /** Cross-validated mean log loss per outcome at the chosen penalty. */
  cvLogLoss: number;
}

const LOGISTIC_LAMBDAS = [1, 10, 100];

function sigmoid(t: number): number {
  return t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
}

interface LogisticParams {
  means: number[];
  scales: number[];
  /** Feature weights, then one offset per group, then the intercept. */
  theta: number[];
}

function fitLogisticWithLambda(
  X: readonly number[][],
  groups: readonly number[],
  groupCount: number,
  y: readonly number[],
  lambda: number,
): LogisticParams {
  const n = X.length;
  const d = (X[0] ?? []).length;
  const { means, scales } = standardisation(X);
  const p = d + groupCount + 1;
  // Design rows, sparse: standardised features, a one-hot group, and 1 for the intercept (not penalised).
  const rows = X.map((x, r) => {
    const idx = [...Array.from({ length: d }, (_, j) => j), d + (groups[r] as number), p - 1];
    const val = [
      ...Array.from({ length: d }, (_, j) => ((x[j] as number) - (means[j] as number)) / (scales[j] as number)),
      1,
      1,
    ];
    return { idx, val };
  });
  let theta = new Array<number>(p).fill(0);
  // Newton's method (IRLS): the penalised log likelihood is concave, so a few steps converge.
  for (let iter = 0; iter < 25; iter++) {
    const H = Array.from({ length: p }, (_, i) =>
      Array.from({ length: p }, (_, j) => (i === j && i < p - 1 ? lambda : 0)),
    );
    const g = theta.map((t, i) => (i < p - 1 ? lambda * t : 0));
    (H[p - 1] as number[])[p - 1] = 1e-9;
    for (let r = 0; r < n; r++) {
      const { idx, val } = rows[r] as { idx: number[]; val: number[] };
      let t = 0;
      for (let a = 0; a < idx.length; a++) t += (theta[idx[a] as number] as number) * (val[a] as number);
      const mu = sigmoid(t);
      const w = Math.max(mu * (1 - mu), 1e-9);
      const e = mu - (y[r] as number);
      for (let a = 0; a < idx.length; a++) {
        const i = idx[a] as number;
        const zi = val[a] as number;
        g[i] = (g[i] as number) + e * zi;
        const Hi = H[i] as number[];
        const wz = w * zi;
        for (let b = 0; b < idx.length; b++)
          Hi[idx[b] as number] = (Hi[idx[b] as number] as number) + wz * (val[b] as number);
      }
    }
    const step = solveCholesky(H, g);
    theta = theta.map((t, i) => t - (step[i] as number));
    if (Math.max(...step.map(Math.abs)) < 1e-6) break;
  }
  return { means, scales, theta };
}

function logisticLogit(m: LogisticParams, x: readonly number[], group: number): number {
  const d = m.means.length;
  let t = m.theta[m.theta.length - 1] as number;
  for (let j = 0; j < d; j++)
    t += (m.theta[j] as number) * (((x[j] as number) - (m.means[j] as number)) / (m.scales[j] as number));
  return t + ((m.theta[d + group] as number | undefined) ?? 0);
}

/**
 * Fit the outcome model, its penalty chosen by two-fold cross-validation (log loss on held-out outcomes,
 * folds drawn from `seed`), then refit on everything. `groups[i]` is the configuration outcome i ran.
 */
export function fitOutcomeEstimator(
  X: readonly number[][],
  groups: readonly number[],
  y: readonly number[],
  seed: number,
): OutcomeFit {
  if (X.length < 4) throw new Error(`the estimator needs at least 4 labelled outcomes, got ${X.length}`);
  const groupCount = Math.max(...groups) + 1;
  const { order, fold } = twoFolds(X.length, mixSeeds(seed, 0x10915));
  let best = { lambda: LOGISTIC_LAMBDAS[0] as number, loss: Infinity };
  for (const lambda of LOGISTIC_LAMBDAS) {
    let loss = 0;
    for (let f = 0; f < 2; f++) {
      const tr = order.filter((i) => fold[i] !== f);
      const te = order.filter((i) => fold[i] === f);
      const m = fitLogisticWithLambda(
        tr.map((i) => X[i] as number[]),
        tr.map((i) => groups[i] as number),
        groupCount,
        tr.map((i) => y[i] as number),
        lambda,
      );
      for (const i of te) {
        const q = Math.min(1 - 1e-6, Math.max(1e-6, sigmoid(logisticLogit(m, X[i] as number[], groups[i] as number))));
        loss -= (y[i] as number) * Math.log(q) + (1 - (y[i] as number)) * Math.log(1 - q);
      }
    }
    if (loss < best.loss) best = { lambda, loss };
  }
  const m = fitLogisticWithLambda(X, groups, groupCount, y, best.lambda);
  const d = m.means.length;
  // The intercept plus the offsets' mean weighted by how often each configuration ran: a typical configuration.
  const counts = new Array<number>(groupCount).fill(0);
  for (const g of groups) counts[g] = (counts[g] as number) + 1;
  const meanOffset = counts.reduce((a, c, g) => a + c * (m.theta[d + g] as number), 0) / X.length;
  return {
    model: {
      means: m.means,
      scales: m.scales,
      weights: m.theta.slice(0, d),
      bias: (m.theta[m.theta.length - 1] as number) + meanOffset,
      lambda: best.lambda,
    },
    cvLogLoss: best.loss / X.length,
  };
}
