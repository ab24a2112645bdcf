/**
 * Zip archives for `.keras` files.
 *
 * `writeZip` writes what Python's `zipfile` writes for Keras: every entry
 * ZIP_STORED (no compression), in the given order, dated 1980-01-01 00:00.
 *
 * `readZip` treats its input as untrusted. The container (end record, central
 * directory, local headers) is parsed and checked here; fflate only inflates
 * deflated entries, into a buffer sized from the declared size. Before any
 * entry is extracted, the declared sizes are checked against the limits (zip
 * bombs), names against path traversal and duplicates, and the entries'
 * byte ranges against each other (overlapping entries, the other zip bomb).
 * Each extracted entry must then have exactly its declared size and CRC-32.
 * Every failure is an Error whose message starts with the file's label and
 * names the entry.
 */
import { inflateSync } from 'fflate';
import { crc32 } from '../../util/checksums.ts';
import { DEFAULT_ZIP_LIMITS, resolveLimits, type ZipLimits } from './limits.ts';

export type { ZipLimits } from './limits.ts';
export { DEFAULT_ZIP_LIMITS } from './limits.ts';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const EOCD_SIZE = 22;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_UTF8 = 0x0800;
/** DOS date of 1980-01-01 (day 1, month 1, year 0 = 1980); the time is 00:00:00. */
const DOS_DATE_1980 = (1 << 5) | 1;
const MAX_U32 = 0xffffffff;

// ---------------------------------------------------------------------------
// Entry names

/**
 * Why `name` is not acceptable as a member name, or null when it is. Members
 * must be relative paths with `/` separators and no `.`/`..`/empty segments,
 * so that extracting them cannot write outside a target directory.
 */
function nameProblem(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  if (name.includes('\0')) return 'the name contains a NUL character';
  if (name.includes('\\')) return 'the name contains a backslash (a Windows path)';
  if (name.startsWith('/')) return 'the name is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'the name is an absolute path (drive letter)';
  const body = name.endsWith('/') ? name.slice(0, -1) : name;
  for (const segment of body.split('/')) {
    if (segment === '..') return 'the name escapes the archive (path traversal "..")';
    if (segment === '.') return 'the name has a "." path segment';
    if (segment === '') return 'the name has an empty path segment';
  }
  return null;
}

/** The high half of code page 437, which zip uses for names without the UTF-8 flag. */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

function decodeName(bytes: Uint8Array, utf8: boolean): string | null {
  if (utf8) {
    try {
      return utf8Fatal.decode(bytes);
    } catch {
      return null;
    }
  }
  let s = '';
  for (const b of bytes) s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return s;
}

// ---------------------------------------------------------------------------
// Writing

/**
 * Writes a zip archive with every entry stored (no compression), in the given
 * order, dated 1980-01-01 00:00 (so the output depends only on the entries),
 * as Python's zipfile does for Keras `.keras` files. Names that are not ASCII
 * are written as UTF-8 with the UTF-8 flag. Archives needing zip64 (65535
 * entries or 4 GiB) are refused.
 */
