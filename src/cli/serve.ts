/**
 * `strata serve MODEL [--port N] [--host H] [--name NAME] [--max-batch-size N]`:
 * serves a saved model over TensorFlow Serving's REST API until interrupted.
 */
import { basename, extname } from 'node:path';
import * as strata from '../index.ts';
import { parseOptions } from './options.ts';

const HELP = `Usage: strata serve MODEL [options]

Serves a saved model (.keras, .h5, TF.js model.json) with TensorFlow Serving's REST API:
  GET  /v1/models/NAME              status
  GET  /v1/models/NAME/metadata     the signature (input and output names, shapes, dtypes)
  POST /v1/models/NAME:predict      {"instances": [...]} or {"inputs": ...}

Options:
  --port N             the port (default 8501; 0 picks a free one)
  --host H             the address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)
  --name NAME          the NAME in the URLs (default: the file name without its extension)
  --max-batch-size N   the most rows one compiled call takes when batching requests (default 64)
  -h, --help           show this help
`;

export async function serveCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions('strata serve', argv, { '--port': 'int', '--host': 'string', '--name': 'string', '--max-batch-size': 'int' }, 1, HELP);
  if (typeof parsed === 'number') return parsed;
  const [path] = parsed.positional;
  const model = await strata.saving.loadModel(path);
  const server = await strata.serving.serve(model, {
    port: (parsed.options['--port'] as number | undefined) ?? 8501,
    host: parsed.options['--host'] as string | undefined,
    modelName: (parsed.options['--name'] as string | undefined) ?? basename(path, extname(path)).replace(/[^A-Za-z0-9_.-]/g, '_'),
    maxBatchSize: parsed.options['--max-batch-size'] as number | undefined,
  });
  process.stdout.write(`Serving model '${model.name}' from ${path}\n  ${server.url}  (POST ${server.url}:predict)\nPress Ctrl+C to stop.\n`);
  await new Promise<void>((resolve) => {
    const stop = () => void server.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
