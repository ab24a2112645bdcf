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
}
registerBuiltin('keras', Model);
