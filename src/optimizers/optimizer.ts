/**
 * The optimizer base class (Keras 3's BaseOptimizer,
 * keras/src/optimizers/base_optimizer.py).
 *
 * All state lives in Variables: `iterations` (int32), `learning_rate`
 * (float32, absent when the rate is a schedule) and the slot variables
 * subclasses create in `build`. `apply` is written only with ops and variable
 * assignments, so a training step that computes gradients and applies them
 * compiles (strata.fn) to one graph whose outputs are the variable updates;
 * the same code runs eagerly op by op.
 *
 * Data-dependent choices (gradient accumulation, EMA overwrites) are made
 * with `ops.where` on the new and old values, never with a JavaScript `if`
 * on a tensor, because assignments inside `ops.cond` branches cannot be
 * traced.
 */
import type { DType } from '../tensor/dtype.ts';
import { isFloat } from '../tensor/dtype.ts';
import { Tensor } from '../tensor/tensor.ts';
import { scalar } from '../tensor/create.ts';
import { describe, formatShape, shapesEqual } from '../tensor/shape.ts';
import { Variable } from '../engine/variable.ts';
import { initScope } from '../engine/tracing.ts';
import { withNameScope } from '../engine/scope.ts';
import { warn, warnOnce } from '../engine/warnings.ts';
import * as ops from '../ops/index.ts';
import { type Config } from '../serialization/registry.ts';
import { isKerasObject, toSnakeCase } from '../serialization/keras-object.ts';
import * as initializers from '../initializers/index.ts';
import { checkNumber, opt, readConfig } from '../initializers/lookup.ts';
import { LearningRateSchedule, deserialize as deserializeSchedule, serialize as serializeSchedule } from './schedules.ts';

/** Options every optimizer accepts (Keras's base keyword arguments, in camelCase). */
export interface OptimizerOptions {
  /** A number (kept in a float32 `learning_rate` variable) or a LearningRateSchedule evaluated at `iterations`. */
  learningRate?: number | LearningRateSchedule;
  /** Decoupled weight decay: `v -= v * weightDecay * lr` before each update. */
  weightDecay?: number | null;
  /** Clip each gradient to this L2 norm. */
  clipnorm?: number | null;
  /** Clip each gradient elementwise to [-clipvalue, clipvalue]. */
  clipvalue?: number | null;
  /** Scale all gradients so their global L2 norm is at most this. */
  globalClipnorm?: number | null;
  /** Keep an exponential moving average of the variables. Default false. */
  useEma?: boolean;
  /** Default 0.99. */
  emaMomentum?: number;
  /** Overwrite the variables with their moving average every this many steps. Default null (never; see finalizeVariableValues). */
  emaOverwriteFrequency?: number | null;
  /** Gradients are divided by this before use (the loss is multiplied by it in `scaleLoss`). */
  lossScaleFactor?: number | null;
  /** Accumulate gradients and update every this many steps (>= 2), with their mean. */
  gradientAccumulationSteps?: number | null;
  /** Default: the snake_case class name, made unique (`adam`, `adam_1`). */
  name?: string;
}

/** Options of `excludeFromWeightDecay`. */
export interface ExcludeFromWeightDecayOptions {
  /** Variables to exclude. */
  varList?: readonly Variable[];
  /** Exclude variables whose name contains a match of any of these (regular expressions, as Keras's `re.search`). */
  varNames?: readonly string[];
}

/** The base options' config keys, in Keras's order, and their option names. */
const BASE_CONFIG_KEYS: ReadonlyArray<readonly [string, keyof OptimizerOptions]> = [
  ['name', 'name'],
  ['learning_rate', 'learningRate'],
  ['weight_decay', 'weightDecay'],
  ['clipnorm', 'clipnorm'],
  ['global_clipnorm', 'globalClipnorm'],
  ['clipvalue', 'clipvalue'],
  ['use_ema', 'useEma'],
  ['ema_momentum', 'emaMomentum'],
  ['ema_overwrite_frequency', 'emaOverwriteFrequency'],
  ['loss_scale_factor', 'lossScaleFactor'],
  ['gradient_accumulation_steps', 'gradientAccumulationSteps'],
];

