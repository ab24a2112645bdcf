/**
 * The `strata` command line. `strata train` is the main job (`npm start`).
 */
import { trainCommand } from './train.ts';
import { convertCommand } from './convert.ts';
import { doctorCommand } from './doctor.ts';

const USAGE = `Usage: strata <command> [options]

Commands:
  train     train the demo model (run 'strata train --help' for options)
  convert   convert a model between .keras, .h5, TF.js and .onnx (run 'strata convert --help')
  doctor    diagnose a saved model on a data file: gradient flow, NaN/Inf, eager vs graph, determinism
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

process.exitCode = await main(process.argv.slice(2));
