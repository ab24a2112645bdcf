import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as metrics from '../../src/metrics/index.ts';
import { tensor } from '../../src/tensor/create.ts';
import { assertClose, testRandom } from '../helpers/close.ts';

const TOL = { rtol: 1e-5, atol: 1e-6 };
const EPS = 1e-7;

interface Counts {
  tp: number[];
  fp: number[];
  tn: number[];
  fn: number[];
}

/** Weighted confusion counts at each threshold: positive when pred > t. */
function counts(labels: number[], preds: number[], weights: number[], thresholds: number[]): Counts {
  const c: Counts = { tp: [], fp: [], tn: [], fn: [] };
  for (const t of thresholds) {
    let tp = 0, fp = 0, tn = 0, fn = 0;
    labels.forEach((y, i) => {
      const pos = preds[i] > t;
      const w = weights[i];
      if (y && pos) tp += w;
      else if (y) fn += w;
      else if (pos) fp += w;
      else tn += w;
    });
    c.tp.push(tp);
    c.fp.push(fp);
    c.tn.push(tn);
    c.fn.push(fn);
  }
  return c;
}

const div = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Keras's AUC thresholds: -eps, (i+1)/(n-1) for i < n-2, 1+eps. */
function aucThresholds(n: number): number[] {
  return [-EPS, ...Array.from({ length: n - 2 }, (_, i) => (i + 1) / (n - 1)), 1 + EPS];
}

/** Riemann sum of y over x between consecutive thresholds (trapezoid for 'interpolation'). */
function riemann(c: Counts, curve: 'ROC' | 'PR', method: 'interpolation' | 'minoring' | 'majoring'): number {
  const n = c.tp.length;
  const recall = c.tp.map((tp, i) => div(tp, tp + c.fn[i]));
  const x = curve === 'ROC' ? c.fp.map((fp, i) => div(fp, fp + c.tn[i])) : recall;
  const y = curve === 'ROC' ? recall : c.tp.map((tp, i) => div(tp, tp + c.fp[i]));
  let area = 0;
  for (let i = 0; i < n - 1; i++) {
    const h = method === 'interpolation' ? (y[i] + y[i + 1]) / 2 : method === 'minoring' ? Math.min(y[i], y[i + 1]) : Math.max(y[i], y[i + 1]);
    area += (x[i] - x[i + 1]) * h;
  }
  return area;
}

/** PR-AUC with precision interpolated between thresholds (Davis & Goadrich), written out per interval. */
function interpolatedPrAuc(c: Counts): number {
  let area = 0;
  for (let i = 0; i < c.tp.length - 1; i++) {
    const pA = c.tp[i] + c.fp[i];
    const pB = c.tp[i + 1] + c.fp[i + 1];
    const dtp = c.tp[i] - c.tp[i + 1];
    const dp = pA - pB;
    const slope = div(dtp, Math.max(dp, 0));
    const intercept = c.tp[i + 1] - slope * pB;
    const ratio = pA > 0 && pB > 0 ? pA / pB : 1;
    area += div(slope * (dtp + intercept * Math.log(ratio)), Math.max(c.tp[i + 1] + c.fn[i + 1], 0));
  }
  return area;
}

function data(seed: number, n: number, quantum = 0) {
  const rand = testRandom(seed);
  const preds = Array.from({ length: n }, () => {
    const v = rand();
    return quantum ? Math.round(v / quantum) * quantum : v;
  });
  // Labels correlated with the predictions, so AUCs are informative.
  const labels = preds.map((p) => (rand() < 0.25 + 0.5 * p ? 1 : 0));
  const weights = preds.map(() => Math.round(rand() * 6) / 2);
  return { preds, labels, weights };
}

