/**
 * Finds the first stack frame outside Strata's own sources: the line of user
 * code that called an op. Used to point trace-time errors at the user's code.
 */
const ownSources = new URL('../', import.meta.url).pathname;

export function userCallSite(): string | null {
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^()]+?):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const file = m[1].replace(/^file:\/\//, '');
    if (file.startsWith(ownSources) || file.includes('/node_modules/') || file.startsWith('node:')) continue;
    return `${file}:${m[2]}`;
  }
  return null;
}