/** Keys written by Keras 2 (tf.keras 2.11+) optimizers, accepted and dropped. */
const LEGACY_CONFIG_KEYS = ['is_legacy_optimizer', 'jit_compile', 'decay'];

const nameCounts = new Map<string, number>();
/** Keras's auto_name: `adam`, `adam_1`, ... per snake_case class name. */
function autoName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

function optionalNumber(where: string, name: string, value: unknown, check: Parameters<typeof checkNumber>[3] = {}): number | null {
  if (value === undefined || value === null) return null;
  return checkNumber(where, name, value, check);
}

function checkLearningRate(where: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(
      `${where}: Argument \`learning_rate\` should be a number or a LearningRateSchedule. Received instead: learning_rate=${describe(value)}`,
    );
  }
  if (value < 0) throw new RangeError(`${where}: Argument \`learning_rate\` must be >= 0. Received: learning_rate=${value}`);
  return value;
}

/** Which trainable variable a slot variable belongs to (null for the optimizer's own variables). */
interface TrackedVariable {
  variable: Variable;
  reference: Variable | null;
  /** EMA averages and gradient accumulators are handled by the base class itself. */
  kind: 'own' | 'slot' | 'average' | 'accumulator';
}

/**
 * Base class of optimizers. Subclasses implement `updateStep(gradient,
 * variable, learningRate)` with ops and assignments, create their slot
 * variables in `build` (calling `super.build` first), and add their own
 * hyperparameters to `getConfig`.
 */
export abstract class Optimizer {
  /** Keras's class name (`Adam`), used in serialized configs. */
  static readonly className: string = 'Optimizer';
  /** The subclass's own config keys, in Keras's order, and their option names. */
  static readonly ownConfigKeys: ReadonlyArray<readonly [string, string]> = [];

  readonly name: string;
  readonly weightDecay: number | null;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  readonly useEma: boolean;
  readonly emaMomentum: number;
  readonly emaOverwriteFrequency: number | null;
  readonly lossScaleFactor: number | null;
  readonly gradientAccumulationSteps: number | null;

  /** The step counter (Keras's `iteration` variable): int32, incremented by every `apply`. */
  readonly iterations: Variable;
  /** Whether `build` has created the slot variables. */
  built = false;

  private lrVariable: Variable | null = null;
  private schedule: LearningRateSchedule | null = null;
  private tracked: TrackedVariable[] = [];
  private trainable: Variable[] = [];
  private indices = new Map<Variable, number>();
  private averages: Variable[] = [];
  private accumulators: Variable[] = [];
  private excludedVariables = new Set<Variable>();
  private excludedPattern: RegExp | null = null;

