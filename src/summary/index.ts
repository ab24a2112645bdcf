/** `strata.summary`: TensorBoard event files (scalars, histograms, text, images, graphs) and graph / profile traces. */
export { SummaryWriter, createFileWriter, getDefaultWriter, setDefaultWriter, scalar, histogram, text, image, graph } from './writer.ts';
export type { FileWriterOptions, HistogramOptions, ImageOptions, GraphSource } from './writer.ts';
export { traceOn, traceOff, traceExport } from './trace.ts';
export type { TraceOnOptions } from './trace.ts';
export { readEvents, eventFiles, scalarsByTag, runMetadataGraphs } from './reader.ts';
export type { SummaryEvent } from './reader.ts';
export { graphToGraphDef } from './graph-def.ts';
export { histogramOf } from './histogram.ts';
export { encodePng, decodePng } from './png.ts';
export { decodeGraphDef } from './proto.ts';
export type { EventObject, GraphDefObject, NodeDefObject, SummaryValueObject, HistogramObject } from './proto.ts';
