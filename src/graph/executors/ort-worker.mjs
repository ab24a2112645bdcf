// The graph worker: owns ONNX Runtime sessions and runs them off the main
// thread, so the JavaScript event loop stays free while a compiled step runs
// (onnxruntime-node's run() blocks the thread that calls it). It also keeps
// values that compiled steps produce for variables (weights, optimizer
// slots) between steps, so they are not copied to the main thread and back.
//
// Plain JavaScript on purpose: it runs without a TypeScript loader.
// Requests arrive in order on the parent port and are handled one at a time:
//   {kind: 'create', id, model, options}                   -> {id, ok, session}
//   {kind: 'run', id, session, free: [handle],
//    feeds: [{name, handle} | {name, type, dims, data}],
//    outputs: [{name, keep: handle | null}]}               -> {id, ok, outputs: [{name, type, dims, data} | null]}
//   {kind: 'read', id, handle}                             -> answered on the sync port, then the flag is raised
//   {kind: 'free', handles}                                -> no reply
//   {kind: 'release', id, session}                         -> {id, ok}
//   {kind: 'endProfiling', id, session}                    -> {id, ok} (ORT writes its profile file)
// Failures reply {id, ok: false, message}. Outputs that are not kept come
// back as transferred ArrayBuffers (moved, not copied).
import { parentPort, workerData } from 'node:worker_threads';

const ort = await import('onnxruntime-node');
const { syncPort, flag } = workerData;
const flagView = new Int32Array(flag);
const sessions = new Map();
/** Values kept for variables, by handle. */
const store = new Map();
let nextSession = 0;

async function handle(message) {
  switch (message.kind) {
    case 'create': {
      const session = await ort.InferenceSession.create(message.model, message.options);
      sessions.set(nextSession, session);
      return { session: nextSession++ };
    }
    case 'run': {
      for (const h of message.free) store.delete(h);
      const session = sessions.get(message.session);
      if (!session) throw new Error(`no session ${message.session}`);
      const feeds = {};
      for (const f of message.feeds) {
        if (f.handle !== undefined) {
          const kept = store.get(f.handle);
          if (!kept) throw new Error(`no stored value ${f.handle} for input ${f.name}`);
          feeds[f.name] = kept;
        } else {
          feeds[f.name] = new ort.Tensor(f.type, f.data, f.dims);
        }
      }
      const results = await session.run(feeds, message.outputs.map((o) => o.name));
      const transfer = [];
      const outputs = message.outputs.map((o) => {
        const t = results[o.name];
        if (o.keep !== null) {
          store.set(o.keep, t);
          return null;
        }
        transfer.push(t.data.buffer);
        return { type: t.type, dims: t.dims, data: t.data };
      });
      return { outputs, transfer };
    }
    case 'read': {
      const t = store.get(message.handle);
      const reply = t ? { id: message.id, ok: true, type: t.type, dims: t.dims, data: t.data.slice() } : { id: message.id, ok: false, message: `no stored value ${message.handle}` };
      syncPort.postMessage(reply);
      Atomics.store(flagView, 0, 1);
      Atomics.notify(flagView, 0);
      return null;
    }
    case 'free': {
      for (const h of message.handles) store.delete(h);
      return null;
    }
    case 'endProfiling': {
      sessions.get(message.session)?.endProfiling();
      return {};
    }
    case 'release': {
      const session = sessions.get(message.session);
      sessions.delete(message.session);
      if (session) await session.release();
      return {};
    }
    case 'stats': {
      return { sessions: sessions.size, stored: store.size };
    }
    default:
      throw new Error(`unknown request ${message.kind}`);
  }
}

let queue = Promise.resolve();
parentPort.on('message', (message) => {
  queue = queue.then(async () => {
    try {
      const result = await handle(message);
      if (result === null) return;
      const { transfer = [], ...reply } = result;
      parentPort.postMessage({ id: message.id, ok: true, ...reply }, transfer);
    } catch (e) {
      parentPort.postMessage({ id: message.id, ok: false, message: e instanceof Error ? e.message : String(e) });
    }
  });
});