  constructor(options: OptimizerOptions = {}, defaultLearningRate = 0.001) {
    const cls = this.constructor as typeof Optimizer;
    const where = cls.className;
    if (options === null || typeof options !== 'object') throw new TypeError(`${where}: expected an options object. Received: ${describe(options)}`);
    this.name = options.name ?? autoName(toSnakeCase(cls.className));
    if (typeof this.name !== 'string' || this.name.length === 0) throw new TypeError(`${where}: name must be a non-empty string. Received: ${describe(options.name)}`);
    this.weightDecay = optionalNumber(where, 'weight_decay', options.weightDecay);
    this.clipnorm = optionalNumber(where, 'clipnorm', options.clipnorm, { min: 0 });
    this.clipvalue = optionalNumber(where, 'clipvalue', options.clipvalue, { min: 0 });
    this.globalClipnorm = optionalNumber(where, 'global_clipnorm', options.globalClipnorm, { min: 0 });
    this.useEma = options.useEma ?? false;
    this.emaMomentum = checkNumber(where, 'ema_momentum', options.emaMomentum ?? 0.99);
    this.emaOverwriteFrequency = optionalNumber(where, 'ema_overwrite_frequency', options.emaOverwriteFrequency);
    this.lossScaleFactor = optionalNumber(where, 'loss_scale_factor', options.lossScaleFactor);
    this.gradientAccumulationSteps = optionalNumber(where, 'gradient_accumulation_steps', options.gradientAccumulationSteps);

    if (this.gradientAccumulationSteps !== null && !(Number.isInteger(this.gradientAccumulationSteps) && this.gradientAccumulationSteps >= 2)) {
      throw new RangeError(`${where}: \`gradient_accumulation_steps\` must be an integer >= 2. Received: gradient_accumulation_steps=${this.gradientAccumulationSteps}`);
    }
    if (this.useEma) {
      if (this.emaMomentum > 1 || this.emaMomentum < 0) throw new RangeError(`${where}: \`ema_momentum\` must be in the range [0, 1]. Received: ema_momentum=${this.emaMomentum}`);
      const f = this.emaOverwriteFrequency;
      if (f !== null && !(Number.isInteger(f) && f >= 1)) {
        throw new RangeError(`${where}: \`ema_overwrite_frequency\` must be an integer >= 1 or null. Received: ema_overwrite_frequency=${f}`);
      }
    }
    const clips = [this.clipnorm, this.clipvalue, this.globalClipnorm].filter((c) => c !== null).length;
    if (clips > 1) {
      throw new Error(
        `${where}: Only one of \`clipnorm\`, \`clipvalue\` and \`global_clipnorm\` can be set. ` +
          `Received: clipnorm=${this.clipnorm}, clipvalue=${this.clipvalue}, global_clipnorm=${this.globalClipnorm}`,
      );
    }

    this.iterations = this.createVariable(scalar(0, 'int32'), 'iteration', null, 'own');
    const lr = options.learningRate ?? defaultLearningRate;
    if (lr instanceof LearningRateSchedule) this.schedule = lr;
    else this.lrVariable = this.createVariable(scalar(checkLearningRate(where, lr), 'float32'), 'learning_rate', null, 'own');
  }

  // -------------------------------------------------------------------------
  // Variables

  /** Creates a variable of this optimizer (eagerly, even while a strata.fn is being traced), at path `{name}/{variableName}`. */
  private createVariable(value: Tensor, name: string, reference: Variable | null, kind: TrackedVariable['kind']): Variable {
    const variable = initScope(() => new Variable(value, { name, trainable: false, dtype: value.dtype }));
    variable.path = `${this.name}/${name}`;
    this.tracked.push({ variable, reference, kind });
    return variable;
  }

  /**
   * Adds an optimizer variable (Keras's `add_variable`), filled by an
   * initializer (default zeros).
   */
  addVariable(shape: readonly number[], options: { name: string; dtype?: DType; initializer?: initializers.InitializerIdentifier } = { name: 'var' }): Variable {
    const dtype = options.dtype ?? 'float32';
    const init = initializers.get(options.initializer ?? 'zeros');
    return this.createVariable(initScope(() => init.call([...shape], dtype)), options.name, null, 'own');
  }

  /**
   * Adds a slot variable with the shape and dtype of `reference`, named
   * `{reference.path with / replaced by _}_{slotName}` (Keras's
   * `add_variable_from_reference`), filled by an initializer (default zeros).
   */
  addVariableFromReference(reference: Variable, slotName = 'var', initializer: initializers.InitializerIdentifier = 'zeros'): Variable {
    return this.addSlot(reference, slotName, initializer, 'slot');
  }

  private addSlot(reference: Variable, slotName: string, initializer: initializers.InitializerIdentifier, kind: TrackedVariable['kind']): Variable {
    const init = initializers.get(initializer ?? 'zeros');
    const shape = reference.shape as number[];
    const value = initScope(() => init.call([...shape], reference.dtype));
    return this.createVariable(value, `${reference.path.replace(/\//g, '_')}_${slotName}`, reference, kind);
  }

