/**
 * CSV files: `CsvDataset` (tf.data.experimental.CsvDataset: one tuple of
 * scalars per row) and `makeCsvDataset` (tf.data.experimental.make_csv_dataset:
 * batches of {column: values} and a label, with header, type inference,
 * shuffling and repetition).
 *
 * Parsing follows RFC 4180: fields may be quoted with `"` (then they may
 * hold the delimiter, line breaks and `""` for a quote). Empty fields and
 * fields equal to `naValue` take the column's default; a column without a
 * default requires a value. A malformed row is an error naming the file, the
 * line and the problem, or is skipped with `ignoreErrors: true`. Files are
 * streamed, never read whole.
 */
import { Tensor, TensorSpec } from '../../tensor/tensor.ts';
import type { DType } from '../../tensor/dtype.ts';
import { describe } from '../../tensor/shape.ts';
import { AUTOTUNE, type DatasetNode, UNKNOWN_CARDINALITY } from '../core.ts';
import { Dataset } from '../dataset.ts';
import { ListNode } from '../sources.ts';
import { type Element, type ElementSpec, StringSpec, StringTensor, batchSpec } from '../structure.ts';
import { glob } from './glob.ts';
import { type CompressionType, type FileNames, checkBufferSize, checkCompression, fileNamesNode, filesNode, readChunks } from './stream.ts';
import { wrapSpec } from './tfrecord.ts';

export type CsvDType = 'float32' | 'float64' | 'int32' | 'int64' | 'string';
const CSV_DTYPES: readonly string[] = ['float32', 'float64', 'int32', 'int64', 'string'];

/**
 * A column's type and default: a number (float32, that default), a string
 * (a string column with that default), a dtype name ('float32', 'float64',
 * 'int32', 'int64' read as int32, 'string': required, no default), a scalar
 * tensor (its dtype and value), or `{dtype, default?}`.
 */
export type ColumnDefault = number | string | Tensor | { dtype: CsvDType; default?: number | string };

interface Column {
  dtype: 'float32' | 'float64' | 'int32' | 'string';
  default: number | string | undefined;
}

function toColumn(d: ColumnDefault, where: string, i: number): Column {
  if (typeof d === 'number') return { dtype: 'float32', default: d };
  if (typeof d === 'string') return CSV_DTYPES.includes(d) ? { dtype: d === 'int64' ? 'int32' : (d as Column['dtype']), default: undefined } : { dtype: 'string', default: d };
  if (d instanceof Tensor) {
    if (d.dtype === 'bool') throw new TypeError(`${where}: column ${i}: bool columns are not supported; use int32.`);
    const v = d.dataSync();
    if (v.length > 1) throw new TypeError(`${where}: column ${i}: a default must be a scalar; got a tensor of ${v.length} values.`);
    return { dtype: d.dtype as Column['dtype'], default: v.length === 1 ? v[0] : undefined };
  }
  if (d && typeof d === 'object' && typeof d.dtype === 'string' && CSV_DTYPES.includes(d.dtype)) {
    const dtype = d.dtype === 'int64' ? 'int32' : (d.dtype as Column['dtype']);
    if (d.default !== undefined && (dtype === 'string') !== (typeof d.default === 'string')) throw new TypeError(`${where}: column ${i}: the default ${describe(d.default)} does not match dtype ${d.dtype}.`);
    return { dtype, default: d.default };
  }
  throw new TypeError(`${where}: column ${i}: Received: ${describe(d)}; a column default must be a number, a string, a dtype name (${CSV_DTYPES.join(', ')}), a scalar tensor or {dtype, default}.`);
}

// ---------------------------------------------------------------------------
// The record parser

interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
}

export class CsvFormatError extends Error {}

