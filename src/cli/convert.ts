/**
 * `strata convert IN OUT [--check]`: converts a model between formats, by
 * extension: `.keras` (Keras 3), `.h5` / `.hdf5` (legacy Keras HDF5), a
 * `.json` path or a folder (TensorFlow.js layers format), and `.onnx`
 * (export only). `--check` loads the written file back (ONNX: runs it in
 * ONNX Runtime) and compares its predictions with the input model's on a
 * generated sample.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import * as strata from '../index.ts';
import { formatOfPath, loadModelFile, saveModelFile, type ModelFormat } from '../saving/formats.ts';
import { checkSavedFile, makeReport, predictFlat, sampleFor } from '../saving/validate-export.ts';

const HELP = `Usage: strata convert IN OUT [options]

Converts a model file. Formats follow the extension:
  .keras           Keras 3 native format
  .h5, .hdf5       legacy Keras HDF5 (written as Keras 3's model.save('x.h5') does)
  .json or folder  TensorFlow.js layers format (model.json + group1-shard1of1.bin)
  .onnx            ONNX (output only)

Options:
  --check              load the result back and compare its predictions with
                       the input model's on a generated sample
  --h5-config FORM     keras3 (default) or keras2: the config form of .h5 output
  --rtol X, --atol X   tolerances for --check (default 1e-4, 1e-5)
  -h, --help           show this help
`;

interface ConvertArgs {
  input: string;
  output: string;
  check: boolean;
  h5Config: 'keras3' | 'keras2';
  rtol: number;
  atol: number;
}

function parseArgs(args: string[]): ConvertArgs | null {
  const positional: string[] = [];
  const out: Omit<ConvertArgs, 'input' | 'output'> = { check: false, h5Config: 'keras3', rtol: 1e-4, atol: 1e-5 };
  const number = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`strata convert: ${flag} expects a non-negative number, got '${value ?? ''}'.`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case '-h':
      case '--help':
        return null;
      case '--check': out.check = true; break;
      case '--rtol': out.rtol = number(a, args[++i]); break;
      case '--atol': out.atol = number(a, args[++i]); break;
      case '--h5-config': {
        const v = args[++i];
        if (v !== 'keras3' && v !== 'keras2') throw new Error(`strata convert: --h5-config expects keras3 or keras2, got '${v ?? ''}'.`);
        out.h5Config = v;
        break;
      }
      default:
        if (a.startsWith('-') && a !== '-') throw new Error(`strata convert: unknown option '${a}'. See strata convert --help.`);
        positional.push(a);
    }
  }
  if (positional.length !== 2) throw new Error(`strata convert: expected an input and an output path, got ${positional.length} path${positional.length === 1 ? '' : 's'}. See strata convert --help.`);
  return { input: positional[0], output: positional[1], ...out };
}

const FORMAT_NAMES: Record<ModelFormat, string> = { keras: 'Keras 3 (.keras)', h5: 'legacy Keras HDF5 (.h5)', tfjs: 'TensorFlow.js layers', onnx: 'ONNX' };

export async function convertCommand(args: string[]): Promise<number> {
  let parsed: ConvertArgs | null;
  try {
    parsed = parseArgs(args);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  if (!parsed) {
    process.stdout.write(HELP);
    return 0;
  }
  const { input, output } = parsed;
  try {
    const inFormat = await formatOfPath(input);
    const outFormat = await formatOfPath(output);
    if (!inFormat || inFormat === 'onnx') throw new Error(`cannot read '${input}': ${inFormat === 'onnx' ? 'ONNX is an output format only' : 'unknown file type'}. Inputs are .keras, .h5/.hdf5, or TF.js (.json or a folder).`);
    if (!outFormat) throw new Error(`cannot write '${output}': unknown file type. Outputs are .keras, .h5/.hdf5, TF.js (.json or a folder) or .onnx.`);
    const model = await loadModelFile(input, { compile: outFormat !== 'onnx' });
    await mkdir(dirname(output), { recursive: true });
    await saveModelFile(model, output, { format: outFormat, configFormat: parsed.h5Config });
    process.stdout.write(`Converted ${input} (${FORMAT_NAMES[inFormat]}) to ${output} (${FORMAT_NAMES[outFormat]}).\n`);
    if (parsed.check) {
      const sample = sampleFor(model);
      const row = await checkSavedFile(outFormat, output, sample, predictFlat(model, sample), { rtol: parsed.rtol, atol: parsed.atol });
      const report = makeReport([row]);
      process.stdout.write(`\nCheck of ${basename(output)} against ${basename(input)} on a generated sample:\n${report.toString()}\n`);
      if (!report.ok) {
        process.stderr.write(`strata convert: the converted model does not reproduce the original's predictions.\n`);
        return 1;
      }
    }
    return 0;
  } catch (e) {
    process.stderr.write(`strata convert: ${(e as Error).message}\n`);
    return 1;
  }
}

void strata; // loading strata wires model.save and the registry of layer classes