  /**
   * Adds one slot per variable for each name, interleaved per variable
   * (`m(v0), v(v0), m(v1), v(v1)`, as Keras's `add_optimizer_variables`).
   * Returns one list per name.
   */
  addOptimizerVariables(variables: readonly Variable[], names: readonly string[], initializer: initializers.InitializerIdentifier = 'zeros'): Variable[][] {
    const lists = names.map(() => [] as Variable[]);
    for (const v of variables) names.forEach((n, i) => lists[i].push(this.addVariableFromReference(v, n, initializer)));
    return lists;
  }

  /**
   * The optimizer's variables in Keras's save order: `iteration`,
   * `learning_rate` (when the rate is a number), then the slot variables in
   * creation order (EMA averages, gradient accumulators, then the
   * subclass's slots, interleaved per trainable variable).
   */
  get variables(): Variable[] {
    return this.tracked.map((t) => t.variable);
  }

  /** The trainable variables the optimizer was built for. */
  get trainableVariables(): Variable[] {
    return [...this.trainable];
  }

  /**
   * Creates the slot variables for `variables` (once). Subclasses call
   * `super.build(variables)` first, then create their slots.
   */
  build(variables: readonly Variable[]): void {
    if (this.built) return;
    variables.forEach((v, i) => {
      if (!(v instanceof Variable)) throw new TypeError(`${this.name}.build: expected Variables. Received at index ${i}: ${describe(v)}`);
      this.indices.set(v, i);
    });
    if (this.useEma) this.averages = variables.map((v) => this.addSlot(v, 'average', 'zeros', 'average'));
    if (this.gradientAccumulationSteps) this.accumulators = variables.map((v) => this.addSlot(v, 'gradient_accumulator', 'zeros', 'accumulator'));
    this.trainable = [...variables];
    this.built = true;
  }

  /** The index of a trainable variable in the list the optimizer was built for (to find its slots). */
  protected variableIndex(variable: Variable): number {
    const i = this.indices.get(variable);
    if (i === undefined) throw new Error(`${this.name}: unknown variable '${variable.path}'.`);
    return i;
  }

  /** Sets the optimizer's variables from values in `variables` order (Keras's `set_weights`). */
  setWeights(weights: readonly (Tensor | number)[]): void {
    if (!this.built) {
      throw new Error(
        `${this.name}.setWeights: the optimizer has not been built yet. Call optimizer.build(trainableVariables) to create its variables before setting them.`,
      );
    }
    const vars = this.variables;
    if (weights.length !== vars.length) throw new Error(`${this.name}.setWeights: expected ${vars.length} values (one per optimizer variable), received ${weights.length}.`);
    vars.forEach((v, i) => {
      const w = weights[i];
      const t = w instanceof Tensor ? w : scalar(w, v.dtype);
      if (!shapesEqual(t.shape, v.shape)) {
        throw new Error(`${this.name}.setWeights: variable '${v.path}' has shape ${formatShape(v.shape)}, not compatible with the provided weight shape ${formatShape(t.shape)}.`);
      }
      v.assign(t.dtype === v.dtype ? t : ops.cast(t, v.dtype));
    });
  }

  /** The current values of `variables`. */
  getWeights(): Tensor[] {
    return initScope(() => this.variables.map((v) => v.value));
  }

  // -------------------------------------------------------------------------
  // Learning rate

  /**
   * The current learning rate as a number: the `learning_rate` variable's
   * (float32) value, or the schedule evaluated at `iterations`. Setting a
   * number assigns the variable (a compiled step sees it at its next run);
   * setting a schedule replaces the variable (it leaves `variables`).
   */
  get learningRate(): number {
    return initScope(() => this.currentLearningRate().item());
  }

