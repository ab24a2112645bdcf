import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as strata from '../../src/index.ts';
import { captureWarnings } from '../../src/engine/warnings.ts';
import { SINGLE_SAMPLE_CALLS } from '../../src/training/predict-warning.ts';
import type { TraceEvent } from '../../src/profiling/profiler.ts';
import { ortProfileRequest } from '../../src/engine/profiling.ts';

const { layers, ops, profiler, debugging } = strata;
type Tensor = strata.Tensor;

/** A trace event as the file holds it; `args` loosely typed to read its fields in assertions. */
type Event = TraceEvent & { args?: Record<string, any> };

afterEach(async () => {
  if (profiler.isRunning()) await profiler.stop();
  debugging.trackMemory(false);
});

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'strata-profile-'));
}

/** Complete events on one thread must nest (trace viewers draw each thread as a stack of slices). */
function assertNested(events: Event[]): void {
  const threads = new Map<string, Event[]>();
  for (const e of events) if (e.ph === 'X') threads.set(`${e.pid}/${e.tid}`, [...(threads.get(`${e.pid}/${e.tid}`) ?? []), e]);
  for (const [thread, list] of threads) {
    const stack: Event[] = [];
    for (const e of [...list].sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0))) {
      while (stack.length > 0 && stack[stack.length - 1].ts + (stack[stack.length - 1].dur ?? 0) <= e.ts + 0.01) stack.pop();
      const top = stack[stack.length - 1];
      if (top) assert.ok(e.ts + (e.dur ?? 0) <= top.ts + (top.dur ?? 0) + 0.01, `thread ${thread}: '${e.name}' overlaps '${top.name}' without nesting`);
      stack.push(e);
    }
  }
}

function load(path: string): { traceEvents: Event[]; otherData: Record<string, unknown> } {
  const trace = JSON.parse(readFileSync(path, 'utf8'));
  assertNested(trace.traceEvents);
  return trace;
}

function mlp(name: string, runEagerly = false) {
  strata.random.setRandomSeed(2);
  const m = new strata.Sequential([strata.Input({ shape: [4] }), new layers.Dense(5, { activation: 'relu', name: 'hidden' }), new layers.Dense(1, { name: 'out' })], { name });
  m.compile({ optimizer: 'sgd', loss: 'mse', runEagerly });
  return m;
}

const within = (inner: Event, outer: Event) => inner.ts >= outer.ts - 0.01 && inner.ts + (inner.dur ?? 0) <= outer.ts + (outer.dur ?? 0) + 0.01;

