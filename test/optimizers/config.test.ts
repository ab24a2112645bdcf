/**
 * Optimizer variables (order, names, dtypes), configs with Keras's keys and
 * round trips, `get`/`serialize`/`deserialize`, the learning-rate property,
 * and error messages.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import * as optimizers from '../../src/optimizers/index.ts';
import { Optimizer } from '../../src/optimizers/optimizer.ts';
import { registerSerializable } from '../../src/serialization/registry.ts';
import { withNameScope } from '../../src/engine/scope.ts';
import { assertClose } from '../helpers/close.ts';

const { schedules } = optimizers;

function modelVars() {
  // Paths as a model gives them: `dense/kernel`, `dense/bias`, `dense_1/kernel`.
  return [
    withNameScope('dense', () => new strata.Variable(strata.zeros([3, 2]), { name: 'kernel' })),
    withNameScope('dense', () => new strata.Variable(strata.zeros([2]), { name: 'bias' })),
    withNameScope('dense_1', () => new strata.Variable(strata.zeros([2, 1]), { name: 'kernel' })),
  ];
}

const BASE_KEYS = ['name', 'learning_rate', 'weight_decay', 'clipnorm', 'global_clipnorm', 'clipvalue', 'use_ema', 'ema_momentum', 'ema_overwrite_frequency', 'loss_scale_factor', 'gradient_accumulation_steps'];

describe('optimizers: variables', () => {
  it('Adam: iteration, learning_rate, then momentum/velocity interleaved per variable, then velocity_hat (amsgrad)', () => {
    const opt = new optimizers.Adam({ name: 'adam', amsgrad: true });
    const vars = modelVars();
    opt.build(vars);
    assert.deepEqual(
      opt.variables.map((v) => v.path),
      [
        'adam/iteration',
        'adam/learning_rate',
        'adam/dense_kernel_momentum',
        'adam/dense_kernel_velocity',
        'adam/dense_bias_momentum',
        'adam/dense_bias_velocity',
        'adam/dense_1_kernel_momentum',
        'adam/dense_1_kernel_velocity',
        'adam/dense_kernel_velocity_hat',
        'adam/dense_bias_velocity_hat',
        'adam/dense_1_kernel_velocity_hat',
      ],
    );
    assert.equal(opt.variables[2].name, 'dense_kernel_momentum');
    assert.deepEqual(
      opt.variables.map((v) => v.dtype),
      ['int32', 'float32', ...new Array(9).fill('float32')],
    );
    assert.deepEqual(opt.variables.slice(2, 4).map((v) => v.shape), [[3, 2], [3, 2]]);
    assert.ok(opt.variables.every((v) => !v.trainable));
    assert.deepEqual(opt.trainableVariables, vars);
  });

  it('SGD has momentum slots only with momentum; no learning_rate variable with a schedule', () => {
    const plain = new optimizers.SGD({ name: 'sgd' });
    plain.build(modelVars());
    assert.deepEqual(plain.variables.map((v) => v.name), ['iteration', 'learning_rate']);
    const withMomentum = new optimizers.SGD({ name: 'sgd', momentum: 0.9, learningRate: new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9 }) });
    withMomentum.build(modelVars());
    assert.deepEqual(withMomentum.variables.map((v) => v.name), ['iteration', 'dense_kernel_momentum', 'dense_bias_momentum', 'dense_1_kernel_momentum']);
    assert.equal(withMomentum.learningRateVariable, null);
  });

  it('the other optimizers: Keras slot names and order', () => {
    const slots = (opt: Optimizer) => {
      opt.build(modelVars().slice(0, 2));
      return opt.variables.slice(opt.learningRateVariable ? 2 : 1).map((v) => v.name);
    };
    assert.deepEqual(slots(new optimizers.RMSprop({ momentum: 0.5, centered: true })), [
      'dense_kernel_velocity',
      'dense_bias_velocity',
      'dense_kernel_momentum',
      'dense_bias_momentum',
      'dense_kernel_average_gradient',
      'dense_bias_average_gradient',
    ]);
    assert.deepEqual(slots(new optimizers.RMSprop()), ['dense_kernel_velocity', 'dense_bias_velocity']);
    assert.deepEqual(slots(new optimizers.Adagrad()), ['dense_kernel_accumulator', 'dense_bias_accumulator']);
    assert.deepEqual(slots(new optimizers.Adadelta()), ['dense_kernel_accumulated_grad', 'dense_kernel_accumulated_delta_var', 'dense_bias_accumulated_grad', 'dense_bias_accumulated_delta_var']);
    assert.deepEqual(slots(new optimizers.Adamax()), ['dense_kernel_momentum', 'dense_kernel_norm', 'dense_bias_momentum', 'dense_bias_norm']);
    assert.deepEqual(slots(new optimizers.Nadam()), ['dense_kernel_momentum', 'dense_kernel_velocity', 'dense_bias_momentum', 'dense_bias_velocity', 'u_product']);
    assert.deepEqual(slots(new optimizers.Lion()), ['dense_kernel_momentum', 'dense_bias_momentum']);
    // EMA averages and gradient accumulators come before the subclass's slots.
    assert.deepEqual(slots(new optimizers.SGD({ momentum: 0.5, useEma: true, gradientAccumulationSteps: 2 })), [
      'dense_kernel_average',
      'dense_bias_average',
      'dense_kernel_gradient_accumulator',
      'dense_bias_gradient_accumulator',
      'dense_kernel_momentum',
      'dense_bias_momentum',
    ]);
  });

  it('Adagrad accumulators start at initialAccumulatorValue; Nadam u_product at 1', () => {
    const a = new optimizers.Adagrad({ initialAccumulatorValue: 0.25 });
    a.build(modelVars());
    assertClose(a.variables[2].value, new Array(6).fill(0.25));
    const n = new optimizers.Nadam();
    n.build(modelVars());
    assertClose(n.variables[n.variables.length - 1].value, 1);
  });

  it('default names: snake_case class names made unique', () => {
    const names = (make: () => Optimizer) => [make().name, make().name];
    const check = ([a, b]: string[], base: string) => {
      assert.match(a, new RegExp(`^${base}(_\\d+)?$`));
      assert.match(b, new RegExp(`^${base}_\\d+$`));
      assert.notEqual(a, b);
    };
    check(names(() => new optimizers.Adam()), 'adam');
    check(names(() => new optimizers.SGD()), 'sgd');
    check(names(() => new optimizers.AdamW()), 'adam_w');
    check(names(() => new optimizers.RMSprop()), 'rm_sprop');
    check(names(() => new optimizers.Adagrad()), 'adagrad');
    check(names(() => new optimizers.Nadam()), 'nadam');
    const opt = new optimizers.Lion();
    assert.equal(opt.iterations.path, `${opt.name}/iteration`);
  });

  it('setWeights/getWeights follow the variables order', () => {
    const opt = new optimizers.SGD({ momentum: 0.5 });
    const vars = modelVars();
    opt.build(vars);
    const values = opt.getWeights().map((w, i) => strata.ops.add(w, i + 1));
    opt.setWeights(values.map((v, i) => (i === 0 ? strata.ops.cast(v, 'int32') : v)));
    assertClose(opt.iterations.value, 1);
    assertClose(opt.variables[3].value, [4, 4]);
    assert.throws(() => opt.setWeights([strata.scalar(1, 'int32')]), /expected 5 values/);
    assert.throws(() => new optimizers.Adam().setWeights([]), /has not been built yet/);
  });
});

describe('optimizers: configs', () => {
  it('Adam: Keras keys and defaults (learning_rate as the float32 value)', () => {
    const config = new optimizers.Adam({ name: 'adam' }).getConfig();
    assert.deepEqual(Object.keys(config), [...BASE_KEYS, 'beta_1', 'beta_2', 'epsilon', 'amsgrad']);
    assert.deepEqual(config, {
      name: 'adam',
      learning_rate: 0.0010000000474974513,
      weight_decay: null,
      clipnorm: null,
      global_clipnorm: null,
      clipvalue: null,
      use_ema: false,
      ema_momentum: 0.99,
      ema_overwrite_frequency: null,
      loss_scale_factor: null,
      gradient_accumulation_steps: null,
      beta_1: 0.9,
      beta_2: 0.999,
      epsilon: 1e-7,
      amsgrad: false,
    });
  });

  it("each optimizer's own keys and defaults", () => {
    const own = (opt: Optimizer) => Object.fromEntries(Object.entries(opt.getConfig()).filter(([k]) => !BASE_KEYS.includes(k)));
    assert.deepEqual(own(new optimizers.SGD()), { momentum: 0, nesterov: false });
    assert.equal(new optimizers.SGD().getConfig().learning_rate, 0.009999999776482582);
    assert.deepEqual(own(new optimizers.AdamW()), { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false });
    assert.equal(new optimizers.AdamW().getConfig().weight_decay, 0.004);
    assert.deepEqual(own(new optimizers.RMSprop()), { rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false });
    assert.deepEqual(own(new optimizers.Adagrad()), { initial_accumulator_value: 0.1, epsilon: 1e-7 });
    assert.deepEqual(own(new optimizers.Adadelta()), { rho: 0.95, epsilon: 1e-7 });
    assert.deepEqual(own(new optimizers.Adamax()), { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 });
    assert.deepEqual(own(new optimizers.Nadam()), { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 });
    assert.deepEqual(own(new optimizers.Lion()), { beta_1: 0.9, beta_2: 0.99 });
  });

  it('round trips through serialize/deserialize (JSON), schedules included', () => {
    const all: Optimizer[] = [
      new optimizers.SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, clipnorm: 1.5 }),
      new optimizers.Adam({ beta1: 0.8, amsgrad: true, globalClipnorm: 2, useEma: true, emaMomentum: 0.95, emaOverwriteFrequency: 10 }),
      new optimizers.AdamW({ weightDecay: 0.01, gradientAccumulationSteps: 4 }),
      new optimizers.RMSprop({ rho: 0.8, momentum: 0.2, centered: true, clipvalue: 0.5, lossScaleFactor: 128 }),
      new optimizers.Adagrad({ initialAccumulatorValue: 0.3 }),
      new optimizers.Adadelta({ rho: 0.9, learningRate: 1 }),
      new optimizers.Adamax({ epsilon: 1e-5 }),
      new optimizers.Nadam({ beta2: 0.99, weightDecay: 0.1 }),
      new optimizers.Lion({ beta1: 0.95, learningRate: new schedules.CosineDecay({ initialLearningRate: 0.1, decaySteps: 100, warmupTarget: 0.2, warmupSteps: 10 }) }),
    ];
    for (const opt of all) {
      const s = JSON.parse(JSON.stringify(optimizers.serialize(opt)));
      assert.equal(s.module, 'keras.optimizers');
      assert.equal(s.class_name, (opt.constructor as typeof Optimizer).className);
      assert.equal(s.registered_name, null);
      const back = optimizers.deserialize(s);
      assert.equal(back.constructor, opt.constructor);
      assert.deepEqual(back.getConfig(), opt.getConfig());
    }
    const lion = optimizers.serialize(all[8]).config.learning_rate as Record<string, unknown>;
    assert.deepEqual(lion, {
      module: 'keras.optimizers.schedules',
      class_name: 'CosineDecay',
      config: { initial_learning_rate: 0.1, decay_steps: 100, alpha: 0, name: 'CosineDecay', warmup_target: 0.2, warmup_steps: 10 },
      registered_name: null,
    });
  });

  it('reads Keras files: a Keras 3 Adam config, and Keras 2 configs with extra keys', () => {
    const keras3 = {
      module: 'keras.optimizers',
      class_name: 'Adam',
      config: { name: 'adam', learning_rate: 0.0010000000474974513, weight_decay: null, clipnorm: null, global_clipnorm: null, clipvalue: null, use_ema: false, ema_momentum: 0.99, ema_overwrite_frequency: null, loss_scale_factor: null, gradient_accumulation_steps: null, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false },
      registered_name: null,
    };
    const opt = optimizers.deserialize(keras3);
    assert.ok(opt instanceof optimizers.Adam);
    assert.equal(opt.name, 'adam');
    assert.deepEqual(opt.getConfig(), keras3.config);
    const keras2 = optimizers.get({ class_name: 'rmsprop', config: { name: 'RMSprop', learning_rate: 0.01, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false, is_legacy_optimizer: false, jit_compile: true } });
    assert.ok(keras2 instanceof optimizers.RMSprop);
    assertClose(keras2.learningRate, 0.01, { rtol: 1e-7 });
    assert.throws(() => optimizers.deserialize({ class_name: 'Adam', config: { bogus: 1 } }), /unknown config key 'bogus'/);
  });

  it('schedules: Keras keys, defaults and round trips', () => {
    const cases: [optimizers.LearningRateSchedule, Record<string, unknown>][] = [
      [new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9 }), { initial_learning_rate: 0.1, decay_steps: 10, decay_rate: 0.9, staircase: false, name: 'ExponentialDecay' }],
      [new schedules.PiecewiseConstantDecay({ boundaries: [10, 20], values: [1, 0.5, 0.1] }), { boundaries: [10, 20], values: [1, 0.5, 0.1], name: 'PiecewiseConstant' }],
      [new schedules.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10 }), { initial_learning_rate: 0.1, decay_steps: 10, end_learning_rate: 0.0001, power: 1, cycle: false, name: 'PolynomialDecay' }],
      [new schedules.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 }), { initial_learning_rate: 0.1, decay_steps: 10, decay_rate: 0.5, staircase: false, name: 'InverseTimeDecay' }],
      [new schedules.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10 }), { initial_learning_rate: 0.1, decay_steps: 10, alpha: 0, name: 'CosineDecay', warmup_target: null, warmup_steps: 0 }],
      [new schedules.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 10 }), { initial_learning_rate: 0.1, first_decay_steps: 10, t_mul: 2, m_mul: 1, alpha: 0, name: 'SGDRDecay' }],
    ];
    for (const [s, config] of cases) {
      assert.deepEqual(s.getConfig(), config);
      const serialized = JSON.parse(JSON.stringify(schedules.serialize(s)));
      assert.equal(serialized.module, 'keras.optimizers.schedules');
      const back = schedules.deserialize(serialized);
      assert.equal(back.constructor, s.constructor);
      assert.deepEqual(back.getConfig(), config);
      assertClose(back.call(7), s.call(7));
    }
    assert.throws(() => schedules.deserialize({ class_name: 'NoSuchDecay', config: {} }), /unknown learning rate schedule 'NoSuchDecay'.*'ExponentialDecay'/);
  });
});

describe('optimizers: get', () => {
  it('by name, case-insensitively, with defaults', () => {
    const cases: [string, new () => Optimizer][] = [
      ['adam', optimizers.Adam],
      ['Adam', optimizers.Adam],
      ['sgd', optimizers.SGD],
      ['SGD', optimizers.SGD],
      ['rmsprop', optimizers.RMSprop],
      ['RMSprop', optimizers.RMSprop],
      ['adamw', optimizers.AdamW],
      ['AdamW', optimizers.AdamW],
      ['adagrad', optimizers.Adagrad],
      ['adadelta', optimizers.Adadelta],
      ['adamax', optimizers.Adamax],
      ['nadam', optimizers.Nadam],
      ['lion', optimizers.Lion],
    ];
    for (const [name, cls] of cases) {
      const opt = optimizers.get(name);
      assert.ok(opt instanceof cls, name);
      assert.equal(opt.constructor, cls, name);
    }
    assertClose(optimizers.get('sgd').learningRate, Math.fround(0.01), { rtol: 0 });
  });

  it('instances are returned as is; null gives null; serialized objects are built', () => {
    const opt = new optimizers.Adam();
    assert.equal(optimizers.get(opt), opt);
    assert.equal(optimizers.get(null), null);
    assert.equal(optimizers.get(undefined), null);
    const s = optimizers.get(optimizers.serialize(new optimizers.SGD({ momentum: 0.5 })));
    assert.ok(s instanceof optimizers.SGD && s.momentum === 0.5);
  });

  it('an unknown name lists the valid ones', () => {
    assert.throws(
      () => optimizers.get('adamm'),
      (e: Error) => /unknown optimizer 'adamm'/.test(e.message) && e.message.includes("'adadelta', 'adagrad', 'adam', 'adamax', 'adamw', 'lion', 'nadam', 'rmsprop', 'sgd'"),
    );
    assert.throws(() => optimizers.get(42 as never), /Could not interpret optimizer identifier: 42/);
    assert.throws(() => optimizers.deserialize({ class_name: 'Foo', config: {} }), /unknown optimizer class 'Foo'/);
  });

  it('custom registered subclasses deserialize', () => {
    class Halve extends optimizers.SGD {
      static override readonly className: string = 'Halve';
      override updateStep(gradient: strata.Tensor, variable: strata.Variable, learningRate: strata.Tensor): void {
        super.updateStep(strata.ops.multiply(gradient, 0.5), variable, learningRate);
      }
    }
    registerSerializable(Halve, { package: 'test_optimizers' });
    const s = optimizers.serialize(new Halve({ learningRate: 0.5 }));
    assert.equal(s.registered_name, 'test_optimizers>Halve');
    const back = optimizers.deserialize(JSON.parse(JSON.stringify(s)));
    assert.ok(back instanceof Halve);
    const v = new strata.Variable(strata.tensor([1]));
    back.apply([strata.tensor([1])], [v]);
    assertClose(v.value, [1 - 0.5 * 0.5]);
  });
});

describe('optimizers: learning rate property', () => {
  it('get/set as a number (float32), set as a schedule', () => {
    const opt = new optimizers.Adam({ learningRate: 0.01 });
    assert.equal(opt.learningRate, Math.fround(0.01));
    opt.learningRate = 0.003;
    assert.equal(opt.learningRate, Math.fround(0.003));
    assert.equal(opt.getConfig().learning_rate, Math.fround(0.003));
    assertClose(opt.currentLearningRate(), 0.003);
    opt.learningRate = new schedules.InverseTimeDecay({ initialLearningRate: 0.5, decaySteps: 1, decayRate: 1 });
    assert.equal(opt.learningRateVariable, null);
    assert.deepEqual(opt.variables.map((v) => v.name), ['iteration']);
    assert.equal(opt.learningRate, 0.5);
    assert.throws(() => (opt.learningRate = 0.1), /created with a LearningRateSchedule .* not settable/);
  });
});

describe('optimizers: errors', () => {
  it('two clipping options', () => {
    assert.throws(() => new optimizers.Adam({ clipnorm: 1, clipvalue: 1 }), /Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: clipnorm=1, clipvalue=1, global_clipnorm=null/);
    assert.throws(() => new optimizers.SGD({ globalClipnorm: 1, clipnorm: 2 }), /Only one of/);
  });

  it('bad learning rates', () => {
    assert.throws(() => new optimizers.Adam({ learningRate: -0.1 }), /`learning_rate` must be >= 0. Received: learning_rate=-0.1/);
    assert.throws(() => new optimizers.Adam({ learningRate: 'fast' as never }), /should be a number or a LearningRateSchedule. Received instead: learning_rate="fast"/);
    assert.throws(() => (new optimizers.SGD().learningRate = -1), /must be >= 0/);
  });

  it('bad hyperparameters', () => {
    assert.throws(() => new optimizers.SGD({ momentum: 1.5 }), /`momentum` must be a float between \[0, 1\]/);
    assert.throws(() => new optimizers.Adam({ gradientAccumulationSteps: 1 }), /must be an integer >= 2/);
    assert.throws(() => new optimizers.Adam({ useEma: true, emaMomentum: 1.5 }), /`ema_momentum` must be in the range \[0, 1\]/);
    assert.throws(() => new optimizers.Adam({ useEma: true, emaOverwriteFrequency: 0.5 }), /`ema_overwrite_frequency` must be an integer >= 1/);
    assert.throws(() => new optimizers.AdamW({ weightDecay: null as never }), /`weight_decay` must be a float/);
    assert.throws(() => new optimizers.Lion({ beta1: 0 }), /`beta_1` must be in the \[0, 1\] range/);
    assert.throws(() => new optimizers.Adagrad({ initialAccumulatorValue: -1 }), /must be non-negative/);
    assert.throws(() => new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 }), /`decay_steps` must be > 0/);
    assert.throws(() => new schedules.PiecewiseConstantDecay({ boundaries: [1, 2], values: [1, 2] }), /should be 1 less than the length of values/);
  });

  it('apply: unknown variables, no gradients, mismatched lists, after-build exclusion', () => {
    const opt = new optimizers.SGD();
    const [a, b] = modelVars();
    opt.apply([strata.ones([3, 2])], [a]);
    assert.throws(() => opt.apply([strata.ones([2])], [b]), /unknown variable 'dense\/bias'.*originally built with/);
    assert.throws(() => opt.apply([null], [a]), /No gradients provided for any variable/);
    assert.throws(() => opt.apply([strata.ones([3, 2]), strata.ones([2])], [a]), /received 2 gradients for 1 variables/);
    assert.throws(() => opt.apply([strata.ones([3, 2]), strata.ones([3, 2])]), /gradients must match|match the optimizer's variables/);
    assert.throws(() => new optimizers.Adam().apply([strata.ones([2])]), /must already be built/);
    assert.throws(() => opt.excludeFromWeightDecay({ varNames: ['bias'] }), /before the optimizer is built/);
    // A no-op for an empty list, as Keras.
    opt.apply([], []);
    assertClose(opt.iterations.value, 1);
  });
});
