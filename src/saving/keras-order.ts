/**
 * Keras's variable orders used by the legacy formats. `Functional.layers`
 * already follows Keras's layer order (by depth), so a model's `weights`
 * are in Keras's order; the legacy `.h5` layout additionally lists each
 * layer's trainable weights before its non-trainable ones.
 */
import type { Layer } from '../layers/layer.ts';
import type { Variable } from '../engine/variable.ts';

/** Keras's `model.layers` order. */
export function kerasLayerOrder(model: Layer): Layer[] {
  return model.layers;
}

/** Keras's `trainable_weights` order. */
export function kerasTrainableWeights(layer: Layer): Variable[] {
  return layer.trainableWeights;
}

/** Keras's legacy weight order (`_legacy_weights`): trainable weights, then non-trainable ones. */
export function kerasLegacyWeights(layer: Layer): Variable[] {
  const all = layer.weights;
  return layer.trainable ? [...all.filter((v) => v.trainable), ...all.filter((v) => !v.trainable)] : all;
}