/** The records of one file, with the line each starts on. */
async function* parseCsv(path: string, options: { delim: string; useQuote: boolean; compressionType?: CompressionType; bufferSize?: number; where: string }): AsyncGenerator<CsvRecord> {
  const { delim, useQuote, where } = options;
  const decoder = new TextDecoder();
  const at = (line: number) => `${where}: file '${path}', line ${line}`;
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let pendingQuote = false; // a quote ended the previous chunk inside a quoted field
  let afterQuote = false;
  let fieldStarted = false;
  let line = 1;
  let recordLine = 1;
  let quoteLine = 1;
  let first = true;
  const endField = () => {
    fields.push(field);
    field = '';
    afterQuote = false;
    fieldStarted = false;
  };
  const takeRecord = (): CsvRecord | null => {
    const r = fields.length === 1 && fields[0] === '' ? null : { fields, line: recordLine };
    fields = [];
    return r;
  };
  const countLines = (s: string) => {
    for (let k = s.indexOf('\n'); k >= 0; k = s.indexOf('\n', k + 1)) line++;
  };
  const isSpecial = (c: string) => c === delim || c === '\n' || c === '\r';

  const consume = function* (s: string): Generator<CsvRecord> {
    let i = 0;
    if (first) {
      first = false;
      if (s.charCodeAt(0) === 0xfeff) i = 1;
    }
    if (pendingQuote && s.length > 0) {
      pendingQuote = false;
      if (s[0] === '"') {
        field += '"';
        i = Math.max(i, 1);
      } else {
        inQuotes = false;
        afterQuote = true;
      }
    }
    const n = s.length;
    while (i < n) {
      if (inQuotes) {
        const j = s.indexOf('"', i);
        if (j < 0) {
          const rest = s.slice(i);
          countLines(rest);
          field += rest;
          return;
        }
        const part = s.slice(i, j);
        countLines(part);
        field += part;
        if (j + 1 === n) {
          pendingQuote = true;
          return;
        }
        if (s[j + 1] === '"') {
          field += '"';
          i = j + 2;
        } else {
          inQuotes = false;
          afterQuote = true;
          i = j + 1;
        }
        continue;
      }
      const c = s[i];
      if (afterQuote && !isSpecial(c)) {
        throw new CsvFormatError(`${at(line)}: unexpected character ${JSON.stringify(c)} after the closing quote of a field (a quote inside a quoted field is written "").`);
      }
      if (c === delim) {
        endField();
        i++;
      } else if (c === '\n') {
        endField();
        const r = takeRecord();
        if (r) yield r;
        line++;
        recordLine = line;
        i++;
      } else if (c === '\r') {
        i++;
      } else if (c === '"' && useQuote && !fieldStarted) {
        inQuotes = true;
        fieldStarted = true;
        quoteLine = line;
        i++;
      } else {
        let k = i + 1;
        while (k < n && !isSpecial(s[k])) k++;
        field += s.slice(i, k);
        fieldStarted = true;
        i = k;
      }
    }
  };

  for await (const chunk of readChunks(path, { compressionType: options.compressionType, bufferSize: options.bufferSize, where })) {
    yield* consume(decoder.decode(chunk, { stream: true }));
  }
  yield* consume(decoder.decode());
  if (pendingQuote) {
    pendingQuote = false;
    inQuotes = false;
    afterQuote = true;
  }
  if (inQuotes) throw new CsvFormatError(`${at(quoteLine)}: a quoted field is not closed before the end of the file.`);
  if (fieldStarted || fields.length > 0 || afterQuote) {
    endField();
    const r = takeRecord();
    if (r) yield r;
  }
}

// ---------------------------------------------------------------------------
// Values

const INT_RE = /^\s*[+-]?\d+\s*$/;

function parseFloatStrict(s: string): number | null {
  const t = s.trim();
  if (t === '') return null;
  const lower = t.toLowerCase();
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  const v = Number(t);
  if (Number.isNaN(v) || /^[+-]?0[xob]/i.test(t)) return null;
  return v;
}

function scalarTensor(v: number, dtype: DType): Tensor {
  const arr = dtype === 'int32' ? new Int32Array(1) : dtype === 'float64' ? new Float64Array(1) : new Float32Array(1);
  arr[0] = v;
  return new Tensor([], dtype, arr);
}

