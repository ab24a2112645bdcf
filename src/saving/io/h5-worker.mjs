// The HDF5 worker: runs the HDF5 library (h5wasm, HDF5 compiled to
// WebAssembly) off the main thread for src/saving/io/h5.ts.
//
// Why a worker: HDF5 parses untrusted files. On corrupt input it prints error
// stacks, can abort the WebAssembly module, leaves the library's state
// poisoned for later files (observed: after some corrupt files, valid files
// failed to read in the same module instance), allocates what a damaged
// length field says, and can loop forever (observed, also in the native
// library under h5py). Here every request gets a fresh module instance
// (instantiated from a compiled module kept from the first one, ~10 ms) with
// its own in-memory file system (MEMFS: HDF5 never sees the host's files),
// captured stdout/stderr and a cap on its heap's growth; the main thread
// stops the whole worker when a request runs past its time limit.
//
// Plain JavaScript on purpose: it runs without a TypeScript loader.
// Requests arrive one at a time on the parent port:
//   {id, kind: 'read', bytes: Uint8Array, limits}   -> {id, ok, root}
//   {id, kind: 'write', ops: [...]}                  -> {id, ok, bytes}
// Failures reply {id, ok: false, category: 'corrupt' | 'limit' | 'unsupported' | 'usage', message}.
// Read data comes back as transferred ArrayBuffers (moved, not copied).
import { parentPort } from 'node:worker_threads';

// h5wasm's package exports only its high-level wrapper, which keeps one module
// instance for the life of the process; the module factory beside it lets us
// make a fresh instance per request.
const factoryUrl = new URL('./hdf5_util.js', import.meta.resolve('h5wasm')).href;
const { default: moduleFactory } = await import(factoryUrl);

const H5T = { INTEGER: 0, FLOAT: 1, TIME: 2, STRING: 3, BITFIELD: 4, OPAQUE: 5, COMPOUND: 6, REFERENCE: 7, ENUM: 8, VLEN: 9, ARRAY: 10 };
const CLASS_NAMES = ['integer', 'float', 'time', 'string', 'bitfield', 'opaque', 'compound', 'reference', 'enum', 'variable-length sequence', 'array'];
/** The WebAssembly heap is 32-bit and capped at 2 GiB; keep room for HDF5 itself. */
const MAX_READ_BYTES = 2 ** 31 - 2 ** 26;

class Failure extends Error {
  constructor(category, message) {
    super(message);
    this.category = category;
  }
}

/** Lines the current call printed (HDF5 prints its error stack on stderr). */
let sink = null;
/** The compiled WebAssembly module, kept from the first instantiation. */
let compiled = null;
/**
 * The most bytes the current instance's heap may grow to. Corrupt files can
 * make HDF5 itself allocate what they declare (a variable-length string's
 * length, for one) before it finds the damage; refusing the growth turns that
 * into an allocation error instead of gigabytes of memory.
 */
let heapCap = Infinity;

function captureCompiledModule(options) {
  const original = WebAssembly.instantiate;
  WebAssembly.instantiate = async function (...args) {
    const result = await original.apply(this, args);
    if (result && result.module instanceof WebAssembly.Module) compiled = result.module;
    return result;
  };
  return moduleFactory(options).finally(() => {
    WebAssembly.instantiate = original;
  });
}

// A new object each time: the factory turns the object it is given into the
// module instance.
const moduleOptions = () => ({
  noInitialRun: true,
  print: (s) => sink?.push(String(s)),
  printErr: (s) => sink?.push(String(s)),
});

async function createModule() {
  if (compiled === null) {
    // The first instance compiles the bytes embedded in the factory; it is
    // used only to keep the compiled module (and as a fallback if it cannot).
    const first = await captureCompiledModule(moduleOptions());
    if (compiled === null) return first;
  }
  const module = compiled;
  return new Promise((resolve, reject) => {
    moduleFactory({
      ...moduleOptions(),
      instantiateWasm(imports, receive) {
        const grow = imports.env?.emscripten_resize_heap;
        if (typeof grow === 'function') {
          imports.env.emscripten_resize_heap = (size) => ((size >>> 0) > heapCap ? 0 : grow(size));
        }
        WebAssembly.instantiate(module, imports).then((instance) => receive(instance, module), reject);
        return {};
      },
    }).then(resolve, reject);
  });
}

