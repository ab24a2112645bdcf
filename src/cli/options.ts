/**
 * A small flag parser for the commands that take a few `--flag value` options
 * and positional arguments. Unknown flags and bad values are errors that name
 * the command and the flag.
 */
export type FlagKind = 'int' | 'string' | 'boolean';

export interface ParsedOptions {
  positional: string[];
  options: Record<string, number | string | boolean>;
}

/**
 * Parses `argv`; prints `help` and returns an exit code for -h/--help (0) or too
 * few positional arguments (1).
 */
export function parseOptions(command: string, argv: string[], flags: Record<string, FlagKind>, positionalCount: number, help: string): ParsedOptions | number {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(help);
    return 0;
  }
  const positional: string[] = [];
  const options: Record<string, number | string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    // --flag value, or --flag=value
    const eq = arg.indexOf('=');
    const a = eq > 0 ? arg.slice(0, eq) : arg;
    const kind = flags[a];
    if (kind === undefined) throw new Error(`${command}: unknown option '${a}'. Known: ${Object.keys(flags).join(', ')}.`);
    if (kind === 'boolean') {
      if (eq > 0) throw new Error(`${command}: ${a} takes no value.`);
      options[a] = true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new Error(`${command}: ${a} needs a value.`);
    if (kind === 'int') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${command}: ${a} expects a non-negative integer, got '${value}'.`);
      options[a] = n;
    } else options[a] = value;
  }
  if (positional.length !== positionalCount) {
    process.stderr.write(`${command}: expected ${positionalCount} argument${positionalCount === 1 ? '' : 's'}, got ${positional.length}.\n\n${help}`);
    return 1;
  }
  return { positional, options };
}