interface RowConfig {
  columns: Column[];
  /** File column index of each output column. */
  indices: number[];
  names: string[];
  /** Exact number of fields per row, or null (only check the selected columns exist). */
  expectedFields: number | null;
  header: boolean;
  delim: string;
  useQuote: boolean;
  naValue: string;
  ignoreErrors: boolean;
  compressionType?: CompressionType;
  bufferSize?: number;
  where: string;
}

/** The rows of one file as arrays of leaves (scalar tensors, strings). */
async function* csvRows(path: string, cfg: RowConfig): AsyncGenerator<Element[]> {
  const at = (line: number) => `${cfg.where}: file '${path}', line ${line}`;
  let firstRecord = true;
  const records = parseCsv(path, { delim: cfg.delim, useQuote: cfg.useQuote, compressionType: cfg.compressionType, bufferSize: cfg.bufferSize, where: cfg.where });
  try {
    for (;;) {
      // A malformed quote is an error even with ignoreErrors: the rest of the file could not be read reliably.
      const rec = await records.next();
      if (rec.done) return;
      const { fields, line } = rec.value;
      if (firstRecord && cfg.header) {
        firstRecord = false;
        continue;
      }
      firstRecord = false;
      let row: Element[] | null = null;
      try {
        row = parseRow(fields, line, cfg, at);
      } catch (e) {
        if (!(e instanceof CsvFormatError) || !cfg.ignoreErrors) throw e;
      }
      if (row) yield row;
    }
  } finally {
    // Closes the file when the consumer stops early (take, break) or a row is an error.
    await records.return(undefined);
  }
}

function parseRow(fields: string[], line: number, cfg: RowConfig, at: (line: number) => string): Element[] {
  if (cfg.expectedFields !== null && fields.length !== cfg.expectedFields) {
    throw new CsvFormatError(`${at(line)}: expected ${cfg.expectedFields} fields, found ${fields.length}.`);
  }
  const need = Math.max(...cfg.indices) + 1;
  if (fields.length < need) throw new CsvFormatError(`${at(line)}: expected at least ${need} fields, found ${fields.length}.`);
  return cfg.indices.map((fi, k) => {
    const col = cfg.columns[k];
    const raw = fields[fi];
    const name = cfg.names[k];
    if (raw === '' || raw === cfg.naValue) {
      if (col.default === undefined) throw new CsvFormatError(`${at(line)}: column '${name}' (field ${fi + 1}) has no value and no default.`);
      return col.dtype === 'string' ? String(col.default) : scalarTensor(Number(col.default), col.dtype);
    }
    if (col.dtype === 'string') return raw;
    if (col.dtype === 'int32') {
      const v = INT_RE.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(v) || v > 2147483647 || v < -2147483648) throw new CsvFormatError(`${at(line)}: column '${name}' (field ${fi + 1}): cannot read ${JSON.stringify(raw)} as int32.`);
      return scalarTensor(v, 'int32');
    }
    const v = parseFloatStrict(raw);
    if (v === null) throw new CsvFormatError(`${at(line)}: column '${name}' (field ${fi + 1}): cannot read ${JSON.stringify(raw)} as ${col.dtype}.`);
    return scalarTensor(v, col.dtype);
  });
}

function rowSpec(columns: Column[]): ElementSpec[] {
  return columns.map((c) => (c.dtype === 'string' ? new StringSpec([], 'string') : new TensorSpec([], c.dtype)));
}

function checkDelim(d: unknown, where: string): string {
  if (typeof d !== 'string' || d.length !== 1 || d === '"' || d === '\n' || d === '\r') throw new TypeError(`${where}: Received: fieldDelim=${describe(d)}; expected one character (not a quote or a line break).`);
  return d;
}

// ---------------------------------------------------------------------------
// CsvDataset

