/**
 * The `strata` command line. `strata train` is the main job (`npm start`).
 */
import { trainCommand } from './train.ts';
import { convertCommand } from './convert.ts';
import { doctorCommand } from './doctor.ts';
import { predictCommand, summaryCommand } from './inspect.ts';
import { serveCommand } from './serve.ts';

const USAGE = `Usage: strata <command> [options]

Commands:
  train     train the demo model (run 'strata train --help' for options)
  convert   convert a model between .keras, .h5, TF.js and .onnx (run 'strata convert --help')
  doctor    diagnose a saved model on a data file: gradient flow, NaN/Inf, eager vs graph, determinism
  summary   print a saved model's summary
  predict   print a saved model's predictions for a JSON file (TF Serving's request format)
  serve     serve a saved model over TensorFlow Serving's REST API
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'train':
      return await trainCommand(rest);
    case 'convert':
      return await convertCommand(rest);
    case 'doctor':
      return await doctorCommand(rest);
    case 'summary':
      return await summaryCommand(rest);
    case 'predict':
      return await predictCommand(rest);
    case 'serve':
      return await serveCommand(rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`strata: unknown command '${command}'.\n\n${USAGE}`);
      return 1;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // A user's mistake (a missing file, a bad option) reads better without a stack; STRATA_DEBUG=1 shows it.
  process.stderr.write(`${process.env.STRATA_DEBUG && e instanceof Error ? e.stack : e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
