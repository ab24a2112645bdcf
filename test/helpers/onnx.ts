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

export interface LoweringJob {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly def: OpDef<any>;
  readonly inputs: readonly Tensor[];
  readonly attrs: unknown;
}

/**
 * Runs many op lowerings in ONE ONNX Runtime session (one model holding every
 * job's nodes side by side, with prefixed input and output names), so a test
 * that covers every primitive pays for one session set-up instead of one per
 * case. Each job's result is its outputs, or the error its lowering raised.
 * If ONNX Runtime rejects the combined model, every job is run on its own
 * (runLowered) so the error lands on the job that caused it.
 */
export async function runLoweredBatch(jobs: readonly LoweringJob[]): Promise<(Tensor[] | Error)[]> {
  const b = new OnnxGraphBuilder();
  const results: (Tensor[] | Error | null)[] = jobs.map(() => null);
  const graphInputs: ValueInfoProtoObject[] = [];
  const graphOutputs: ValueInfoProtoObject[] = [];
  const collect: { job: number; names: string[]; types: { shape: Shape; dtype: DType }[] }[] = [];
  jobs.forEach((job, k) => {
    const mark = b.nodes.length;
    try {
      const outTypes = job.def.infer(job.inputs, job.attrs);
      const names = job.inputs.map((_, i) => `c${k}_in${i}`);
      const outs = job.def.toOnnx(b, names, job.attrs, { inputs: job.inputs, outputs: outTypes });
      const outNames = outs.map((o, i) => {
        const name = `c${k}_out${i}`;
        b.nodes.push({ input: [o], output: [name], name, opType: 'Identity', attribute: [] });
        return name;
      });
      job.inputs.forEach((t, i) => graphInputs.push(valueInfo(names[i], t.shape, t.dtype)));
      outTypes.forEach((t, i) => graphOutputs.push(valueInfo(outNames[i], t.shape, t.dtype)));
      collect.push({ job: k, names: outNames, types: outTypes });
    } catch (e) {
      // Drop the nodes of a lowering that failed half-way (shared initializers may stay: unused ones are harmless).
      b.nodes.length = mark;
      results[k] = e instanceof Error ? e : new Error(String(e));
    }
  });
  const bytes = encodeModel({ name: 'batch', node: b.nodes, initializer: b.initializers, input: graphInputs, output: graphOutputs });
  const ort = await loadOrt();
  let ran: Record<string, import('onnxruntime-node').Tensor> | null = null;
  try {
    const session = await createSession(bytes);
    const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const { job } of collect) {
      jobs[job].inputs.forEach((t, i) => (feeds[`c${job}_in${i}`] = toOrtTensor(ort, t.dataSync(), t.shape as number[], t.dtype)));
    }
    ran = await session.run(feeds);
    await session.release();
  } catch {
    ran = null;
  }
  for (const { job, names, types } of collect) {
    if (ran) {
      const r = ran;
      results[job] = names.map((n, i) => fromOrtTensor(r[n], types[i]));
    } else {
      results[job] = await runLowered(jobs[job].def, [...jobs[job].inputs], jobs[job].attrs).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    }
  }
  return results as (Tensor[] | Error)[];
}
