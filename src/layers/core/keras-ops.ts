/**
 * Keras operations that appear as nodes of functional models: Keras 3 records
 * some computations on KerasTensors as operation nodes (most often
 * `NotEqual(tokens, 0)`, the mask of an Embedding with mask_zero, passed to a
 * recurrent layer). Each becomes a small layer here, so such models load.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import * as ops from '../../ops/index.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { Layer, type LayerOptions } from '../layer.ts';

type Binary = (a: Tensor, b: Tensor) => Tensor;

function binaryOperation(className: string, op: Binary): typeof Layer & { className: string } {
  const cls = class extends Layer {
    static override readonly className = className;
    constructor(options: LayerOptions = {}) {
      super(options);
    }
    override call(inputs: Tensor[]): Tensor {
      if (!Array.isArray(inputs) || inputs.length !== 2) throw new Error(`${className} '${this.name}' takes two arguments.`);
      return op(inputs[0], inputs[1]);
    }
    override getConfig(): Config {
      return { name: this.name };
    }
    static override fromConfig(config: Config): Layer {
      return new cls({ name: config.name as string | undefined });
    }
  };
  Object.defineProperty(cls, 'name', { value: className });
  registerBuiltin('keras.src.ops.numpy', cls);
  return cls as unknown as typeof Layer & { className: string };
}

export const NotEqual = binaryOperation('NotEqual', ops.notEqual);
export const Equal = binaryOperation('Equal', ops.equal);
export const Greater = binaryOperation('Greater', ops.greater);
export const Less = binaryOperation('Less', ops.less);
// Keras records the merged masks of merging layers (Add of masked inputs) as these.
export const LogicalAnd = binaryOperation('LogicalAnd', ops.logicalAnd);
export const LogicalOr = binaryOperation('LogicalOr', ops.logicalOr);
