/**
 * strata.debugging.memoryReport: how much tensor memory is alive on the main
 * thread, and the peak since tracking started.
 *
 * Tracking is opt-in (`trackMemory(true)`, and on while strata.profiler
 * runs): each new eager tensor's value buffer is counted once (reshapes share
 * their buffer) and registered with a FinalizationRegistry, which lowers the
 * count when the garbage collector frees it. So counts fall only after a
 * collection: unreachable tensors are counted until the collector runs.
 *
 * Values that compiled steps keep in the graph worker (weights and
 * optimizer slots between training steps) live on another thread and are
 * not counted; neither are tensors created before tracking started.
 */
import type { TypedArray } from '../tensor/dtype.ts';
import { _setEagerValuesObserver } from '../tensor/tensor.ts';

interface Stats {
  generation: number;
  sinceMs: number;
  live: number;
  liveBytes: number;
  peak: number;
  peakBytes: number;
  allocated: number;
  allocatedBytes: number;
}

let userOn = false;
let holders = 0;
/** Whether the tensor observer is installed (tracking is on). */
let installed = false;
let stats: Stats | null = null;
let generation = 0;
let seen = new WeakSet<ArrayBufferLike>();

const registry = new FinalizationRegistry<{ generation: number; bytes: number }>((held) => {
  const s = stats;
  if (!s || s.generation !== held.generation) return;
  s.live--;
  s.liveBytes -= held.bytes;
});

function observe(values: TypedArray): void {
  const s = stats!;
  const buffer = values.buffer;
  if (seen.has(buffer)) return;
  seen.add(buffer);
  const bytes = buffer.byteLength;
  s.live++;
  s.liveBytes += bytes;
  s.allocated++;
  s.allocatedBytes += bytes;
  if (s.liveBytes > s.peakBytes) s.peakBytes = s.liveBytes;
  if (s.live > s.peak) s.peak = s.live;
  registry.register(buffer, { generation: s.generation, bytes });
}

function update(): void {
  const on = userOn || holders > 0;
  if (on && installed) return;
  if (on) {
    generation++;
    seen = new WeakSet();
    stats = { generation, sinceMs: Date.now(), live: 0, liveBytes: 0, peak: 0, peakBytes: 0, allocated: 0, allocatedBytes: 0 };
    _setEagerValuesObserver(observe);
    installed = true;
  } else if (installed) {
    _setEagerValuesObserver(null);
    installed = false;
    // The last counts stay readable by memoryReport() (tracking: false), but no longer change.
    if (stats) stats = { ...stats, generation: -1 };
  }
}

/**
 * Turns tracking of tensor memory on or off. Turning it on (from off) starts
 * new counts: only tensors created from then on are counted, and the peak is
 * the peak since then.
 */
export function trackMemory(on = true): void {
  userOn = on;
  update();
}

/** Whether tensor memory is being tracked (by trackMemory or the profiler). */
export function memoryTracking(): boolean {
  return installed;
}

/** @internal Keeps tracking on while a user (the profiler) needs it; returns the release function. */
export function holdMemoryTracking(): () => void {
  holders++;
  update();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders--;
    update();
  };
}

export class MemoryReport {
  constructor(
    /** Whether tracking is on now. */
    readonly tracking: boolean,
    /** When tracking started (ms since the epoch), or null if it never ran. */
    readonly sinceMs: number | null,
    /** Distinct tensor value buffers alive on the main thread (tensors sharing values, such as reshapes, count once). */
    readonly liveTensors: number,
    readonly liveBytes: number,
    /** The most buffers and bytes alive at once since tracking started. */
    readonly peakTensors: number,
    readonly peakBytes: number,
    /** Buffers and bytes created since tracking started, freed or not. */
    readonly allocatedTensors: number,
    readonly allocatedBytes: number,
  ) {}

  toString(): string {
    if (this.sinceMs === null) return 'Tensor memory is not tracked. Call strata.debugging.trackMemory(true) (or start strata.profiler) first.';
    const lines = [
      `Tensor memory on the main thread (tracked since ${new Date(this.sinceMs).toISOString()}${this.tracking ? '' : ', tracking now off'}):`,
      `  live: ${this.liveTensors} tensors, ${formatBytes(this.liveBytes)}`,
      `  peak: ${this.peakTensors} tensors, ${formatBytes(this.peakBytes)}`,
      `  created since tracking started: ${this.allocatedTensors} tensors, ${formatBytes(this.allocatedBytes)}`,
      '  Counts fall only when the garbage collector frees a tensor, so unreachable tensors count until it runs.',
      '  Not counted: values kept in the graph worker (weights and optimizer state updated by compiled steps live there',
      '  between steps, on another thread), and tensors created before tracking started.',
    ];
    return lines.join('\n');
  }
}

/** Live tensor count and bytes and the peak since tracking started (see trackMemory). */
export function memoryReport(): MemoryReport {
  const s = stats;
  if (!s) return new MemoryReport(false, null, 0, 0, 0, 0, 0, 0);
  return new MemoryReport(installed, s.sinceMs, s.live, s.liveBytes, s.peak, s.peakBytes, s.allocated, s.allocatedBytes);
}

export function formatBytes(n: number): string {
  if (Math.abs(n) >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (Math.abs(n) >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (Math.abs(n) >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