  set learningRate(value: number | LearningRateSchedule) {
    if (value instanceof LearningRateSchedule) {
      if (this.lrVariable) {
        const lrVar = this.lrVariable;
        this.tracked = this.tracked.filter((t) => t.variable !== lrVar);
        this.lrVariable = null;
      }
      this.schedule = value;
      return;
    }
    if (this.schedule) {
      throw new TypeError(
        `${this.name}: This optimizer was created with a LearningRateSchedule as its learning rate, hence its learning rate is not settable. ` +
          'If you need the learning rate to be settable, create the optimizer with a number learningRate.',
      );
    }
    const lr = checkLearningRate(this.name, value);
    initScope(() => this.lrVariable!.assign(scalar(lr, 'float32')));
  }

  /** The schedule, when the learning rate is one. */
  get learningRateSchedule(): LearningRateSchedule | null {
    return this.schedule;
  }

  /** The `learning_rate` variable, when the learning rate is a number. */
  get learningRateVariable(): Variable | null {
    return this.lrVariable;
  }

  /** The current learning rate as a float32 scalar tensor, written with ops (symbolic while tracing). */
  currentLearningRate(): Tensor {
    if (this.schedule) {
      const lr = this.schedule.call(this.iterations.value);
      if (!(lr instanceof Tensor)) throw new TypeError(`${this.name}: the learning rate schedule returned ${describe(lr)}; expected a tensor.`);
      return lr;
    }
    return this.lrVariable!.value;
  }

  /**
   * The step count the update rules use (Keras's `iterations` property):
   * `iterations`, or `floor(iterations / gradientAccumulationSteps)` when
   * accumulating gradients. An int32 scalar tensor.
   */
  protected currentIterations(): Tensor {
    const it = this.iterations.value;
    return this.gradientAccumulationSteps ? ops.floorDivide(it, this.gradientAccumulationSteps) : it;
  }

  // -------------------------------------------------------------------------
  // Weight decay

  /**
   * Excludes variables from weight decay: those in `varList`, and those
   * whose name matches any of `varNames` (e.g. `['bias']`). Call it before
   * the optimizer is built.
   */
  excludeFromWeightDecay(options: ExcludeFromWeightDecayOptions = {}): void {
    if (this.built) {
      throw new Error(`${this.name}.excludeFromWeightDecay can only be configured before the optimizer is built (before its first apply or build call).`);
    }
    this.excludedVariables = new Set(options.varList ?? []);
    const names = options.varNames ?? [];
    this.excludedPattern = names.length > 0 ? new RegExp([...new Set(names)].join('|')) : null;
  }

  private useWeightDecay(variable: Variable): boolean {
    if (this.excludedVariables.has(variable)) return false;
    if (this.excludedPattern && this.excludedPattern.test(variable.name)) return false;
    return true;
  }

  private applyWeightDecay(variables: readonly Variable[], learningRate: Tensor): void {
    if (this.weightDecay === null) return;
    for (const v of variables) {
      if (!this.useWeightDecay(v)) continue;
      const lr = ops.cast(learningRate, v.dtype);
      v.assign(ops.subtract(v.value, ops.multiply(ops.multiply(v.value, this.weightDecay), lr)));
    }
  }

  // -------------------------------------------------------------------------
  // Clipping

  private clipByNorm(g: Tensor, clipnorm: number): Tensor {
    const l2sum = ops.sum(ops.square(g), { keepdims: true });
    const positive = ops.greater(l2sum, 0);
    // The two-`where` form keeps the gradient of sqrt finite at 0 (as Keras).
    const safe = ops.where(positive, l2sum, ops.onesLike(l2sum));
    const l2norm = ops.where(positive, ops.sqrt(safe), l2sum);
    return ops.divide(ops.multiply(g, clipnorm), ops.maximum(l2norm, clipnorm));
  }

  private clipGradients(grads: Tensor[]): Tensor[] {
    if (this.clipnorm !== null && this.clipnorm > 0) return grads.map((g) => this.clipByNorm(g, this.clipnorm!));
    if (this.globalClipnorm !== null && this.globalClipnorm > 0) return clipByGlobalNorm(grads, this.globalClipnorm);
    if (this.clipvalue !== null && this.clipvalue > 0) {
      const c = this.clipvalue;
      return grads.map((g) => ops.clip(g, -c, c));
    }
    return grads;
  }

