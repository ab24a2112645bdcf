/**
 * Dtype policies (Keras's DTypePolicy): the dtype a layer computes in and
 * the dtype of its variables. Strata computes in float32 or float64. The
 * half-precision policies (float16, bfloat16, mixed_float16,
 * mixed_bfloat16) are accepted so Keras models that use them load and save
 * with their policy names, but they compute and store in float32 (more
 * precise than Keras; results differ at half-precision rounding level).
 */
import { type DType, isDType } from '../tensor/dtype.ts';
import { registerBuiltin, type Config } from '../serialization/registry.ts';
import { warnOnce } from '../engine/warnings.ts';

const SUPPORTED = ['float32', 'float64', 'int32', 'bool'] as const;
const HALF_PRECISION = ['float16', 'bfloat16', 'mixed_float16', 'mixed_bfloat16'];

export class DTypePolicy {
  static readonly className = 'DTypePolicy';
  readonly name: string;

  constructor(name: string = 'float32') {
    if (!(SUPPORTED as readonly string[]).includes(name)) {
      if (!HALF_PRECISION.includes(name)) {
        throw new Error(`Unknown dtype policy '${name}'. Expected one of ${[...SUPPORTED, ...HALF_PRECISION].join(', ')}.`);
      }
      warnOnce(`half-precision:${name}`, `Dtype policy '${name}': Strata has no half-precision dtype yet; layers with this policy compute and keep their weights in float32.`);
    }
    this.name = name;
  }

  get computeDtype(): DType {
    return HALF_PRECISION.includes(this.name) ? 'float32' : (this.name as DType);
  }

  get variableDtype(): DType {
    return HALF_PRECISION.includes(this.name) ? 'float32' : (this.name as DType);
  }

  getConfig(): Config {
    return { name: this.name };
  }

  static fromConfig(config: Config): DTypePolicy {
    return new DTypePolicy(String(config.name ?? 'float32'));
  }

  toString(): string {
    return `<DTypePolicy "${this.name}">`;
  }
}
registerBuiltin('keras', DTypePolicy);
registerBuiltin('keras', DTypePolicy, 'FloatDTypePolicy');

/** Accepts a dtype string, a policy, or a serialized policy (Keras 3.4+ dict or the older plain string). */
export function dtypePolicy(value: unknown): DTypePolicy {
  if (value === undefined || value === null) return new DTypePolicy('float32');
  if (value instanceof DTypePolicy) return value;
  if (typeof value === 'string') return new DTypePolicy(value);
  if (typeof value === 'object' && 'config' in (value as object)) {
    const config = (value as { config: unknown }).config;
    if (typeof config === 'object' && config !== null && 'name' in config) return new DTypePolicy(String((config as { name: unknown }).name));
  }
  throw new TypeError(`Cannot interpret ${JSON.stringify(value)} as a dtype policy. Expected a dtype name such as 'float32'.`);
}

export function serializeDTypePolicy(policy: DTypePolicy): Config {
  return { module: 'keras', class_name: 'DTypePolicy', config: { name: policy.name }, registered_name: null };
}

export function isDTypeName(x: unknown): x is DType {
  return isDType(x);
}
