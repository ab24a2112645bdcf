/**
 * `model.export(path, {format: 'onnx'})`: the inference graph (training off,
 * weights frozen as initializers) as a standalone ONNX model, with inputs
 * named after the model's input layers, outputs after its output layers, and
 * a dynamic batch dimension. Any ONNX runtime can run it.
 */
import type { Shape } from '../tensor/shape.ts';
import { TensorSpec, type Tensor } from '../tensor/tensor.ts';
import { zeros } from '../tensor/create.ts';
import { fn } from '../graph/function.ts';
import { lowerGraph } from '../graph/onnx/lower.ts';
import { writeFileAtomic } from '../graph/function.ts';
import type { Layer } from '../layers/layer.ts';
import { Functional } from '../models/functional.ts';
import { Sequential } from '../models/sequential.ts';

export interface OnnxExportOptions {
  format?: 'onnx';
  /** Input signature for models without an input shape (subclassed, unbuilt Sequential). */
  inputSignature?: TensorSpec[];
}

/**
 * The inference signature of a model: one spec per input (batch dimension unknown), named
 * after the input layers, and the output names (after the output layers). ONNX export and
 * the model server (src/serving) name inputs and outputs the same way.
 */
export function signatureOf(model: Layer, options: OnnxExportOptions = {}): { specs: TensorSpec[]; inputNames: string[]; outputNames: (n: number) => string[] } {
  const sanitize = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
  if (model instanceof Functional) {
    const inputs = model.inputTensors;
    const outputs = model.outputTensors;
    return {
      specs: inputs.map((k) => new TensorSpec(k.shape.map((d, i) => (i === 0 ? null : d)), k.dtype, k.history!.layer.name)),
      inputNames: inputs.map((k) => sanitize(k.history!.layer.name)),
      outputNames: () => outputs.map((k) => sanitize(k.history!.layer.name)),
    };
  }
  if (model instanceof Sequential && model.inputLayer) {
    const input = model.inputLayer;
    const last = model.layers.at(-1);
    return {
      specs: [new TensorSpec([null, ...input.batchShape.slice(1)] as Shape, input.inputDtype, input.name)],
      inputNames: [sanitize(input.name)],
      outputNames: () => [sanitize(last?.name ?? 'output')],
    };
  }
  if (!options.inputSignature) {
    throw new Error(`export: model '${model.name}' has no known input shape (subclassed or not yet built). Pass {inputSignature: [new strata.TensorSpec([null, ...])]}.`);
  }
  return {
    specs: options.inputSignature,
    inputNames: options.inputSignature.map((s, i) => sanitize(s.name ?? `input_${i}`)),
    outputNames: (n) => Array.from({ length: n }, (_, i) => `output_${i}`),
  };
}

/** The ONNX model bytes of `model` for inference. */
export function onnxModelBytes(model: Layer, options: OnnxExportOptions = {}): Uint8Array {
  if (options.format !== undefined && options.format !== 'onnx') throw new Error(`export: unsupported format '${options.format}'. Strata exports 'onnx'.`);
  const { specs, inputNames, outputNames } = signatureOf(model, options);
  const serve = fn((...xs: Tensor[]) => model.apply((xs.length === 1 ? xs[0] : xs) as never, { training: false }) as unknown as Tensor | Tensor[], {
    name: model.name,
    inputSignature: specs,
    freezeVariables: true,
  });
  const concrete = serve.getConcreteFunction(...(specs.map((s) => placeholder(s)) as never[]));
  const graph = concrete.graph;
  if (graph.updates.length > 0) throw new Error(`export: model '${model.name}' assigns variables in inference mode; it cannot be exported as a pure function.`);
  return lowerGraph(graph, { freezeVariables: true, inputNames, outputNames: outputNames(graph.outputs.length) }).bytes;
}

function placeholder(spec: TensorSpec): Tensor {
  // Tracing needs tensors; the signature's null dims make the graph dynamic regardless of these sizes.
  return zeros(spec.shape.map((d) => d ?? 1), spec.dtype);
}

export async function exportOnnx(model: Layer, path: string, options: OnnxExportOptions = {}): Promise<void> {
  if (!path.endsWith('.onnx')) throw new Error(`export: the path must end in .onnx. Received: ${path}`);
  await writeFileAtomic(path, onnxModelBytes(model, options));
}