/** The most useful line of an HDF5 error stack: the innermost entry's message. */
function diagnose(lines, error) {
  let detail = '';
  for (const line of lines) {
    const m = /#\d+:.*? in [\w$]+\(\): (.*)$/.exec(line);
    if (m) detail = m[1].trim();
  }
  const thrown = error === undefined ? '' : String(error?.message ?? error);
  if (/Aborted\(|RuntimeError|unreachable|out of bounds|call stack/i.test(thrown) || error instanceof WebAssembly.RuntimeError) {
    return `the HDF5 library failed: ${thrown.replace(/\. Build with -sASSERTIONS.*$/s, '')}${detail ? `; ${detail}` : ''}`;
  }
  if (detail) return detail;
  if (thrown && !/name not defined/.test(thrown)) return thrown;
  return lines.find((l) => l.trim() !== '' && !l.startsWith('HDF5-DIAG'))?.trim() ?? (thrown || 'unknown HDF5 error');
}

/** Runs one call into the module; anything it prints or throws is a failure. */
function call(what, fn, statusIsValue = false) {
  sink = [];
  let result;
  try {
    result = fn();
  } catch (e) {
    const lines = sink;
    sink = null;
    if (e instanceof Failure) throw e;
    throw new Failure('corrupt', `${what}: ${diagnose(lines, e)}`);
  }
  const lines = sink;
  sink = null;
  if (lines.length > 0) throw new Failure('corrupt', `${what}: ${diagnose(lines)}`);
  if (!statusIsValue && typeof result === 'number' && result < 0) throw new Failure('corrupt', `${what}: HDF5 returned status ${result}`);
  return result;
}

function malloc(M, nbytes, what) {
  const ptr = M._malloc(Math.max(1, nbytes));
  if (!ptr) throw new Failure('limit', `${what}: cannot allocate ${nbytes} bytes in the HDF5 reader's memory`);
  return ptr;
}

/** The fields of h5wasm's metadata that the main thread needs. */
function slimMeta(meta) {
  const out = {
    type: meta.type,
    size: meta.size,
    signed: !!meta.signed,
    vlen: !!meta.vlen,
    littleEndian: meta.littleEndian !== false,
    shape: meta.shape ?? null,
    total: meta.total_size,
  };
  if (meta.cset !== undefined) out.cset = meta.cset;
  if (meta.strpad !== undefined) out.strpad = meta.strpad;
  if (meta.enum_type) out.enumMembers = { ...meta.enum_type.members };
  return out;
}

/** Why values of this type cannot be read as plain bytes, or null when they can. */
function unsupportedType(meta) {
  switch (meta.type) {
    case H5T.INTEGER:
    case H5T.ENUM:
      return [1, 2, 4, 8].includes(meta.size) ? null : `${meta.size}-byte integers`;
    case H5T.FLOAT:
      return [2, 4, 8].includes(meta.size) ? null : `${meta.size}-byte floats`;
    case H5T.STRING:
    case H5T.OPAQUE:
      return null;
    default:
      return `${CLASS_NAMES[meta.type] ?? `class ${meta.type}`} values`;
  }
}

function elementCount(meta, what) {
  const shape = meta.shape;
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Failure('corrupt', `${what} has an invalid dimension ${d}`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new Failure('limit', `${what} declares an absurd shape [${shape.join(', ')}]`);
  }
  if (n !== meta.total_size) throw new Failure('corrupt', `${what} has an inconsistent shape [${shape.join(', ')}]`);
  return n;
}

function readStrings(M, ptr, count, state) {
  const ptrs = new Uint32Array(M.HEAPU8.buffer, ptr, count).slice();
  const out = [];
  for (const p of ptrs) {
    const s = p === 0 ? '' : M.UTF8ToString(p);
    state.budget -= s.length;
    out.push(s);
  }
  if (state.budget < 0) throw new Failure('limit', `the strings decoded from the file exceed what its size allows (a corrupt file?)`);
  return out;
}

function readAttributes(ctx, path) {
  const { M, fid, state, limits } = ctx;
  const names = call(`listing the attributes of "${path}"`, () => M.get_attribute_names(fid, path));
  if (names.length > limits.maxAttributesPerObject) {
    throw new Failure('limit', `"${path}" has ${names.length} attributes, more than the limit of ${limits.maxAttributesPerObject}`);
  }
  const out = [];
  for (const name of names) {
    const what = `attribute "${name}" of "${path}"`;
    const raw = call(`reading the type of ${what}`, () => M.get_attribute_metadata(fid, path, name));
    const meta = slimMeta(raw);
    if (meta.shape === null) {
      out.push([name, { meta, empty: true }]);
      continue;
    }
    const unsupported = unsupportedType(meta);
    if (unsupported !== null) {
      out.push([name, { meta, unsupported }]);
      continue;
    }
    const count = elementCount(raw, what);
    const nbytes = meta.size * count;
    if (nbytes > state.fileBytes) {
      throw new Failure('limit', `${what} declares ${nbytes} bytes, more than the whole file (${state.fileBytes} bytes)`);
    }
    state.budget -= nbytes;
    if (state.budget < 0) throw new Failure('limit', `the attributes and datasets declare more data than the file's size allows (at ${what})`);
    const ptr = malloc(M, nbytes, what);
    try {
      call(`reading ${what}`, () => M.get_attribute_data(fid, path, name, BigInt(ptr)));
      if (meta.type === H5T.STRING && meta.vlen) {
        try {
          out.push([name, { meta, strings: readStrings(M, ptr, count, state) }]);
        } finally {
          call(`releasing ${what}`, () => M.reclaim_vlen_memory(fid, path, name, BigInt(ptr)));
        }
      } else {
        const bytes = M.HEAPU8.slice(ptr, ptr + nbytes);
        ctx.transfer.push(bytes.buffer);
        out.push([name, { meta, bytes }]);
      }
    } finally {
      M._free(ptr);
    }
  }
  return out;
}

function readDataset(ctx, path) {
  const { M, fid, state, limits } = ctx;
  const what = `dataset "${path}"`;
  const raw = call(`reading the type of ${what}`, () => M.get_dataset_metadata(fid, path));
  const meta = slimMeta(raw);
  const filters = call(`reading the filters of ${what}`, () => M.get_dataset_filters(fid, path)).map((f) => f.name || `filter ${f.id}`);
  const attrs = readAttributes(ctx, path);
  const out = { path, meta, filters, attrs };
  if (meta.shape === null) return { ...out, empty: true };
  const count = elementCount(raw, what);
  const unsupported = unsupportedType(meta);
  if (unsupported !== null) return { ...out, unsupported };
  const nbytes = meta.size * count;
  const described = `${what} declares ${nbytes} bytes (shape [${meta.shape.join(', ')}] of ${meta.size}-byte values)`;
  if (filters.length === 0) {
    if (nbytes > state.fileBytes) throw new Failure('limit', `${described}, more than the whole file (${state.fileBytes} bytes)`);
    state.budget -= nbytes;
    if (state.budget < 0) throw new Failure('limit', `the datasets declare more data than the file's size allows (at ${what})`);
  } else {
    state.filtered += nbytes;
    if (state.filtered > limits.maxFilteredBytes) {
      throw new Failure('limit', `${described} once decompressed; compressed datasets may expand to at most ${limits.maxFilteredBytes} bytes in all`);
    }
  }
  if (nbytes > MAX_READ_BYTES) throw new Failure('limit', `${described}; the HDF5 reader can read at most ${MAX_READ_BYTES} bytes at once`);
  // The dataset's buffer; for compressed data also the filters' buffers
  // (deflate grows its output by doubling, shuffle copies the chunk).
  heapCap = ctx.baseHeap + (filters.length > 0 ? 6 : 1) * nbytes;
  const ptr = malloc(M, nbytes, what);
  try {
    try {
      call(`reading ${what}`, () => M.get_dataset_data(fid, path, null, null, null, BigInt(ptr)));
    } catch (e) {
      if (filters.length > 0 && e instanceof Failure && /plugin|not registered|can't open directory/i.test(e.message)) {
        throw new Failure('unsupported', `${what} is compressed with ${filters.join(', ')}, which this reader cannot decompress (${e.message})`);
      }
      throw e;
    }
    if (meta.type === H5T.STRING && meta.vlen) {
      try {
        return { ...out, strings: readStrings(M, ptr, count, state) };
      } finally {
        call(`releasing ${what}`, () => M.reclaim_vlen_memory(fid, path, '', BigInt(ptr)));
      }
    }
    const bytes = M.HEAPU8.slice(ptr, ptr + nbytes);
    ctx.transfer.push(bytes.buffer);
    return { ...out, bytes };
  } finally {
    M._free(ptr);
    heapCap = ctx.baseHeap;
  }
}

function readGroup(ctx, path, depth) {
  const { M, fid, state, limits } = ctx;
  if (depth > limits.maxDepth) {
    throw new Failure('limit', `groups are nested more than ${limits.maxDepth} deep at "${path}" (a link cycle?)`);
  }
  const attrs = readAttributes(ctx, path);
  const names = call(`listing group "${path}"`, () => M.get_names(fid, path, false));
  const groups = [];
  const datasets = [];
  const skipped = [];
  for (const name of names) {
    if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new Failure('corrupt', `group "${path}" has a member with an invalid name ${JSON.stringify(name)}`);
    }
    state.objects += 1;
    if (state.objects > limits.maxObjects) {
      throw new Failure('limit', `the file has more than ${limits.maxObjects} groups and datasets (a link cycle?)`);
    }
    const child = path === '/' ? `/${name}` : `${path}/${name}`;
    // Links are listed, not followed: a soft link can point at its own
    // group, and an external link at another file.
    const target = call(`inspecting "${child}"`, () => M.get_symbolic_link(fid, child));
    if (typeof target === 'string') {
      skipped.push([name, `soft link to ${target}`]);
      continue;
    }
    const external = call(`inspecting "${child}"`, () => M.get_external_link(fid, child));
    if (external && typeof external.filename === 'string') {
      skipped.push([name, `external link to ${external.filename}:${external.obj_path}`]);
      continue;
    }
    const type = call(`inspecting "${child}"`, () => M.get_type(fid, child), true);
    if (type < 0) throw new Failure('corrupt', `group "${path}" lists "${name}", which cannot be opened`);
    if (type === M.H5G_GROUP) groups.push([name, readGroup(ctx, child, depth + 1)]);
    else if (type === M.H5G_DATASET) datasets.push([name, readDataset(ctx, child)]);
    else if (type === M.H5G_LINK) skipped.push([name, 'broken soft link']);
    else if (type === M.H5G_UDLINK) skipped.push([name, 'external link']);
    else if (type === M.H5G_TYPE) skipped.push([name, 'named datatype']);
    else skipped.push([name, 'unknown object']);
  }
  return { path, attrs, groups, datasets, skipped };
}

