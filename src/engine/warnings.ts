/**
 * Warnings printed once per key (retracing, fallbacks, untracked variables).
 * Tests can capture them with `captureWarnings`.
 */
const shown = new Set<string>();
let sink: ((message: string) => void) | null = null;

export function warnOnce(key: string, message: string): void {
  if (shown.has(key)) return;
  shown.add(key);
  warn(message);
}

export function warn(message: string): void {
  if (sink) sink(message);
  else console.warn(`[strata] ${message}`);
}

/** Runs `fn` collecting warnings instead of printing them. */
export async function captureWarnings<T>(fn: () => T | Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const previous = sink;
  sink = (m) => warnings.push(m);
  try {
    return { result: await fn(), warnings };
  } finally {
    sink = previous;
  }
}
