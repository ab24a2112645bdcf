/**
 * Variables: mutable state (weights, optimizer slots, RNG counters) that
 * ops read as tensors. Reads and writes are routed: eagerly they touch the
 * stored tensor (and reads are reported to recording gradient tapes); while
 * tracing they become graph inputs and graph outputs (see graph/).
 */
import { type DType, assertDType, isFloat } from '../tensor/dtype.ts';
import { type Shape, formatShape, shapesEqual } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { tensor, type TensorData } from '../tensor/create.ts';
import { recordingTapes } from './recording.ts';
import { currentTracer } from './tracing.ts';
import { currentScope } from './scope.ts';

export interface VariableOptions {
  name?: string;
  trainable?: boolean;
  dtype?: DType;
}

const usedNames = new Map<string, number>();
let nextVariableId = 0;

/** Unique names per base: `variable`, `variable_1`, ... */
function uniqueName(base: string): string {
  const n = usedNames.get(base) ?? 0;
  usedNames.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/**
 * Arithmetic needed by `assignAdd`/`assignSub`. The ops layer provides it at
 * load time (ops sit above the engine, so the engine cannot import them).
 */
export interface VariableArithmetic {
  add(a: Tensor, b: Tensor): Tensor;
  subtract(a: Tensor, b: Tensor): Tensor;
}
let arithmetic: VariableArithmetic | null = null;
export function setVariableArithmetic(impl: VariableArithmetic): void {
  arithmetic = impl;
}

/**
 * A variable value held by the graph worker (the thread that runs ONNX
 * Runtime), so training steps need not copy weights and optimizer state
 * between threads. Reading it on this thread fetches a copy (synchronously).
 */
export interface RemoteValue {
  fetch(): Tensor;
  release(): void;
}

export class Variable {
  readonly id = nextVariableId++;
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
  trainable: boolean;
  /** Applied by optimizers after each update (Keras's variable constraint), e.g. MaxNorm. */
  constraint: { call(value: Tensor): Tensor } | null = null;
  /** Where the variable lives in a model (`dense_1/kernel`): the name scope it was created in, and its name. */
  path: string;
  /** Increases with every change of value; compiled functions with frozen weights compare it. */
  version = 0;
  /** The current value on this thread, or null while it lives only in the graph worker. */
  private local: Tensor | null = null;
  /** The current value kept by the graph worker between compiled steps (see RemoteValue). */
  private remote: RemoteValue | null = null;

  constructor(initialValue: Tensor | TensorData | Variable, options: VariableOptions = {}) {
    const dtype = options.dtype === undefined ? undefined : assertDType(options.dtype, 'Variable');
    let value: Tensor;
    if (initialValue instanceof Variable) value = initialValue._value;
    else if (initialValue instanceof Tensor) value = initialValue;
    else value = tensor(initialValue, undefined, dtype);
    if (value._symbol) {
      throw new Error(
        `Variable '${options.name ?? 'variable'}': the initial value is a symbolic tensor from function '${value._symbol.traceName}'. ` +
          'Create variables outside traced functions, from concrete values.',
      );
    }
    if (dtype && value.dtype !== dtype) {
      throw new TypeError(`Variable '${options.name ?? 'variable'}': the initial value has dtype ${value.dtype} but dtype=${dtype} was requested. Cast it first.`);
    }
    // Default names are made unique (`variable`, `variable_1`); a given name is kept (layers
    // name their weights `kernel`, and the path `dense_1/kernel` tells them apart).
    this.name = options.name ?? uniqueName('variable');
    const scope = currentScope();
    this.path = scope ? `${scope}/${this.name}` : this.name;
    this.shape = value.shape;
    this.dtype = value.dtype;
    this.trainable = options.trainable ?? isFloat(value.dtype);
    this.local = value;
    currentTracer()?.variableCreated(this);
  }

  /** @internal The current eager value (fetched from the graph worker if it lives there). */
  get _value(): Tensor {
    if (!this.local) this.local = this.remote!.fetch();
    return this.local;
  }

  /** @internal Sets the current eager value; a copy held by the graph worker is dropped. */
  set _value(t: Tensor) {
    this.version++;
    this.local = t;
    this.remote?.release();
    this.remote = null;
  }

  /** @internal The worker-held value, if the latest value lives there. */
  get _remote(): RemoteValue | null {
    return this.remote;
  }

  /** @internal Records that a compiled step left the new value in the graph worker. */
  _setRemote(value: RemoteValue): void {
    this.version++;
    this.remote?.release();
    this.remote = value;
    this.local = null;
  }

  /** The current value, as a tensor (symbolic while tracing). */
  get value(): Tensor {
    return this.read();
  }

  read(): Tensor {
    const tracer = currentTracer();
    // A fresh tensor object per read lets a gradient tape tell reads apart.
    const t = tracer ? tracer.readVariable(this) : new Tensor(this.shape, this.dtype, this._value._values);
    for (const tape of recordingTapes()) tape.recordVariableRead(this, t);
    return t;
  }

  assign(value: Tensor | TensorData | Variable): this {
    const t = this.coerce(value, 'assign');
    const tracer = currentTracer();
    if (tracer) tracer.assignVariable(this, t);
    else {
      if (t._symbol) {
        throw new Error(
          `Variable '${this.path}'.assign: the value is a symbolic tensor from function '${t._symbol.traceName}', which finished tracing. ` +
            'Assign variables inside the traced function.',
        );
      }
      this._value = t;
    }
    return this;
  }

  assignAdd(delta: Tensor | TensorData | Variable): this {
    return this.assign(this.math().add(this.read(), this.coerce(delta, 'assignAdd', false)));
  }

  assignSub(delta: Tensor | TensorData | Variable): this {
    return this.assign(this.math().subtract(this.read(), this.coerce(delta, 'assignSub', false)));
  }

  toString(): string {
    const body = this._value.toString().replace(/^tensor/, '');
    return `Variable '${this.path}' shape=${formatShape(this.shape)} dtype=${this.dtype}, value=${body}`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  private math(): VariableArithmetic {
    if (!arithmetic) throw new Error('Variable arithmetic is not available: import strata (or strata/ops) before using assignAdd/assignSub.');
    return arithmetic;
  }

  /** Converts to a tensor of the variable's dtype; checks the shape unless it may broadcast. */
  private coerce(value: Tensor | TensorData | Variable, method: string, checkShape = true): Tensor {
    const t = value instanceof Variable ? value.read() : value instanceof Tensor ? value : tensor(value, undefined, this.dtype);
    if (t.dtype !== this.dtype) {
      throw new TypeError(`Variable '${this.path}'.${method}: the value has dtype ${t.dtype}, the variable has dtype ${this.dtype}. Cast the value first (ops.cast).`);
    }
    if (!checkShape) return t;
    const compatible = t.shape.length === this.shape.length && t.shape.every((d, i) => d === null || d === this.shape[i]);
    if (!compatible || (!t._symbol && !shapesEqual(t.shape, this.shape))) {
      throw new Error(`Variable '${this.path}'.${method}: the value has shape ${formatShape(t.shape)}, the variable has shape ${formatShape(this.shape)}.`);
    }
    return t;
  }
}
