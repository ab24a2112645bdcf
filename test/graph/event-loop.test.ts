import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

const { ops } = strata;

/** A compiled function that keeps ONNX Runtime busy for a while: many passes over a large tensor. */
function heavy(x: Tensor): Tensor {
  let y = x;
  for (let i = 0; i < 40; i++) y = ops.sin(ops.add(ops.multiply(y, 1.0001), 0.001));
  return ops.sum(y);
}

describe('graph execution keeps the event loop free', () => {
  it('timers keep firing while a long compiled call runs in the graph worker', async () => {
    const f = strata.fn(heavy, { name: 'heavy' });
    const x = ops.reshape(ops.cast(strata.range(4_000_000), 'float32'), [2000, 2000]);
    await f(x); // compile and warm up
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 5);
    const start = performance.now();
    let duration = 0;
    // Repeat until the call is long enough to judge (machines differ in speed).
    for (let reps = 1; duration < 300 && reps <= 64; reps *= 2) {
      ticks.length = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: reps }, () => f(x)));
      duration = performance.now() - t0;
    }
    clearInterval(timer);
    void start;
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
    const maxGap = Math.max(...gaps);
    assert.ok(duration >= 300, `the compiled calls took only ${duration.toFixed(0)} ms`);
    assert.ok(ticks.length >= 10, `only ${ticks.length} timer ticks during ${duration.toFixed(0)} ms of compiled work`);
    assert.ok(maxGap < duration / 3, `the event loop was blocked for ${maxGap.toFixed(0)} ms during ${duration.toFixed(0)} ms of compiled work`);
  });
});
