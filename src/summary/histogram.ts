/**
 * Histograms in TensorBoard's HistogramProto form: equal-width buckets
 * between the smallest and largest value (as tf.summary.histogram makes
 * them, 30 by default). `bucketLimit[i]` is the right edge of bucket i; the
 * left edge of the first is `min`. Non-finite values are left out.
 */
import type { HistogramObject } from './proto.ts';

export function histogramOf(values: ArrayLike<number>, buckets = 30): HistogramObject {
  if (!Number.isInteger(buckets) || buckets < 1) throw new Error(`histogram: buckets must be a positive integer. Received: ${buckets}`);
  let min = Infinity;
  let max = -Infinity;
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    num++;
    sum += v;
    sumSquares += v * v;
  }
  if (num === 0) return { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [], bucket: [] };
  if (min === max) return { min, max, num, sum, sumSquares, bucketLimit: [max], bucket: [num] };
  const width = (max - min) / buckets;
  const counts = new Array<number>(buckets).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[Math.min(buckets - 1, Math.floor((v - min) / width))]++;
  }
  const bucketLimit = counts.map((_, i) => (i === buckets - 1 ? max : min + (i + 1) * width));
  return { min, max, num, sum, sumSquares, bucketLimit, bucket: counts };
}
