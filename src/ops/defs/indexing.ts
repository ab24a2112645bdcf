/** Indexing primitives (being written). */
import { defineOps } from '../../engine/op.ts';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface IndexingOpsAttrs {}

export const indexingOps = defineOps<IndexingOpsAttrs>()({});
