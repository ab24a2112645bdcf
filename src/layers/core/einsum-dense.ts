/**
 * EinsumDense: `activation(einsum(equation, inputs, kernel) + bias)`.
 *
 * The equation has the form `ab,bc->ac`, `...ab,bc->...ac` or
 * `ab...,bc->ac...` (input, kernel, output). The kernel's shape is read from
 * the equation as in Keras: each kernel label takes its size from the input
 * (when the input has it) or from `outputShape`. `outputShape` gives the
 * output dims without the batch dim and without the dims covered by '...'
 * (null where the input decides). `biasAxes` names output labels that get a
 * bias; the bias spans from the first of them to the end of the output.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Dim, Shape } from '../../tensor/shape.ts';
import { describe, formatShape } from '../../tensor/shape.ts';
import type { Variable } from '../../engine/variable.ts';
import * as ops from '../../ops/index.ts';
import { sliceAxis } from '../../ops/defs/indexing.ts';
import { zeros } from '../../tensor/create.ts';
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import * as activations from '../../activations/index.ts';
import * as initializers from '../../initializers/index.ts';
import * as regularizers from '../../regularizers/index.ts';
import * as constraints from '../../constraints/index.ts';
import { InputSpec } from '../input-spec.ts';
import { type InputShape, Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';

export interface EinsumDenseOptions extends LayerOptions {
  activation?: activations.ActivationIdentifier;
  /** Output labels that get a bias (default none: no bias). */
  biasAxes?: string | null;
  kernelInitializer?: initializers.InitializerIdentifier;
  biasInitializer?: initializers.InitializerIdentifier;
  kernelRegularizer?: regularizers.RegularizerIdentifier;
  biasRegularizer?: regularizers.RegularizerIdentifier;
  kernelConstraint?: constraints.ConstraintIdentifier;
  biasConstraint?: constraints.ConstraintIdentifier;
}

interface EinsumShapes {
  kernelShape: Dim[];
  biasShape: Dim[] | null;
  outputShape: Dim[];
}

interface EinsumDenseSpec {
  inputSpec: string;
  weightSpec: string;
  outputSpec: string;
  /** '...' leads the input and output (else it trails them, or is absent). */
  leftElided: boolean;
  elided: boolean;
}

/** The three label strings of an EinsumDense equation (the forms Keras accepts). */
export function parseEinsumDense(equation: string, where: string): EinsumDenseSpec {
  const replaced = equation.replace(/\s+/g, '').replace(/\.\.\./g, '0');
  const forms: [RegExp, boolean, boolean][] = [
    [/^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$/, false, false],
    [/^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$/, true, true],
    [/^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$/, false, true],
  ];
  for (const [re, leftElided, elided] of forms) {
    const m = re.exec(replaced);
    if (m) return { inputSpec: m[1], weightSpec: m[2], outputSpec: m[3], leftElided, elided };
  }
  throw new Error(`${where}: invalid einsum equation '${equation}'. Equations must be in the form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....`);
}

