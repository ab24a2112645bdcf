/**
 * Variables to and from the Keras 3 weights layout (`model.weights.h5` in a
 * `.keras` file, and `*.weights.h5` files): one group per object,
 * `<path>/vars`, with a `name` attribute and datasets "0", "1", ... in the
 * object's variable order. Loading checks everything first and assigns only
 * if every variable fits, so a failed load leaves the model unchanged.
 */
import type { DType, TypedArray } from '../tensor/dtype.ts';
import { formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { warn } from '../engine/warnings.ts';
import type { Variable } from '../engine/variable.ts';
import type { Layer } from '../layers/layer.ts';
import { collectSaveables, type SaveableNode } from './walk.ts';
import { type H5Dataset, type H5Group, type H5WriteDataset, type H5WriteGroup, sortNumericNames } from './io/h5.ts';

/** The HDF5 tree for a model's variables. */
export function weightsTree(root: Layer, options: { includeOptimizer?: boolean } = {}): H5WriteGroup {
  type Group = { attrs?: Record<string, string>; groups: Record<string, Group>; datasets?: Record<string, H5WriteDataset> };
  const tree: Group = { groups: {} };
  for (const node of collectSaveables(root, options)) {
    let group = tree;
    for (const part of node.path ? node.path.split('/') : []) group = group.groups[part] ??= { groups: {} };
    const datasets: Record<string, H5WriteDataset> = {};
    node.variables.forEach((v, i) => {
      const t = v.value;
      datasets[String(i)] = { shape: [...(t.shape as number[])], dtype: t.dtype, values: t.dataSync() };
    });
    group.groups.vars = { attrs: { name: node.name }, groups: {}, datasets };
  }
  return tree;
}

function findGroup(root: H5Group, path: string): H5Group | undefined {
  let g: H5Group | undefined = root;
  for (const part of path ? path.split('/') : []) {
    g = g?.groups.get(part);
    if (!g) return undefined;
  }
  return g;
}


function toTensorOf(ds: H5Dataset, dtype: DType, where: string): Tensor {
  const raw = ds.read();
  if (Array.isArray(raw)) throw new Error(`${where}: dataset ${ds.path} holds strings, not numbers.`);
  const values = raw as TypedArray | Int32Array;
  const size = ds.shape.reduce((p, d) => p * d, 1);
  if (values.length !== size) throw new Error(`${where}: dataset ${ds.path} has ${values.length} values for shape ${formatShape(ds.shape)}.`);
  const out =
    dtype === 'float32' ? Float32Array.from(values as ArrayLike<number>)
    : dtype === 'float64' ? Float64Array.from(values as ArrayLike<number>)
    : dtype === 'int32' ? Int32Array.from(values as ArrayLike<number>)
    : Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
  return new Tensor(ds.shape, dtype, out);
}

export interface LoadWeightsOptions {
  /** Skip layers whose weights do not match (with a warning) instead of failing. */
  skipMismatch?: boolean;
  /** Load the optimizer's variables too (when both the file and the model have them). */
  includeOptimizer?: boolean;
}

/**
 * Reads `root` into the model's variables. Every mismatch (missing group,
 * wrong count, wrong shape) is collected; unless `skipMismatch`, they are
 * reported together and nothing is assigned.
 */
export function loadWeightsTree(model: Layer, root: H5Group, file: string, options: LoadWeightsOptions = {}): void {
  const assignments: [Variable, Tensor][] = [];
  const problems: string[] = [];
  const skipped: string[] = [];
  const nodes = collectSaveables(model, { includeOptimizer: options.includeOptimizer ?? true });
  for (const node of nodes) {
    const label = node.kind === 'optimizer' ? `optimizer '${node.name}'` : `layer '${node.name}'${node.path ? ` (${node.path})` : ''}`;
    const group = findGroup(root, node.path)?.groups.get('vars') ?? legacyGroup(root, node);
    const names = group ? sortNumericNames(group.datasets.keys()) : [];
    if (node.variables.length === 0) continue;
    // An optimizer saved before its first step stores only its own scalars (iteration, learning rate):
    // load those and keep the fresh (zero) slots, as there is no state to lose.
    if (group && node.kind === 'optimizer' && names.length > 0 && names.length < node.variables.length && node.ownCount === names.length) {
      node.variables.slice(0, names.length).forEach((v, i) => assignments.push([v, toTensorOf(group.datasets.get(names[i])!, v.dtype, file)]));
      continue;
    }
    if (!group || names.length !== node.variables.length) {
      const found = group ? `${names.length} arrays` : `no group '${node.path ? `${node.path}/` : ''}vars'`;
      const message = `${label} expects ${node.variables.length} arrays (${node.variables.map((v) => formatShape(v.shape)).join(', ')}), but the file has ${found}.`;
      if (node.kind === 'optimizer') {
        // Keras only warns for the optimizer: the model weights still load.
        warn(`${file}: skipping the optimizer state: ${message}`);
        continue;
      }
      if (options.skipMismatch) skipped.push(message);
      else problems.push(message);
      continue;
    }
    const local: [Variable, Tensor][] = [];
    let mismatch = '';
    node.variables.forEach((v, i) => {
      const ds = group.datasets.get(names[i])!;
      const sameShape = ds.shape.length === v.shape.length && ds.shape.every((d, k) => d === v.shape[k]);
      if (!sameShape) {
        mismatch ||= `${label} weight ${i} ('${v.path}') has shape ${formatShape(v.shape)}, but the file has ${formatShape(ds.shape)} at ${ds.path}.`;
        return;
      }
      local.push([v, toTensorOf(ds, v.dtype, file)]);
    });
    if (mismatch) {
      if (options.skipMismatch) skipped.push(mismatch);
      else problems.push(mismatch);
      continue;
    }
    assignments.push(...local);
  }
  if (problems.length > 0) {
    throw new Error(`${file}: the weights do not match the model (nothing was loaded):\n  - ${problems.join('\n  - ')}\nPass {skipMismatch: true} to load the layers that do match.`);
  }
  for (const s of skipped) warn(`${file}: skipped: ${s}`);
  for (const [v, t] of assignments) v.assign(t);
}

/** tf.keras 2.13 wrote `_layer_checkpoint_dependencies` where Keras 3 writes `layers`. */
function legacyGroup(root: H5Group, node: SaveableNode): H5Group | undefined {
  if (!node.path.includes('layers/')) return undefined;
  return findGroup(root, node.path.replace(/(^|\/)layers\//g, '$1_layer_checkpoint_dependencies/'))?.groups.get('vars');
}
