/** Linalg primitives (being written). */
import { defineOps } from '../../engine/op.ts';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface LinalgOpsAttrs {}

export const linalgOps = defineOps<LinalgOpsAttrs>()({});