  // -------------------------------------------------------------------------
  // Applying gradients

  /** Multiplies the loss by `lossScaleFactor` (when set), before gradients are computed. */
  scaleLoss(loss: Tensor): Tensor {
    return this.lossScaleFactor === null ? loss : ops.multiply(loss, this.lossScaleFactor);
  }

  /** Applies `[gradient, variable]` pairs; returns the `iterations` variable (as tf.keras). */
  applyGradients(pairs: ReadonlyArray<readonly [Tensor | null | undefined, Variable]>): Variable {
    this.apply(
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
    );
    return this.iterations;
  }

  /**
   * Updates `variables` with `grads` (one per variable; null leaves the
   * variable unchanged, with a warning). Without `variables`, the gradients
   * are for the variables the optimizer was built with. Builds the
   * optimizer on first use.
   */
  apply(grads: readonly (Tensor | null | undefined)[], variables?: readonly Variable[]): void {
    if (!Array.isArray(grads)) throw new TypeError(`${this.name}.apply: expected a list of gradients. Received: ${describe(grads)}`);
    if (grads.length === 0) return;
    let vars: Variable[];
    if (variables === undefined) {
      if (!this.built) {
        throw new Error(
          `${this.name}.apply: when passing gradients without variables, the optimizer must already be built on a list of variables. Call optimizer.build(trainableVariables) first.`,
        );
      }
      if (grads.length !== this.trainable.length) {
        throw new Error(
          `${this.name}.apply: when passing only gradients, they must match the optimizer's variables one to one. ` +
            `Received ${grads.length} gradients, but the optimizer tracks ${this.trainable.length} trainable variables.`,
        );
      }
      vars = [...this.trainable];
    } else {
      vars = [...variables];
      if (vars.length !== grads.length) throw new Error(`${this.name}.apply: received ${grads.length} gradients for ${vars.length} variables.`);
      if (!this.built) initScope(() => withNameScope(this.name, () => this.build(vars)));
      for (const v of vars) {
        if (!this.indices.has(v)) {
          throw new Error(
            `${this.name}.apply: unknown variable '${v instanceof Variable ? v.path : describe(v)}'. This optimizer can only be called for the variables it was originally built with. ` +
              'When working with a new set of variables, create a new optimizer.',
          );
        }
      }
    }

    withNameScope(this.name, () => {
      // Skip missing gradients (Keras warns and leaves those variables unchanged).
      const pairs: [Tensor, Variable][] = [];
      const missing: string[] = [];
      grads.forEach((g, i) => {
        if (g === null || g === undefined) missing.push(vars[i].path);
        else if (!(g instanceof Tensor)) throw new TypeError(`${this.name}.apply: gradient ${i} (for '${vars[i].path}') is not a tensor: ${describe(g)}`);
        else {
          if (!isFloat(g.dtype)) throw new TypeError(`${this.name}.apply: gradient ${i} (for '${vars[i].path}') has dtype ${g.dtype}; gradients must be floating point.`);
          pairs.push([g, vars[i]]);
        }
      });
      if (pairs.length === 0) throw new Error(`${this.name}.apply: No gradients provided for any variable.`);
      if (missing.length > 0) {
        warnOnce(
          `optimizer-missing-gradients:${this.name}:${missing.join(',')}`,
          `Gradients do not exist for variables [${missing.map((m) => `'${m}'`).join(', ')}] when minimizing the loss. They are left unchanged. ` +
            'If using model.compile(), did you forget to provide a loss argument?',
        );
      }
      let gs = pairs.map((p) => p[0]);
      const vs = pairs.map((p) => p[1]);
      if (this.lossScaleFactor !== null) gs = gs.map((g) => ops.divide(g, this.lossScaleFactor!));

      this.applyGradientUpdates(gs, vs);
      for (const v of vs) {
        if (v.constraint) v.assign(v.constraint.call(v.value));
      }
    });
    this.iterations.assignAdd(scalar(1, 'int32'));
  }