export function writeZip(entries: readonly ZipEntry[]): Uint8Array {
  const encoder = new TextEncoder();
  const seen = new Set<string>();
  const prepared = entries.map((entry, i) => {
    if (entry === null || typeof entry !== 'object' || typeof entry.name !== 'string' || !(entry.data instanceof Uint8Array)) {
      throw new TypeError(`writeZip: entry ${i} must be {name: string, data: Uint8Array}.`);
    }
    const problem = nameProblem(entry.name);
    if (problem !== null) throw new Error(`writeZip: entry ${JSON.stringify(entry.name)}: ${problem}.`);
    if (seen.has(entry.name)) throw new Error(`writeZip: entry ${JSON.stringify(entry.name)} is given twice.`);
    seen.add(entry.name);
    if (entry.data.length >= MAX_U32) {
      throw new Error(`writeZip: entry ${JSON.stringify(entry.name)} is ${entry.data.length} bytes; entries of 4 GiB or more (zip64) are not supported.`);
    }
    const name = encoder.encode(entry.name);
    if (name.length > 0xffff) throw new Error(`writeZip: entry name ${JSON.stringify(entry.name.slice(0, 40))}... is too long.`);
    const ascii = name.every((b) => b < 0x80);
    return { name, flags: ascii ? 0 : FLAG_UTF8, data: entry.data, crc: crc32(entry.data), offset: 0 };
  });
  if (prepared.length >= 0xffff) throw new Error(`writeZip: ${prepared.length} entries; 65535 or more (zip64) are not supported.`);

  let localSize = 0;
  for (const e of prepared) {
    e.offset = localSize;
    localSize += LOCAL_HEADER + e.name.length + e.data.length;
  }
  const centralSize = prepared.reduce((n, e) => n + CENTRAL_HEADER + e.name.length, 0);
  if (localSize + centralSize + EOCD_SIZE >= MAX_U32) {
    throw new Error(`writeZip: the archive would be ${localSize + centralSize + EOCD_SIZE} bytes; 4 GiB or more (zip64) is not supported.`);
  }

  const out = new Uint8Array(localSize + centralSize + EOCD_SIZE);
  const view = new DataView(out.buffer);
  let p = 0;
  for (const e of prepared) {
    view.setUint32(p, SIG_LOCAL, true);
    view.setUint16(p + 4, 20, true); // version needed: 2.0
    view.setUint16(p + 6, e.flags, true);
    view.setUint16(p + 8, 0, true); // stored
    view.setUint16(p + 10, 0, true); // 00:00:00
    view.setUint16(p + 12, DOS_DATE_1980, true);
    view.setUint32(p + 14, e.crc, true);
    view.setUint32(p + 18, e.data.length, true);
    view.setUint32(p + 22, e.data.length, true);
    view.setUint16(p + 26, e.name.length, true);
    view.setUint16(p + 28, 0, true); // no extra field
    out.set(e.name, p + LOCAL_HEADER);
    out.set(e.data, p + LOCAL_HEADER + e.name.length);
    p += LOCAL_HEADER + e.name.length + e.data.length;
  }
  const centralOffset = p;
  for (const e of prepared) {
    view.setUint32(p, SIG_CENTRAL, true);
    view.setUint16(p + 4, (3 << 8) | 20, true); // made by: Unix, zip 2.0
    view.setUint16(p + 6, 20, true);
    view.setUint16(p + 8, e.flags, true);
    view.setUint16(p + 10, 0, true);
    view.setUint16(p + 12, 0, true);
    view.setUint16(p + 14, DOS_DATE_1980, true);
    view.setUint32(p + 16, e.crc, true);
    view.setUint32(p + 20, e.data.length, true);
    view.setUint32(p + 24, e.data.length, true);
    view.setUint16(p + 28, e.name.length, true);
    view.setUint16(p + 30, 0, true); // extra
    view.setUint16(p + 32, 0, true); // comment
    view.setUint16(p + 34, 0, true); // disk
    view.setUint16(p + 36, 0, true); // internal attributes
    view.setUint32(p + 38, 0o100644 * 0x10000, true); // regular file, rw-r--r--
    view.setUint32(p + 42, e.offset, true);
    out.set(e.name, p + CENTRAL_HEADER);
    p += CENTRAL_HEADER + e.name.length;
  }
  view.setUint32(p, SIG_EOCD, true);
  view.setUint16(p + 4, 0, true);
  view.setUint16(p + 6, 0, true);
  view.setUint16(p + 8, prepared.length, true);
  view.setUint16(p + 10, prepared.length, true);
  view.setUint32(p + 12, centralSize, true);
  view.setUint32(p + 16, centralOffset, true);
  view.setUint16(p + 20, 0, true);
  return out;
}

// ---------------------------------------------------------------------------
// Reading

interface CentralEntry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** Filled in from the local header. */
  dataStart: number;
}

class ZipFormatError extends Error {}

/**
 * Reads a zip archive into a map from member name to bytes, in archive order.
 * Directory entries (names ending in `/`) are checked but not returned.
 * Stored entries are views into `bytes` (not copies); deflated ones are new
 * arrays. Throws an Error naming `fileLabel` (and the entry, where there is
 * one) for anything corrupt, truncated, unsafe or over `limits`.
 */
