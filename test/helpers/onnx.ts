/**
 * Runs one op definition's ONNX lowering through onnxruntime-node, so each
 * lowering can be compared with the eager kernel on the same inputs.
 */
import type { OpDef } from '../../src/engine/op.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { OnnxGraphBuilder } from '../../src/graph/onnx/builder.ts';
import { encodeModel, type ValueInfoProtoObject } from '../../src/graph/onnx/proto.ts';
import { ONNX_TYPE } from '../../src/engine/onnx-types.ts';
import { createSession, fromOrtTensor, loadOrt, toOrtTensor } from '../../src/graph/executors/ort.ts';
import type { Shape } from '../../src/tensor/shape.ts';
import type { DType } from '../../src/tensor/dtype.ts';

function valueInfo(name: string, shape: Shape, dtype: DType): ValueInfoProtoObject {
  return {
    name,
    type: { tensorType: { elemType: ONNX_TYPE[dtype], shape: { dim: shape.map((d, i) => (d === null ? { dimParam: `d${i}` } : { dimValue: d })) } } },
  };
}

export async function runLowered<A>(def: OpDef<A>, inputs: Tensor[], attrs: A): Promise<Tensor[]> {
  const outTypes = def.infer(inputs, attrs);
  const b = new OnnxGraphBuilder();
  const names = inputs.map((_, i) => `in${i}`);
  const outs = def.toOnnx(b, names, attrs, { inputs, outputs: outTypes });
  // Graph outputs must be node outputs with distinct names.
  const outNames = outs.map((o, i) => {
    const name = `out${i}`;
    b.nodes.push({ input: [o], output: [name], name, opType: 'Identity', attribute: [] });
    return name;
  });
  const bytes = encodeModel({
    name: def.name,
    node: b.nodes,
    initializer: b.initializers,
    input: inputs.map((t, i) => valueInfo(names[i], t.shape, t.dtype)),
    output: outTypes.map((t, i) => valueInfo(outNames[i], t.shape, t.dtype)),
  });
  const ort = await loadOrt();
  const session = await createSession(bytes);
  const feeds = Object.fromEntries(inputs.map((t, i) => [names[i], toOrtTensor(ort, t.dataSync(), t.shape as number[], t.dtype)]));
  const results = await session.run(feeds);
  await session.release();
  return outNames.map((n, i) => fromOrtTensor(results[n], outTypes[i]));
}
