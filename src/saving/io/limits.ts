/**
 * Limits that bound what reading an untrusted file may cost. Every reader in
 * src/saving/io checks them before it allocates, so a corrupt or malicious
 * file fails with an error instead of exhausting memory or time.
 */

const GiB = 1024 ** 3;

/** Bounds for `readZip`. */
export interface ZipLimits {
  /** Most entries (files and directories) the central directory may list. */
  maxEntries: number;
  /** Most bytes all entries may hold once uncompressed, added up. */
  maxTotalBytes: number;
  /** Most bytes one entry may hold once uncompressed. */
  maxEntryBytes: number;
}

export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = Object.freeze({
  maxEntries: 10_000,
  maxTotalBytes: 4 * GiB,
  maxEntryBytes: 4 * GiB - 1,
});

/** Bounds for `readH5`. */
export interface H5Limits {
  /** Most groups plus datasets the file may hold (hard links can make a cycle). */
  maxObjects: number;
  /** Deepest group nesting accepted. */
  maxDepth: number;
  /** Most attributes on one object. */
  maxAttributesPerObject: number;
  /**
   * Most bytes that compressed (filtered) datasets may expand to, added up.
   * Uncompressed data is bounded by the file's own size instead.
   */
  maxFilteredBytes: number;
  /**
   * Milliseconds one read may take before it is abandoned (the HDF5 library
   * runs in a worker thread, which is then stopped; some corrupt files make
   * HDF5 loop forever). Default: 15 s plus one second per 25 MB of file.
   */
  timeoutMs?: number;
}

export const DEFAULT_H5_LIMITS: Readonly<H5Limits> = Object.freeze({
  maxObjects: 200_000,
  maxDepth: 128,
  maxAttributesPerObject: 10_000,
  maxFilteredBytes: 1 * GiB,
});

/** The default time budget for reading an HDF5 file of `byteLength` bytes. */
export function defaultH5TimeoutMs(byteLength: number): number {
  return 15_000 + Math.ceil(byteLength / 25e6) * 1000;
}

/** Merges user-given limits over defaults, rejecting nonsense values. */
export function resolveLimits<T extends object>(defaults: Readonly<T>, given: Partial<T> | undefined, where: string): T {
  const out = { ...defaults } as T;
  if (given === undefined) return out;
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!Object.prototype.hasOwnProperty.call(defaults, key) && key !== 'timeoutMs') {
      throw new TypeError(`${where}: unknown limit ${JSON.stringify(key)}. Known limits: ${Object.keys(defaults).join(', ')}.`);
    }
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new TypeError(`${where}: limit ${key} must be a non-negative finite number, got ${String(value)}.`);
    }
    (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
