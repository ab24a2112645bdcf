/**
 * Shapes. A dimension is a non-negative integer, or `null` when it is unknown
 * (only symbolic tensors traced with an input signature such as
 * `[null, 784]` have unknown dimensions; eager tensors never do).
 */

export type Dim = number | null;
export type Shape = readonly Dim[];
/** A shape whose dimensions are all known. */
export type ConcreteShape = readonly number[];

export function isConcrete(shape: Shape): shape is ConcreteShape {
  return shape.every((d) => d !== null);
}

/** Number of elements, or null when a dimension is unknown. */
export function sizeOf(shape: Shape): number | null {
  let n = 1;
  for (const d of shape) {
    if (d === null) return null;
    n *= d;
  }
  return n;
}

export function concreteSize(shape: ConcreteShape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${shape.length === 1 ? ',' : ''})`;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Row-major strides of a concrete shape. */
export function stridesOf(shape: ConcreteShape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Checks that `shape` is a list of non-negative integers (or null where allowed). */
export function validateShape(shape: unknown, where: string, allowUnknown = false): Shape {
  if (!Array.isArray(shape)) {
    throw new TypeError(`${where}: expected a shape (an array of non-negative integers). Received: ${describe(shape)}`);
  }
  for (const d of shape) {
    const ok = (d === null && allowUnknown) || (typeof d === 'number' && Number.isInteger(d) && d >= 0);
    if (!ok) {
      throw new TypeError(
        `${where}: every dimension must be a non-negative integer${allowUnknown ? ' or null' : ''}. Received: shape=${describe(shape)}`,
      );
    }
  }
  return shape as Shape;
}

/**
 * NumPy broadcasting of two shapes. Unknown dimensions are assumed not to be
 * 1 (they broadcast against 1 and match any known size), which is how graph
 * inputs such as a batch dimension behave.
 */
export function broadcastShapes(a: Shape, b: Shape, where = 'broadcast'): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<Dim>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da === 1) out[i] = db;
    else if (db === 1) out[i] = da;
    else if (da === null) out[i] = db;
    else if (db === null) out[i] = da;
    else if (da === db) out[i] = da;
    else {
      throw new Error(
        `${where}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together ` +
          `(dimension ${i - rank} is ${da} in one and ${db} in the other; sizes must match or one must be 1).`,
      );
    }
  }
  return out;
}

/**
 * Axes along which `from` was broadcast to reach `to`: leading axes `to` has
 * in excess, and axes where `from` is 1 and `to` is not. Used to reduce a
 * gradient back to an input's shape.
 */
export function broadcastAxes(from: Shape, to: Shape): { leading: number[]; ones: number[] } {
  const extra = to.length - from.length;
  const leading: number[] = [];
  for (let i = 0; i < extra; i++) leading.push(i);
  const ones: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (from[i] === 1 && to[i + extra] !== 1) ones.push(i);
  }
  return { leading, ones };
}

/** Normalizes a possibly negative axis; throws a Keras-style error when out of range. */
export function normalizeAxis(axis: number, rank: number, where: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const range = rank === 0 ? 'no valid axis for a scalar' : `expected an axis in [${-rank}, ${rank})`;
    throw new RangeError(`${where}: Received: axis=${axis} for a tensor of rank ${rank}; ${range}.`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes `axis` (undefined = all axes) to a sorted list of distinct non-negative axes. */
export function normalizeAxes(axis: number | readonly number[] | null | undefined, rank: number, where: string): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = list.map((a) => normalizeAxis(a, rank, where));
  const set = new Set(out);
  if (set.size !== out.length) {
    throw new RangeError(`${where}: Received: axis=${JSON.stringify(axis)} with a repeated axis.`);
  }
  return out.sort((x, y) => x - y);
}

export function describe(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x);
  if (Array.isArray(x)) return `[${x.map(describe).join(', ')}]`;
  if (x === null || x === undefined || typeof x !== 'object') return String(x);
  const name = (x as object).constructor?.name;
  return name && name !== 'Object' ? `<${name}>` : JSON.stringify(x);
}
