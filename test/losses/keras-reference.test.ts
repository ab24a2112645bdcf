/**
 * Losses against numbers computed by the real Keras
 * (test/fixtures/training-ref/make_fixtures.py): every loss class, built
 * in Strata from Keras's serialized config through `losses.deserialize`,
 * with each reduction, with and without sample weights, on inputs of rank
 * 2 and 3; and getConfig() against Keras's get_config().
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as losses from '../../src/losses/index.ts';
import { assertClose } from '../helpers/close.ts';
import { tensor } from '../../src/tensor/create.ts';
import { type Arr, type JsonObject, assertConfigMatches, caseLabel, fixture, toTensor } from '../fixtures/training-ref/reference.ts';

interface LossCase {
  class_name: string;
  kwargs: JsonObject;
  inputs: string;
  reduction: string | null;
  sample_weight: Arr | null;
  serialized: JsonObject;
  /** Keras's get_config(), stored only where it differs from serialized.config. */
  config?: JsonObject;
  /** Results without weights, with per-value weights, a scalar weight 0.7, and (rank 2) the weights as a [batch, 1] column. */
  expected: { unweighted: Arr; weighted: Arr; scalar_weight: Arr; column_weight?: Arr };
}

const inputs = fixture.losses.inputs as Record<string, { y_true: Arr; y_pred: Arr; sample_weight: Arr }>;
const cases = fixture.losses.cases as LossCase[];

/**
 * Keys Strata's getConfig() writes that Keras 3's does not:
 * - dtype (every loss): Strata's losses take a dtype option (null: follow
 *   the predictions); Keras's Loss.get_config writes only name and reduction.
 *   Keras's Loss constructor accepts dtype, so Keras reads these configs.
 * - delta (Huber) and axis (CosineSimilarity): Keras's get_config leaves
 *   these constructor arguments out (Loss.get_config only), so a reloaded
 *   Keras Huber(delta=0.5) silently gets delta=1; Strata keeps them.
 */
const KERAS_OMITTED: Record<string, string[]> = { Huber: ['delta'], CosineSimilarity: ['axis'] };

function extraKeys(className: string): string[] {
  return ['dtype', ...(KERAS_OMITTED[className] ?? [])];
}

/**
 * Keras's serialized config, plus the constructor arguments Keras's
 * get_config drops (KERAS_OMITTED): without them Strata would build a
 * different loss than the one Keras computed with. Any other argument
 * missing from Keras's config is an error.
 */
function strataConfig(c: LossCase): JsonObject {
  const config = { ...(c.serialized.config as JsonObject) };
  for (const [key, value] of Object.entries(c.kwargs)) {
    if (key in config) continue;
    assert.ok((KERAS_OMITTED[c.class_name] ?? []).includes(key), `${c.class_name}: Keras's config lacks '${key}', which is not a known omission`);
    config[key] = value;
  }
  return config;
}

/** Float32 tolerance: losses are sums of a few dozen float32 terms computed in a different order. */
const TOL = { rtol: 1e-5, atol: 1e-6 };

describe('losses: Keras reference values', () => {
  it('the fixture covers every loss class, each reduction and both ranks', () => {
    const classes = new Set(cases.map((c) => c.class_name));
    for (const name of [
      'MeanSquaredError',
      'MeanAbsoluteError',
      'MeanAbsolutePercentageError',
      'MeanSquaredLogarithmicError',
      'Huber',
      'LogCosh',
      'BinaryCrossentropy',
      'CategoricalCrossentropy',
      'SparseCategoricalCrossentropy',
      'BinaryFocalCrossentropy',
      'KLDivergence',
      'Poisson',
      'Hinge',
      'SquaredHinge',
      'CategoricalHinge',
      'CosineSimilarity',
    ]) {
      assert.ok(classes.has(name), `fixture lacks ${name}`);
    }
    assert.deepEqual([...new Set(cases.map((c) => String(c.reduction)))].sort(), ['mean', 'mean_with_sample_weight', 'none', 'null', 'sum', 'sum_over_batch_size']);
    assert.deepEqual([...new Set(cases.map((c) => c.inputs.slice(-2)))].sort(), ['r2', 'r3']);
  });

  for (const c of cases) {
    const label = caseLabel(c.class_name, c.kwargs, `reduction=${c.reduction} ${c.inputs}`);
    it(label, () => {
      const loss = losses.deserialize({ ...c.serialized, config: strataConfig(c) } as never);
      assert.equal(loss.constructor.name, c.class_name);
      assertConfigMatches(loss.getConfig(), c.config ?? (c.serialized.config as JsonObject), label, extraKeys(c.class_name));
      const data = inputs[c.inputs];
      const yTrue = toTensor(data.y_true);
      const yPred = toTensor(data.y_pred);
      const sw = toTensor(c.sample_weight ?? data.sample_weight);
      const unweighted = loss.apply(yTrue, yPred);
      assert.deepEqual(unweighted.shape, c.expected.unweighted.shape, `${label}: shape`);
      assertClose(unweighted, c.expected.unweighted.data, TOL, `${label} unweighted`);
      const weighted = loss.apply(yTrue, yPred, sw);
      assert.deepEqual(weighted.shape, c.expected.weighted.shape, `${label}: weighted shape`);
      assertClose(weighted, c.expected.weighted.data, TOL, `${label} weighted`);
      const scalar = loss.apply(yTrue, yPred, 0.7);
      assert.deepEqual(scalar.shape, c.expected.scalar_weight.shape, `${label}: scalar-weight shape`);
      assertClose(scalar, c.expected.scalar_weight.data, TOL, `${label} scalar weight`);
      const hasColumn = c.inputs.endsWith('_r2') && c.sample_weight === null;
      assert.equal(c.expected.column_weight !== undefined, hasColumn, `${label}: fixture's column-weight case`);
      if (c.expected.column_weight) {
        const column = loss.apply(yTrue, yPred, tensor(data.sample_weight.data, [data.sample_weight.data.length, 1], 'float32'));
        assert.deepEqual(column.shape, c.expected.column_weight.shape, `${label}: column-weight shape`);
        assertClose(column, c.expected.column_weight.data, TOL, `${label} column weight`);
      }
    });
  }
});
