import { type DType, type TypedArray, isFloat } from './dtype.ts';
import { type ConcreteShape, formatShape } from './shape.ts';

/** Tensors with more elements than this print only their edges (like NumPy). */
const SUMMARY_THRESHOLD = 1000;
const EDGE_ITEMS = 3;

function formatScalar(v: number, dtype: DType): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (!isFloat(dtype)) return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.`;
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) return v.toExponential(4);
  return String(Number(v.toPrecision(dtype === 'float32' ? 6 : 8)));
}

/**
 * Readable text for an eager tensor:
 * `tensor([[1., 2.], [3., 4.]], shape=(2, 2), dtype=float32)`.
 */
export function formatTensor(values: TypedArray, shape: ConcreteShape, dtype: DType): string {
  const summarize = values.length > SUMMARY_THRESHOLD;
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const cells: string[] = [];
  for (let i = 0; i < Math.min(values.length, summarize ? 0 : values.length); i++) cells.push(formatScalar(values[i], dtype));
  const width = summarize ? 0 : Math.max(0, ...cells.map((c) => c.length));

  const render = (dim: number, offset: number, indent: string): string => {
    if (dim === shape.length) {
      const text = formatScalar(values[offset], dtype);
      return text.padStart(width);
    }
    const n = shape[dim];
    const parts: string[] = [];
    const elide = summarize && n > 2 * EDGE_ITEMS;
    for (let i = 0; i < n; i++) {
      if (elide && i === EDGE_ITEMS) {
        parts.push('...');
        i = n - EDGE_ITEMS - 1;
        continue;
      }
      parts.push(render(dim + 1, offset + i * strides[dim], indent + ' '));
    }
    const sep = dim === shape.length - 1 ? ', ' : `,\n${'\n'.repeat(Math.max(0, shape.length - dim - 2))}${indent} `;
    return `[${parts.join(sep)}]`;
  };

  const body = shape.length === 0 ? formatScalar(values[0], dtype) : render(0, 0, '       ');
  return `tensor(${body}, shape=${formatShape(shape)}, dtype=${dtype})`;
}