let counter = 0;

async function read(message) {
  heapCap = Infinity;
  const M = await createModule();
  const file = `/read-${process.pid}-${counter++}.h5`;
  // canOwn: MEMFS keeps the transferred bytes instead of copying them.
  M.FS.writeFile(file, message.bytes, { canOwn: true });
  const ctx = {
    M,
    fid: -1n,
    limits: message.limits,
    transfer: [],
    state: {
      fileBytes: message.bytes.length,
      // Uncompressed data may not exceed the file's size (with room for fill
      // values and shared storage): a safeguard against absurd declarations.
      budget: 2 * message.bytes.length + 2 ** 20,
      filtered: 0,
      objects: 0,
    },
  };
  message.bytes = null;
  // Metadata and attributes: at most the file's size plus room for HDF5's caches.
  ctx.baseHeap = M.HEAPU8.length + 64 * 2 ** 20 + ctx.state.fileBytes;
  heapCap = ctx.baseHeap;
  try {
    ctx.fid = call('opening the file', () => M.open(file, M.H5F_ACC_RDONLY, false, -1, -1));
    if (ctx.fid < 0n) throw new Failure('corrupt', 'opening the file failed');
    const root = readGroup(ctx, '/', 0);
    return { reply: { root }, transfer: ctx.transfer };
  } finally {
    if (ctx.fid >= 0n) {
      try {
        call('closing the file', () => M.close_file(ctx.fid));
      } catch {
        // The instance is discarded anyway.
      }
    }
    try {
      M.FS.unlink(file);
    } catch {
      // idem
    }
  }
}

