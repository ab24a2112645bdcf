/**
 * Metrics against numbers computed by the real Keras
 * (test/fixtures/training-ref/make_fixtures.py): each metric, built in
 * Strata from Keras's serialized config through `metrics.deserialize`,
 * updated with the same two batches (with and without sample weights), and
 * its result compared; getConfig() against Keras's get_config().
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as metrics from '../../src/metrics/index.ts';
import { assertClose } from '../helpers/close.ts';
import { tensor } from '../../src/tensor/create.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { type Arr, type JsonObject, assertConfigMatches, caseLabel, fixture, toTensor } from '../fixtures/training-ref/reference.ts';

type Weighting = 'unweighted' | 'weighted' | 'column_weight' | 'full_weight';
type Batch = { y_true: Arr; y_pred: Arr | null; sample_weight: Arr };

interface MetricCase {
  class_name: string;
  kwargs: JsonObject;
  batches: Batch[];
  serialized: JsonObject;
  /** Keras's get_config(), stored only where it differs from serialized.config. */
  config?: JsonObject;
  /** The result, or the kind of error Keras raised for these sample weights. */
  expected: Record<Weighting, Arr | { error: string }>;
}

/**
 * Keys Strata writes that Keras's get_config leaves out: the CosineSimilarity
 * metric's axis (Keras writes only name and dtype, so a reloaded Keras
 * metric gets axis=-1 whatever it was built with).
 */
const KERAS_OMITTED: Record<string, string[]> = { CosineSimilarity: ['axis'] };

/**
 * The raw confusion counts: Keras counts evenly spaced thresholds with
 * bucketed cumulative sums (and differences of them), so a count that is
 * exactly 0 can come out as -1.4e-6 after two batches with weights summing
 * to ~20; Strata compares every value with every threshold and gets 0.
 * atol 1e-5 covers that float32 cancellation (counts are sums of weights
 * of order 1-10).
 */
const COUNT_METRICS: Record<string, true> = { TruePositives: true, FalsePositives: true, TrueNegatives: true, FalseNegatives: true };
const COUNT_TOL = { rtol: 1e-5, atol: 1e-5 };

const WEIGHTINGS: readonly Weighting[] = ['unweighted', 'weighted', 'column_weight', 'full_weight'];

/**
 * Sample weights as make_fixtures.py passes them: none, one per sample
 * [batch], the same as a column [batch, 1], and one per value of y_true
 * ([batch, n]: the per-sample weight times linspace(0.25, 1, n)).
 */
function sampleWeight(b: Batch, weighting: Weighting): Tensor | null {
  const sw = b.sample_weight.data;
  if (weighting === 'unweighted') return null;
  if (weighting === 'weighted') return toTensor(b.sample_weight);
  if (weighting === 'column_weight') return tensor(sw, [sw.length, 1], 'float32');
  const n = b.y_true.shape[b.y_true.shape.length - 1];
  // numpy's linspace(0.25, 1.0, n) (just [0.25] when n is 1).
  const ramp = Array.from({ length: n }, (_, j) => Math.fround(n === 1 ? 0.25 : 0.25 + (0.75 * j) / (n - 1)));
  return tensor(
    sw.flatMap((w) => ramp.map((r) => Math.fround(w * r))),
    [sw.length, n],
    'float32',
  );
}

/**
 * Weight shapes Keras mishandles, where Strata differs on purpose. F-scores
 * take one weight per sample; Keras expands the weights to [..., 1] and
 * multiplies: a [batch, 1] column becomes [batch, 1, 1], which fails to
 * broadcast with per-class counts, and with average='micro' broadcasts to
 * [batch, batch, classes] (and [batch, n] weights to [batch, batch, n])
 * and is summed: meaningless numbers. Strata reads a column as per-sample
 * weights (the result must equal the per-sample-weight result) and rejects
 * [batch, n] weights (the update must throw), whatever Keras did.
 */
const STRATA_DIFFERS: Record<string, Partial<Record<Weighting, 'per-sample' | 'error'>>> = {
  F1Score: { column_weight: 'per-sample', full_weight: 'error' },
  FBetaScore: { column_weight: 'per-sample', full_weight: 'error' },
};

const cases = fixture.metrics.cases as MetricCase[];

/** Float32 tolerance: results are ratios of float32 sums accumulated in a different order. */
const TOL = { rtol: 1e-5, atol: 1e-6 };

describe('metrics: Keras reference values', () => {
  it('the fixture covers the metric classes of the brief', () => {
    const classes = new Set(cases.map((c) => c.class_name));
    for (const name of [
      'Accuracy',
      'BinaryAccuracy',
      'CategoricalAccuracy',
      'SparseCategoricalAccuracy',
      'TopKCategoricalAccuracy',
      'SparseTopKCategoricalAccuracy',
      'MeanSquaredError',
      'MeanAbsoluteError',
      'RootMeanSquaredError',
      'Precision',
      'Recall',
      'AUC',
      'F1Score',
      'Mean',
      'Sum',
    ]) {
      assert.ok(classes.has(name), `fixture lacks ${name}`);
    }
  });

  for (const c of cases) {
    const label = caseLabel(c.class_name, c.kwargs);
    it(label, () => {
      for (const weighting of WEIGHTINGS) {
        const expected = c.expected[weighting];
        assert.ok(expected, `${label}: fixture lacks '${weighting}'`);
        const where = `${label} ${weighting}`;
        const metric = metrics.deserialize(c.serialized as never);
        assert.equal(metric.constructor.name, c.class_name);
        assertConfigMatches(metric.getConfig(), c.config ?? (c.serialized.config as JsonObject), label, KERAS_OMITTED[c.class_name] ?? []);
        const run = (): void => {
          for (const b of c.batches) {
            const sw = sampleWeight(b, weighting);
            // Mean and Sum take (values, sampleWeight), as Keras's update_state(values, sample_weight).
            if (b.y_pred) metric.updateState(toTensor(b.y_true), toTensor(b.y_pred), sw);
            else (metric as metrics.Mean).updateState(toTensor(b.y_true), sw);
          }
        };
        const differs = STRATA_DIFFERS[c.class_name]?.[weighting];
        if (differs === 'per-sample') {
          run();
          assertClose(metric.result(), (c.expected.weighted as Arr).data, TOL, `${where} (as per-sample weights)`);
          continue;
        }
        if (differs === 'error' || 'error' in expected) {
          const why = 'error' in expected ? `Keras rejects these sample weights (${expected.error})` : 'see STRATA_DIFFERS';
          assert.throws(run, Error, `${where}: ${why}; Strata must reject them`);
          continue;
        }
        run();
        const result = metric.result();
        assert.deepEqual(result.shape, expected.shape, `${where}: result shape`);
        assertClose(result, expected.data, c.class_name in COUNT_METRICS ? COUNT_TOL : TOL, where);
      }
    });
  }
});
