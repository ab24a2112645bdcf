/**
 * InputLayer and `Input()`: the entry points of functional models. `Input`
 * returns a KerasTensor (batch dim unknown unless `batchSize` is given).
 */
import { type DType, assertDType } from '../../tensor/dtype.ts';
import { type Shape, validateShape } from '../../tensor/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { KerasTensor } from '../keras-tensor.ts';
import { Layer, uniqueLayerName } from '../layer.ts';
import { recordNode } from '../node.ts';

export interface InputLayerOptions {
  /** Shape without the batch dim. */
  shape?: readonly (number | null)[];
  batchSize?: number | null;
  /** Full shape including the batch dim (alternative to shape + batchSize). */
  batchShape?: readonly (number | null)[];
  dtype?: DType;
  name?: string;
  sparse?: boolean;
}

export class InputLayer extends Layer {
  static override readonly className = 'InputLayer';
  readonly batchShape: Shape;
  readonly inputDtype: DType;
  readonly output: KerasTensor;

  constructor(options: InputLayerOptions = {}) {
    super({ name: options.name ?? uniqueLayerName('input_layer'), dtype: options.dtype ?? 'float32' });
    if (options.sparse) throw new Error(`InputLayer '${this.name}': sparse inputs are not supported.`);
    const batchShape = options.batchShape ?? (options.shape ? [options.batchSize ?? null, ...options.shape] : null);
    if (!batchShape) throw new Error(`InputLayer '${this.name}': pass shape (without the batch dim) or batchShape.`);
    validateShape(batchShape, `InputLayer '${this.name}'`, true);
    this.batchShape = Object.freeze([...batchShape]);
    this.inputDtype = assertDType(options.dtype ?? 'float32', `InputLayer '${this.name}'`);
    this.built = true;
    this.output = new KerasTensor(this.batchShape, this.inputDtype, this.name);
    const nodeIndex = this._addInboundNode(recordNode(this, [], this.output, {}));
    this.output.history = { layer: this, nodeIndex, tensorIndex: 0 };
  }

  override call(inputs: Tensor): Tensor {
    return inputs;
  }

  override getConfig(): Config {
    return { batch_shape: [...this.batchShape], dtype: this.inputDtype, sparse: false, ragged: false, name: this.name, optional: false };
  }

  static override fromConfig(config: Config): InputLayer {
    const batchShape = (config.batch_shape ?? config.batch_input_shape) as (number | null)[] | undefined;
    const shape = config.shape as (number | null)[] | undefined;
    const dtype = typeof config.dtype === 'string' ? (config.dtype as DType) : 'float32';
    return new InputLayer({ batchShape: batchShape ?? (shape ? [null, ...shape] : undefined), dtype, name: config.name as string | undefined });
  }
}
registerBuiltin('keras.layers', InputLayer);

export interface InputOptions extends InputLayerOptions {
  shape?: readonly (number | null)[];
}

/** A symbolic input for a functional model: `strata.Input({shape: [784]})`. */
export function Input(options: InputOptions): KerasTensor {
  return new InputLayer(options).output;
}
