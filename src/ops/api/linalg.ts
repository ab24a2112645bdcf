/**
 * Public linear algebra: matmul (NumPy semantics for 1-D operands), dot,
 * tensordot and einsum. Everything here is a composite of the `matmul`
 * primitive and shape ops, so gradients and ONNX lowering come for free.
 */
import { isBool } from '../../tensor/dtype.ts';
import { type Dim, formatShape, normalizeAxis } from '../../tensor/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { dispatch1 } from '../../engine/dispatch.ts';
import { OpError } from '../../engine/op.ts';
import { linalgOps as L } from '../defs/linalg.ts';
import { type TensorLike, promoteOperands } from '../convert.ts';
import * as m from './math.ts';
import * as a from './array.ts';
import * as r from './reduce.ts';

/** Promotes operands to one dtype; booleans are counted as int32. */
function operands(op: string, xs: readonly TensorLike[]): Tensor[] {
  const ts = promoteOperands(op, xs, m.cast);
  return ts.map((t) => (isBool(t.dtype) ? m.cast(t, 'int32') : t));
}

function mm(x: Tensor, y: Tensor, transposeA = false, transposeB = false): Tensor {
  return dispatch1(L.matmul, [x, y], { transposeA, transposeB });
}

/**
 * Matrix product with NumPy semantics: operands of rank >= 2 are stacks of
 * matrices whose batch dims broadcast; a 1-D first operand is a row vector
 * and a 1-D second operand a column vector, and the added axis is removed.
 */
export function matmul(x1: TensorLike, x2: TensorLike): Tensor {
  const [x, y] = operands('matmul', [x1, x2]);
  if (x.rank === 0 || y.rank === 0) {
    throw new OpError('matmul', `Received: x1 of shape ${formatShape(x.shape)} and x2 of shape ${formatShape(y.shape)}; matmul does not accept scalars (use ops.multiply).`);
  }
  const kx = x.shape[x.rank - 1];
  const ky = y.rank === 1 ? y.shape[0] : y.shape[y.rank - 2];
  if (kx !== null && ky !== null && kx !== ky) {
    throw new OpError('matmul', `Received: x1 of shape ${formatShape(x.shape)} and x2 of shape ${formatShape(y.shape)}; the last dimension of x1 (${kx}) must equal the ${y.rank === 1 ? 'length' : 'second-to-last dimension'} of x2 (${ky}).`);
  }
  const xv = x.rank === 1, yv = y.rank === 1;
  const out = mm(xv ? a.expandDims(x, 0) : x, yv ? a.expandDims(y, 1) : y);
  if (xv && yv) return a.squeeze(out, [-2, -1]);
  if (xv) return a.squeeze(out, -2);
  if (yv) return a.squeeze(out, -1);
  return out;
}

/**
 * NumPy's dot: a product with scalars, the inner product of vectors, the
 * matrix product of matrices, and for N-D operands a sum over the last axis
 * of x1 and the second-to-last axis of x2.
 */
export function dot(x1: TensorLike, x2: TensorLike): Tensor {
  const [x, y] = operands('dot', [x1, x2]);
  if (x.rank === 0 || y.rank === 0) return m.multiply(x, y);
  if (y.rank <= 2) return matmul(x, y);
  return tensordot(x, y, [[x.rank - 1], [y.rank - 2]]);
}

export type TensordotAxes = number | readonly [number | readonly number[], number | readonly number[]];

/**
 * Sum of products over the given axes: `axes = n` contracts the last n axes
 * of x1 with the first n of x2; `[axes1, axes2]` names them. The result has
 * x1's free axes followed by x2's.
 */