describe('metrics: Precision, Recall and confusion counts at thresholds', () => {
  it('Precision and Recall at three thresholds, two weighted batches, against counts computed here', () => {
    const thresholds = [0.2, 0.5, 0.8];
    const a = data(1, 12, 0.05);
    const b = data(2, 9, 0.05);
    const p = new metrics.Precision({ thresholds });
    const r = new metrics.Recall({ thresholds });
    for (const m of [p, r]) {
      m.updateState(a.labels, a.preds, a.weights);
      m.updateState(tensor(b.labels.map((v) => [v])), tensor(b.preds.map((v) => [v])), b.weights);
    }
    const c = counts([...a.labels, ...b.labels], [...a.preds, ...b.preds], [...a.weights, ...b.weights], thresholds);
    assertClose(p.result(), c.tp.map((tp, i) => div(tp, tp + c.fp[i])), TOL);
    assertClose(r.result(), c.tp.map((tp, i) => div(tp, tp + c.fn[i])), TOL);
    assert.ok(c.tp.some((v) => v > 0) && c.fp.some((v) => v > 0) && c.fn.some((v) => v > 0));
    for (const [Cls, key] of [[metrics.TruePositives, 'tp'], [metrics.FalsePositives, 'fp'], [metrics.TrueNegatives, 'tn'], [metrics.FalseNegatives, 'fn']] as const) {
      const m = new Cls({ thresholds });
      m.updateState(a.labels, a.preds, a.weights);
      m.updateState(b.labels, b.preds, b.weights);
      assertClose(m.result(), c[key], TOL, key);
    }
    // A single threshold gives a scalar.
    const single = new metrics.Precision();
    single.updateState([0, 1, 1, 1], [1, 0, 1, 1]);
    assert.deepEqual(single.result().shape, []);
    assertClose(single.result(), [2 / 3], TOL);
    single.resetState();
    single.updateState([0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0]);
    assertClose(single.result(), [1], TOL);
  });

  it('class_id restricts to one column; top_k counts only the k largest predictions of each row', () => {
    const yt = [[0, 1, 1], [1, 0, 0], [1, 1, 0], [0, 1, 1]];
    const yp = [[0.2, 0.6, 0.7], [0.7, 0.6, 0.1], [0.1, 0.8, 0.55], [0.9, 0.4, 0.3]];
    const w = [1, 2, 0.5, 1];
    const col = (rows: number[][], j: number) => rows.map((r) => r[j]);
    const c1 = counts(col(yt, 1), col(yp, 1), w, [0.5]);
    const p = new metrics.Precision({ classId: 1 });
    p.updateState(yt, yp, w);
    assertClose(p.result(), [div(c1.tp[0], c1.tp[0] + c1.fp[0])], TOL);
    const r = new metrics.Recall({ classId: 2, thresholds: [0.25, 0.5] });
    r.updateState(yt, yp, w);
    const c2 = counts(col(yt, 2), col(yp, 2), w, [0.25, 0.5]);
    assertClose(r.result(), c2.tp.map((tp, i) => div(tp, tp + c2.fn[i])), TOL);
    // top_k=1: the argmax of each row is the only positive.
    const top = new metrics.Precision({ topK: 1 });
    top.updateState(yt, yp, w);
    const hits = yp.map((row, i) => yt[i][row.indexOf(Math.max(...row))]);
    assertClose(top.result(), [hits.reduce((s, h, i) => s + h * w[i], 0) / w.reduce((s, x) => s + x, 0)], TOL);
    const topRecall = new metrics.Recall({ topK: 2 });
    topRecall.updateState(yt, yp);
    const relevant = yt.flat().reduce((s, v) => s + v, 0);
    const found = yp.map((row, i) => [...row].sort((x, y) => y - x).slice(0, 2).map((v) => yt[i][row.indexOf(v)]).reduce((s, v) => s + v, 0)).reduce((s, v) => s + v, 0);
    assertClose(topRecall.result(), [found / relevant], TOL);
    // Keras's examples.
    const k2 = new metrics.Precision({ topK: 2 });
    k2.updateState([0, 0, 1, 1], [1, 1, 1, 1]);
    assertClose(k2.result(), [0], TOL);
    const k4 = new metrics.Precision({ topK: 4 });
    k4.updateState([0, 0, 1, 1], [1, 1, 1, 1]);
    assertClose(k4.result(), [0.5], TOL);
  });

  it('bad arguments are refused', () => {
    assert.throws(() => new metrics.Precision({ thresholds: [0.5, 1.2] }), /Threshold values must be in \[0, 1\]\. Received: \[1\.2\]/);
    assert.throws(() => new metrics.Recall({ topK: 0 }), /top_k=0/);
    assert.throws(() => new metrics.Precision({ classId: 3 }).updateState([[0, 1, 0]], [[0.1, 0.8, 0.1]]), /class_id=3 for predictions with 3 classes/);
    assert.throws(() => new metrics.Precision({ classId: 0 }).updateState([0, 1], [0.1, 0.8]), /When class_id is provided, y_pred must be a 2D array/);
    assert.throws(() => new metrics.Recall().updateState([1, 0, 1], [[0.1, 0.8]]), /Recall: Received: y_true\.shape=\(3,\) and y_pred\.shape=\(1, 2\)/);
    assert.throws(() => new metrics.Precision().updateState([[1, 0], [0, 1]], [[0.2, 0.9], [0.3, 0.1]], [1, 2, 3]), /Precision: sample_weight of shape \(3,\) cannot be broadcast/);
  });
});

