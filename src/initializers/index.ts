/**
 * `strata.initializers` (keras.initializers): the initializer classes,
 * `get`, `serialize` and `deserialize`.
 *
 * Names accepted by `get`, as in Keras 3: each class name
 * ('GlorotUniform'), its snake_case form ('glorot_uniform'), and the
 * aliases 'uniform', 'normal', 'one', 'zero', 'orthogonal',
 * 'identity', 'OrthogonalInitializer', 'IdentityInitializer'.
 */
import type { DType } from '../tensor/dtype.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { registerBuiltin } from '../serialization/registry.ts';
import { type ObjectFamily, type AnyFunction, type Serialized, type SerializedLike, deserializeIdentifier, getObject, nameTable, serializeIdentifier } from './lookup.ts';
import { FunctionInitializer, Initializer, type InitializerFunction } from './initializer.ts';
import { Constant, Identity, Ones, Zeros } from './constant.ts';
import { RandomNormal, RandomUniform, TruncatedNormal } from './random.ts';
import { GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform, VarianceScaling } from './variance-scaling.ts';
import { Orthogonal } from './orthogonal.ts';

export { Initializer, FunctionInitializer, computeFans } from './initializer.ts';
export type { InitializerFunction, InitializerSeed } from './initializer.ts';
export type { Serialized, SerializedFunction, SerializedLike } from './lookup.ts';
export { Zeros, Ones, Constant, Identity } from './constant.ts';
export type { ConstantOptions, IdentityOptions } from './constant.ts';
export { RandomInitializer, RandomUniform, RandomNormal, TruncatedNormal } from './random.ts';
export type { RandomUniformOptions, RandomNormalOptions } from './random.ts';
export {
  VarianceScaling,
  GlorotUniform,
  GlorotNormal,
  HeUniform,
  HeNormal,
  LecunUniform,
  LecunNormal,
  TRUNCATED_NORMAL_STDDEV,
} from './variance-scaling.ts';
export type { VarianceScalingOptions, PresetOptions, FanMode, VarianceScalingDistribution } from './variance-scaling.ts';
export { Orthogonal } from './orthogonal.ts';
export type { OrthogonalOptions } from './orthogonal.ts';

/** Keras 3 aliases; `OrthogonalInitializer` is also the class itself. */
export const OrthogonalInitializer = Orthogonal;
export const IdentityInitializer = Identity;

const MODULE = 'keras.initializers';

const CLASSES = [Zeros, Ones, Constant, Identity, RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal];

// Older Keras 3 releases wrote these class names; register them first so the
// canonical names (registered last) are the ones written.
registerBuiltin(MODULE, Orthogonal, 'OrthogonalInitializer');
registerBuiltin(MODULE, Identity, 'IdentityInitializer');
for (const cls of CLASSES) registerBuiltin(MODULE, cls);

const NAMES = nameTable<Initializer>(CLASSES, {
  OrthogonalInitializer: { cls: Orthogonal },
  orthogonal_initializer: { cls: Orthogonal },
  IdentityInitializer: { cls: Identity },
  identity_initializer: { cls: Identity },
  uniform: { cls: RandomUniform },
  normal: { cls: RandomNormal },
  one: { cls: Ones },
  zero: { cls: Zeros },
});

const FAMILY: ObjectFamily<Initializer> = {
  noun: 'initializer',
  namespace: 'initializers',
  module: MODULE,
  isInstance: (x): x is Initializer => x instanceof Initializer,
  names: NAMES,
  wrapFunction: (fn) => new FunctionInitializer(fn as unknown as InitializerFunction),
  unwrapFunction: (obj) => (obj instanceof FunctionInitializer ? (obj.fn as unknown as AnyFunction) : undefined),
};

/** Anything `get` accepts. */
export type InitializerIdentifier = string | SerializedLike | Initializer | InitializerFunction | (new () => Initializer) | null | undefined;

/**
 * An initializer from a name ('glorot_uniform', 'GlorotUniform'), a
 * serialized object (Keras 3 or Keras 2 form), an instance (returned as
 * is), an Initializer subclass (built with its defaults) or a function
 * `(shape, dtype) => Tensor` (wrapped). `null`/`undefined` give null.
 */
export function get(identifier: null | undefined): null;
export function get(identifier: NonNullable<InitializerIdentifier>): Initializer;
export function get(identifier: InitializerIdentifier): Initializer | null;
export function get(identifier: InitializerIdentifier): Initializer | null {
  return getObject(FAMILY, identifier);
}

/** Keras's serialized form `{module, class_name, config, registered_name}`; null for null. */
export function serialize(initializer: Initializer): Serialized;
export function serialize(initializer: Initializer | null | undefined): Serialized | null;
export function serialize(initializer: Initializer | null | undefined): Serialized | null {
  return serializeIdentifier(FAMILY, initializer);
}

/** Rebuilds an initializer from a name or a serialized object; `customObjects` resolves user classes by name. */
export function deserialize(config: string | SerializedLike, customObjects?: Record<string, unknown>): Initializer {
  return deserializeIdentifier(FAMILY, config, customObjects);
}

/** Runs an initializer identifier (Keras's `initializer(shape, dtype)`). */
export function initialize(identifier: NonNullable<InitializerIdentifier>, shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return get(identifier).call(shape, dtype);
}