describe('strata.profiler', () => {
  it('records eager ops with their layer paths inside per-layer spans, in Chrome trace-event JSON', async () => {
    const dir = tmp();
    const m = mlp('prof_net');
    const x = strata.ones([2, 4]);
    profiler.start(dir);
    assert.ok(profiler.isRunning());
    assert.throws(() => profiler.start(dir), /already running/);
    m.apply(x);
    const path = await profiler.stop();
    assert.equal(dirname(path), dir);
    assert.match(basename(path), /^strata-trace-.+\.json$/);
    const trace = load(path);
    const events = trace.traceEvents;
    for (const e of events) {
      assert.equal(typeof e.ts, 'number');
      assert.equal(typeof e.pid, 'number');
      assert.equal(typeof e.tid, 'number');
      if (e.ph === 'X') assert.ok((e.dur ?? -1) >= 0, `${e.name} has a duration`);
    }
    assert.ok(events.some((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'eager ops'));
    const ops_ = events.filter((e) => e.ph === 'X' && e.cat === 'op');
    const hiddenOps = ops_.filter((e) => e.args?.layer === 'prof_net/hidden');
    assert.deepEqual(hiddenOps.map((e) => e.name), ['matmul', 'add', 'maximum']);
    assert.match(hiddenOps[0].args!.outputs, /float32\(2, 5\)|float32\[2, ?5\]/);
    assert.ok(ops_.some((e) => e.args?.layer === 'prof_net/out' && e.name === 'matmul'));
    const layerSpans = events.filter((e) => e.ph === 'X' && e.cat === 'layer');
    const byPath = new Map(layerSpans.map((e) => [e.args!.path as string, e]));
    assert.deepEqual([...byPath.keys()].sort(), ['prof_net', 'prof_net/hidden', 'prof_net/out']);
    for (const op of ops_) if (op.args?.layer !== '(top level)') assert.ok(within(op, byPath.get(op.args!.layer)!), `${op.name} lies inside its layer span`);
    assert.ok(within(byPath.get('prof_net/hidden')!, byPath.get('prof_net')!));
    assert.equal(byPath.get('prof_net/hidden')!.args!.ops, 3);
    // Sorted by time, and a memory counter is included.
    const times = events.filter((e) => e.ph !== 'M').map((e) => e.ts);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.ok(events.some((e) => e.ph === 'C' && typeof e.args?.live_bytes === 'number'));
    await assert.rejects(profiler.stop(), /not running/);
  });

  it('writes a layer of a single op before the op, so viewers (which nest equal spans in file order) put the op inside it', async () => {
    strata.random.setRandomSeed(2);
    const m = new strata.Sequential([strata.Input({ shape: [4] }), new layers.Dense(5, { name: 'hidden' }), new layers.Activation('relu', { name: 'act' }), new layers.Dense(1, { name: 'out' })], { name: 'tie_net' });
    profiler.start(tmp());
    m.apply(strata.ones([2, 4]));
    const events = load(await profiler.stop()).traceEvents.filter((e) => e.ph === 'X' && (e.cat === 'op' || e.cat === 'layer'));
    const act = events.find((e) => e.cat === 'layer' && e.args?.path === 'tie_net/act')!;
    assert.equal(act.args!.ops, 1);
    // Read in file order as a viewer does: each span is a child of the innermost open span that encloses it.
    const stack: Event[] = [];
    for (const e of events) {
      while (stack.length > 0 && !within(e, stack[stack.length - 1])) stack.pop();
      if (e.cat === 'op') assert.equal(stack[stack.length - 1]?.args?.path, e.args!.layer, `op '${e.name}' of '${e.args!.layer}' is drawn inside its layer`);
      stack.push(e);
    }
  });

  it('records a compiled call as one span (and its tracing), with custom spans', async () => {
    const dir = tmp();
    const f = strata.fn((a: Tensor) => ops.tanh(ops.matmul(a, a)), { name: 'square_tanh' });
    profiler.start(dir);
    await profiler.span('my work', async () => {
      await f(strata.ones([3, 3]));
      await f(strata.ones([3, 3]));
    });
    const s = profiler.beginSpan('manual', { note: 1 });
    s.end({ more: 2 });
    const trace = load(await profiler.stop());
    const calls = trace.traceEvents.filter((e) => e.cat === 'function' && e.name === 'square_tanh');
    assert.equal(calls.length, 2);
    assert.ok(calls.every((c) => c.tid === calls[0].tid));
    assert.equal(trace.traceEvents.filter((e) => e.cat === 'op').length, 0, 'the compiled graph runs as one span, not op by op');
    const traces = trace.traceEvents.filter((e) => e.cat === 'trace');
    assert.deepEqual(traces.map((e) => e.name), ['trace square_tanh']);
    const work = trace.traceEvents.find((e) => e.name === 'my work')!;
    assert.equal(work.cat, 'user');
    assert.ok(calls.every((c) => within(c, work)));
    assert.deepEqual(trace.traceEvents.find((e) => e.name === 'manual')!.args, { note: 1, more: 2 });
  });

  it('puts overlapping spans of concurrent async work on extra rows, so every row nests (Perfetto drops slices that do not)', async () => {
    // Waits until the clock has moved, so the spans below really overlap (the test does not depend on how long anything takes).
    const tick = () => {
      const t = performance.now();
      while (performance.now() <= t + 0.01);
    };
    const raw = tmp();
    profiler.start(raw);
    const a = profiler.beginSpan('request A');
    tick();
    const b = profiler.beginSpan('request B');
    tick();
    a.end();
    tick();
    b.end();
    // Two concurrent async spans: job 1 starts first and ends first.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const job1 = profiler.span('job 1', async () => {
      tick();
      await gate;
    });
    tick();
    const job2 = profiler.span('job 2', async () => {
      await job1;
      tick();
    });
    tick();
    release();
    await Promise.all([job1, job2]);
    const trace = load(await profiler.stop()); // load() checks that the spans of each row nest
    const user = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'user');
    assert.deepEqual(user.map((e) => e.name).sort(), ['job 1', 'job 2', 'request A', 'request B']);
    const byName = new Map(user.map((e) => [e.name, e]));
    assert.notEqual(byName.get('request A')!.tid, byName.get('request B')!.tid);
    assert.notEqual(byName.get('job 1')!.tid, byName.get('job 2')!.tid);
    for (const e of user) {
      const row = trace.traceEvents.find((m) => m.ph === 'M' && m.name === 'thread_name' && m.pid === e.pid && m.tid === e.tid);
      assert.match(String(row?.args?.name), /^user spans( \(\d+\))?$/, `the row of '${e.name}' is named`);
    }
  });

  it("records fit's steps, with the compiled step inside each", async () => {
    const m = mlp('prof_fit');
    const x = strata.random.normal([12, 4], { seed: 3 });
    const y = strata.random.normal([12, 1], { seed: 4 });
    profiler.start(tmp());
    await m.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, validationData: [x, y] });
    const trace = load(await profiler.stop());
    const steps = trace.traceEvents.filter((e) => e.cat === 'step' && e.name === 'train_step');
    assert.deepEqual(steps.map((e) => [e.args!.epoch, e.args!.step]), [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
    const calls = trace.traceEvents.filter((e) => e.cat === 'function' && e.name === 'train_function');
    assert.equal(calls.length, 6);
    for (const step of steps) assert.ok(calls.some((c) => within(c, step)), 'a compiled call inside each step');
    assert.equal(trace.traceEvents.filter((e) => e.cat === 'step' && e.name === 'test_step').length, 6);
  });

  it("merges ONNX Runtime's own profile when asked", async () => {
    const dir = tmp();
    const f = strata.fn((a: Tensor) => ops.relu(ops.matmul(a, a)), { name: 'ort_profiled' });
    await f(strata.ones([2, 2]));
    profiler.start(dir, { onnxRuntimeProfile: true });
    await f(strata.ones([2, 2])); // the session is rebuilt with ORT's profiler on
    const trace = load(await profiler.stop());
    const ortEvents = trace.traceEvents.filter((e) => e.cat?.startsWith('onnxruntime.'));
    assert.ok(ortEvents.some((e) => e.cat === 'onnxruntime.Node'), 'per-node events');
    const main = trace.traceEvents.find((e) => e.cat === 'function')!;
    assert.ok(ortEvents.every((e) => e.pid !== main.pid), 'in a process row of their own');
    assert.ok(trace.traceEvents.some((e) => e.ph === 'M' && e.pid === ortEvents[0].pid && e.name === 'process_name'));
    assert.ok(readdirSync(dir).some((n) => n.startsWith('ort-profile-ort_profiled-') && n.endsWith('.json')), 'the ORT file is kept');
  });

  it("ends ONNX Runtime's profiling of a session that was asked for while recording but created after stop()", async () => {
    profiler.start(tmp(), { onnxRuntimeProfile: true });
    const request = ortProfileRequest('late_fn')!;
    assert.ok(request.sessionOptions.enableProfiling);
    await profiler.stop();
    assert.equal(ortProfileRequest('after_stop'), null);
    let ended = 0;
    request.started(async () => {
      ended++;
    });
    assert.equal(ended, 1, 'its profiling is ended at once (nothing would read it later)');
  });
});

