/**
 * model.summary(): Keras 3's table (layer name and type, output shape,
 * parameter count, and "Connected to" for functional models), then total,
 * trainable and non-trainable parameter counts with their sizes.
 */
import { type Shape, formatShape } from '../tensor/shape.ts';
import { bytesPerElement } from '../tensor/dtype.ts';
import type { Variable } from '../engine/variable.ts';
import { KerasTensor } from '../layers/keras-tensor.ts';
import { type Layer, classNameOf, leaves } from '../layers/layer.ts';
import type { LayerNode } from '../layers/node.ts';

/** `summary({expandOps: true})` runs the model and lists its ops; debugging/ provides it (it sits above models). */
let opsExpander: ((model: Layer, input: unknown) => string) | null = null;
export function setSummaryOpsExpander(fn: (model: Layer, input: unknown) => string): void {
  opsExpander = fn;
}

export interface SummaryOptions {
  /** Also run the model once and list the ops each layer executed (including ops hidden in custom call()s). */
  expandOps?: boolean;
  /** The input for expandOps (default: zeros of the model's input shape, batch 1). */
  input?: unknown;
  /** Width of the table in characters (default 98 for functional models, 84 otherwise, as Keras). */
  lineLength?: number;
  /** Receives each line instead of console.log. */
  printFn?: (line: string) => void;
  /** List the layers inside nested models too. */
  expandNested?: boolean;
  /** Show the trainable column. */
  showTrainable?: boolean;
}

function countOf(vars: readonly Variable[]): number {
  return vars.reduce((n, v) => n + v.shape.reduce((p: number, d) => p * (d ?? 0), 1), 0);
}

function bytesOf(vars: readonly Variable[]): number {
  return vars.reduce((n, v) => n + v.shape.reduce((p: number, d) => p * (d ?? 0), 1) * bytesPerElement(v.dtype), 0);
}

export function readableBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)} ${units[i]}`;
}

const fmtCount = (n: number) => n.toLocaleString('en-US');

interface Row {
  name: string;
  shape: string;
  params: string;
  connected?: string[];
  trainable?: string;
}

function outputShapeText(layer: Layer, node: LayerNode | null): string {
  const outs = node ? leaves(node.outputs, (v): v is KerasTensor => v instanceof KerasTensor).map((k) => k.shape) : (layer.lastOutputShapes ?? null);
  if (!outs || outs.length === 0) return '?';
  const text = (s: Shape) => formatShape(s);
  return outs.length === 1 ? text(outs[0]) : `[${outs.map(text).join(', ')}]`;
}

/** Wraps `text` into lines of at most `width` characters (breaking after commas and spaces when possible). */
function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    let cut = Math.max(rest.lastIndexOf(' ', width), rest.lastIndexOf(',', width - 1) + 1);
    if (cut <= 0) cut = width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) lines.push(rest);
  return lines;
}

export function printSummary(model: Layer & { inputTensors?: KerasTensor[]; nodes?: readonly LayerNode[] }, options: SummaryOptions = {}): string {
  const functional = Array.isArray(model.nodes);
  const columns = functional ? ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #'];
  if (options.showTrainable) columns.push('Trainable');
  const total = options.lineLength ?? (functional ? 98 : 84);
  const fractions = functional ? [0.3, 0.22, 0.14, 0.34] : [0.45, 0.32, 0.23];
  if (options.showTrainable) fractions.push(0.1);
  const sum = fractions.reduce((a, b) => a + b, 0);
  const widths = fractions.map((f) => Math.max(8, Math.floor(((total - columns.length - 1) * f) / sum)));
  const rows: Row[] = [];

  const layerRows = (layer: Layer, node: LayerNode | null, indent: string): void => {
    const connected = node
      ? leaves(node.inputs, (v): v is KerasTensor => v instanceof KerasTensor).map((k) => `${k.history!.layer.name}[${k.history!.nodeIndex}][${k.history!.tensorIndex}]`)
      : undefined;
    rows.push({
      name: `${indent}${layer.name} (${classNameOf(layer.constructor as typeof Layer)})`,
      shape: outputShapeText(layer, node),
      params: layer.built ? fmtCount(countOf(layer.weights)) : '0 (unbuilt)',
      connected: functional ? (connected && connected.length ? connected : ['-']) : undefined,
      trainable: options.showTrainable ? (layer.trainable ? 'Y' : 'N') : undefined,
    });
    if (options.expandNested && layer.layers.length > 0 && 'summary' in layer) {
      for (const sub of layer.layers) layerRows(sub, sub.inboundNodes[0] ?? null, `${indent} `);
    }
  };

  if (functional) {
    const inputs = (model.inputTensors ?? []).map((k) => k.history!.layer.inboundNodes[0]);
    for (const node of [...inputs, ...model.nodes!]) layerRows(node.layer, node, '');
  } else {
    const sequentialOutputs = (model as { outputTensor?: KerasTensor | null }).outputTensor !== undefined;
    for (const layer of model.layers) {
      // Sequential layers with a known input shape have a node from the symbolic wiring.
      const node = sequentialOutputs ? (layer.inboundNodes.at(-1) ?? null) : null;
      layerRows(layer, node, '');
    }
  }

  const lines: string[] = [];
  const bar = (l: string, m: string, r: string, fill: string) => l + widths.map((w) => fill.repeat(w)).join(m) + r;
  const cell = (text: string, w: number, right: boolean) => (right ? text.padStart(w - 1) + ' ' : ' ' + text.padEnd(w - 1));
  const rightAligned = (i: number) => columns[i] === 'Param #';
  lines.push(`Model: "${model.name}"`);
  lines.push(bar('┏', '┳', '┓', '━'));
  lines.push('┃' + columns.map((c, i) => cell(c, widths[i], rightAligned(i))).join('┃') + '┃');
  lines.push(bar('┡', '╇', '┩', '━'));
  rows.forEach((row, r) => {
    const cells = [row.name, row.shape, row.params, ...(functional ? [(row.connected ?? []).join(', ')] : []), ...(options.showTrainable ? [row.trainable ?? ''] : [])];
    const wrapped = cells.map((c, i) => wrap(c, widths[i] - 2));
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let k = 0; k < height; k++) lines.push('│' + wrapped.map((w, i) => cell(w[k] ?? '', widths[i], rightAligned(i))).join('│') + '│');
    if (r < rows.length - 1) lines.push(bar('├', '┼', '┤', '─'));
  });
  lines.push(bar('└', '┴', '┘', '─'));
  const all = model.built ? model.weights : [];
  const trainable = model.built ? model.trainableWeights : [];
  const nonTrainable = model.built ? model.nonTrainableWeights : [];
  lines.push(` Total params: ${fmtCount(countOf(all))} (${readableBytes(bytesOf(all))})`);
  lines.push(` Trainable params: ${fmtCount(countOf(trainable))} (${readableBytes(bytesOf(trainable))})`);
  lines.push(` Non-trainable params: ${fmtCount(countOf(nonTrainable))} (${readableBytes(bytesOf(nonTrainable))})`);
  if (options.expandOps) {
    if (!opsExpander) throw new Error("summary({expandOps}) needs strata.debugging: import 'strata' rather than its internal modules.");
    lines.push('', ...opsExpander(model, options.input).split('\n'));
  }
  const text = lines.join('\n');
  if (options.printFn) lines.forEach(options.printFn);
  else console.log(text);
  return text;
}
