/** TFRecord's masked CRC-32C of lengths and record data. */
import { crc32c } from '../../util/checksums.ts';

export { crc32c };

const MASK_DELTA = 0xa282ead8;

/** TFRecord's masked CRC: rotate right by 15 bits, add a constant. */
export function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}