/** Keras's `_analyze_einsum_string`: kernel, bias and full output shapes from the equation. */
export function analyzeEinsumDense(equation: string, biasAxes: string | null, inputShape: Shape, partial: readonly (number | null)[], where: string): EinsumShapes {
  const { inputSpec, weightSpec, outputSpec, leftElided, elided: hasEllipsis } = parseEinsumDense(equation, where);
  const rank = inputShape.length;
  const elided = rank - inputSpec.length;
  if (elided < 0 || (!hasEllipsis && elided !== 0)) {
    throw new Error(`${where}: the equation '${equation}' names ${inputSpec.length} input axes, but the input has rank ${rank} (shape ${formatShape(inputShape)}).`);
  }
  const outputShape: Dim[] = [inputShape[0], ...partial];
  if (elided > 0 && leftElided) {
    for (let i = 1; i < elided; i++) outputShape.splice(1, 0, inputShape[i]);
  } else if (elided > 0) {
    for (let i = rank - elided; i < rank; i++) outputShape.push(inputShape[i]);
  }
  if (outputShape.length !== outputSpec.length + elided) {
    const expected = outputSpec.length - (leftElided && elided > 0 ? 0 : 1);
    throw new Error(
      `${where}: outputShape ${JSON.stringify(partial)} has ${partial.length} dims, but the output '${outputSpec}' of equation '${equation}' needs ${expected} ` +
        `(its dims after the first, which is the batch dim${hasEllipsis ? ', not counting those covered by ...' : ''}).`,
    );
  }
  const inputDim = new Map<string, number>();
  const outputDim = new Map<string, number>();
  [...inputSpec].forEach((d, i) => inputDim.set(d, leftElided ? i + elided - rank : i));
  [...outputSpec].forEach((d, i) => outputDim.set(d, leftElided ? i + elided : i));
  const inAt = (d: string) => inputShape.at(inputDim.get(d)!) ?? null;
  for (const d of inputSpec) {
    if (outputDim.has(d)) {
      const o = outputShape[outputDim.get(d)!];
      if (o !== null && o !== undefined && o !== inAt(d)) {
        throw new Error(`${where}: input shape and output shape do not match at shared dimension '${d}'. Input shape is ${inAt(d) ?? 'None'}, and output shape is ${o}.`);
      }
    }
  }
  for (const d of outputSpec) {
    if (!inputSpec.includes(d) && !weightSpec.includes(d)) {
      throw new Error(`${where}: dimension '${d}' was specified in the output '${outputSpec}' but has no corresponding dim in the input spec '${inputSpec}' or weight spec '${weightSpec}'.`);
    }
  }
  const kernelShape: Dim[] = [...weightSpec].map((d) => {
    if (inputDim.has(d)) return inAt(d);
    if (outputDim.has(d)) return outputShape[outputDim.get(d)!] ?? null;
    throw new Error(`${where}: weight dimension '${d}' did not have a match in either the input spec '${inputSpec}' or the output spec '${outputSpec}'. For this layer, the weight must be fully specified.`);
  });
  let biasShape: Dim[] | null = null;
  if (biasAxes !== null) {
    const offset = leftElided ? elided : 0;
    for (const c of biasAxes) {
      if (!outputSpec.includes(c)) throw new Error(`${where}: bias dimension '${c}' was requested, but is not part of the output spec '${outputSpec}'.`);
    }
    const first = Math.min(...[...biasAxes].map((c) => outputSpec.indexOf(c)));
    biasShape = [...outputSpec.slice(first)].map((c) => (biasAxes.includes(c) ? (outputShape[outputSpec.indexOf(c) + offset] ?? null) : 1));
    if (!leftElided) for (let i = 0; i < elided; i++) biasShape.push(1);
  }
  return { kernelShape, biasShape, outputShape };
}

export class EinsumDense extends Layer {
  static override readonly className = 'EinsumDense';
  readonly equation: string;
  /** The output shape as given (without the batch dim and elided dims). */
  readonly partialOutputShape: (number | null)[];
  readonly biasAxes: string | null;
  readonly activation: activations.Activation;
  readonly kernelInitializer: initializers.Initializer;
  readonly biasInitializer: initializers.Initializer;
  readonly kernelRegularizer: regularizers.Regularizer | null;
  readonly biasRegularizer: regularizers.Regularizer | null;
  readonly kernelConstraint: constraints.Constraint | null;
  readonly biasConstraint: constraints.Constraint | null;
  kernel!: Variable;
  bias: Variable | null = null;
  /** The full output shape, known after building. */
  fullOutputShape: Dim[] | null = null;

