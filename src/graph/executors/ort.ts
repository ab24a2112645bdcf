/**
 * onnxruntime-node access: sessions from in-memory model bytes, and tensor
 * conversion. The binding is loaded on first use, so importing Strata does
 * not load it (and platforms without it can use the interpreter).
 */
import type * as Ort from 'onnxruntime-node';
import type { DType, TypedArray } from '../../tensor/dtype.ts';
import type { Shape } from '../../tensor/shape.ts';
import { Tensor } from '../../tensor/tensor.ts';

export type OrtModule = typeof Ort;
let ortModule: Promise<OrtModule> | null = null;

export function loadOrt(): Promise<typeof Ort> {
  ortModule ??= import('onnxruntime-node').catch((e: unknown) => {
    ortModule = null;
    throw new Error(
      `Graph execution needs the onnxruntime-node package, which could not be loaded (${(e as Error).message}). ` +
        "Install it, or run compiled functions with strata.config.setGraphExecutor('interpreter').",
    );
  });
  return ortModule;
}

export interface SessionOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  executionMode?: 'sequential' | 'parallel';
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

export async function createSession(model: Uint8Array, options: SessionOptions = {}): Promise<Ort.InferenceSession> {
  const ort = await loadOrt();
  return ort.InferenceSession.create(model, {
    interOpNumThreads: 1,
    executionMode: 'sequential',
    ...options,
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    intraOpNumThreads: options.intraOpNumThreads ?? 1,
  });
}

const ORT_TYPE: Record<DType, Ort.Tensor.Type> = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool' };

export function toOrtTensor(ort: typeof Ort, values: TypedArray, shape: readonly number[], dtype: DType): Ort.Tensor {
  return new ort.Tensor(ORT_TYPE[dtype], values, [...shape]);
}

export function fromOrtTensor(t: Ort.Tensor, expected?: { shape: Shape; dtype: DType }): Tensor {
  const dims = t.dims.map(Number);
  let dtype: DType;
  let values: TypedArray;
  switch (t.type) {
    case 'float32': dtype = 'float32'; values = t.data as Float32Array; break;
    case 'float64': dtype = 'float64'; values = t.data as Float64Array; break;
    case 'int32': dtype = 'int32'; values = t.data as Int32Array; break;
    case 'bool': dtype = 'bool'; values = t.data as Uint8Array; break;
    case 'int64': dtype = 'int32'; values = Int32Array.from(t.data as BigInt64Array, (v) => Number(v)); break;
    default: throw new Error(`onnxruntime returned a tensor of type ${t.type}, which Strata does not support.`);
  }
  if (expected && expected.dtype !== dtype) throw new Error(`Internal error: the graph returned ${dtype} where ${expected.dtype} was inferred.`);
  return new Tensor(dims, dtype, values);
}