export interface CsvDatasetOptions {
  compressionType?: CompressionType;
  bufferSize?: number;
  /** The first line of each file is a header to skip (default false). */
  header?: boolean;
  fieldDelim?: string;
  /** Treat `"` as the quote character (default true). */
  useQuoteDelim?: boolean;
  /** A field equal to this is missing (default ''). */
  naValue?: string;
  /** Indices of the columns to read (sorted); `recordDefaults` then describes only these. */
  selectCols?: readonly number[];
  /** Skip rows with errors instead of failing (default false). */
  ignoreErrors?: boolean;
}

/**
 * The rows of CSV files as tuples of scalars (tf.data.experimental.CsvDataset):
 * one column per entry of `recordDefaults` (see ColumnDefault).
 */
export class CsvDataset extends Dataset<Element[]> {
  constructor(filenames: FileNames, recordDefaults: readonly ColumnDefault[], options: CsvDatasetOptions = {}) {
    const where = 'CsvDataset';
    checkCompression(options.compressionType, where);
    checkBufferSize(options.bufferSize, where);
    if (!Array.isArray(recordDefaults) || recordDefaults.length === 0) throw new TypeError(`${where}: recordDefaults must be a non-empty list (one entry per column).`);
    const columns = recordDefaults.map((d, i) => toColumn(d, where, i));
    const select = options.selectCols;
    if (select) {
      if (select.length !== columns.length) throw new Error(`${where}: selectCols lists ${select.length} columns but recordDefaults has ${columns.length} entries; they must match.`);
      select.forEach((c, i) => {
        if (!Number.isInteger(c) || c < 0 || (i > 0 && c <= select[i - 1])) throw new Error(`${where}: selectCols must be increasing non-negative integers; got ${describe(select)}.`);
      });
    }
    const cfg: RowConfig = {
      columns,
      indices: select ? [...select] : columns.map((_, i) => i),
      names: (select ?? columns.map((_, i) => i)).map((i) => `#${i}`),
      expectedFields: select ? null : columns.length,
      header: options.header ?? false,
      delim: checkDelim(options.fieldDelim ?? ',', where),
      useQuote: options.useQuoteDelim ?? true,
      naValue: options.naValue ?? '',
      ignoreErrors: options.ignoreErrors ?? false,
      compressionType: options.compressionType,
      bufferSize: options.bufferSize,
      where,
    };
    const perFile = (path: string): DatasetNode => ({ iterate: () => csvRows(path, cfg), cardinality: () => UNKNOWN_CARDINALITY, spec: () => rowSpec(columns) });
    const node = filesNode(fileNamesNode(filenames, where), perFile, undefined, where) as unknown as DatasetNode<Element[]>;
    super(wrapSpec(node, rowSpec(columns)));
  }
}

// ---------------------------------------------------------------------------
// makeCsvDataset

export interface MakeCsvDatasetOptions {
  /** Column names (default: from the header). */
  columnNames?: readonly string[];
  /** One ColumnDefault per column (or per selected column); default: inferred from the first rows. */
  columnDefaults?: readonly ColumnDefault[];
  /** The column returned separately as the label: elements are [features, label]. */
  labelName?: string;
  /** Names or indices of the columns to keep. */
  selectColumns?: readonly (string | number)[];
  fieldDelim?: string;
  useQuoteDelim?: boolean;
  naValue?: string;
  /** The first line of each file is a header (default true). */
  header?: boolean;
  /** Passes over the data (default null: forever, as in tf.data). */
  numEpochs?: number | null;
  /** Shuffle rows (default true) with a buffer of `shuffleBufferSize` (default 10000) and `shuffleSeed`. */
  shuffle?: boolean;
  shuffleBufferSize?: number;
  shuffleSeed?: number;
  /** Batches prefetched (default AUTOTUNE). */
  prefetchBufferSize?: number;
  /** Files read at once (default 1). */
  numParallelReads?: number;
  /** Rows read to infer column types (default 100). */
  numRowsForInference?: number;
  compressionType?: CompressionType;
  /** Skip rows with errors (default false: an error names the file and line). */
  ignoreErrors?: boolean;
}