describe('metrics: AUC against sums computed here from the same thresholds', () => {
  const a = data(11, 40);
  const b = data(12, 25);
  const labels = [...a.labels, ...b.labels];
  const preds = [...a.preds, ...b.preds];
  const weights = [...a.weights, ...b.weights];

  for (const curve of ['ROC', 'PR'] as const) {
    for (const method of ['interpolation', 'minoring', 'majoring'] as const) {
      it(`${curve} with ${method} summation, 33 thresholds, weighted, two batches`, () => {
        const m = new metrics.AUC({ numThresholds: 33, curve, summationMethod: method });
        m.updateState(a.labels, a.preds, a.weights);
        m.updateState(b.labels, b.preds, b.weights);
        const c = counts(labels, preds, weights, aucThresholds(33));
        const expected = curve === 'PR' && method === 'interpolation' ? interpolatedPrAuc(c) : riemann(c, curve, method);
        assert.ok(expected > 0.5 && expected < 1, `informative data: ${expected}`);
        assertClose(m.result(), [expected], TOL);
      });
    }
  }

  it('ROC AUC with many thresholds approaches the exact (Mann-Whitney) AUC; Keras\'s documented example', () => {
    const m = new metrics.AUC({ numThresholds: 2000 });
    m.updateState(labels, preds);
    let wins = 0, pairs = 0;
    labels.forEach((y, i) => {
      if (!y) return;
      labels.forEach((z, j) => {
        if (z) return;
        pairs++;
        wins += preds[i] > preds[j] ? 1 : preds[i] === preds[j] ? 0.5 : 0;
      });
    });
    assertClose(m.result(), [wins / pairs], { atol: 2e-3 });
    const doc = new metrics.AUC({ numThresholds: 3 });
    doc.updateState([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]);
    assertClose(doc.result(), [0.75], TOL);
    doc.resetState();
    doc.updateState([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], [1, 0, 0, 1]);
    assertClose(doc.result(), [1], TOL);
  });

  it('explicit thresholds, from_logits, and multi-label AUC (per label, averaged or weighted)', () => {
    const custom = new metrics.AUC({ thresholds: [0.6, 0.3] });
    assert.deepEqual(custom.thresholds, [-EPS, 0.3, 0.6, 1 + EPS]);
    custom.updateState(labels, preds, weights);
    assertClose(custom.result(), [riemann(counts(labels, preds, weights, [-EPS, 0.3, 0.6, 1 + EPS]), 'ROC', 'interpolation')], TOL);

    const logits = preds.map((p) => Math.log(p / (1 - p)));
    const fromLogits = new metrics.AUC({ numThresholds: 21, fromLogits: true });
    fromLogits.updateState(labels, logits);
    assertClose(fromLogits.result(), [riemann(counts(labels, preds, preds.map(() => 1), aucThresholds(21)), 'ROC', 'interpolation')], { rtol: 1e-4 });

    // Three labels: columns of the data above.
    const rows = 20;
    const yt = Array.from({ length: rows }, (_, i) => [labels[i], labels[i + 20], labels[i + 40]]);
    const yp = Array.from({ length: rows }, (_, i) => [preds[i], preds[i + 20], preds[i + 40]]);
    const w = weights.slice(0, rows);
    const perLabel = [0, 1, 2].map((j) => riemann(counts(yt.map((r) => r[j]), yp.map((r) => r[j]), w, aucThresholds(15)), 'ROC', 'interpolation'));
    const multi = new metrics.AUC({ numThresholds: 15, multiLabel: true });
    multi.updateState(yt, yp, w);
    assertClose(multi.result(), [(perLabel[0] + perLabel[1] + perLabel[2]) / 3], TOL);
    assert.deepEqual(multi.variables[0].shape, [15, 3]);
    const weighted = new metrics.AUC({ numThresholds: 15, multiLabel: true, numLabels: 3, labelWeights: [1, 0, 3] });
    weighted.updateState(yt, yp, w);
    assertClose(weighted.result(), [(perLabel[0] + 3 * perLabel[2]) / 4], TOL);
    // Not multi-label: the values are flattened, label weights weight the columns.
    const flat = new metrics.AUC({ numThresholds: 15, labelWeights: [1, 0, 3] });
    flat.updateState(yt, yp);
    const flatW = yt.flatMap(() => [1, 0, 3]);
    assertClose(flat.result(), [riemann(counts(yt.flat(), yp.flat(), flatW, aucThresholds(15)), 'ROC', 'interpolation')], TOL);
  });

  it('bad arguments are refused', () => {
    assert.throws(() => new metrics.AUC({ numThresholds: 1 }), /Argument `num_thresholds` must be an integer > 1\. Received: num_thresholds=1/);
    assert.throws(() => new metrics.AUC({ curve: 'XY' as never }), /Invalid AUC curve value: "XY"/);
    assert.throws(() => new metrics.AUC({ summationMethod: 'trapezoid' as never }), /Invalid AUC summation method value: "trapezoid"/);
    assert.throws(() => new metrics.AUC({ numLabels: 3 }), /`num_labels` is needed only when `multi_label` is True/);
    assert.throws(() => new metrics.AUC({ multiLabel: true }).updateState([1, 0], [0.3, 0.2]), /`y_pred` must have rank 2/);
  });
});

