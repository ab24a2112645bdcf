/**
 * `strata.data`: input pipelines in the style of tf.data.
 *
 *   const ds = new data.TFRecordDataset(files)
 *     .map((r) => data.parseSingleExample(r, spec), {numParallelCalls: data.AUTOTUNE})
 *     .shuffle(10_000, {seed: 1})
 *     .batch(128)
 *     .prefetch(data.AUTOTUNE);
 *   await model.fit(ds, undefined, {epochs: 5});
 *
 * What runs where: every source, transformation and file reader runs on
 * the main thread, as async code that leaves the event loop free while it
 * waits for I/O. Compiled training steps run in the graph worker thread, so
 * a `prefetch` buffer keeps filling while a step runs. `map` with a
 * `workerFunction` runs the function in a pool of worker threads (for
 * CPU-heavy per-element work); ordinary map functions run on the main thread,
 * several at once with `numParallelCalls` (which helps async functions and
 * keeps results ready ahead of the consumer).
 */
import { Dataset } from './dataset.ts';
import { CsvDataset, makeCsvDataset } from './files/csv.ts';
import { AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY } from './core.ts';

export { Dataset } from './dataset.ts';
export type { Windowed, FromGeneratorOptions, ListFilesOptions } from './dataset.ts';
export { AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY } from './core.ts';
export type { MapOptions, ShuffleOptions, PaddedBatchOptions, InterleaveOptions, WindowOptions } from './transforms.ts';
export { StringTensor, StringSpec, SparseTensor, SparseTensorSpec, DatasetSpec } from './structure.ts';
export type { Element, ElementSpec, Leaf, LeafSpec, Batched, Unbatched, Slices, PaddedShapes, PaddingValues } from './structure.ts';
export { TensorSpec } from '../tensor/tensor.ts';
export { workerFunction, WorkerFunction } from './workers.ts';
export type { WorkerModuleSpec } from './workers.ts';
export { TextLineDataset, textLineDataset } from './files/text.ts';
export type { TextLineOptions } from './files/text.ts';
export { CsvDataset, makeCsvDataset } from './files/csv.ts';
export type { ColumnDefault, CsvDType, CsvDatasetOptions, MakeCsvDatasetOptions } from './files/csv.ts';
export { TFRecordDataset, TFRecordWriter, readTFRecords, writeTFRecords } from './files/tfrecord.ts';
export type { TFRecordOptions } from './files/tfrecord.ts';
export {
  serializeExample,
  deserializeExample,
  parseExample,
  parseSingleExample,
  FixedLenFeature,
  VarLenFeature,
  int64Feature,
  floatFeature,
  bytesFeature,
  decodeRaw,
} from './files/example.ts';
export type { FeatureValue, DecodedFeature, FeatureSpec, FeatureDType, ParsedFeature } from './files/example.ts';
export { crc32c, maskedCrc32c } from './files/crc32c.ts';
export type { CompressionType } from './files/stream.ts';

/** tf.data.experimental's names, for code ported from TensorFlow. */
export const experimental = {
  makeCsvDataset,
  CsvDataset,
  AUTOTUNE,
  INFINITE_CARDINALITY,
  UNKNOWN_CARDINALITY,
  /** `ds.cardinality()`. */
  cardinality: (ds: Dataset) => ds.cardinality(),
};
