/** Shared pieces of elementwise kernels. */
import { allocate, type DType, type TypedArray } from '../../tensor/dtype.ts';
import type { ConcreteType, KernelInput } from '../../engine/op.ts';
import { forEachRow, planBroadcast } from './broadcast.ts';

/** A unary loop: one function literal per op keeps V8's call sites monomorphic. */
export type UnaryLoop = (x: TypedArray, out: TypedArray) => void;

/** A binary row loop over `n` elements with per-operand strides (0 = broadcast). */
export type BinaryRow = (
  a: TypedArray, ai: number, as: number,
  b: TypedArray, bi: number, bs: number,
  out: TypedArray, oi: number, n: number,
) => void;

export function runUnary(loop: UnaryLoop, [x]: readonly KernelInput[], [out]: readonly ConcreteType[]): TypedArray[] {
  const result = allocate(out.dtype, x.values.length);
  loop(x.values, result);
  return [result];
}

export function runBinary(row: BinaryRow, [a, b]: readonly KernelInput[], [out]: readonly ConcreteType[]): TypedArray[] {
  const size = out.shape.reduce((p, d) => p * d, 1);
  const result = allocate(out.dtype, size);
  if (size === 0) return [result];
  const av = a.values;
  const bv = b.values;
  if (av.length === size && bv.length === size) {
    row(av, 0, 1, bv, 0, 1, result, 0, size);
  } else if (bv.length === 1 && av.length === size) {
    row(av, 0, 1, bv, 0, 0, result, 0, size);
  } else if (av.length === 1 && bv.length === size) {
    row(av, 0, 0, bv, 0, 1, result, 0, size);
  } else {
    const plan = planBroadcast(out.shape, [a.shape, b.shape]);
    const sa = plan.strides[0].at(-1)!;
    const sb = plan.strides[1].at(-1)!;
    forEachRow(plan, (offsets, oi, n) => row(av, offsets[0], sa, bv, offsets[1], sb, result, oi, n));
  }
  return [result];
}

/** Materializes `x` broadcast to `shape` (used by `where` and `broadcastTo`). */
export function broadcastValues(x: KernelInput, shape: readonly number[], dtype: DType): TypedArray {
  const size = shape.reduce((p, d) => p * d, 1);
  const out = allocate(dtype, size);
  if (size === 0) return out;
  if (x.values.length === size) {
    out.set(x.values);
    return out;
  }
  if (x.values.length === 1) {
    out.fill(x.values[0]);
    return out;
  }
  const plan = planBroadcast(shape, [x.shape]);
  const s = plan.strides[0].at(-1)!;
  const v = x.values;
  forEachRow(plan, (offsets, oi, n) => {
    let xi = offsets[0];
    if (s === 0) out.fill(v[xi], oi, oi + n);
    else for (let k = 0; k < n; k++, xi += s) out[oi + k] = v[xi];
  });
  return out;
}

/** Round half to even, as NumPy, Keras and ONNX Round do. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Error function (Abramowitz-Stegun 7.1.26 is too coarse for float64 gradient checks; this is W. J. Cody's rational approximation). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 0.5) {
    const t = x * x;
    const num = (((0.185777706184603153 * t + 3.16112374387056560) * t + 113.864154151050156) * t + 377.485237685302021) * t + 3209.37758913846947;
    const den = (((t + 23.6012909523441209) * t + 244.024637934444173) * t + 1282.61652607737228) * t + 2844.23683343917062;
    return (x * num) / den;
  }
  return x < 0 ? -1 + erfcPositive(ax) : 1 - erfcPositive(ax);
}

function erfcPositive(x: number): number {
  let r: number;
  if (x < 4) {
    const num = (((((((2.15311535474403846e-8 * x + 0.564188496988670089) * x + 8.88314979438837594) * x + 66.1191906371416295) * x + 298.635138197400131) * x + 881.952221241769090) * x + 1712.04761263407058) * x + 2051.07837782607147) * x + 1230.33935479799725;
    const den = (((((((x + 15.7449261107098347) * x + 117.693950891312499) * x + 537.181101862009858) * x + 1621.38957456669019) * x + 3290.79923573345963) * x + 4362.61909014324716) * x + 3439.36767414372164) * x + 1230.33935480374942;
    r = num / den;
  } else {
    const z = 1 / (x * x);
    const num = ((((0.0163153871373020978 * z + 0.305326634961232344) * z + 0.360344899949804439) * z + 0.125781726111229246) * z + 0.0160837851487422766) * z + 6.58749161529837803e-4;
    const den = ((((z + 2.56852019228982242) * z + 1.87295284992346725) * z + 0.527905102951428412) * z + 0.0605183413124413191) * z + 2.33520497626869185e-3;
    r = (0.564189583547756287 - (z * num) / den) / x;
  }
  // exp(-x^2) computed in two parts to keep precision for large x.
  const xsq = Math.trunc(x * 16) / 16;
  const del = (x - xsq) * (x + xsq);
  return Math.exp(-xsq * xsq) * Math.exp(-del) * r;
}
