/**
 * Model: a Layer with model-level services (summary, getLayer; training
 * arrives with the training issue). Three ways to make one, as in Keras:
 * `new Model({inputs, outputs})` (functional), `new Sequential([...])`, and
 * subclassing `Model` with layers in fields and a `call` method.
 */
import type { Config } from '../serialization/registry.ts';
import { registerBuiltin } from '../serialization/registry.ts';
import type { KerasTensor } from '../layers/keras-tensor.ts';
import type { Layer } from '../layers/layer.ts';
import type { CallOptions, LayerOptions } from '../layers/layer.ts';
import { Trainer } from '../training/trainer.ts';
import { printSummary, type SummaryOptions } from './summary.ts';

export interface FunctionalArgs {
  inputs: KerasTensor | KerasTensor[] | Record<string, KerasTensor>;
  outputs: KerasTensor | KerasTensor[] | Record<string, KerasTensor>;
  name?: string;
  trainable?: boolean;
}

/** Set by functional.ts (which imports this module) so `new Model({inputs, outputs})` can build a Functional. */
let makeFunctional: ((args: FunctionalArgs) => Model) | null = null;
export function setFunctionalFactory(factory: (args: FunctionalArgs) => Model): void {
  makeFunctional = factory;
}

/**
 * File formats live in saving/ (above models): it provides them here when it
 * loads, so `model.save(path)` works without models importing saving.
 */
export interface SavingImplementation {
  save(model: Model, path: string, options?: Record<string, unknown>): Promise<void>;
  saveWeights(model: Model, path: string): Promise<void>;
  loadWeights(model: Model, path: string, options?: { skipMismatch?: boolean; byName?: boolean }): Promise<void>;
  exportModel(model: Model, path: string, options?: Record<string, unknown>): Promise<void>;
}
let saving: SavingImplementation | null = null;
export function setSavingImplementation(impl: SavingImplementation): void {
  saving = impl;
}
function savingOrThrow(): SavingImplementation {
  if (!saving) throw new Error("Saving is not available: import 'strata' (which loads strata.saving) rather than its internal modules.");
  return saving;
}

function isFunctionalArgs(x: unknown): x is FunctionalArgs {
  return typeof x === 'object' && x !== null && 'inputs' in x && 'outputs' in x;
}

export class Model extends Trainer {
  static override readonly className: string = 'Model';

  /**
   * `new Model({inputs, outputs})` builds a functional model; subclasses call
   * `super(options)` and define layers in fields and `call`.
   */
  constructor(args: LayerOptions | FunctionalArgs = {}) {
    if (isFunctionalArgs(args) && new.target === Model) {
      if (!makeFunctional) throw new Error('Internal error: functional models are not available (models/functional.ts not loaded).');
      // A constructor may return another object: here the Functional model built from the graph.
      return makeFunctional(args) as Model;
    }
    super(isFunctionalArgs(args) ? { name: args.name, trainable: args.trainable } : args);
  }

  override call(inputs: unknown, options: CallOptions): unknown {
    void inputs;
    void options;
    throw new Error(
      `Model '${this.name}' has no call(). Build a functional model with new strata.Model({inputs, outputs}), ` +
        'use strata.Sequential, or subclass strata.Model and implement call(inputs, {training}).',
    );
  }

  /** Finds a layer by name or by index in `layers`. */
  getLayer(nameOrIndex: string | number): Layer {
    const layers = this.layers;
    if (typeof nameOrIndex === 'number') {
      const layer = layers[nameOrIndex];
      if (!layer) throw new RangeError(`Model '${this.name}' has ${layers.length} layers; index ${nameOrIndex} is out of range.`);
      return layer;
    }
    const layer = layers.find((l) => l.name === nameOrIndex);
    if (!layer) throw new Error(`Model '${this.name}' has no layer named '${nameOrIndex}'. Its layers are: ${layers.map((l) => l.name).join(', ') || '(none)'}.`);
    return layer;
  }

  /** Prints Keras's summary table (or passes each line to `printFn`) and returns the text. */
  summary(options: SummaryOptions = {}): string {
    return printSummary(this, options);
  }

  override getConfig(): Config {
    return { name: this.name, trainable: this.trainable };
  }

  /**
   * Saves the whole model (architecture, weights, compile config and
   * optimizer state). The format follows the extension: `.keras` (Keras 3),
   * `.h5` (legacy Keras HDF5), `.json` (TensorFlow.js layers format).
   */
  save(path: string, options: Record<string, unknown> = {}): Promise<void> {
    return savingOrThrow().save(this, path, options);
  }

  /** Saves only the weights, in Keras 3's `.weights.h5` layout. */
  saveWeights(path: string): Promise<void> {
    return savingOrThrow().saveWeights(this, path);
  }

  /**
   * Loads weights saved by saveWeights (or a legacy `.h5` weights file, paired
   * by layer order, or by name with `byName`). A failed load changes nothing.
   */
  loadWeights(path: string, options: { skipMismatch?: boolean; byName?: boolean } = {}): Promise<void> {
    return savingOrThrow().loadWeights(this, path, options);
  }

  /** Exports for inference: `{format: 'onnx'}` writes an ONNX model with a dynamic batch dimension. */
  export(path: string, options: Record<string, unknown> = {}): Promise<void> {
    return savingOrThrow().exportModel(this, path, options);
  }
}
registerBuiltin('keras', Model);
