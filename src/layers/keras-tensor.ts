/**
 * KerasTensor: a symbolic placeholder used to build functional models
 * (`Input` → layers → `new Model({inputs, outputs})`). It carries a shape
 * (with null for the batch and other unknown dims), a dtype, and its history:
 * the layer call (node) that produced it.
 */
import type { DType } from '../tensor/dtype.ts';
import { type Shape, formatShape } from '../tensor/shape.ts';
import type { Layer } from './layer.ts';

export interface KerasHistory {
  readonly layer: Layer;
  readonly nodeIndex: number;
  readonly tensorIndex: number;
}

let nextKerasTensorId = 0;

export class KerasTensor {
  readonly id = nextKerasTensorId++;
  readonly shape: Shape;
  readonly dtype: DType;
  /** Set when a layer call produces this tensor. */
  history: KerasHistory | null = null;
  /** The mask a layer attached to this output (Embedding with maskZero, Masking). */
  mask: KerasTensor | null = null;

  constructor(shape: Shape, dtype: DType, readonly name = '') {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
  }

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    const from = this.history ? `, created by layer '${this.history.layer.name}'` : '';
    return `KerasTensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}${this.name ? `, name=${this.name}` : ''}${from})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** KerasTensors have no values: they only describe a model's wiring. */
  dataSync(): never {
    throw new Error(
      `${this.toString()} has no values: it is a symbolic placeholder for building a functional model. ` +
        'Build the model with new strata.Model({inputs, outputs}) and call it (model.apply or model.predict) on real tensors.',
    );
  }
}

/** Whether a (possibly nested) layer input contains KerasTensors. */
export function containsKerasTensor(x: unknown): boolean {
  if (x instanceof KerasTensor) return true;
  if (Array.isArray(x)) return x.some(containsKerasTensor);
  if (x && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) return Object.values(x).some(containsKerasTensor);
  return false;
}
