/**
 * Checks a function's gradients (from the tape) against central finite
 * differences, in float64. The function's output is contracted with fixed
 * random weights so every output element contributes differently.
 */
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.ts';
import { GradientTape } from '../../src/autodiff/tape.ts';
import * as ops from '../../src/ops/index.ts';
import { randomTensor } from './close.ts';

export interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Indices of inputs to check (default: all float inputs). */
  wrt?: number[];
}

function scalarLoss(f: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], weights: Tensor[] | null): { loss: Tensor; weights: Tensor[] } {
  const out = f(...inputs);
  const outs = Array.isArray(out) ? out : [out];
  const w = weights ?? outs.map((o, i) => randomTensor(o.shape as number[], 1000 + i, 0.5, 1.5));
  let loss: Tensor | null = null;
  outs.forEach((o, i) => {
    if (o.dtype !== 'float64') return;
    const term = ops.sum(ops.multiply(o, w[i]));
    loss = loss ? ops.add(loss, term) : term;
  });
  if (!loss) throw new Error('gradcheck: the function has no float64 output.');
  return { loss, weights: w };
}

export function checkGradients(f: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], options: GradCheckOptions = {}, label = ''): void {
  const { eps = 1e-6, rtol = 1e-5, atol = 1e-7 } = options;
  const wrt = options.wrt ?? inputs.map((t, i) => (t.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
  const tape = new GradientTape();
  const { loss, weights } = tape.record(() => scalarLoss(f, inputs, null));
  const analytic = tape.gradient(loss, wrt.map((i) => inputs[i]));
  wrt.forEach((index, k) => {
    const x = inputs[index];
    const base = x.dataSync() as Float64Array;
    const g = analytic[k];
    assert.ok(g, `${label}: gradient for input ${index} is null (${tape.whyNull(x)?.message})`);
    assert.deepEqual(g.shape, x.shape, `${label}: gradient shape for input ${index}`);
    const gv = g.dataSync();
    for (let i = 0; i < base.length; i++) {
      const evalAt = (delta: number) => {
        const v = Float64Array.from(base);
        v[i] += delta;
        const xs = inputs.slice();
        xs[index] = new Tensor(x.shape, 'float64', v);
        return scalarLoss(f, xs, weights).loss.item();
      };
      const numeric = (evalAt(eps) - evalAt(-eps)) / (2 * eps);
      const err = Math.abs(gv[i] - numeric);
      assert.ok(
        err <= atol + rtol * Math.max(Math.abs(numeric), Math.abs(gv[i])),
        `${label}: d/dx${index}[${i}] analytic ${gv[i]} vs numeric ${numeric} (|diff| ${err.toExponential(2)})`,
      );
    }
  });
}
