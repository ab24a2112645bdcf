/**
 * A minimal PNG encoder (8-bit grayscale, gray+alpha, RGB or RGBA; no
 * filtering, zlib-deflated with node:zlib) for image summaries, and the
 * matching decoder of that subset (plus the standard row filters) for tests
 * and the event reader.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { crc32 } from '../util/checksums.ts';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** PNG color types by channel count. */
const COLOR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };
const CHANNELS: Record<number, number> = { 0: 1, 4: 2, 2: 3, 6: 4 };

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes `pixels` (row-major, `channels` bytes per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) as a PNG file. */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const colorType = COLOR_TYPE[channels];
  if (colorType === undefined) throw new Error(`encodePng: images need 1, 2, 3 or 4 channels. Received: ${channels}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`encodePng: width and height must be positive integers. Received: ${width}x${height}`);
  if (pixels.length !== width * height * channels) throw new Error(`encodePng: expected ${width * height * channels} bytes for ${width}x${height}x${channels}, got ${pixels.length}.`);
  const header = new Uint8Array(13);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = colorType;
  // compression 0, filter method 0, no interlace
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type None
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const parts = [SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Decodes an 8-bit, non-interlaced PNG (as encodePng writes; any row filter) into its pixels. Checks the chunk CRCs. */
export function decodePng(bytes: Uint8Array): { width: number; height: number; channels: number; pixels: Uint8Array } {
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) throw new Error('decodePng: not a PNG file (bad signature).');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  while (off < bytes.length) {
    const length = dv.getUint32(off);
    const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8));
    const data = bytes.subarray(off + 8, off + 8 + length);
    const stored = dv.getUint32(off + 8 + length);
    if (crc32(bytes.subarray(off + 4, off + 8 + length)) !== stored) throw new Error(`decodePng: the CRC of chunk ${type} does not match.`);
    if (type === 'IHDR') {
      const h = new DataView(data.buffer, data.byteOffset, data.byteLength);
      width = h.getUint32(0);
      height = h.getUint32(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('decodePng: only 8-bit, non-interlaced images are supported.');
      channels = CHANNELS[data[9]];
      if (!channels) throw new Error(`decodePng: unsupported color type ${data[9]}.`);
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    off += 12 + length;
  }
  const joined = new Uint8Array(idat.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of idat) {
    joined.set(p, o);
    o += p.length;
  }
  const raw = inflateSync(joined);
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      let v = row[x];
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`decodePng: unknown row filter ${filter}.`);
      }
      out[x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}