async function firstRecords(path: string, n: number, cfg: { delim: string; useQuote: boolean; compressionType?: CompressionType; where: string }): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  const it = parseCsv(path, cfg);
  try {
    for (;;) {
      if (out.length >= n) break;
      const r = await it.next();
      if (r.done) break;
      out.push(r.value);
    }
  } finally {
    await it.return(undefined);
  }
  return out;
}

function inferColumn(values: string[], naValue: string): Column {
  const present = values.filter((v) => v !== '' && v !== naValue);
  if (present.length === 0) return { dtype: 'string', default: '' };
  if (present.every((v) => INT_RE.test(v) && Math.abs(Number(v)) <= 2147483647)) return { dtype: 'int32', default: 0 };
  if (present.every((v) => parseFloatStrict(v) !== null)) return { dtype: 'float32', default: 0 };
  return { dtype: 'string', default: '' };
}

/**
 * Batches of rows of CSV files (tf.data.experimental.make_csv_dataset):
 * each element is `{column: values}` (with `labelName`: `[features, label]`),
 * each value a tensor (or a StringTensor for text) with a batch dimension.
 * Column names come from the header, types from `columnDefaults` or the first
 * `numRowsForInference` rows (int32, float32 or string). Repeats forever
 * unless `numEpochs` is given, and shuffles unless `shuffle: false`.
 * The header and the rows used for type inference are read at the start of
 * the first pass (errors about columns surface then); `elementSpec` is known
 * after that.
 */
export function makeCsvDataset(filePattern: string | readonly string[], batchSize: number, options: MakeCsvDatasetOptions = {}): Dataset<Record<string, Element> | [Record<string, Element>, Element]> {
  const where = 'makeCsvDataset';
  checkCompression(options.compressionType, where);
  const patterns = typeof filePattern === 'string' ? [filePattern] : [...filePattern];
  const files = [...new Set(patterns.flatMap((p) => glob(p)))].sort();
  if (files.length === 0) throw new Error(`${where}: no files match ${patterns.map((p) => `'${p}'`).join(', ')}.`);
  const delim = checkDelim(options.fieldDelim ?? ',', where);
  const header = options.header ?? true;
  if (!header && !options.columnNames) throw new Error(`${where}: without a header (header: false), give columnNames.`);
  const shuffle = options.shuffle ?? true;
  const epochs = options.numEpochs ?? null;
  const dropRemainder = epochs === null;

  // Column names and types come from the first file; they are read on the first pass (and kept).
  let resolved: Promise<CsvLayout> | null = null;
  let layout: CsvLayout | null = null;
  const getLayout = (): Promise<CsvLayout> => {
    resolved ??= csvLayout(files[0], options, delim, header, where).then(
      (l) => (layout = l),
      (e) => {
        resolved = null;
        throw e;
      },
    );
    return resolved;
  };
  const perFile = (path: string): DatasetNode => ({
    iterate: () =>
      (async function* () {
        const { cfg, toRecord } = await getLayout();
        for await (const row of csvRows(path, cfg)) yield toRecord(row);
      })(),
    cardinality: () => UNKNOWN_CARDINALITY,
    spec: () => null,
  });
  let names$ = new Dataset(new ListNode(files) as DatasetNode<Element>);
  if (shuffle) names$ = names$.shuffle(files.length, { seed: options.shuffleSeed });
  let ds = new Dataset(filesNode(names$._node, perFile, options.numParallelReads, where));
  if (shuffle) ds = ds.shuffle(options.shuffleBufferSize ?? 10000, { seed: options.shuffleSeed });
  if (epochs !== 1) ds = ds.repeat(epochs === null ? -1 : epochs);
  const batched = ds.batch(batchSize, { dropRemainder }).prefetch(options.prefetchBufferSize ?? AUTOTUNE);
  const node = batched._node;
  return new Dataset({
    iterate: () => node.iterate(),
    cardinality: () => node.cardinality(),
    spec: () => (layout ? batchSpec(layout.spec, dropRemainder ? batchSize : null) : null),
  }) as unknown as Dataset<Record<string, Element> | [Record<string, Element>, Element]>;
}

