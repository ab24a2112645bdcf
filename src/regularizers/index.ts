/**
 * `strata.regularizers` (keras.regularizers): the regularizer classes,
 * `get`, `serialize` and `deserialize`.
 *
 * Names accepted by `get`: each class name ('L1', 'L1L2',
 * 'OrthogonalRegularizer'), its Keras snake_case form ('l1', 'l2', 'l1l2',
 * 'orthogonal_regularizer'), and 'l1_l2', which (as Keras documents)
 * gives L1L2 with both factors 0.01.
 */
import { registerBuiltin } from '../serialization/registry.ts';
import { type ObjectFamily, type AnyFunction, type Serialized, type SerializedLike, deserializeIdentifier, getObject, nameTable, serializeIdentifier } from '../initializers/lookup.ts';
import { FunctionRegularizer, L1, L1L2, L2, OrthogonalRegularizer, Regularizer, type RegularizerFunction } from './regularizers.ts';

export { Regularizer, FunctionRegularizer, L1, L2, L1L2, OrthogonalRegularizer } from './regularizers.ts';
export type { RegularizerFunction, L1Options, L2Options, L1L2Options, OrthogonalRegularizerOptions, OrthogonalRegularizerMode } from './regularizers.ts';
export type { Serialized, SerializedFunction, SerializedLike } from '../initializers/lookup.ts';

const MODULE = 'keras.regularizers';
const CLASSES = [L1, L2, L1L2, OrthogonalRegularizer];
for (const cls of CLASSES) registerBuiltin(MODULE, cls);

const NAMES = nameTable<Regularizer>(CLASSES, {
  l1_l2: { cls: L1L2, fromString: () => new L1L2({ l1: 0.01, l2: 0.01 }) },
});

const FAMILY: ObjectFamily<Regularizer> = {
  noun: 'regularizer',
  namespace: 'regularizers',
  module: MODULE,
  isInstance: (x): x is Regularizer => x instanceof Regularizer,
  names: NAMES,
  wrapFunction: (fn) => new FunctionRegularizer(fn as unknown as RegularizerFunction),
  unwrapFunction: (obj) => (obj instanceof FunctionRegularizer ? (obj.fn as unknown as AnyFunction) : undefined),
};

/** Anything `get` accepts. */
export type RegularizerIdentifier = string | SerializedLike | Regularizer | RegularizerFunction | (new () => Regularizer) | null | undefined;

/**
 * A regularizer from a name ('l2', 'L1L2'), a serialized object, an
 * instance, a Regularizer subclass or a function `(x) => Tensor`.
 * `null`/`undefined` give null (no regularization).
 */
export function get(identifier: null | undefined): null;
export function get(identifier: NonNullable<RegularizerIdentifier>): Regularizer;
export function get(identifier: RegularizerIdentifier): Regularizer | null;
export function get(identifier: RegularizerIdentifier): Regularizer | null {
  return getObject(FAMILY, identifier);
}

/** Keras's serialized form; null for null. */
export function serialize(regularizer: Regularizer): Serialized;
export function serialize(regularizer: Regularizer | null | undefined): Serialized | null;
export function serialize(regularizer: Regularizer | null | undefined): Serialized | null {
  return serializeIdentifier(FAMILY, regularizer);
}

/** Rebuilds a regularizer from a name or a serialized object. */
export function deserialize(config: string | SerializedLike, customObjects?: Record<string, unknown>): Regularizer {
  return deserializeIdentifier(FAMILY, config, customObjects);
}
