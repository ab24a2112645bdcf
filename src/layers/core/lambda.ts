/**
 * Lambda: wraps a function of tensors as a layer, for quick experiments in
 * Sequential and functional models. The function is called as
 * `fn(inputs)`, or `fn(inputs, {...arguments, mask, training})` when it
 * declares a second parameter or `arguments` is given (Keras passes these as
 * keyword arguments).
 *
 * Serialization (Keras's advice applies: subclass Layer instead when the
 * model must be saved):
 * - a function registered with `registerSerializable(fn, {package})` is
 *   stored by name, in Keras's function form
 *   `{module: null, class_name: 'function', config: '<name>', registered_name: '<package>><name>'}`,
 *   and is found again by that name when loading;
 * - any other function is stored as its JavaScript source text in Keras's
 *   Lambda form `{class_name: '__lambda__', config: {code: '<source>', defaults: null, closure: null}}`.
 *   Loading it means evaluating code from a file, so `Lambda.fromConfig`
 *   refuses it unless called with `{safeMode: false}` (the saving module
 *   refuses it in safe mode). Free variables of the original function
 *   (closures, imports) are not stored, so such a function only works again
 *   if it uses nothing but its arguments.
 * The same applies to `outputShape` and `mask` when they are functions.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Shape } from '../../tensor/shape.ts';
import { describe } from '../../tensor/shape.ts';
import { warn } from '../../engine/warnings.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, registeredNameOf, type Config } from '../../serialization/registry.ts';
import { UnknownObjectError } from '../../serialization/keras-object.ts';
import { resolveFunction, serializeFunction } from '../../initializers/lookup.ts';
import { type CallOptions, type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

/** What the wrapped function receives besides the inputs. */
export type LambdaExtras = Record<string, unknown> & { mask?: Tensor | null | (Tensor | null)[]; training?: boolean };

/** The wrapped function: `(inputs, extras: LambdaExtras) => outputs` (typed loosely so functions may declare the extras they read). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LambdaFunction = (inputs: any, extras: any) => unknown;
export type LambdaOutputShape = readonly (number | null)[] | ((inputShape: InputShape) => Shape | Shape[]);
export type LambdaMask = (inputs: unknown, mask: Tensor | null | (Tensor | null)[] | undefined) => Tensor | null | (Tensor | null)[];

export interface LambdaOptions extends LayerOptions {
  /** The output shape without the batch dim, or a function of the full input shape. Inferred by tracing when omitted. */
  outputShape?: LambdaOutputShape | null;
  /** A function `(inputs, mask) => outputMask`; null means the layer outputs no mask. */
  mask?: LambdaMask | null;
  /** Extra keyword-style arguments passed to the function (JSON values, so they serialize). */
  arguments?: Record<string, unknown>;
}

export interface LambdaFromConfigOptions {
  /** Refuse functions stored as source text (default true). */
  safeMode?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

const warned = new WeakSet<AnyFunction>();

/** A function's config: its registered name, or its source text in Keras's `__lambda__` form. */
function serializeFn(fn: AnyFunction, where: string): Config {
  if (registeredNameOf(fn as never)) return serializeFunction(fn as never, where) as unknown as Config;
  return { class_name: '__lambda__', config: { code: Function.prototype.toString.call(fn), defaults: null, closure: null } };
}

function isLambdaSource(value: unknown): value is { class_name: '__lambda__'; config: { code: unknown } } {
  return typeof value === 'object' && value !== null && (value as { class_name?: unknown }).class_name === '__lambda__';
}

/** Rebuilds a function from its config (registered name, or source text when not in safe mode). */
function deserializeFn(value: unknown, what: string, layerName: string, safeMode: boolean): AnyFunction {
  const where = `Lambda '${layerName}' ${what}`;
  if (isLambdaSource(value)) {
    if (safeMode) {
      throw new Error(
        `${where}: the function was saved as source code (a '__lambda__' config). Loading it would run code from the file, which is refused in safe mode. ` +
          'If you trust the file, load it with safeMode: false; better, register the function with registerSerializable (or pass it as a custom object), or write a Layer subclass.',
      );
    }
    const code = value.config?.code;
    if (typeof code !== 'string') throw new Error(`${where}: the '__lambda__' config has no source code (config.code is ${describe(code)}).`);
    let fn: unknown;
    try {
      // The rebuilt function sees `ops` (strata.ops), as most Lambda functions use it; other closure variables are lost.
      fn = new Function('ops', `return (${code});`)(ops);
    } catch (e) {
      throw new Error(`${where}: cannot rebuild the function from its saved source (${(e as Error).message}). A Lambda saved by Python Keras stores Python bytecode, which Strata cannot run.`);
    }
    if (typeof fn !== 'function') throw new Error(`${where}: the saved source does not evaluate to a function.`);
    return fn as AnyFunction;
  }
  if (typeof value === 'string' || (typeof value === 'object' && value !== null && (value as { class_name?: unknown }).class_name === 'function')) {
    const v = typeof value === 'string' ? { config: value, registered_name: value, module: null } : (value as { config?: unknown; registered_name?: string | null; module?: string | null });
    const name = typeof v.config === 'string' ? v.config : '';
    const fn = resolveFunction(name, v.registered_name, v.module);
    if (!fn) throw new UnknownObjectError(name || 'function', v.registered_name ?? null, where);
    return fn as AnyFunction;
  }
  throw new Error(`${where}: cannot read a function from ${describe(value)}; expected a registered function's config or a '__lambda__' config.`);
}

export class Lambda extends Layer {
  static override readonly className = 'Lambda';
  readonly function: LambdaFunction;
  readonly outputShape: LambdaOutputShape | null;
  readonly mask: LambdaMask | null;
  readonly arguments: Record<string, unknown>;