export function tensordot(x1: TensorLike, x2: TensorLike, axes: TensordotAxes = 2): Tensor {
  const [x, y] = operands('tensordot', [x1, x2]);
  let ax: number[], ay: number[];
  if (typeof axes === 'number') {
    if (!Number.isInteger(axes) || axes < 0 || axes > x.rank || axes > y.rank) {
      throw new OpError('tensordot', `Received: axes=${axes} for x1 of rank ${x.rank} and x2 of rank ${y.rank}; expected an integer in [0, ${Math.min(x.rank, y.rank)}].`);
    }
    ax = Array.from({ length: axes }, (_, i) => x.rank - axes + i);
    ay = Array.from({ length: axes }, (_, i) => i);
  } else {
    if (!Array.isArray(axes) || axes.length !== 2) {
      throw new OpError('tensordot', `Received: axes=${JSON.stringify(axes)}; expected an integer or a pair [axes1, axes2].`);
    }
    const list = (v: number | readonly number[]) => (typeof v === 'number' ? [v] : [...v]);
    ax = list(axes[0]).map((i) => normalizeAxis(i, x.rank, 'ops.tensordot'));
    ay = list(axes[1]).map((i) => normalizeAxis(i, y.rank, 'ops.tensordot'));
    if (ax.length !== ay.length) {
      throw new OpError('tensordot', `Received: axes=${JSON.stringify(axes)}; both operands need the same number of axes (${ax.length} and ${ay.length}).`);
    }
    if (new Set(ax).size !== ax.length || new Set(ay).size !== ay.length) {
      throw new OpError('tensordot', `Received: axes=${JSON.stringify(axes)} with a repeated axis.`);
    }
  }
  ax.forEach((i, k) => {
    const dx = x.shape[i], dy = y.shape[ay[k]];
    if (dx !== null && dy !== null && dx !== dy) {
      throw new OpError('tensordot', `Received: x1 of shape ${formatShape(x.shape)} and x2 of shape ${formatShape(y.shape)} with axes ${JSON.stringify([ax, ay])}; contracted dimensions ${dx} (axis ${i} of x1) and ${dy} (axis ${ay[k]} of x2) differ.`);
    }
  });
  const fx = range(x.rank).filter((i) => !ax.includes(i));
  const fy = range(y.rank).filter((i) => !ay.includes(i));
  return contract('tensordot', x, fx, ax, y, ay, fy, []);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Product of dims, -1 when one is unknown (a reshape target). */
function groupSize(dims: readonly Dim[]): number {
  let p = 1;
  for (const d of dims) {
    if (d === null) return -1;
    p *= d;
  }
  return p;
}

function reshapeTo(op: string, t: Tensor, dims: readonly number[]): Tensor {
  if (dims.filter((d) => d === -1).length > 1) {
    throw new OpError(op, `cannot contract a tensor of shape ${formatShape(t.shape)}: more than one group of axes has an unknown size.`);
  }
  return a.reshape(t, dims);
}

/**
 * out[batch..., freeX..., freeY...] = sum over the contracted axes of
 * x[...] * y[...], as one batched matmul. Batch axes stay separate (so they
 * broadcast); free and contracted axes are flattened. Transposes that are
 * the identity, or a plain matrix transpose, become matmul flags instead.
 */
function contract(
  op: string,
  x: Tensor, freeX: number[], contrX: number[],
  y: Tensor, contrY: number[], freeY: number[],
  batch: [number, number][],
): Tensor {
  const bx = batch.map(([i]) => i), by = batch.map(([, j]) => j);
  const dimsOf = (t: Tensor, axes: number[]) => axes.map((i) => t.shape[i]);
  const nb = batch.length;
  const isIdentity = (perm: number[]) => perm.every((p, i) => p === i);

  let xm: Tensor, tA = false;
  const xBatchDims = dimsOf(x, bx).map((d) => (d === null ? -1 : d));
  if (isIdentity([...bx, ...freeX, ...contrX])) {
    xm = reshapeTo(op, x, [...xBatchDims, groupSize(dimsOf(x, freeX)), groupSize(dimsOf(x, contrX))]);
  } else if (isIdentity([...bx, ...contrX, ...freeX])) {
    xm = reshapeTo(op, x, [...xBatchDims, groupSize(dimsOf(x, contrX)), groupSize(dimsOf(x, freeX))]);
    tA = true;
  } else {
    const t = a.transpose(x, [...bx, ...freeX, ...contrX]);
    xm = reshapeTo(op, t, [...xBatchDims, groupSize(dimsOf(x, freeX)), groupSize(dimsOf(x, contrX))]);
  }
  let ym: Tensor, tB = false;
  const yBatchDims = dimsOf(y, by).map((d) => (d === null ? -1 : d));
  if (isIdentity([...by, ...contrY, ...freeY])) {
    ym = reshapeTo(op, y, [...yBatchDims, groupSize(dimsOf(y, contrY)), groupSize(dimsOf(y, freeY))]);
  } else if (isIdentity([...by, ...freeY, ...contrY])) {
    ym = reshapeTo(op, y, [...yBatchDims, groupSize(dimsOf(y, freeY)), groupSize(dimsOf(y, contrY))]);
    tB = true;
  } else {
    const t = a.transpose(y, [...by, ...contrY, ...freeY]);
    ym = reshapeTo(op, t, [...yBatchDims, groupSize(dimsOf(y, contrY)), groupSize(dimsOf(y, freeY))]);
  }
  const prod = mm(xm, ym, tA, tB);
  const outBatch = prod.shape.slice(0, nb);
  const target = [...outBatch, ...dimsOf(x, freeX), ...dimsOf(y, freeY)].map((d) => (d === null ? -1 : d));
  return reshapeTo(op, prod, target);
}

// ---------------------------------------------------------------- einsum

interface Term {
  labels: string[];
  /** Position of '...' in the term, or -1. */
  ellipsis: number;
}

const LETTER = /^[a-zA-Z]$/;

function parseTerm(spec: string, subscripts: string): Term {
  const labels: string[] = [];
  let ellipsis = -1;
  for (let i = 0; i < spec.length; i++) {
    if (spec.startsWith('...', i)) {
      if (ellipsis >= 0) throw new OpError('einsum', `Received: subscripts=${JSON.stringify(subscripts)}; '...' may appear only once per operand.`);
      ellipsis = labels.length;
      i += 2;
    } else if (LETTER.test(spec[i])) {
      labels.push(spec[i]);
    } else {
      throw new OpError('einsum', `Received: subscripts=${JSON.stringify(subscripts)}; unexpected character ${JSON.stringify(spec[i])} (subscripts are letters, ',', '->' and '...').`);
    }
  }
  return { labels, ellipsis };
}

/**
 * Einstein summation: `einsum('ij,jk->ik', a, b)`. Supports any number of
 * operands (contracted left to right), implicit output (`'ij,jk'`), '...'
 * for broadcast leading axes, transposes, sums, outer, inner and batched
 * products. Not supported: a label repeated within one operand (traces and
 * diagonals such as 'ii->i').
 */
export function einsum(subscripts: string, ...xs: TensorLike[]): Tensor {
  if (typeof subscripts !== 'string') throw new OpError('einsum', `Received: subscripts=${String(subscripts)}; expected a string such as 'ij,jk->ik'.`);
  const spec = subscripts.replace(/\s+/g, '');
  const arrow = spec.indexOf('->');
  if (arrow !== spec.lastIndexOf('->')) throw new OpError('einsum', `Received: subscripts=${JSON.stringify(subscripts)}; '->' may appear only once.`);
  const inputSpecs = (arrow >= 0 ? spec.slice(0, arrow) : spec).split(',');
  if (inputSpecs.length !== xs.length) {
    throw new OpError('einsum', `Received: subscripts=${JSON.stringify(subscripts)} for ${inputSpecs.length} operand(s) and ${xs.length} operand(s); the counts must match.`);
  }
  if (xs.length === 0) throw new OpError('einsum', 'Received: no operands; expected at least one tensor.');
  const ts = operands('einsum', xs);
  const terms = inputSpecs.map((s) => parseTerm(s, subscripts));

  // Expand '...' into private labels, aligned from the right across operands.
  const ell = (k: number) => String.fromCharCode(0x100 + k);
  let maxEll = 0;
  const labelsOf: string[][] = terms.map((term, i) => {
    const t = ts[i];
    const named = term.labels.length;
    if (term.ellipsis < 0) {
      if (named !== t.rank) {
        throw new OpError('einsum', `Received: subscripts=${JSON.stringify(subscripts)}; operand ${i} has rank ${t.rank} (shape ${formatShape(t.shape)}) but its subscripts name ${named} axes.`);
      }
      return term.labels;
    }
    const n = t.rank - named;
    if (n < 0) {
      throw new OpError('einsum', `Received: subscripts=${JSON.stringify(subscripts)}; operand ${i} has rank ${t.rank} but its subscripts name ${named} axes.`);
    }
    maxEll = Math.max(maxEll, n);
    const expanded = Array.from({ length: n }, (_, k) => ell(n - 1 - k));
    return [...term.labels.slice(0, term.ellipsis), ...expanded, ...term.labels.slice(term.ellipsis)];
  });
  labelsOf.forEach((ls, i) => {
    const seen = new Set<string>();
    for (const l of ls) {
      if (seen.has(l)) {
        throw new OpError('einsum', `Received: subscripts=${JSON.stringify(subscripts)}; label '${l}' is repeated within operand ${i}. Traces and diagonals are not supported.`);
      }
      seen.add(l);
    }
  });
  const ellLabels = Array.from({ length: maxEll }, (_, k) => ell(maxEll - 1 - k));

  let output: string[];
  if (arrow >= 0) {
    const outTerm = parseTerm(spec.slice(arrow + 2), subscripts);
    output = outTerm.ellipsis < 0 ? outTerm.labels : [...outTerm.labels.slice(0, outTerm.ellipsis), ...ellLabels, ...outTerm.labels.slice(outTerm.ellipsis)];
    const all = new Set(labelsOf.flat());
    const seen = new Set<string>();
    for (const l of output) {
      if (!all.has(l)) throw new OpError('einsum', `Received: subscripts=${JSON.stringify(subscripts)}; output label '${l}' does not appear in any operand.`);
      if (seen.has(l)) throw new OpError('einsum', `Received: subscripts=${JSON.stringify(subscripts)}; output label '${l}' is repeated.`);
      seen.add(l);
    }
  } else {
    const counts = new Map<string, number>();
    for (const l of labelsOf.flat()) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts.keys()].filter((l) => counts.get(l) === 1 && l.charCodeAt(0) < 0x100).sort();
    output = [...ellLabels, ...once];
  }

  // Sizes must agree across operands (size 1 broadcasts).
  const sizes = new Map<string, number>();
  labelsOf.forEach((ls, i) =>
    ls.forEach((l, k) => {
      const d = ts[i].shape[k];
      if (d === null || d === 1) return;
      const prev = sizes.get(l);
      if (prev === undefined) sizes.set(l, d);
      else if (prev !== d) {
        throw new OpError('einsum', `Received: subscripts=${JSON.stringify(subscripts)} with operand shapes ${ts.map((t) => formatShape(t.shape)).join(', ')}; label '${labelText(l)}' has sizes ${prev} and ${d}.`);
      }
    }),
  );

  let cur = ts[0];
  let curLabels = labelsOf[0];
  for (let i = 1; i < ts.length; i++) {
    const later = new Set([...output, ...labelsOf.slice(i + 1).flat()]);
    const keep = [...new Set([...curLabels, ...labelsOf[i]])].filter((l) => later.has(l));
    cur = einsumPair(cur, curLabels, ts[i], labelsOf[i], keep);
    curLabels = keep;
  }
  return einsumSingle(cur, curLabels, output);
}

