/** Helpers for the strata.data tests: elements as plain values, temp dirs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as strata from '../../src/index.ts';
import { data } from '../../src/index.ts';


/** An element as plain JavaScript values (tensors as nested arrays, bytes as number arrays). */
export function plain(x: unknown): unknown {
  if (x instanceof strata.Tensor) return x.arraySync();
  if (x instanceof data.StringTensor) return plain(x.toArray());
  if (x instanceof Uint8Array) return Array.from(x);
  if (Array.isArray(x)) return x.map(plain);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}

/** All elements of one pass, as plain values. */
export async function collect(ds: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of ds) out.push(plain(x));
  return out;
}

/** Scalar tensor elements as numbers. */
export async function numbers(ds: AsyncIterable<unknown>): Promise<number[]> {
  return (await collect(ds)) as number[];
}

export function range(n: number, start = 0): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

/** Chunks of a plain array (the reference for batch). */
export function chunks<T>(a: T[], size: number, dropRemainder = false): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < a.length; i += size) out.push(a.slice(i, i + size));
  if (dropRemainder && out.length && out[out.length - 1].length < size) out.pop();
  return out;
}

export function tempDir(prefix = 'strata-data-'): { dir: string; path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    if (!pattern.test((e as Error).message)) throw new Error(`expected an error matching ${pattern}, got: ${(e as Error).message}`);
    return e as Error;
  }
  throw new Error(`expected an error matching ${pattern}, but nothing was thrown`);
}