function writeMeta(meta, shape) {
  const dims = shape.map((d) => BigInt(d));
  return {
    type: meta.type,
    size: meta.size,
    signed: !!meta.signed,
    vlen: !!meta.vlen,
    littleEndian: true,
    cset: meta.cset,
    shape: dims,
    maxshape: dims,
    chunks: null,
    compression: 0,
    compression_opts: [],
    track_order: true,
  };
}

async function write(message) {
  heapCap = Infinity;
  const M = await createModule();
  const file = `/write-${process.pid}-${counter++}.h5`;
  let fid = -1n;
  try {
    fid = call('creating the file', () => M.open(file, M.H5F_ACC_TRUNC, true, -1, -1));
    for (const op of message.ops) {
      if (op.op === 'group') {
        call(`creating group "${op.path}"`, () => M.create_group(fid, op.path, true));
      } else if (op.op === 'dataset') {
        const ptr = malloc(M, op.data.byteLength, `dataset "${op.path}"`);
        try {
          M.HEAPU8.set(op.data, ptr);
          call(`writing dataset "${op.path}"`, () => M.create_dataset(fid, op.path, BigInt(ptr), writeMeta(op.meta, op.shape)));
        } finally {
          M._free(ptr);
        }
      } else if (op.op === 'attr') {
        const what = `writing attribute "${op.name}" of "${op.path}"`;
        if (op.strings) {
          call(what, () => M.create_vlen_str_attribute(fid, op.path, op.name, op.strings, writeMeta(op.meta, op.shape)));
        } else {
          const ptr = malloc(M, op.data.byteLength, what);
          try {
            M.HEAPU8.set(op.data, ptr);
            call(what, () => M.create_attribute(fid, op.path, op.name, BigInt(ptr), writeMeta(op.meta, op.shape)));
          } finally {
            M._free(ptr);
          }
        }
      } else {
        throw new Failure('usage', `unknown write operation ${JSON.stringify(op.op)}`);
      }
    }
    const closing = fid;
    fid = -1n;
    call('closing the file', () => M.close_file(closing));
    const bytes = M.FS.readFile(file);
    return { reply: { bytes }, transfer: [bytes.buffer] };
  } finally {
    if (fid >= 0n) {
      try {
        M.close_file(fid);
      } catch {
        // discarded anyway
      }
    }
    try {
      M.FS.unlink(file);
    } catch {
      // idem
    }
  }
}

parentPort.on('message', async (message) => {
  try {
    const { reply, transfer } = message.kind === 'read' ? await read(message) : await write(message);
    parentPort.postMessage({ id: message.id, ok: true, ...reply }, transfer);
  } catch (e) {
    sink = null;
    const category = e instanceof Failure ? e.category : 'corrupt';
    const text = e instanceof Failure ? e.message : diagnose([], e);
    parentPort.postMessage({ id: message.id, ok: false, category, message: text });
  }
});
