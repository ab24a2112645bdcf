/**
 * ActivityRegularization: the identity, adding an L1/L2 penalty on its
 * output to the layer's losses (divided by the batch size, as every
 * activity regularizer is).
 */
import { registerBuiltin, type Config } from '../../serialization/registry.ts';
import { L1L2 } from '../../regularizers/index.ts';
import { Layer, type LayerOptions, baseOptionsFromConfig } from '../layer.ts';
import { numberArg } from './arguments.ts';

export interface ActivityRegularizationOptions extends Omit<LayerOptions, 'activityRegularizer'> {
  /** L1 factor (default 0). */
  l1?: number;
  /** L2 factor (default 0). */
  l2?: number;
}

export class ActivityRegularization extends Layer {
  /** Keras builds it in its constructor (`_build_at_init`): no build_config in its serialized form. */
  static override readonly builtAtInit: boolean = true;
  static override readonly className = 'ActivityRegularization';
  readonly l1: number;
  readonly l2: number;

  constructor(options: ActivityRegularizationOptions = {}) {
    const where = `ActivityRegularization '${options.name ?? 'activity_regularization'}'`;
    const l1 = numberArg(options.l1 ?? 0, 'l1', where, 0);
    const l2 = numberArg(options.l2 ?? 0, 'l2', where, 0);
    super({ ...options, activityRegularizer: new L1L2({ l1, l2 }) });
    this.l1 = l1;
    this.l2 = l2;
    this.supportsMasking = true;
  }

  override call(inputs: unknown): unknown {
    return inputs;
  }

  override getConfig(): Config {
    const { activity_regularizer: _dropped, ...base } = super.getConfig();
    void _dropped;
    return { ...base, l1: this.l1, l2: this.l2 };
  }

  static override fromConfig(config: Config): ActivityRegularization {
    const { activityRegularizer: _ignored, ...base } = baseOptionsFromConfig(config);
    void _ignored;
    return new ActivityRegularization({ ...base, l1: (config.l1 as number | undefined) ?? 0, l2: (config.l2 as number | undefined) ?? 0 });
  }
}
registerBuiltin('keras.layers', ActivityRegularization);