export function readZip(bytes: Uint8Array, fileLabel: string, limits?: Partial<ZipLimits>): Map<string, Uint8Array> {
  const lim = resolveLimits(DEFAULT_ZIP_LIMITS, limits, `readZip(${fileLabel})`);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fileLabel}: readZip expects a Uint8Array.`);
  try {
    return readZipChecked(bytes, fileLabel, lim);
  } catch (e) {
    if (e instanceof ZipFormatError) throw new Error(`${fileLabel}: ${e.message}`);
    throw e;
  }
}

function readZipChecked(bytes: Uint8Array, fileLabel: string, lim: ZipLimits): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (p: number) => view.getUint16(p, true);
  const u32 = (p: number) => view.getUint32(p, true);
  const u64 = (p: number, what: string) => {
    const lo = view.getUint32(p, true);
    const hi = view.getUint32(p + 4, true);
    if (hi >= 0x200000) throw new ZipFormatError(`is corrupt (zip64 ${what} ${hi}*2^32 is out of range)`);
    return hi * 0x100000000 + lo;
  };
  const corrupt = (what: string) => new ZipFormatError(`is truncated or corrupt (${what})`);
  const n = bytes.length;

  // End of central directory: the last record whose comment runs exactly to the end.
  let eocd = -1;
  for (let p = n - EOCD_SIZE; p >= 0 && p >= n - EOCD_SIZE - 0xffff; p--) {
    if (u32(p) === SIG_EOCD && p + EOCD_SIZE + u16(p + 20) === n) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) {
    const looksLikeZip = n >= 4 && u32(0) === SIG_LOCAL;
    if (looksLikeZip) throw corrupt('no end-of-central-directory record');
    throw new ZipFormatError(n === 0 ? 'is empty, not a zip archive' : 'is not a zip archive (no end-of-central-directory record)');
  }
  const disk = u16(eocd + 4);
  const cdDisk = u16(eocd + 6);
  let countOnDisk = u16(eocd + 8);
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  let cdLimit = eocd; // the central directory must end before this

  const needs64 = count === 0xffff || countOnDisk === 0xffff || cdSize === MAX_U32 || cdOffset === MAX_U32;
  if (eocd >= 20 && u32(eocd - 20) === SIG_ZIP64_LOCATOR) {
    const z = u64(eocd - 12, 'end-record offset');
    if (z + 56 > eocd - 20 || u32(z) !== SIG_ZIP64_EOCD) {
      if (needs64) throw corrupt('bad zip64 end-of-central-directory record');
    } else {
      if (u32(z + 16) !== 0 || u32(z + 20) !== 0) throw new ZipFormatError('is a multi-part (spanned) zip archive, which is not supported');
      countOnDisk = u64(z + 24, 'entry count');
      count = u64(z + 32, 'entry count');
      cdSize = u64(z + 40, 'directory size');
      cdOffset = u64(z + 48, 'directory offset');
      cdLimit = z;
    }
  } else if (needs64) {
    throw corrupt('zip64 fields without a zip64 end-of-central-directory record');
  }
  if (disk !== 0 || cdDisk !== 0 || countOnDisk !== count) {
    throw new ZipFormatError('is a multi-part (spanned) zip archive, which is not supported');
  }
  if (count > lim.maxEntries) {
    throw new ZipFormatError(`has ${count} entries, more than the limit of ${lim.maxEntries} (a zip bomb?)`);
  }
  if (cdOffset + cdSize > cdLimit) throw corrupt(`the central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the data`);
  if (count * CENTRAL_HEADER > cdSize) throw corrupt(`${count} entries cannot fit in a central directory of ${cdSize} bytes`);

  // Central directory.
  const entries: CentralEntry[] = [];
  const names = new Set<string>();
  let total = 0;
  let p = cdOffset;
  const cdEnd = cdOffset + cdSize;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_HEADER > cdEnd || u32(p) !== SIG_CENTRAL) throw corrupt(`central directory entry ${i} is missing or damaged`);
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    let compressedSize = u32(p + 20);
    let size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let startDisk = u16(p + 34);
    let localOffset = u32(p + 42);
    const next = p + CENTRAL_HEADER + nameLen + extraLen + commentLen;
    if (next > cdEnd) throw corrupt(`central directory entry ${i} runs past the directory`);
    const rawName = bytes.subarray(p + CENTRAL_HEADER, p + CENTRAL_HEADER + nameLen);
    const name = decodeName(rawName, (flags & FLAG_UTF8) !== 0);
    const label = name === null ? `entry ${i}` : `entry ${JSON.stringify(name)}`;
    if (name === null) throw new ZipFormatError(`zip ${label}: the name is not valid UTF-8`);

    // zip64 extra field: the 64-bit values of the fields that hold 0xFFFFFFFF, in this order.
    if (size === MAX_U32 || compressedSize === MAX_U32 || localOffset === MAX_U32 || startDisk === 0xffff) {
      let q = p + CENTRAL_HEADER + nameLen;
      const extraEnd = q + extraLen;
      let found = false;
      while (q + 4 <= extraEnd) {
        const id = u16(q);
        const len = u16(q + 2);
        if (q + 4 + len > extraEnd) break;
        if (id === 0x0001) {
          let r = q + 4;
          const take = (what: string) => {
            if (r + 8 > q + 4 + len) throw corrupt(`zip ${label}: short zip64 extra field`);
            const v = u64(r, what);
            r += 8;
            return v;
          };
          if (size === MAX_U32) size = take('size');
          if (compressedSize === MAX_U32) compressedSize = take('compressed size');
          if (localOffset === MAX_U32) localOffset = take('offset');
          if (startDisk === 0xffff) {
            if (r + 4 > q + 4 + len) throw corrupt(`zip ${label}: short zip64 extra field`);
            startDisk = u32(r);
          }
          found = true;
          break;
        }
        q += 4 + len;
      }
      if (!found) throw corrupt(`zip ${label}: sizes need a zip64 extra field, which is missing`);
    }
    if (startDisk !== 0) throw new ZipFormatError('is a multi-part (spanned) zip archive, which is not supported');

    const problem = nameProblem(name);
    if (problem !== null) throw new ZipFormatError(`zip ${label} is unsafe: ${problem}`);
    if (names.has(name)) throw new ZipFormatError(`zip ${label} appears twice`);
    names.add(name);
    if (flags & FLAG_ENCRYPTED) throw new ZipFormatError(`zip ${label} is encrypted, which is not supported`);
    if (method !== 0 && method !== 8) {
      throw new ZipFormatError(`zip ${label} uses compression method ${method}; only stored (0) and deflated (8) entries are supported`);
    }
    if (name.endsWith('/') && size !== 0) throw corrupt(`zip ${label} is a directory with ${size} bytes of data`);
    if (method === 0 && compressedSize !== size) {
      throw corrupt(`zip ${label} is stored but its sizes differ (${compressedSize} vs ${size})`);
    }
    if (size > lim.maxEntryBytes) {
      throw new ZipFormatError(`zip ${label} declares ${size} bytes uncompressed, more than the limit of ${lim.maxEntryBytes} (a zip bomb?)`);
    }
    total += size;
    if (total > lim.maxTotalBytes) {
      throw new ZipFormatError(`zip entries declare more than ${lim.maxTotalBytes} bytes uncompressed in all (limit reached at ${label}; a zip bomb?)`);
    }
    entries.push({ name, flags, method, crc, compressedSize, size, localOffset, dataStart: 0 });
    p = next;
  }

  // Local headers: each entry's data must lie before the central directory, not overlap another.
  for (const e of entries) {
    const label = `zip entry ${JSON.stringify(e.name)}`;
    const h = e.localOffset;
    if (h + LOCAL_HEADER > cdOffset || u32(h) !== SIG_LOCAL) throw corrupt(`${label}: local header missing or damaged`);
    const nameLen = u16(h + 26);
    const extraLen = u16(h + 28);
    const localName = bytes.subarray(h + LOCAL_HEADER, h + LOCAL_HEADER + nameLen);
    const centralName = new TextEncoder().encode(e.name);
    if ((e.flags & FLAG_UTF8) !== 0 || centralName.every((b) => b < 0x80)) {
      if (!sameBytes(localName, centralName)) throw corrupt(`${label}: local header names a different file`);
    }
    e.dataStart = h + LOCAL_HEADER + nameLen + extraLen;
    if (e.dataStart + e.compressedSize > cdOffset) throw corrupt(`${label}: data runs past the end of the archive's file data`);
  }
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1];
    if (byOffset[i].localOffset < prev.dataStart + prev.compressedSize) {
      throw new ZipFormatError(`zip entries ${JSON.stringify(prev.name)} and ${JSON.stringify(byOffset[i].name)} overlap (a zip bomb?)`);
    }
  }

  // Extract.
  const out = new Map<string, Uint8Array>();
  for (const e of entries) {
    const label = `zip entry ${JSON.stringify(e.name)}`;
    const raw = bytes.subarray(e.dataStart, e.dataStart + e.compressedSize);
    let data: Uint8Array;
    if (e.method === 0) {
      data = raw;
    } else {
      // One byte of slack tells "inflates to more than declared" from "exactly as declared".
      let inflated: Uint8Array;
      try {
        inflated = inflateSync(raw, { out: new Uint8Array(e.size + 1) });
      } catch (err) {
        throw corrupt(`${label}: bad deflate data: ${(err as Error).message}`);
      }
      if (inflated.length > e.size) throw new ZipFormatError(`${label} inflates to more than its declared ${e.size} bytes (a zip bomb?)`);
      if (inflated.length < e.size) throw corrupt(`${label}: inflates to ${inflated.length} bytes, not the declared ${e.size}`);
      data = inflated;
    }
    if (crc32(data) !== e.crc) throw corrupt(`${label}: CRC-32 mismatch`);
    if (!e.name.endsWith('/')) out.set(e.name, data);
  }
  void fileLabel;
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