  constructor(equation: string, outputShape: number | readonly (number | null)[], options: EinsumDenseOptions = {}) {
    super(options);
    const where = `EinsumDense '${this.name}'`;
    if (typeof equation !== 'string' || !equation.includes('->')) throw new Error(`${where}: equation must be an einsum string such as 'ab,bc->ac'. Received: equation=${describe(equation)}`);
    this.equation = equation;
    const dims = typeof outputShape === 'number' ? [outputShape] : outputShape;
    if (!Array.isArray(dims) || !dims.every((d) => d === null || (Number.isInteger(d) && d > 0))) {
      throw new Error(`${where}: outputShape must be a positive integer or a list of positive integers (null for dims the input decides). Received: outputShape=${describe(outputShape)}`);
    }
    this.partialOutputShape = [...dims];
    this.biasAxes = options.biasAxes ?? null;
    if (this.biasAxes !== null && (typeof this.biasAxes !== 'string' || !/^[a-zA-Z]+$/.test(this.biasAxes))) {
      throw new Error(`${where}: biasAxes must be a string of output labels (or null). Received: biasAxes=${describe(options.biasAxes)}`);
    }
    this.activation = activations.get(options.activation ?? null);
    this.kernelInitializer = initializers.get(options.kernelInitializer ?? 'glorot_uniform');
    this.biasInitializer = initializers.get(options.biasInitializer ?? 'zeros');
    this.kernelRegularizer = regularizers.get(options.kernelRegularizer ?? null);
    this.biasRegularizer = regularizers.get(options.biasRegularizer ?? null);
    this.kernelConstraint = constraints.get(options.kernelConstraint ?? null);
    this.biasConstraint = constraints.get(options.biasConstraint ?? null);
    // Check the equation's form now, so a typo fails at construction.
    const spec = parseEinsumDense(equation, where);
    for (const c of this.biasAxes ?? '') {
      if (!spec.outputSpec.includes(c)) throw new Error(`${where}: bias dimension '${c}' was requested, but is not part of the output spec '${spec.outputSpec}'.`);
    }
  }

  override build(inputShape: InputShape): void {
    const where = `EinsumDense '${this.name}'`;
    const shape = inputShape as Shape;
    const { kernelShape, biasShape, outputShape } = analyzeEinsumDense(this.equation, this.biasAxes, shape, this.partialOutputShape, where);
    const known = (s: Dim[], what: string): number[] => {
      if (s.some((d) => d === null)) {
        throw new Error(`${where}: the ${what} shape ${formatShape(s)} derived from equation '${this.equation}', input shape ${formatShape(shape)} and outputShape ${JSON.stringify(this.partialOutputShape)} has unknown dims; give them in outputShape or make them known in the input.`);
      }
      return s as number[];
    };
    this.fullOutputShape = outputShape;
    this.kernel = this.addWeight({ name: 'kernel', shape: known(kernelShape, 'kernel'), initializer: this.kernelInitializer, regularizer: this.kernelRegularizer, constraint: this.kernelConstraint });
    if (biasShape) {
      this.bias = this.addWeight({ name: 'bias', shape: known(biasShape, 'bias'), initializer: this.biasInitializer, regularizer: this.biasRegularizer, constraint: this.biasConstraint });
    }
    this.inputSpec = new InputSpec({ ndim: shape.length });
  }

  /**
   * Keras's compute_output_shape: the full output shape from the equation,
   * where a dim given as null in `outputShape` stays null (unknown) even if
   * the input knows it. (The default would trace `call` and report the
   * concrete size, which differs from what Keras reports and records.)
   */
  override computeOutputShape(inputShape: InputShape): Shape {
    return analyzeEinsumDense(this.equation, this.biasAxes, inputShape as Shape, this.partialOutputShape, `EinsumDense '${this.name}'`).outputShape;
  }

  override call(inputs: Tensor): Tensor {
    const unknown = inputs.shape.filter((d) => d === null).length;
    let y = unknown > 1 ? this.einsumUnknownDims(inputs, this.kernel.value) : ops.einsum(this.equation, inputs, this.kernel);
    if (this.bias) y = ops.add(y, this.bias);
    return this.activation(y);
  }

