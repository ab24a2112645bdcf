/**
 * Weight assignment shared by the legacy `.h5` and TF.js readers: values are
 * matched to variables (by layer order, by layer name, or by weight name),
 * every shape is checked, and only then is anything assigned, so a failed
 * load leaves the model as it was. Optimizer state from Keras 2 and tfjs
 * files (other variable names and orders than Keras 3) is mapped onto
 * Strata's optimizer variables where the slots can be identified.
 */
import type { DType } from '../tensor/dtype.ts';
import { formatShape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { warn } from '../engine/warnings.ts';
import type { Variable } from '../engine/variable.ts';
import type { Layer } from '../layers/layer.ts';
import type { Optimizer } from '../optimizers/optimizer.ts';
import { kerasLegacyWeights } from './keras-order.ts';

/** A stored array: its shape and a way to read its values (read lazily, after the shapes were checked). */
export interface StoredArray {
  /** Name in the file (for messages and name matching). */
  name: string;
  shape: readonly number[];
  /** The values, row-major; numbers of any numeric typed array. */
  read(): ArrayLike<number>;
}

/** Keras's legacy weight order: trainable weights, then non-trainable ones (`_legacy_weights`), in Keras's layer order. */
export function legacyWeights(layer: Layer): Variable[] {
  return kerasLegacyWeights(layer);
}

export function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A tensor of `dtype` from stored values (bool: nonzero; int32: rounded). */
export function tensorFromValues(values: ArrayLike<number>, shape: readonly number[], dtype: DType, where: string): Tensor {
  const size = shape.reduce((p, d) => p * d, 1);
  if (values.length !== size) throw new Error(`${where} has ${values.length} values for shape ${formatShape(shape as number[])}.`);
  const data =
    dtype === 'float32' ? Float32Array.from(values)
    : dtype === 'float64' ? Float64Array.from(values)
    : dtype === 'int32' ? Int32Array.from(values, (v) => Math.round(v))
    : Uint8Array.from(values, (v) => (v ? 1 : 0));
  return new Tensor([...shape], dtype, data);
}

/** Pairs of variables and stored arrays, checked, waiting to be assigned. */
export class PendingAssignments {
  readonly pairs: [Variable, StoredArray, string][] = [];
  readonly problems: string[] = [];
  readonly skipped: string[] = [];

  constructor(
    readonly file: string,
    readonly skipMismatch = false,
    /** Whether to suggest {skipMismatch: true} (only where the caller accepts it). */
    readonly suggestSkip = true,
  ) {}

  /** Queues `values[i]` for `variables[i]`; a count or shape mismatch is a problem (or skipped). */
  add(label: string, variables: readonly Variable[], values: readonly StoredArray[]): void {
    if (variables.length !== values.length) {
      this.report(`${label} expects ${variables.length} weights (${variables.map((v) => formatShape(v.shape)).join(', ') || 'none'}), but the file has ${values.length} (${values.map((s) => `${s.name} ${formatShape(s.shape as number[])}`).join(', ') || 'none'}).`);
      return;
    }
    const bad = variables.findIndex((v, i) => !sameShape(v.shape, values[i].shape));
    if (bad >= 0) {
      const v = variables[bad];
      const which = variables.length === 1 ? `${label}: the model's '${v.path}'` : `${label} weight ${bad} ('${v.path}')`;
      this.report(`${which} has shape ${formatShape(v.shape)}, but the file has ${formatShape(values[bad].shape as number[])} for '${values[bad].name}'.`);
      return;
    }
    variables.forEach((v, i) => this.pairs.push([v, values[i], label]));
  }

  report(message: string): void {
    if (this.skipMismatch) this.skipped.push(message);
    else this.problems.push(message);
  }

  /** Reads every value (checking it), then assigns them all; throws before assigning anything if something is wrong. */
  commit(what = 'the weights do not match the model'): void {
    if (this.problems.length > 0) {
      throw new Error(`${this.file}: ${what} (nothing was loaded):\n  - ${this.problems.join('\n  - ')}${this.skipMismatch || !this.suggestSkip ? '' : '\nPass {skipMismatch: true} to load the layers that do match.'}`);
    }
    const tensors = this.pairs.map(([v, stored]) => {
      let values: ArrayLike<number>;
      try {
        values = stored.read();
      } catch (e) {
        throw new Error(`${this.file}: cannot read weight '${stored.name}': ${(e as Error).message}`);
      }
      return tensorFromValues(values, stored.shape, v.dtype, `${this.file}: weight '${stored.name}'`);
    });
    for (const s of this.skipped) warn(`${this.file}: skipped: ${s}`);
    this.pairs.forEach(([v], i) => v.assign(tensors[i]));
  }
}

// ---------------------------------------------------------------------------
// Optimizer state

/** Slot names of Keras 2 / tfjs files and Strata's (Keras 3) names for them. */
const SLOT_ALIASES: Record<string, string> = {
  m: 'momentum',
  v: 'velocity',
  vhat: 'velocity_hat',
  momentum: 'momentum',
  velocity: 'velocity',
  velocity_hat: 'velocity_hat',
  rms: 'velocity',
  mg: 'average_gradient',
  accumulator: 'accumulator',
  accumulated_grad: 'accumulated_grad',
  accumulated_delta_var: 'accumulated_delta_var',
  accum_grad: 'accumulated_grad',
  accum_var: 'accumulated_delta_var',
};
/** Keras 3 slot names (the suffix of `adam/seq_dense_kernel_momentum`), longest first. */
const KERAS3_SLOTS = ['velocity_hat', 'accumulated_delta_var', 'accumulated_grad', 'average_gradient', 'momentum', 'velocity', 'accumulator', 'average', 'gradient_accumulator'].sort((a, b) => b.length - a.length);
/** Scalar hyperparameters some Keras 2 optimizers stored as variables (ignored). */
const HYPER = /^(beta_1|beta_2|decay|epsilon|rho|momentum)$/;

function stripName(name: string): string {
  return name.replace(/:\d+$/, '');
}

/**
 * Strata's optimizer variables: its own (`iteration`, `learning_rate`), and
 * for each slot kind (`momentum`, `velocity`, ...) the slots in `trainable`'s
 * order.
 */
function optimizerLayout(optimizer: Optimizer, trainable: readonly Variable[]): { own: Variable[]; slots: Map<string, Variable[]>; kindOf: Map<Variable, string> } | string {
  const prefixes = trainable.map((t) => `${t.path.replace(/\//g, '_')}_`);
  const byRef = new Map<Variable, Map<string, Variable>>();
  const own: Variable[] = [];
  const kindOf = new Map<Variable, string>();
  for (const v of optimizer.variables) {
    if (v.name === 'iteration' || v.name === 'learning_rate') {
      own.push(v);
      continue;
    }
    // The longest matching prefix names the trainable variable (`dense_kernel_` vs `dense_1_kernel_`).
    let best = -1;
    prefixes.forEach((p, i) => {
      if (v.name.startsWith(p) && (best < 0 || p.length > prefixes[best].length)) best = i;
    });
    if (best < 0) return `cannot tell which variable the optimizer's '${v.name}' belongs to`;
    const kind = v.name.slice(prefixes[best].length);
    kindOf.set(v, kind);
    const m = byRef.get(trainable[best]) ?? byRef.set(trainable[best], new Map()).get(trainable[best])!;
    m.set(kind, v);
  }
  const slots = new Map<string, Variable[]>();
  for (const t of trainable) {
    for (const [kind, v] of byRef.get(t) ?? []) (slots.get(kind) ?? slots.set(kind, []).get(kind)!).push(v);
  }
  return { own, slots, kindOf };
}

/**
 * The optimizer's variables in the order Keras would list them for a model
 * whose trainable variables come in `kerasTrainable` order: the same pattern
 * of own variables and slot kinds as Strata's list, each slot kind taken in
 * `kerasTrainable` order. (Strata's order follows its own trainable order,
 * which differs from Keras's for some branched functional models.)
 */
export function optimizerVariablesInOrder(optimizer: Optimizer, kerasTrainable: readonly Variable[]): Variable[] {
  const layout = optimizerLayout(optimizer, kerasTrainable);
  if (typeof layout === 'string') return optimizer.variables;
  const taken = new Map<string, number>();
  return optimizer.variables.map((v) => {
    const kind = layout.kindOf.get(v);
    if (kind === undefined) return v;
    const i = taken.get(kind) ?? 0;
    taken.set(kind, i + 1);
    return layout.slots.get(kind)?.[i] ?? v;
  });
}

/**
 * Restores an optimizer's variables from stored arrays written by Keras 3 or
 * Strata (`adam/iteration`, `adam/learning_rate`, `adam/dense_kernel_momentum`,
 * ...), tf.keras 2 (`Adam/iter`, `Adam/dense/kernel/m` grouped per slot, or
 * `iteration`, `m/dense/kernel` interleaved) or tfjs-layers (`iter`,
 * `dense/kernel/m`). Each stored array is identified as the step counter,
 * the learning rate, a hyperparameter (ignored) or a slot of some kind; the
 * slots of each kind are taken to follow `kerasTrainable` (the model's
 * trainable variables in Keras's order). Returns false (after a warning)
 * when the layout cannot be matched; nothing is assigned then.
 */
export function restoreOptimizerState(optimizer: Optimizer, kerasTrainable: readonly Variable[], stored: readonly StoredArray[], file: string): boolean {
  const fail = (why: string): boolean => {
    warn(`${file}: the optimizer state was not restored (${why}); the optimizer starts fresh.`);
    return false;
  };
  const layout = optimizerLayout(optimizer, kerasTrainable);
  if (typeof layout === 'string') return fail(layout);
  const pending = new PendingAssignments(file);
  // Keras 3 / Strata files name each variable by its path: match them by name when every name is found.
  const byPath = new Map(optimizer.variables.map((v) => [v.path, v]));
  const named = stored.map((s) => byPath.get(stripName(s.name)));
  if (named.every(Boolean) && new Set(named).size === stored.length && stored.length === optimizer.variables.length) {
    stored.forEach((s, i) => pending.add(`optimizer variable '${named[i]!.path}'`, [named[i]!], [s]));
  } else {
    let storedIteration: StoredArray | undefined;
    let storedRate: StoredArray | undefined;
    const storedSlots = new Map<string, StoredArray[]>();
    for (const s of stored) {
      const parts = stripName(s.name).split('/');
      const last = parts[parts.length - 1];
      if (s.shape.length === 0 && /^(iter|iteration|iterations)$/.test(last)) {
        storedIteration = s;
        continue;
      }
      if (s.shape.length === 0 && /^(learning_rate|lr)$/.test(last)) {
        storedRate = s;
        continue;
      }
      if (s.shape.length === 0 && HYPER.test(last)) continue;
      // `<var>/m` (tf.keras optimizer_v2, tfjs), `m/<var>` (tf.keras 2.11+), `<var path>_momentum` (Keras 3).
      const slot =
        SLOT_ALIASES[last] ??
        (parts.length > 1 ? SLOT_ALIASES[parts[0]] : undefined) ??
        (parts.length > 2 ? SLOT_ALIASES[parts[1]] : undefined) ??
        KERAS3_SLOTS.find((k) => last.endsWith(`_${k}`));
      if (!slot) return fail(`cannot tell which slot '${s.name}' is`);
      (storedSlots.get(slot) ?? storedSlots.set(slot, []).get(slot)!).push(s);
    }
    for (const kind of new Set([...storedSlots.keys(), ...layout.slots.keys()])) {
      const want = layout.slots.get(kind) ?? [];
      const have = storedSlots.get(kind) ?? [];
      if (want.length !== have.length) return fail(`the file has ${have.length} '${kind}' slots, the optimizer ${want.length}`);
      pending.add(`optimizer slot '${kind}'`, want, have);
    }
    const iteration = layout.own.find((v) => v.name === 'iteration');
    const rate = layout.own.find((v) => v.name === 'learning_rate');
    if (iteration && storedIteration) pending.add('optimizer iteration', [iteration], [storedIteration]);
    if (rate && storedRate) pending.add('optimizer learning rate', [rate], [storedRate]);
  }
  if (pending.problems.length > 0) return fail(pending.problems.join('; '));
  try {
    pending.commit('the optimizer state does not match');
  } catch (e) {
    return fail((e as Error).message);
  }
  return true;
}