  /** Clipping, weight decay, the update steps (with gradient accumulation), and the EMA. */
  private applyGradientUpdates(grads: Tensor[], vars: Variable[]): void {
    const learningRate = this.currentLearningRate();
    const steps = this.gradientAccumulationSteps;
    if (steps) {
      const isUpdateStep = ops.equal(ops.mod(ops.add(this.iterations.value, 1), steps), 0);
      const accs = vars.map((v) => this.accumulators[this.variableIndex(v)]);
      // The update branch runs unconditionally and its assignments are then
      // selected with `where`: every variable the update may change is read
      // before and after (model variables, their slots, the optimizer's own
      // variables) and set to `where(isUpdateStep, after, before)`.
      const inApply = new Set(vars);
      const touched = [
        ...vars,
        ...this.tracked.filter((t) => (t.kind === 'slot' && t.reference !== null && inApply.has(t.reference)) || (t.kind === 'own' && t.variable !== this.iterations && t.variable !== this.lrVariable)).map((t) => t.variable),
      ];
      const before = touched.map((v) => v.value);
      const accAdded = grads.map((g, i) => ops.add(ops.cast(g, accs[i].dtype), accs[i].value));
      let meanGrads = accAdded.map((g) => ops.divide(g, steps));
      meanGrads = this.clipGradients(meanGrads);
      this.applyWeightDecay(vars, learningRate);
      this.updateSteps(meanGrads, vars, learningRate);
      touched.forEach((v, i) => v.assign(ops.where(isUpdateStep, v.value, before[i])));
      // Accumulators: reset after an update (all of them, as Keras), else add the gradient.
      const accIndex = new Map(accs.map((a, i) => [a, i]));
      for (const acc of this.accumulators) {
        const i = accIndex.get(acc);
        const kept = i === undefined ? acc.value : accAdded[i];
        acc.assign(ops.where(isUpdateStep, ops.zerosLike(acc.value), kept));
      }
    } else {
      const clipped = this.clipGradients(grads);
      this.applyWeightDecay(vars, learningRate);
      this.updateSteps(clipped, vars, learningRate);
    }

    if (this.useEma) {
      const it = this.currentIterations();
      this.trainable.forEach((v, i) => {
        const average = this.averages[i];
        const momentum = ops.multiply(ops.cast(ops.notEqual(it, 0), v.dtype), this.emaMomentum);
        average.assign(ops.add(ops.multiply(momentum, average.value), ops.multiply(ops.subtract(1, momentum), v.value)));
      });
      if (this.emaOverwriteFrequency) {
        const overwrite = ops.equal(ops.mod(ops.add(it, 1), this.emaOverwriteFrequency), 0);
        this.trainable.forEach((v, i) => v.assign(ops.where(overwrite, this.averages[i].value, v.value)));
      }
    }
  }

  /**
   * Runs `updateStep` for every (gradient, variable) pair. Subclasses that
   * keep state shared by all variables (Nadam's `u_product`) override it and
   * update that state first.
   */
  protected updateSteps(grads: readonly Tensor[], variables: readonly Variable[], learningRate: Tensor): void {
    grads.forEach((g, i) => this.updateStep(g, variables[i], learningRate));
  }

  /** Updates one variable (and its slots) from its gradient, with ops and `assign`. */
  abstract updateStep(gradient: Tensor, variable: Variable, learningRate: Tensor): void;

  /** The gradient and learning rate cast to the variable's dtype (as every Keras update step starts). */
  protected castToVariable(gradient: Tensor, variable: Variable, learningRate: Tensor): { g: Tensor; lr: Tensor } {
    return { g: ops.cast(gradient, variable.dtype), lr: ops.cast(learningRate, variable.dtype) };
  }

