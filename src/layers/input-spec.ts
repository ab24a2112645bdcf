/**
 * What a layer accepts (Keras's InputSpec): rank constraints and fixed sizes
 * of given axes, checked on every call after the layer is built so a wrong
 * input gives an error naming the layer, the expectation and the shape.
 */
import type { DType } from '../tensor/dtype.ts';
import { type Shape, formatShape } from '../tensor/shape.ts';

export interface InputSpecOptions {
  ndim?: number;
  minNdim?: number;
  maxNdim?: number;
  /** Fixed sizes by axis (negative axes count from the end). */
  axes?: Record<number, number>;
  dtype?: DType;
  /** Allow the axes check to skip inputs whose rank is unknown. */
  allowLastAxisSqueeze?: boolean;
}

export class InputSpec {
  constructor(readonly options: InputSpecOptions) {}

  /** Throws a Keras-style error when `input` does not fit. */
  check(layerPath: string, index: number, input: { shape: Shape; dtype: DType }): void {
    const { ndim, minNdim, maxNdim, axes, dtype } = this.options;
    const prefix = `Input ${index} of layer '${layerPath}' is incompatible with the layer`;
    const rank = input.shape.length;
    if (ndim !== undefined && rank !== ndim) {
      throw new Error(`${prefix}: expected ndim=${ndim}, found ndim=${rank}. Full shape received: ${formatShape(input.shape)}`);
    }
    if (minNdim !== undefined && rank < minNdim) {
      throw new Error(`${prefix}: expected min_ndim=${minNdim}, found ndim=${rank}. Full shape received: ${formatShape(input.shape)}`);
    }
    if (maxNdim !== undefined && rank > maxNdim) {
      throw new Error(`${prefix}: expected max_ndim=${maxNdim}, found ndim=${rank}. Full shape received: ${formatShape(input.shape)}`);
    }
    if (dtype !== undefined && input.dtype !== dtype) {
      throw new Error(`${prefix}: expected dtype=${dtype}, found dtype=${input.dtype}.`);
    }
    for (const [key, size] of Object.entries(axes ?? {})) {
      const axis = Number(key);
      const a = axis < 0 ? rank + axis : axis;
      const actual = input.shape[a];
      if (a < 0 || a >= rank) {
        throw new Error(`${prefix}: expected an axis ${axis} of size ${size}, but the input has rank ${rank}. Full shape received: ${formatShape(input.shape)}`);
      }
      if (actual !== null && actual !== size) {
        throw new Error(`${prefix}: expected axis ${axis} of input shape to have value ${size}, but received input with shape ${formatShape(input.shape)}`);
      }
    }
  }
}
