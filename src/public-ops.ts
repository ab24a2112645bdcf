/**
 * The `strata.ops` namespace: the op library plus control flow, which lives
 * in graph/ because tracing it needs subgraphs.
 */
export * from './ops/index.ts';
export { cond, whileLoop } from './graph/control-flow.ts';
export type { WhileLoopOptions } from './graph/control-flow.ts';
