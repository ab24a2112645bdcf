/**
 * Kernel suite: Strata's eager kernels against TensorFlow.js's CPU backend
 * (plain JavaScript, like Strata's) on the same inputs, float32.
 */
import * as tf from '@tensorflow/tfjs';
import * as ops from '../src/ops/index.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { dispatch1 } from '../src/engine/dispatch.ts';
import { nnOps } from '../src/ops/defs/nn.ts';
import type { BenchCase, Suite } from './run.ts';

/** Deterministic float32 values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** The same data as a Strata tensor and a TF.js tensor. */
function pair(shape: number[], seed: number): [Tensor, tf.Tensor] {
  const v = values(shape.reduce((p, d) => p * d, 1), seed);
  return [new Tensor(shape, 'float32', v), tf.tensor(v, shape, 'float32')];
}

/** ops.softmax where it exists; otherwise the same composite, exp(x - max) / sum. */
const opsSoftmax = (ops as unknown as Record<string, unknown>).softmax as ((x: Tensor, axis?: number) => Tensor) | undefined;
function strataSoftmax(x: Tensor): Tensor {
  if (typeof opsSoftmax === 'function') return opsSoftmax(x, -1);
  const e = ops.exp(ops.subtract(x, ops.max(x, -1, true)));
  return ops.divide(e, ops.sum(e, -1, true));
}

/** A TF.js call whose result is disposed (the CPU backend computes eagerly). */
const tfRun = (f: () => tf.Tensor) => () => tf.tidy(f).dispose();

async function cases(): Promise<BenchCase[]> {
  await tf.setBackend('cpu');
  await tf.ready();
  const out: BenchCase[] = [];
  const owned: tf.Tensor[] = [];
  const cleanup = () => owned.splice(0).forEach((t) => t.dispose());

  for (const n of [128, 512, 1024]) {
    const [a, ta] = pair([n, n], 1), [b, tb] = pair([n, n], 2);
    owned.push(ta, tb);
    out.push({ name: `matmul ${n}x${n} @ ${n}x${n}`, flops: 2 * n ** 3, strata: () => ops.matmul(a, b), peer: tfRun(() => tf.matMul(ta, tb)) });
  }
  {
    const [a, ta] = pair([64, 784], 3), [b, tb] = pair([784, 256], 4);
    owned.push(ta, tb);
    out.push({ name: 'matmul 64x784 @ 784x256 (dense layer)', flops: 2 * 64 * 784 * 256, strata: () => ops.matmul(a, b), peer: tfRun(() => tf.matMul(ta, tb)) });
  }

  // conv2d NHWC 32x28x28x32, kernel 3x3x32x32, 'same', and its two gradients.
  const [x, tx] = pair([32, 28, 28, 32], 5), [w, tw] = pair([3, 3, 32, 32], 6), [dy, tdy] = pair([32, 28, 28, 32], 7);
  owned.push(tx, tw, tdy);
  const convFlops = 2 * 32 * 28 * 28 * 32 * 3 * 3 * 32;
  const attrs = { strides: [1, 1], padding: 'same' as const, dilations: [1, 1], groups: 1 };
  out.push({ name: 'conv2d 32x28x28x32, 3x3x32x32, same', flops: convFlops, strata: () => ops.conv(x, w, { padding: 'same' }), peer: tfRun(() => tf.conv2d(tx as tf.Tensor4D, tw as tf.Tensor4D, 1, 'same')) });
  out.push({
    name: 'conv2d input gradient (same shapes)',
    flops: convFlops,
    strata: () => dispatch1(nnOps.conv2dBackpropInput, [dy, w], { ...attrs, inputSize: [28, 28] }),
    peer: tfRun(() => tf.conv2dTranspose(tdy as tf.Tensor4D, tw as tf.Tensor4D, [32, 28, 28, 32], 1, 'same')),
  });
  out.push({
    name: 'conv2d filter gradient (same shapes)',
    flops: convFlops,
    strata: () => dispatch1(nnOps.conv2dBackpropFilter, [x, dy], { ...attrs, filterSize: [3, 3] }),
    // TF.js's CPU kernel for this takes tens of seconds: time it once.
    peerRuns: 1,
    note: 'TF.js CPU timed once (its Conv2DBackpropFilter kernel is very slow)',
    peer: tfRun(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: tx, dy: tdy }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [3, 3, 32, 32] } as never) as tf.Tensor),
  });
  {
    const [dw, tdw] = pair([3, 3, 32, 1], 8);
    owned.push(tdw);
    out.push({
      name: 'depthwiseConv 32x28x28x32, 3x3, same',
      flops: 2 * 32 * 28 * 28 * 32 * 9,
      strata: () => ops.depthwiseConv(x, dw, { padding: 'same' }),
      peer: tfRun(() => tf.depthwiseConv2d(tx as tf.Tensor4D, tdw as tf.Tensor4D, 1, 'same')),
    });
  }
  out.push({ name: 'maxPool 2x2 on 32x28x28x32', strata: () => ops.maxPool(x, 2), peer: tfRun(() => tf.maxPool(tx as tf.Tensor4D, 2, 2, 'valid')) });
  out.push({ name: 'averagePool 3x3 stride 2 same on 32x28x28x32', strata: () => ops.averagePool(x, 3, { strides: 2, padding: 'same' }), peer: tfRun(() => tf.avgPool(tx as tf.Tensor4D, 3, 2, 'same')) });

  {
    const [s, ts] = pair([512, 1000], 9);
    owned.push(ts);
    out.push({ name: `softmax [512, 1000], last axis (${typeof opsSoftmax === 'function' ? 'ops.softmax' : 'composite'})`, strata: () => strataSoftmax(s), peer: tfRun(() => tf.softmax(ts)) });
    const [bias, tbias] = pair([1000], 10);
    owned.push(tbias);
    out.push({ name: 'broadcast add [512, 1000] + [1000]', strata: () => ops.add(s, bias), peer: tfRun(() => tf.add(ts, tbias)), cleanup });
  }
  return out;
}

export const kernelSuite: Suite = { name: 'kernels', peer: 'TF.js CPU', cases };
