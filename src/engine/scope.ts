/**
 * Name scopes: layers push their name while they run, so every op knows the
 * layer path it ran in (`model/block_1/dense`). Errors, the gradient tape,
 * graph nodes, numerics checks and the profiler all report it.
 */
const stack: string[] = [];

export function withNameScope<T>(name: string, fn: () => T): T {
  stack.push(name);
  try {
    return fn();
  } finally {
    stack.pop();
  }
}

/** The current layer path, '' at top level. */
export function currentScope(): string {
  return stack.join('/');
}

/** ` (in layer 'a/b')` or '' — for appending to error messages. */
export function scopeSuffix(scope = currentScope()): string {
  return scope ? ` (in layer '${scope}')` : '';
}
