/**
 * `strata.constraints` (keras.constraints): the constraint classes, `get`,
 * `serialize` and `deserialize`.
 *
 * Names accepted by `get`: each class name ('MaxNorm') and its snake_case
 * form ('max_norm', 'min_max_norm', 'non_neg', 'unit_norm').
 */
import { registerBuiltin } from '../serialization/registry.ts';
import { type ObjectFamily, type AnyFunction, type Serialized, type SerializedLike, deserializeIdentifier, getObject, nameTable, serializeIdentifier } from '../initializers/lookup.ts';
import { Constraint, type ConstraintFunction, FunctionConstraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm } from './constraints.ts';

export { Constraint, FunctionConstraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm } from './constraints.ts';
export type { ConstraintFunction, MaxNormOptions, MinMaxNormOptions, UnitNormOptions } from './constraints.ts';
export type { Serialized, SerializedFunction, SerializedLike } from '../initializers/lookup.ts';

const MODULE = 'keras.constraints';
const CLASSES = [Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm];
for (const cls of CLASSES) registerBuiltin(MODULE, cls);

const NAMES = nameTable<Constraint>(CLASSES);

const FAMILY: ObjectFamily<Constraint> = {
  noun: 'constraint',
  namespace: 'constraints',
  module: MODULE,
  isInstance: (x): x is Constraint => x instanceof Constraint,
  names: NAMES,
  wrapFunction: (fn) => new FunctionConstraint(fn as unknown as ConstraintFunction),
  unwrapFunction: (obj) => (obj instanceof FunctionConstraint ? (obj.fn as unknown as AnyFunction) : undefined),
};

/** Anything `get` accepts. */
export type ConstraintIdentifier = string | SerializedLike | Constraint | ConstraintFunction | (new () => Constraint) | null | undefined;

/**
 * A constraint from a name ('max_norm', 'NonNeg'), a serialized object, an
 * instance, a Constraint subclass or a function `(w) => Tensor`.
 * `null`/`undefined` give null (no constraint).
 */
export function get(identifier: null | undefined): null;
export function get(identifier: NonNullable<ConstraintIdentifier>): Constraint;
export function get(identifier: ConstraintIdentifier): Constraint | null;
export function get(identifier: ConstraintIdentifier): Constraint | null {
  return getObject(FAMILY, identifier);
}

/** Keras's serialized form; null for null. */
export function serialize(constraint: Constraint): Serialized;
export function serialize(constraint: Constraint | null | undefined): Serialized | null;
export function serialize(constraint: Constraint | null | undefined): Serialized | null {
  return serializeIdentifier(FAMILY, constraint);
}

/** Rebuilds a constraint from a name or a serialized object. */
export function deserialize(config: string | SerializedLike, customObjects?: Record<string, unknown>): Constraint {
  return deserializeIdentifier(FAMILY, config, customObjects);
}
