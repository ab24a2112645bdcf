/**
 * Optimizers and learning-rate schedules against numbers computed by the
 * real Keras (test/fixtures/training-ref/make_fixtures.py).
 *
 * Optimizers: each one is built in Strata from Keras's serialized config
 * through `optimizers.deserialize` (a schedule included), applied 5 times to
 * two variables with the same fixed gradients, and the variables' values
 * after every step, the optimizer's variables (paths and values) and
 * getConfig() are compared with Keras's.
 *
 * Schedules: built through `schedules.deserialize`, evaluated at a list of
 * steps, and getConfig() compared.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import * as optimizers from '../../src/optimizers/index.ts';
import { assertClose } from '../helpers/close.ts';
import { type Arr, type JsonObject, assertConfigMatches, caseLabel, fixture, toTensor } from '../fixtures/training-ref/reference.ts';

const { schedules } = optimizers;

interface OptimizerCase {
  class_name: string;
  kwargs: JsonObject;
  serialized: JsonObject;
  /** Keras's get_config(), stored only where it differs from serialized.config. */
  config?: JsonObject;
  history: Arr[][];
  optimizer_variables: { path: string; dtype: string; value: Arr }[];
}

interface ScheduleCase {
  class_name: string;
  kwargs: JsonObject;
  serialized: JsonObject;
  /** Keras's get_config(), stored only where it differs from serialized.config. */
  config?: JsonObject;
  values: number[];
}

const opt = fixture.optimizers as { steps: number; initial: Arr[]; gradients: Arr[][]; cases: OptimizerCase[] };
const sched = fixture.schedules as { steps: number[]; cases: ScheduleCase[] };

/**
 * Float32 tolerance for 5 steps of float32 updates computed in a different
 * order. rtol 1e-5 relative to values of order 1; atol 1e-6 absorbs the
 * rounding of slots that are differences of nearly equal numbers.
 */
const TOL = { rtol: 1e-5, atol: 1e-6 };

/**
 * The one optimizer variable whose path Strata names differently, on
 * purpose: Keras's Nadam creates its u_product with `backend.Variable(1.0)`
 * outside the optimizer's name scope, so its path is the default
 * 'variable' (made unique: 'variable_1', ...); Strata names it '{optimizer}/u_product'. Only the name
 * differs: position (last) and value are compared as for every variable,
 * and weight files address optimizer variables by position.
 */
function kerasPath(c: OptimizerCase, path: string): string {
  if (c.class_name === 'Nadam' && /^variable(_\d+)?$/.test(path)) return `${(c.serialized.config as { name: string }).name}/u_product`;
  return path;
}

/** Compares a Strata config (possibly with a nested schedule) with Keras's. */
function compareOptimizerConfig(config: Record<string, unknown>, keras: JsonObject, label: string): void {
  const lr = keras.learning_rate;
  if (lr !== null && typeof lr === 'object' && !Array.isArray(lr)) {
    const mine = config.learning_rate as Record<string, unknown>;
    assert.equal(mine.class_name, lr.class_name, `${label}: schedule class`);
    assertConfigMatches(mine.config as Record<string, unknown>, lr.config as JsonObject, `${label} learning_rate`);
    assertConfigMatches({ ...config, learning_rate: null }, { ...keras, learning_rate: null }, label);
  } else {
    assertConfigMatches(config, keras, label);
  }
}

describe('optimizers: Keras reference values', () => {
  it('the fixture covers every optimizer and option of the brief', () => {
    assert.deepEqual([...new Set(opt.cases.map((c) => c.class_name))].sort(), ['Adadelta', 'Adagrad', 'Adam', 'AdamW', 'Adamax', 'Lion', 'Nadam', 'RMSprop', 'SGD']);
    const options = new Set(opt.cases.flatMap((c) => Object.keys(c.kwargs)));
    for (const o of ['momentum', 'nesterov', 'amsgrad', 'centered', 'clipnorm', 'clipvalue', 'global_clipnorm', 'weight_decay', 'use_ema', 'ema_momentum', 'ema_overwrite_frequency', 'gradient_accumulation_steps', 'schedule']) {
      assert.ok(options.has(o), `fixture lacks option ${o}`);
    }
  });

  for (const c of opt.cases) {
    const label = caseLabel(c.class_name, c.kwargs);
    it(label, () => {
      const optimizer = optimizers.deserialize(c.serialized);
      assert.equal(optimizer.constructor.name, c.class_name);
      compareOptimizerConfig(optimizer.getConfig(), c.config ?? (c.serialized.config as JsonObject), label);
      const vars = opt.initial.map((a, i) => new strata.Variable(toTensor(a), { name: `w${i + 1}` }));
      optimizer.build(vars);
      for (let step = 0; step < opt.steps; step++) {
        optimizer.apply(opt.gradients[step].map(toTensor), vars);
        vars.forEach((v, i) => assertClose(v.value, c.history[step][i].data, TOL, `${label} step ${step + 1} w${i + 1}`));
      }
      // Keras's iteration variable is int64; Strata's is int32 (values compared).
      assert.deepEqual(
        optimizer.variables.map((v) => v.path),
        c.optimizer_variables.map((v) => kerasPath(c, v.path)),
        `${label}: optimizer variable paths`,
      );
      optimizer.variables.forEach((v, i) => assertClose(v.value, c.optimizer_variables[i].value.data, TOL, `${label} ${v.path}`));
    });
  }
});

describe('schedules: Keras reference values', () => {
  it('the fixture covers every schedule of the brief', () => {
    assert.deepEqual([...new Set(sched.cases.map((c) => c.class_name))].sort(), [
      'CosineDecay',
      'CosineDecayRestarts',
      'ExponentialDecay',
      'InverseTimeDecay',
      'PiecewiseConstantDecay',
      'PolynomialDecay',
    ]);
  });

  for (const c of sched.cases) {
    const label = caseLabel(c.class_name, c.kwargs);
    it(label, () => {
      const schedule = schedules.deserialize(c.serialized);
      assert.equal(schedule.constructor.name, c.class_name);
      assertConfigMatches(schedule.getConfig(), c.config ?? (c.serialized.config as JsonObject), label);
      const values = sched.steps.map((s) => schedule.call(s).item());
      // Float32 schedules: values of order 0.1 computed with pow/cos in float32.
      assertClose(values, c.values, TOL, label);
    });
  }
});