  constructor(fn: LambdaFunction, options: LambdaOptions = {}) {
    super(options);
    const where = `Lambda '${this.name}'`;
    if (typeof fn !== 'function') throw new TypeError(`${where}: the first argument must be a function of the inputs. Received: ${describe(fn)}`);
    const outputShape = options.outputShape ?? null;
    if (outputShape !== null && typeof outputShape !== 'function') {
      if (!Array.isArray(outputShape) || !outputShape.every((d) => d === null || (Number.isInteger(d) && d >= 0))) {
        throw new Error(`${where}: outputShape must be a list of dims (without the batch dim) or a function of the input shape. Received: outputShape=${describe(outputShape)}`);
      }
    }
    const mask = options.mask ?? null;
    if (mask !== null && typeof mask !== 'function') throw new Error(`${where}: mask must be a function (inputs, mask) => mask, or null. Received: mask=${describe(mask)}`);
    const args = options.arguments ?? {};
    if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new Error(`${where}: arguments must be a plain object. Received: arguments=${describe(args)}`);
    this.function = fn;
    this.outputShape = outputShape;
    this.mask = mask;
    this.arguments = { ...args };
    this.supportsMasking = mask !== null;
    if (!registeredNameOf(fn as never) && !warned.has(fn)) {
      warned.add(fn);
      warn(
        `${where}: a Lambda layer is saved with its function only when the function is registered (registerSerializable(fn, {package})); ` +
          'otherwise its source text is stored, which loads only with safeMode: false and without its closure. To save a model, prefer writing a Layer subclass with getConfig.',
      );
    }
  }

  override call(inputs: unknown, { mask, training }: CallOptions): unknown {
    const extras: LambdaExtras = { ...this.arguments, mask: mask ?? null, training: training ?? false };
    const fn = this.function as AnyFunction;
    return fn.length >= 2 || Object.keys(this.arguments).length > 0 ? fn(inputs, extras) : fn(inputs);
  }

  override computeMask(inputs: unknown, mask: Tensor | null | (Tensor | null)[] | undefined): Tensor | null | (Tensor | null)[] {
    return this.mask ? this.mask(inputs, mask) : null;
  }

  override computeOutputShape(inputShape: InputShape): Shape | Shape[] {
    if (this.outputShape === null) return super.computeOutputShape(inputShape);
    if (typeof this.outputShape === 'function') return this.outputShape(inputShape);
    const first = (Array.isArray(inputShape) && Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0] : (inputShape as Shape))[0] ?? null;
    return [first, ...this.outputShape];
  }

  override getConfig(): Config {
    const where = `Lambda '${this.name}'.getConfig`;
    const config: Config = { ...super.getConfig(), function: serializeFn(this.function, where) };
    if (this.outputShape !== null) config.output_shape = typeof this.outputShape === 'function' ? serializeFn(this.outputShape, where) : [...this.outputShape];
    if (this.mask !== null) config.mask = serializeFn(this.mask, where);
    config.arguments = JSON.parse(JSON.stringify(this.arguments)) as Config;
    return config;
  }

  static override fromConfig(config: Config, options: LambdaFromConfigOptions = {}): Lambda {
    const safeMode = options.safeMode ?? true;
    const name = String(config.name ?? 'lambda');
    const fn = deserializeFn(config.function, 'function', name, safeMode) as LambdaFunction;
    let outputShape: LambdaOutputShape | null = null;
    if (config.output_shape !== undefined && config.output_shape !== null) {
      outputShape = Array.isArray(config.output_shape) ? (config.output_shape as (number | null)[]) : (deserializeFn(config.output_shape, 'output_shape', name, safeMode) as LambdaOutputShape);
    }
    const mask = config.mask !== undefined && config.mask !== null ? (deserializeFn(config.mask, 'mask', name, safeMode) as LambdaMask) : null;
    const args = (config.arguments as Record<string, unknown> | undefined) ?? {};
    return new Lambda(fn, { ...baseOptionsFromConfig(config), outputShape, mask, arguments: args });
  }
}
registerBuiltin('keras.layers', Lambda);
