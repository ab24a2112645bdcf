/**
 * Reference formulas for the loss and metric tests, written directly on
 * JavaScript numbers (one row = one sample; the last axis is the feature or
 * class axis).
 */
export const EPS = 1e-7;

export type Row = number[];

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const clip = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);
const zip = (t: Row, p: Row): [number, number][] => t.map((v, i) => [v, p[i]]);

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export function softmax(row: Row): Row {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = sum(e);
  return e.map((v) => v / s);
}

export const mse = (t: Row, p: Row): number => mean(zip(t, p).map(([a, b]) => (a - b) ** 2));
export const mae = (t: Row, p: Row): number => mean(zip(t, p).map(([a, b]) => Math.abs(a - b)));
export const mape = (t: Row, p: Row): number => 100 * mean(zip(t, p).map(([a, b]) => Math.abs((a - b) / Math.max(Math.abs(a), EPS))));
export const msle = (t: Row, p: Row): number => mean(zip(t, p).map(([a, b]) => (Math.log(Math.max(b, EPS) + 1) - Math.log(Math.max(a, EPS) + 1)) ** 2));
export function cosineLoss(t: Row, p: Row): number {
  const nt = Math.sqrt(sum(t.map((v) => v * v)));
  const np = Math.sqrt(sum(p.map((v) => v * v)));
  return -sum(zip(t, p).map(([a, b]) => a * b)) / (nt * np);
}
export function huber(t: Row, p: Row, delta = 1): number {
  return mean(zip(t, p).map(([a, b]) => {
    const e = Math.abs(b - a);
    return e <= delta ? 0.5 * e * e : delta * e - 0.5 * delta * delta;
  }));
}
export const logCosh = (t: Row, p: Row): number => mean(zip(t, p).map(([a, b]) => Math.log(Math.cosh(b - a))));
export const kl = (t: Row, p: Row): number =>
  sum(zip(t, p).map(([a, b]) => {
    const ct = clip(a, EPS, 1);
    return ct * Math.log(ct / clip(b, EPS, 1));
  }));
export const poisson = (t: Row, p: Row): number => mean(zip(t, p).map(([a, b]) => b - a * Math.log(b + EPS)));

/** Binary crossentropy of probabilities (clipped as Keras does). */
export function bce(t: Row, p: Row, smoothing = 0): number {
  return mean(zip(t, p).map(([a, b]) => {
    const y = a * (1 - smoothing) + 0.5 * smoothing;
    const q = clip(b, EPS, 1 - EPS);
    return -(y * Math.log(q) + (1 - y) * Math.log(1 - q));
  }));
}
/** Binary crossentropy of logits, exact: softplus(x) - y x. */
export function bceLogits(t: Row, x: Row, smoothing = 0): number {
  return mean(zip(t, x).map(([a, z]) => {
    const y = a * (1 - smoothing) + 0.5 * smoothing;
    return Math.max(z, 0) - y * z + Math.log1p(Math.exp(-Math.abs(z)));
  }));
}
export function focal(t: Row, p: Row, opts: { gamma?: number; alpha?: number; balance?: boolean; logits?: boolean } = {}): number {
  const { gamma = 2, alpha = 0.25, balance = false, logits = false } = opts;
  return mean(zip(t, p).map(([y, v]) => {
    const q = logits ? sigmoid(v) : v;
    const ce = logits ? Math.max(v, 0) - y * v + Math.log1p(Math.exp(-Math.abs(v))) : -(y * Math.log(clip(q, EPS, 1 - EPS)) + (1 - y) * Math.log(1 - clip(q, EPS, 1 - EPS)));
    const pt = y * q + (1 - y) * (1 - q);
    const w = balance ? y * alpha + (1 - y) * (1 - alpha) : 1;
    return w * (1 - pt) ** gamma * ce;
  }));
}
/** Categorical crossentropy of probabilities (normalized, clipped) or logits. */
export function cce(t: Row, p: Row, opts: { logits?: boolean; smoothing?: number } = {}): number {
  const { logits = false, smoothing = 0 } = opts;
  const probs = logits ? softmax(p) : p.map((v) => clip(v / sum(p), EPS, 1 - EPS));
  const logp = logits ? p.map((v) => v - Math.max(...p) - Math.log(sum(p.map((u) => Math.exp(u - Math.max(...p)))))) : probs.map(Math.log);
  return -sum(t.map((y, i) => (y * (1 - smoothing) + smoothing / t.length) * logp[i]));
}
export function scce(label: number, p: Row, logits = false): number {
  const oneHot = p.map((_, i) => (i === label ? 1 : 0));
  return cce(oneHot, p, { logits });
}
const toHinge = (t: Row[]): Row[] => (t.flat().every((v) => v === 0 || v === 1) ? t.map((r) => r.map((v) => 2 * v - 1)) : t);
/** Hinge per row, with the whole batch's 0/1 → -1/1 conversion (as the loss decides on the whole tensor). */
export const hingeRows = (t: Row[], p: Row[]): number[] => toHinge(t).map((r, i) => mean(zip(r, p[i]).map(([a, b]) => Math.max(1 - a * b, 0))));
export const squaredHingeRows = (t: Row[], p: Row[]): number[] => toHinge(t).map((r, i) => mean(zip(r, p[i]).map(([a, b]) => Math.max(1 - a * b, 0) ** 2)));
export function categoricalHinge(t: Row, p: Row): number {
  const pos = sum(zip(t, p).map(([a, b]) => a * b));
  const neg = Math.max(...zip(t, p).map(([a, b]) => (1 - a) * b));
  return Math.max(neg - pos + 1, 0);
}

export const argmax = (r: Row): number => r.reduce((best, v, i) => (v > r[best] ? i : best), 0);

/** Weighted mean of per-sample values. */
export function weightedMean(values: number[], weights?: number[]): number {
  const w = weights ?? values.map(() => 1);
  return sum(values.map((v, i) => v * w[i])) / sum(w);
}

export { mean, sum, clip };