  /**
   * The einsum for inputs with several unknown dims (e.g. batch and sequence
   * length in a functional model), which `ops.einsum` cannot flatten into
   * one group: the input's free axes stay as they are, the contracted axes
   * are merged and multiplied with the kernel as a matrix, and the kernel's
   * free axes are restored with `reshapeLike` against a tensor of the output
   * shape built by broadcasting.
   */
  private einsumUnknownDims(x: Tensor, kernel: Tensor): Tensor {
    const { inputSpec, weightSpec, outputSpec, leftElided, elided } = parseEinsumDense(this.equation, `EinsumDense '${this.name}'`);
    const n = x.rank - inputSpec.length;
    const free = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'].filter((c) => !inputSpec.includes(c) && !weightSpec.includes(c) && !outputSpec.includes(c)).slice(0, n).join('');
    const inL = elided ? (leftElided ? free + inputSpec : inputSpec + free) : inputSpec;
    const outL = elided ? (leftElided ? free + outputSpec : outputSpec + free) : outputSpec;
    const contracted = [...inL].filter((c) => weightSpec.includes(c) && !outL.includes(c));
    const freeIn = [...inL].filter((c) => !weightSpec.includes(c));
    const freeK = [...weightSpec].filter((c) => !inL.includes(c));
    if ([...inL].some((c) => weightSpec.includes(c) && outL.includes(c)) || freeIn.length + freeK.length !== outL.length) {
      // Labels shared by input, kernel and output (or summed input labels): leave it to ops.einsum.
      return ops.einsum(this.equation, x, kernel);
    }
    const cSize = contracted.reduce((p, c) => p * (kernel.shape[weightSpec.indexOf(c)] as number), 1);
    const fkDims = freeK.map((c) => kernel.shape[weightSpec.indexOf(c)] as number);
    const xt = ops.transpose(x, [...freeIn, ...contracted].map((c) => inL.indexOf(c)));
    const k2 = ops.reshape(ops.transpose(kernel, [...contracted, ...freeK].map((c) => weightSpec.indexOf(c))), [cSize, fkDims.reduce((p, d) => p * d, 1)]);
    const x2 = ops.reshape(xt, [-1, cSize]);
    const y2 = ops.matmul(x2, k2);
    // A tensor of shape [freeIn..., freeK...]: the input with its contracted axes cut to size 1, broadcast against zeros.
    let ref = xt;
    for (let i = 0; i < contracted.length; i++) ref = sliceAxis(ref, freeIn.length + i, 0, 1);
    if (contracted.length > 0) ref = ops.squeeze(ref, contracted.map((_, i) => freeIn.length + i));
    if (fkDims.length > 0) ref = ops.add(ops.expandDims(ref, fkDims.map((_, i) => freeIn.length + i)), zeros(fkDims, ref.dtype));
    const y = ops.reshapeLike(y2, ref);
    return ops.transpose(y, [...outL].map((c) => [...freeIn, ...freeK].indexOf(c)));
  }

  override getConfig(): Config {
    return {
      ...super.getConfig(),
      output_shape: [...this.partialOutputShape],
      equation: this.equation,
      activation: activations.serialize(this.activation),
      bias_axes: this.biasAxes,
      kernel_initializer: initializers.serialize(this.kernelInitializer),
      bias_initializer: initializers.serialize(this.biasInitializer),
      kernel_regularizer: regularizers.serialize(this.kernelRegularizer),
      bias_regularizer: regularizers.serialize(this.biasRegularizer),
      activity_regularizer: regularizers.serialize(this.activityRegularizer),
      kernel_constraint: constraints.serialize(this.kernelConstraint),
      bias_constraint: constraints.serialize(this.biasConstraint),
      quantization_config: null,
    };
  }

  static override fromConfig(config: Config): EinsumDense {
    if (config.quantization_config !== undefined && config.quantization_config !== null) {
      throw new Error(`EinsumDense '${String(config.name)}': quantized layers (quantization_config) are not supported.`);
    }
    if (config.lora_rank) throw new Error(`EinsumDense '${String(config.name)}': LoRA (lora_rank) is not supported.`);
    return new EinsumDense(config.equation as string, config.output_shape as number | (number | null)[], {
      ...baseOptionsFromConfig(config),
      activation: config.activation as activations.ActivationIdentifier,
      biasAxes: (config.bias_axes as string | null | undefined) ?? null,
      kernelInitializer: config.kernel_initializer as initializers.InitializerIdentifier,
      biasInitializer: config.bias_initializer as initializers.InitializerIdentifier,
      kernelRegularizer: config.kernel_regularizer as regularizers.RegularizerIdentifier,
      biasRegularizer: config.bias_regularizer as regularizers.RegularizerIdentifier,
      kernelConstraint: config.kernel_constraint as constraints.ConstraintIdentifier,
      biasConstraint: config.bias_constraint as constraints.ConstraintIdentifier,
    });
  }
}
registerBuiltin('keras.layers', EinsumDense);