describe('debugging.memoryReport', () => {
  it('counts live tensors and bytes, and the peak, while tracking', () => {
    assert.match(String(debugging.memoryReport()), /not tracked|tracked since/);
    debugging.trackMemory(true);
    assert.ok(debugging.memoryTracking());
    const before = debugging.memoryReport();
    assert.equal(before.tracking, true);
    const kept: Tensor[] = [];
    for (let i = 0; i < 10; i++) kept.push(strata.tensor(new Float32Array(1000)));
    const after = debugging.memoryReport();
    assert.ok(after.liveTensors >= before.liveTensors + 10, `${after.liveTensors} >= ${before.liveTensors} + 10`);
    assert.ok(after.liveBytes >= before.liveBytes + 40_000);
    assert.equal(after.allocatedTensors - before.allocatedTensors, 10);
    assert.equal(after.allocatedBytes - before.allocatedBytes, 40_000);
    assert.ok(after.peakBytes >= after.liveBytes && after.peakTensors >= after.liveTensors);
    // A reshape shares its values: not a new allocation.
    ops.reshape(kept[0], [10, 100]);
    assert.equal(debugging.memoryReport().allocatedTensors, after.allocatedTensors);
    const text = String(debugging.memoryReport());
    assert.match(text, /live: \d+ tensors/);
    assert.match(text, /graph worker/);
    debugging.trackMemory(false);
    const off = debugging.memoryReport();
    assert.equal(off.tracking, false);
    strata.tensor(new Float32Array(10));
    assert.equal(debugging.memoryReport().allocatedTensors, off.allocatedTensors, 'no counting when off');
    assert.equal(kept.length, 10);
  });

  it('is on while the profiler runs', async () => {
    assert.equal(debugging.memoryTracking(), false);
    profiler.start(tmp());
    assert.equal(debugging.memoryTracking(), true);
    const t = strata.zeros([256]);
    assert.ok(debugging.memoryReport().allocatedBytes >= 1024);
    const trace = load(await profiler.stop());
    assert.equal(debugging.memoryTracking(), false);
    assert.ok((trace.otherData.peakTensorBytes as number) >= 1024);
    assert.equal(t.size, 256);
  });
});

describe('predict on single samples', () => {
  it(`warns once after ${SINGLE_SAMPLE_CALLS} single-sample predict calls, suggesting batching`, async () => {
    const m = mlp('single_sample_net', true);
    const one = strata.ones([1, 4]);
    const { warnings } = await captureWarnings(async () => {
      for (let i = 0; i < SINGLE_SAMPLE_CALLS - 1; i++) await m.predict(one);
    });
    assert.deepEqual(warnings, []);
    const { warnings: more } = await captureWarnings(async () => {
      for (let i = 0; i < SINGLE_SAMPLE_CALLS + 5; i++) await m.predictOnBatch(one);
    });
    assert.equal(more.length, 1);
    assert.match(more[0], /single sample/);
    assert.match(more[0], /single_sample_net/);
    assert.match(more[0], /predictOnBatch|batch/);
    assert.match(more[0], /strata\.fn/);
  });

  it('does not warn for batches', async () => {
    const m = mlp('batched_net', true);
    const batch = strata.ones([8, 4]);
    const { warnings } = await captureWarnings(async () => {
      for (let i = 0; i < SINGLE_SAMPLE_CALLS + 5; i++) await m.predict(batch);
    });
    assert.deepEqual(warnings, []);
  });
});
