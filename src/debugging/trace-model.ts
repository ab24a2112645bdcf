/**
 * strata.debugging.traceModel: what really ran (the seed's "model.summary()
 * does not show all dynamic ops added via call overrides"). Runs the model
 * once on an input and lists, per layer, the ops it executed with their
 * output shapes and FLOP estimates. Ops that ran in a layer's own `call()`
 * outside any of its declared sublayers, and declared layers that never
 * ran, are flagged.
 */
import type { Shape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { formatShape } from '../tensor/shape.ts';
import { addOpHook } from '../engine/hooks.ts';
import { Layer, classNameOf } from '../layers/layer.ts';

export interface TracedOp {
  op: string;
  /** The layer path the op ran in. */
  scope: string;
  inputShapes: Shape[];
  outputShapes: Shape[];
  flops: number;
}

export interface LayerTrace {
  path: string;
  /** The layer's class, or '' for a scope that is not a declared layer. */
  className: string;
  ops: TracedOp[];
  flops: number;
  /** Ops executed directly in this layer's call(), outside its sublayers, when it has sublayers (summary() does not show them). */
  hiddenOps: TracedOp[];
}

export class ModelTrace {
  constructor(
    readonly layers: LayerTrace[],
    /** Declared layers (model.layers, recursively) that executed no op. */
    readonly neverRan: string[],
  ) {}

  get totalFlops(): number {
    return this.layers.reduce((n, l) => n + l.flops, 0);
  }

  /** Layers whose call() runs ops that no sublayer shows. */
  get hidden(): LayerTrace[] {
    return this.layers.filter((l) => l.hiddenOps.length > 0);
  }

  toString(): string {
    const fmt = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GFLOP` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} MFLOP` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} KFLOP` : `${n} FLOP`);
    const lines = ['What ran (ops per layer, with output shapes and FLOP estimates):'];
    for (const l of this.layers) {
      lines.push(`  ${l.path}${l.className ? ` (${l.className})` : ''}: ${l.ops.length} ops, ${fmt(l.flops)}`);
      for (const op of l.ops) {
        const mark = l.hiddenOps.includes(op) ? '  <- in call(), not in any sublayer' : '';
        lines.push(`      ${op.op.padEnd(20)} -> ${op.outputShapes.map(formatShape).join(', ')}  ${fmt(op.flops)}${mark}`);
      }
    }
    for (const l of this.hidden) lines.push(`  ! layer '${l.path}' runs ${l.hiddenOps.length} ops in its own call() that summary() does not list (${[...new Set(l.hiddenOps.map((o) => o.op))].join(', ')}).`);
    for (const n of this.neverRan) lines.push(`  ! declared layer '${n}' did not run: it is not on the path of this call.`);
    lines.push(`  total: ${fmt(this.totalFlops)}`);
    return lines.join('\n');
  }
}

const size = (s: Shape) => s.reduce((p: number, d) => p * (d ?? 1), 1);

/** Rough FLOP counts: multiply-adds count 2. */
export function estimateFlops(op: string, inputs: Shape[], outputs: Shape[]): number {
  const out = outputs[0] ? size(outputs[0]) : 0;
  switch (op) {
    case 'matmul': {
      const k = inputs[0]?.at(-1) ?? 1;
      return 2 * out * (k ?? 1);
    }
    case 'conv2d':
    case 'conv2dBackpropInput':
    case 'conv2dBackpropFilter': {
      const w = inputs[1] ?? [];
      const window = w.length === 4 ? (w[0] ?? 1) * (w[1] ?? 1) * (w[2] ?? 1) : 1;
      return 2 * out * window;
    }
    case 'sum':
    case 'max':
    case 'min':
    case 'prod':
      return inputs[0] ? size(inputs[0]) : 0;
    case 'reshape':
    case 'expandDims':
    case 'squeeze':
    case 'transpose':
    case 'broadcastTo':
    case 'broadcastLike':
    case 'reshapeLike':
    case 'cast':
    case 'stopGradient':
      return 0;
    default:
      return out;
  }
}

/** Runs `model` on `input` (inference mode unless `training`) and reports the ops each layer executed. */
export function traceModel(model: Layer, input: Tensor | Tensor[], options: { training?: boolean } = {}): ModelTrace {
  const x = (Array.isArray(input) && input.length === 1 ? input[0] : input) as never;
  // Build first: weight initialization is not part of what the model computes.
  if (!model.built || model.layers.some((l) => !l.built)) model.apply(x, { training: false });
  const ops: TracedOp[] = [];
  const stop = addOpHook({
    afterOp: (e) => {
      if (e.symbolic) return;
      const inputShapes = e.inputs.map((t) => t.shape);
      const outputShapes = e.outputs.map((t) => t.shape);
      ops.push({ op: e.def.name, scope: e.scope, inputShapes, outputShapes, flops: estimateFlops(e.def.name, inputShapes, outputShapes) });
    },
  });
  try {
    model.apply(x, { training: options.training ?? false });
  } finally {
    stop();
  }

  // Declared layers by path (the scope their call runs in).
  const declared = new Map<string, Layer>();
  const visit = (layer: Layer, path: string) => {
    declared.set(path, layer);
    for (const sub of layer.layers) visit(sub, `${path}/${sub.name}`);
  };
  visit(model, model.name);

  const byScope = new Map<string, TracedOp[]>();
  for (const op of ops) {
    const scope = op.scope || model.name;
    (byScope.get(scope) ?? byScope.set(scope, []).get(scope)!).push(op);
  }
  const traces: LayerTrace[] = [...byScope].map(([path, list]) => {
    const layer = declared.get(path);
    // A layer with sublayers whose own scope ran ops: those ops come from its call(), invisible in summary().
    const hasSublayers = (layer?.layers.length ?? 0) > 0;
    return {
      path,
      className: layer ? classNameOf(layer.constructor as typeof Layer) : '',
      ops: list,
      flops: list.reduce((n, o) => n + o.flops, 0),
      hiddenOps: hasSublayers ? list.filter((o) => o.flops > 0) : [],
    };
  });
  const ran = new Set([...byScope.keys()].flatMap((s) => s.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  const neverRan = [...declared.keys()].filter((p) => p !== model.name && !ran.has(p) && classNameOf(declared.get(p)!.constructor as typeof Layer) !== 'InputLayer');
  return new ModelTrace(traces, neverRan);
}
