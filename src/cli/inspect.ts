/**
 * `strata summary MODEL [--expand-ops] [--expand-nested]` prints a saved model's summary;
 * `strata predict MODEL INPUT.json [--batch-size N]` prints its predictions for a
 * JSON file in TensorFlow Serving's request format ({"instances": [...]},
 * {"inputs": ...}, or a bare list of instances), as the same JSON a server returns.
 */
import { readFile } from 'node:fs/promises';
import * as strata from '../index.ts';
import { signatureOf } from '../saving/onnx-export.ts';
import { parseJson, stringifyJson, uniqueNames } from '../serving/codec.ts';
import { parseOptions } from './options.ts';

const SUMMARY_HELP = `Usage: strata summary MODEL [options]

Prints the summary of a saved model (.keras, .h5, TF.js model.json).

Options:
  --expand-ops      also run the model once and list the ops each layer executed
  --expand-nested   list the layers inside nested models
  -h, --help        show this help
`;

const PREDICT_HELP = `Usage: strata predict MODEL INPUT.json [options]

Prints the predictions of a saved model as JSON. INPUT.json is a TensorFlow
Serving request: {"instances": [...]} (one entry per example; {"name": value}
for several inputs), {"inputs": ...} (batched values), or a bare list of instances.

Options:
  --batch-size N   examples per compiled call (default 32)
  -h, --help       show this help
`;

export async function summaryCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions('strata summary', argv, { '--expand-ops': 'boolean', '--expand-nested': 'boolean' }, 1, SUMMARY_HELP);
  if (typeof parsed === 'number') return parsed;
  const model = (await strata.saving.loadModel(parsed.positional[0])) as strata.Model;
  model.summary({ expandOps: parsed.options['--expand-ops'] === true, expandNested: parsed.options['--expand-nested'] === true });
  return 0;
}

export async function predictCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions('strata predict', argv, { '--batch-size': 'int' }, 2, PREDICT_HELP);
  if (typeof parsed === 'number') return parsed;
  const [modelPath, inputPath] = parsed.positional;
  const model = (await strata.saving.loadModel(modelPath)) as strata.Model;
  let text: string;
  try {
    text = await readFile(inputPath, 'utf8');
  } catch (e) {
    throw new Error(`strata predict: cannot read ${inputPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  let body: unknown;
  try {
    body = parseJson(text);
  } catch (e) {
    throw new Error(`strata predict: ${inputPath} is not a JSON file (${(e as Error).message}).`);
  }
  if (Array.isArray(body)) body = { instances: body };
  const sig = signatureOf(model);
  const signature = { specs: sig.specs, inputNames: sig.inputNames, outputNames: [] as string[] };
  const request = (() => {
    try {
      return strata.serving.decodePredictRequest(body, signature);
    } catch (e) {
      throw new Error(`strata predict: ${inputPath}: ${(e as Error).message}`);
    }
  })();
  const result = await model.predict(request.inputs.length === 1 ? request.inputs[0] : request.inputs, { batchSize: (parsed.options['--batch-size'] as number | undefined) ?? 32, verbose: 0 });
  const outputs = result instanceof strata.Tensor ? [result] : Array.isArray(result) ? result : Object.values(result);
  signature.outputNames = result instanceof strata.Tensor || Array.isArray(result) ? uniqueNames(sig.outputNames(outputs.length)) : Object.keys(result);
  const lists = outputs.map((t) => t.arraySync() as unknown[]);
  process.stdout.write(`${stringifyJson(strata.serving.encodePredictResponse(lists, signature, request.format, 0, request.rows))}\n`);
  return 0;
}