interface CsvLayout {
  cfg: RowConfig;
  toRecord: (row: Element[]) => Element;
  spec: ElementSpec;
}

async function csvLayout(first: string, options: MakeCsvDatasetOptions, delim: string, header: boolean, where: string): Promise<CsvLayout> {
  const useQuote = options.useQuoteDelim ?? true;
  const naValue = options.naValue ?? '';
  const inferRows = options.numRowsForInference ?? 100;
  const parseCfg = { delim, useQuote, compressionType: options.compressionType, where };
  const head = await firstRecords(first, (header ? 1 : 0) + (options.columnDefaults ? 0 : inferRows), parseCfg);
  let names: string[];
  if (options.columnNames) names = [...options.columnNames];
  else {
    if (head.length === 0) throw new Error(`${where}: file '${first}' is empty; it has no header to take column names from.`);
    names = head[0].fields.map((f) => f.trim());
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new Error(`${where}: the column name '${dup}' appears twice.`);
  if (header && head.length > 0 && head[0].fields.length !== names.length) {
    throw new Error(`${where}: file '${first}', line ${head[0].line}: the header has ${head[0].fields.length} fields but there are ${names.length} column names.`);
  }

  let selected = names.map((_, i) => i);
  if (options.selectColumns) {
    selected = options.selectColumns.map((c) => {
      const idx = typeof c === 'number' ? c : names.indexOf(c);
      if (idx < 0 || idx >= names.length) throw new Error(`${where}: selectColumns: no column ${typeof c === 'number' ? c : `'${c}'`}; the columns are ${names.join(', ')}.`);
      return idx;
    });
    selected = [...new Set(selected)].sort((a, b) => a - b);
  }
  let columns: Column[];
  if (options.columnDefaults) {
    const d = options.columnDefaults;
    if (d.length === names.length) columns = selected.map((i) => toColumn(d[i], where, i));
    else if (d.length === selected.length) columns = d.map((x, k) => toColumn(x, where, selected[k]));
    else throw new Error(`${where}: columnDefaults has ${d.length} entries but there are ${names.length} columns (${selected.length} selected).`);
  } else {
    const rows = head.slice(header ? 1 : 0);
    columns = selected.map((i) => inferColumn(rows.map((r) => r.fields[i] ?? ''), naValue));
  }
  const selNames = selected.map((i) => names[i]);
  const label = options.labelName;
  if (label !== undefined && !selNames.includes(label)) throw new Error(`${where}: labelName '${label}' is not ${names.includes(label) ? 'among the selected columns' : 'a column'}; the columns are ${selNames.join(', ')}.`);

  const cfg: RowConfig = {
    columns,
    indices: selected,
    names: selNames,
    expectedFields: names.length,
    header,
    delim,
    useQuote,
    naValue,
    ignoreErrors: options.ignoreErrors ?? false,
    compressionType: options.compressionType,
    where,
  };
  const toRecord = (row: Element[]): Element => {
    const features: Record<string, Element> = {};
    let lab: Element | undefined;
    row.forEach((v, k) => {
      if (selNames[k] === label) lab = v;
      else features[selNames[k]] = v;
    });
    return label === undefined ? features : [features, lab as Element];
  };
  const specs = rowSpec(columns);
  const featureSpec: Record<string, ElementSpec> = {};
  let labelSpec: ElementSpec | null = null;
  specs.forEach((sp, k) => {
    if (selNames[k] === label) labelSpec = sp;
    else featureSpec[selNames[k]] = sp;
  });
  return { cfg, toRecord, spec: label === undefined ? featureSpec : [featureSpec, labelSpec as unknown as ElementSpec] };
}

export { StringTensor };