function labelText(l: string): string {
  return l.charCodeAt(0) >= 0x100 ? '...' : l;
}

/** Sums the labels not in `out`, then orders the axes as `out`. */
function einsumSingle(x: Tensor, labels: string[], out: string[]): Tensor {
  const summed = labels.map((l, i) => (out.includes(l) ? -1 : i)).filter((i) => i >= 0);
  let t = x;
  let ls = labels;
  if (summed.length > 0) {
    t = r.sum(t, summed);
    ls = labels.filter((l) => out.includes(l));
  }
  const perm = out.map((l) => ls.indexOf(l));
  return a.transpose(t, perm);
}

/** Contracts two operands, keeping the labels in `keep` (in that order). */
function einsumPair(x: Tensor, lx: string[], y: Tensor, ly: string[], keep: string[]): Tensor {
  // A label of size 1 in one operand only broadcasts: drop it there.
  const drop = (t: Tensor, own: string[], other: Tensor, otherLabels: string[]): [Tensor, string[]] => {
    const axes = own.map((l, i) => {
      const j = otherLabels.indexOf(l);
      return j >= 0 && t.shape[i] === 1 && other.shape[j] !== 1 ? i : -1;
    }).filter((i) => i >= 0);
    if (axes.length === 0) return [t, own];
    return [a.squeeze(t, axes), own.filter((_, i) => !axes.includes(i))];
  };
  [x, lx] = drop(x, lx, y, ly);
  [y, ly] = drop(y, ly, x, lx);
  // Labels in one operand only that are not kept are summed right away.
  const sumOwn = (t: Tensor, own: string[], other: string[]): [Tensor, string[]] => {
    const axes = own.map((l, i) => (!other.includes(l) && !keep.includes(l) ? i : -1)).filter((i) => i >= 0);
    if (axes.length === 0) return [t, own];
    return [r.sum(t, axes), own.filter((_, i) => !axes.includes(i))];
  };
  [x, lx] = sumOwn(x, lx, ly);
  [y, ly] = sumOwn(y, ly, lx);

  const batch = lx.filter((l) => ly.includes(l) && keep.includes(l));
  const contr = lx.filter((l) => ly.includes(l) && !keep.includes(l));
  const freeX = lx.filter((l) => !ly.includes(l));
  const freeY = ly.filter((l) => !lx.includes(l));
  const ix = (ls: string[]) => ls.map((l) => lx.indexOf(l));
  const iy = (ls: string[]) => ls.map((l) => ly.indexOf(l));
  const prod = contract('einsum', x, ix(freeX), ix(contr), y, iy(contr), iy(freeY), batch.map((l) => [lx.indexOf(l), ly.indexOf(l)]));
  const have = [...batch, ...freeX, ...freeY];
  return a.transpose(prod, keep.map((l) => have.indexOf(l)));
}