  /**
   * Replaces the trainable variables with their moving averages when EMA is
   * on (Keras's `finalize_variable_values`; `fit` calls it after training).
   * Does nothing otherwise.
   */
  finalizeVariableValues(variables: readonly Variable[] = this.trainable): void {
    if (!this.useEma) return;
    if (variables.length !== this.averages.length) {
      throw new Error(
        `${this.name}.finalizeVariableValues: the number of variables (${variables.length}) does not match the number of moving averages the optimizer keeps (${this.averages.length}). ` +
          'Check that the optimizer was applied to these variables.',
      );
    }
    variables.forEach((v, i) => v.assign(this.averages[i].value));
  }

  // -------------------------------------------------------------------------
  // Config

  /** Keras's config: the base keys, then the subclass's own. */
  getConfig(): Config {
    let learningRate: unknown;
    if (this.schedule) learningRate = serializeSchedule(this.schedule);
    else learningRate = initScope(() => this.lrVariable!.value.item());
    const config: Config = {
      name: this.name,
      learning_rate: learningRate,
      weight_decay: this.weightDecay,
      clipnorm: this.clipnorm,
      global_clipnorm: this.globalClipnorm,
      clipvalue: this.clipvalue,
      use_ema: this.useEma,
      ema_momentum: this.emaMomentum,
      ema_overwrite_frequency: this.emaOverwriteFrequency,
      loss_scale_factor: this.lossScaleFactor,
      gradient_accumulation_steps: this.gradientAccumulationSteps,
    };
    const own = (this.constructor as typeof Optimizer).ownConfigKeys;
    for (const [key, option] of own) config[key] = (this as unknown as Record<string, unknown>)[option];
    return config;
  }

  /** Reads Keras's config keys into constructor options (null means the default). */
  static optionsFromConfig(className: string, config: Config, ownKeys: ReadonlyArray<readonly [string, string]>, customObjects?: Record<string, unknown>): Record<string, unknown> {
    const keys = [...BASE_CONFIG_KEYS, ...ownKeys];
    const c = readConfig(
      className,
      config,
      keys.map(([k]) => k),
      LEGACY_CONFIG_KEYS,
    );
    if (config && typeof config === 'object' && (config as Config).decay !== undefined && (config as Config).decay !== null && (config as Config).decay !== 0) {
      warn(`${className}.fromConfig: Argument \`decay\` is no longer supported and will be ignored.`);
    }
    const options: Record<string, unknown> = {};
    for (const [key, option] of keys) {
      if (!(key in c)) continue;
      let value = opt<unknown>(c[key]);
      if (key === 'learning_rate' && isKerasObject(value)) value = deserializeSchedule(value, customObjects);
      if (value !== undefined) options[option] = value;
    }
    return options;
  }

  /** Builds an optimizer from its Keras config (Keras's `cls(**config)`, a serialized schedule included). */
  static fromConfig(this: new (options?: never) => Optimizer, config: Config, customObjects?: Record<string, unknown>): Optimizer {
    const cls = this as unknown as typeof Optimizer;
    return new this(Optimizer.optionsFromConfig(cls.className, config, cls.ownConfigKeys, customObjects) as never);
  }
}

/** The global L2 norm of a list of tensors (computed in float64 if any is float64, else float32). */
export function globalNorm(values: readonly Tensor[]): Tensor {
  const dtype: DType = values.some((v) => v.dtype === 'float64') ? 'float64' : 'float32';
  let total: Tensor | null = null;
  for (const v of values) {
    const s = ops.cast(ops.sum(ops.square(v)), dtype);
    total = total ? ops.add(total, s) : s;
  }
  return ops.sqrt(total ?? scalar(0, dtype));
}

/**
 * Scales every tensor by `clipNorm / max(globalNorm, clipNorm)` (Keras's
 * `clip_by_global_norm`; a non-finite norm makes the scale NaN).
 */
export function clipByGlobalNorm(values: readonly Tensor[], clipNorm: number): Tensor[] {
  const norm = globalNorm(values);
  const scaleForFinite = ops.multiply(clipNorm, ops.minimum(ops.divide(1, norm), 1 / clipNorm));
  const scale = ops.add(scaleForFinite, ops.subtract(norm, norm));
  return values.map((v) => ops.multiply(v, ops.cast(scale, v.dtype)));
}
