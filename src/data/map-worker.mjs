// A worker thread of a `Dataset.map(workerFunction(...))` pool (see workers.ts).
// Plain JavaScript, copied as is into the compiled package (dist/). Next to the
// compiled JavaScript it imports structure.js; next to the TypeScript sources it
// registers the TypeScript loader (tsx) itself, since a worker does not inherit
// the loader hooks of its parent, and imports structure.ts.
//   in:  {element: wire}          one at a time
//   out: {ok: true, result: wire} | {ok: false, message, stack}
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';

const compiled = existsSync(new URL('./structure.js', import.meta.url));
const ext = compiled ? '.js' : '.ts';
if (!compiled) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    // Another TypeScript loader may be active; the import below says so if not.
  }
}
const { fromWire, toWire, normalizeElement } = await import(`./structure${ext}`);

// Function sources compiled by esbuild (tsx) may call its keep-names helper.
globalThis.__name ??= (f) => f;

let fn;
if (workerData.source !== undefined) {
  fn = (0, eval)(`(${workerData.source})`);
} else {
  const mod = await import(workerData.module);
  fn = mod[workerData.exportName];
  if (typeof fn !== 'function') throw new Error(`${workerData.module} has no function export '${workerData.exportName}'.`);
}
if (typeof fn !== 'function') throw new Error('the worker map source is not a function.');

let strata = null;

parentPort.on('message', async (message) => {
  try {
    if (fn.length >= 2 && strata === null) strata = await import(`../index${ext}`);
    const element = fromWire(message.element);
    const out = await fn(element, strata);
    const transfer = [];
    const result = toWire(normalizeElement(out, 'the worker map function'), transfer);
    parentPort.postMessage({ ok: true, result }, transfer);
  } catch (e) {
    parentPort.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
  }
});
