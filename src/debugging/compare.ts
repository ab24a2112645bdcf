/**
 * strata.debugging.compareEagerAndGraph: the seed's "bugs that only show
 * when toggling modes". Runs a function (or a model's forward pass) eagerly
 * op by op, and as a compiled graph on ONNX Runtime with every node's output
 * exposed, from the same variable values and random-generator state, and
 * reports the first op whose outputs differ (by layer and op), with both
 * values, or that the two runs agree.
 */
import { isFloat } from '../tensor/dtype.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { addOpHook } from '../engine/hooks.ts';
import { withTracer } from '../engine/tracing.ts';
import type { Variable } from '../engine/variable.ts';
import type { Graph, Value } from '../graph/ir.ts';
import { GraphTracer } from '../graph/tracer.ts';
import { flatten } from '../graph/structure.ts';
import { lowerGraph } from '../graph/onnx/lower.ts';
import { createSession, fromOrtTensor, loadOrt, toOrtTensor } from '../graph/executors/ort.ts';
import { Layer } from '../layers/layer.ts';

export interface CompareOptions {
  training?: boolean;
  rtol?: number;
  atol?: number;
}

export interface Divergence {
  /** Position of the op in execution order. */
  index: number;
  op: string;
  layer: string;
  output: number;
  eager: number[];
  graph: number[];
  maxAbsDiff: number;
}

export class ParityReport {
  constructor(
    readonly identical: boolean,
    readonly opsCompared: number,
    readonly maxAbsDiff: number,
    readonly divergence: Divergence | null,
    readonly note: string,
  ) {}

  toString(): string {
    if (this.identical) return `identical: ${this.opsCompared} ops agree between eager and graph mode (max |difference| ${this.maxAbsDiff.toExponential(2)}).`;
    if (!this.divergence) return `different: ${this.note}`;
    const d = this.divergence;
    const sample = (v: number[]) => `[${v.map((x) => Number(x.toPrecision(6))).join(', ')}${v.length >= 6 ? ', ...' : ''}]`;
    return [
      `First diverging op: #${d.index} '${d.op}'${d.layer ? ` in layer '${d.layer}'` : ''} (output ${d.output}), max |difference| ${d.maxAbsDiff.toExponential(3)}.`,
      `  eager: ${sample(d.eager)}`,
      `  graph: ${sample(d.graph)}`,
      this.note,
    ]
      .filter(Boolean)
      .join('\n');
  }
}

function trace(f: (...xs: Tensor[]) => unknown, inputs: Tensor[]): { graph: Graph; outputs: Tensor[] } {
  const tracer = new GraphTracer('compare_eager_and_graph');
  const symbolic = inputs.map((t, i) => tracer.addInput({ shape: t.shape, dtype: t.dtype }, `input_${i}`));
  const result = withTracer(tracer, () => f(...symbolic));
  const flat = flatten(result, 'result');
  tracer.graph.outputs = flat.tensors.map((t) => tracer.lift(t));
  return { graph: tracer.graph, outputs: flat.tensors };
}

export async function compareEagerAndGraph(fnOrModel: ((...xs: Tensor[]) => unknown) | Layer, inputs: Tensor | Tensor[], options: CompareOptions = {}): Promise<ParityReport> {
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-6;
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const f =
    fnOrModel instanceof Layer
      ? (...xs: Tensor[]) => fnOrModel.apply((xs.length === 1 ? xs[0] : xs) as never, { training: options.training ?? false })
      : fnOrModel;

  // 1. Trace (no side effects), and snapshot the variables the function reads.
  const { graph } = trace(f, list);
  const captured: Variable[] = graph.captures.map((v) => v.variable!);
  const snapshot = captured.map((v) => v._value);

  // 2. Run eagerly, recording every op's outputs in order.
  const eagerOps: { op: string; scope: string; outputs: readonly Tensor[] }[] = [];
  const stop = addOpHook({ afterOp: (e) => { if (!e.symbolic) eagerOps.push({ op: e.def.name, scope: e.scope, outputs: e.outputs }); } });
  try {
    f(...list);
  } finally {
    stop();
  }
  const eagerState = captured.map((v) => v._value);

  // 3. Run the unoptimized graph on ONNX Runtime from the same starting values, exposing every node output.
  const exposed: Value[] = graph.nodes.flatMap((n) => n.outputs);
  const probe = Object.assign(Object.create(Object.getPrototypeOf(graph) as object) as Graph, graph, { outputs: exposed, updates: [] });
  const lowered = lowerGraph(probe);
  const ort = await loadOrt();
  const session = await createSession(lowered.bytes, { graphOptimizationLevel: 'all' });
  const feeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
  [...list, ...snapshot].forEach((t, i) => {
    feeds[lowered.inputNames[i]] = toOrtTensor(ort, t.valuesOrThrow('compareEagerAndGraph'), t.shape as number[], t.dtype);
  });
  const results = await session.run(feeds);
  await session.release();
  const graphValues = lowered.outputNames.map((n) => fromOrtTensor(results[n]));
  // The eager run's variable updates stand (as after one call of the function).
  captured.forEach((v, i) => (v._value = eagerState[i]));

  // 4. Walk both runs in order.
  let maxAbs = 0;
  let k = 0;
  const nodes = graph.nodes;
  const count = Math.min(nodes.length, eagerOps.length);
  for (let i = 0; i < count; i++) {
    const node = nodes[i];
    const e = eagerOps[i];
    if (node.def.name !== e.op) {
      return new ParityReport(false, i, maxAbs, null, `The two runs executed different ops at position ${i} (eager '${e.op}' in '${e.scope}', graph '${node.def.name}' in '${node.scope}'): the function's JavaScript takes different paths when traced (branching on a value read during tracing, Math.random, a counter...).`);
    }
    for (let o = 0; o < node.outputs.length; o++, k++) {
      const gv = graphValues[k];
      const ev = e.outputs[o];
      const a = ev.valuesOrThrow('compare');
      const b = gv.valuesOrThrow('compare');
      let worst = 0;
      let worstIndex = -1;
      const float = isFloat(ev.dtype);
      for (let j = 0; j < a.length; j++) {
        const diff = Math.abs(a[j] - b[j]);
        const bad = float ? !(diff <= atol + rtol * Math.abs(a[j])) && !(Number.isNaN(a[j]) && Number.isNaN(b[j])) : a[j] !== b[j];
        if (bad && (worstIndex < 0 || diff > worst)) {
          worst = diff;
          worstIndex = j;
        }
        if (Number.isFinite(diff)) maxAbs = Math.max(maxAbs, diff);
      }
      if (a.length !== b.length || worstIndex >= 0) {
        const start = Math.max(0, worstIndex - 2);
        return new ParityReport(false, i + 1, maxAbs, {
          index: i,
          op: node.def.name,
          layer: node.scope,
          output: o,
          eager: Array.from(a.subarray(start, start + 6)),
          graph: Array.from(b.subarray(start, start + 6)),
          maxAbsDiff: worst,
        }, a.length !== b.length ? `The outputs have different sizes (${a.length} vs ${b.length}).` : '');
      }
    }
  }
  if (nodes.length !== eagerOps.length) {
    return new ParityReport(false, count, maxAbs, null, `The eager run executed ${eagerOps.length} ops and the traced graph has ${nodes.length}: the function's JavaScript takes different paths when traced.`);
  }
  return new ParityReport(true, count, maxAbs, null, '');
}