describe('metrics: F1Score and FBetaScore', () => {
  const yt = [[1, 1, 1], [1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0]];
  const yp = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0], [0.1, 0.3, 0.9], [0.45, 0.5, 0.05]];
  const w = [1, 2, 0.5, 1, 3];

  /** Keras's F-beta from per-class counts (epsilon as Keras). */
  function fbeta(threshold: number | null, beta: number, weights: number[]) {
    const k = 3;
    const tp = [0, 0, 0], fp = [0, 0, 0], fn = [0, 0, 0], support = [0, 0, 0];
    yp.forEach((row, i) => {
      const max = Math.max(...row);
      row.forEach((v, j) => {
        const pred = threshold === null ? (v >= max && Math.abs(v) > 1e-9 ? 1 : 0) : v > threshold ? 1 : 0;
        const y = yt[i][j];
        tp[j] += weights[i] * pred * y;
        fp[j] += weights[i] * pred * (1 - y);
        fn[j] += weights[i] * (1 - pred) * y;
        support[j] += weights[i] * y;
      });
    });
    const score = (t: number, p: number, n: number) => {
      const precision = t / (t + p + EPS);
      const recall = t / (t + n + EPS);
      return ((precision * recall) / (beta * beta * precision + recall + EPS)) * (1 + beta * beta);
    };
    const perClass = Array.from({ length: k }, (_, j) => score(tp[j], fp[j], fn[j]));
    const sumTotal = support.reduce((a, b) => a + b, 0);
    return {
      none: perClass,
      macro: perClass.reduce((a, b) => a + b, 0) / k,
      weighted: perClass.reduce((a, s, j) => a + (s * support[j]) / (sumTotal + EPS), 0),
      micro: score(tp.reduce((a, b) => a + b), fp.reduce((a, b) => a + b), fn.reduce((a, b) => a + b)),
    };
  }

  for (const threshold of [0.5, null]) {
    it(`average null / micro / macro / weighted, threshold ${threshold}, with sample weights over two batches`, () => {
      const ref = fbeta(threshold, 1, w);
      for (const average of [null, 'micro', 'macro', 'weighted'] as const) {
        const m = new metrics.F1Score({ average, threshold });
        m.updateState(yt.slice(0, 2), yp.slice(0, 2), w.slice(0, 2));
        m.updateState(yt.slice(2), yp.slice(2), w.slice(2));
        const expected = average === null ? ref.none : [ref[average]];
        assertClose(m.result(), expected, TOL, `F1 ${average}`);
      }
      const f2 = new metrics.FBetaScore({ beta: 2, threshold, average: 'macro' });
      f2.updateState(yt, yp, w);
      assertClose(f2.result(), [fbeta(threshold, 2, w).macro], TOL, 'F2 macro');
    });
  }

  it('Keras\'s documented example; resetState; bad inputs', () => {
    const m = new metrics.F1Score({ threshold: 0.5 });
    m.updateState(yt.slice(0, 3), yp.slice(0, 3));
    assertClose(m.result(), [0.5, 0.8, 0.6666667], TOL);
    m.resetState();
    assertClose(m.result(), [0, 0, 0], TOL);
    assert.throws(() => new metrics.F1Score().updateState([0, 1, 2], [[0.1, 0.9], [0.2, 0.8], [0.5, 0.5]]), /F1Score: expects 2D inputs.*one-hot encode them first/);
    assert.throws(() => new metrics.F1Score({ average: 'samples' as never }), /Invalid `average` argument value/);
    assert.throws(() => new metrics.F1Score({ threshold: 0 }), /It should verify 0 < threshold <= 1/);
    assert.throws(() => new metrics.FBetaScore({ beta: 0 }), /It should be > 0/);
  });
});
