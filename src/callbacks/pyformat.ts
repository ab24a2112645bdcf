/**
 * Python's number formatting, as the Keras callbacks produce it: `str(float)`
 * (CSVLogger cells, messages, `{val_loss}` in checkpoint names) and the
 * format-spec mini-language of `str.format` (`{epoch:02d}`, `{val_loss:.2f}`).
 *
 * Why not JavaScript's own: `String(1e-5)` is '1e-5' where Python writes
 * '1e-05'; `String(1)` is '1' where Python writes '1.0'; `toFixed` rounds
 * exact ties up (0.125 -> '0.13') where Python rounds them to even ('0.12');
 * and zero padding goes after the sign ('-001.500'). Values are rounded here
 * from their exact binary value, as CPython does.
 */

/** The exact decimal value of a finite |x|: digits / 10^scale. */
function exactDecimal(x: number): { digits: bigint; scale: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (expBits === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  if (e >= 0) return { digits: mant << BigInt(e), scale: 0 };
  return { digits: mant * 5n ** BigInt(-e), scale: -e };
}

/** Integer division rounding half to even. */
function divRoundHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n - q * d;
  if (2n * r > d || (2n * r === d && q % 2n === 1n)) return q + 1n;
  return q;
}

/** |x| with `precision` decimals (Python 'f'). */
function fixedAbs(x: number, precision: number): string {
  const { digits, scale } = exactDecimal(x);
  let n: bigint;
  if (scale > precision) n = divRoundHalfEven(digits, 10n ** BigInt(scale - precision));
  else n = digits * 10n ** BigInt(precision - scale);
  const s = n.toString().padStart(precision + 1, '0');
  return precision === 0 ? s : `${s.slice(0, s.length - precision)}.${s.slice(s.length - precision)}`;
}

/** |x| rounded to `sig` significant digits: the digit string and the decimal exponent of its first digit. */
function significantAbs(x: number, sig: number): { digits: string; exp: number } {
  if (x === 0) return { digits: '0'.repeat(sig), exp: 0 };
  const { digits, scale } = exactDecimal(x);
  const all = digits.toString();
  let exp = all.length - 1 - scale;
  let d: string;
  if (all.length > sig) {
    d = divRoundHalfEven(digits, 10n ** BigInt(all.length - sig)).toString();
    if (d.length > sig) {
      d = d.slice(0, sig);
      exp += 1;
    }
  } else d = all.padEnd(sig, '0');
  return { digits: d, exp };
}

function expSuffix(exp: number, upper: boolean): string {
  return `${upper ? 'E' : 'e'}${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function exponentAbs(x: number, precision: number, upper = false): string {
  const { digits, exp } = significantAbs(x, precision + 1);
  return `${digits[0]}${precision > 0 ? '.' + digits.slice(1) : ''}${expSuffix(exp, upper)}`;
}

function generalAbs(x: number, precision: number, keepZeros: boolean, upper = false): string {
  const p = precision === 0 ? 1 : precision;
  const { exp } = significantAbs(x, p);
  let s = exp >= -4 && exp < p ? fixedAbs(x, p - 1 - exp) : exponentAbs(x, p - 1, upper);
  if (!keepZeros) {
    const [m, e] = s.split(/(?=[eE])/);
    s = (m.includes('.') ? m.replace(/\.?0+$/, '') : m) + (e ?? '');
  }
  return s;
}

/** Python's `repr(float)` / `str(float)`: the shortest round-trip digits. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const [m, e] = Math.abs(x).toExponential().split('e');
  const digits = m.replace('.', '');
  const exp = Number(e);
  if (exp < -4 || exp >= 16) return `${sign}${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}${expSuffix(exp, false)}`;
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits.padEnd(exp + 1, '0')}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** Thrown where Python's format() raises ValueError (e.g. 'd' for a float). */
export class PyFormatError extends Error {}

function groupThousands(intPart: string, sep: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

/**
 * `format(value, spec)` for a Python int (`isInt`) or float. Supports
 * [[fill]align][sign][#][0][width][,|_][.precision][type] with the types
 * d, e, E, f, F, g, G, %, n and none.
 */
export function pyFormat(value: number, spec: string, isInt: boolean): string {
  if (spec === '') return isInt ? String(value) : pyFloat(value);
  const m = /^(?:(.)?([<>=^]))?([+\- ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/su.exec(spec);
  if (!m) throw new PyFormatError(`Invalid format specifier '${spec}'`);
  let [, fill, align] = m;
  const [, , , signOpt, , alt, zero, width, grouping, precisionText, typeText] = m;
  let type = typeText ?? '';
  if (isInt && type === '') type = 'd';
  if (!isInt && (type === 'd' || type === 'n')) throw new PyFormatError(`Unknown format code '${type}' for object of type 'float'`);
  if (!['d', 'n', 'e', 'E', 'f', 'F', 'g', 'G', '%', ''].includes(type)) throw new PyFormatError(`Unsupported format code '${type}'`);
  const precision = precisionText === undefined ? null : Number(precisionText);
  const negative = value < 0 || Object.is(value, -0);
  const abs = Math.abs(value);
  let body: string;
  if (Number.isNaN(value)) body = /[EFG]/.test(type) ? 'NAN' : 'nan';
  else if (!Number.isFinite(value)) body = /[EFG]/.test(type) ? 'INF' : 'inf';
  else if (type === 'd' || type === 'n') body = String(Math.trunc(abs));
  else if (type === 'f' || type === 'F') body = fixedAbs(abs, precision ?? 6);
  else if (type === 'e' || type === 'E') body = exponentAbs(abs, precision ?? 6, type === 'E');
  else if (type === 'g' || type === 'G') body = generalAbs(abs, precision ?? 6, Boolean(alt), type === 'G');
  else if (type === '%') body = `${fixedAbs(abs * 100, precision ?? 6)}%`;
  // No type: like 'g' with at least one digit after the point, or repr when no precision.
  else body = precision === null ? pyFloat(abs) : generalAbs(abs, precision, false).replace(/^(\d+)$/, '$1.0');
  if (grouping && Number.isFinite(value)) {
    const [i, ...rest] = body.split('.');
    body = [groupThousands(i, grouping), ...rest].join('.');
  }
  const sign = negative && !Number.isNaN(value) ? '-' : signOpt === '+' ? '+' : signOpt === ' ' ? ' ' : '';
  const w = width === undefined ? 0 : Number(width);
  if (zero && align === undefined) {
    fill = '0';
    align = '=';
  }
  fill ??= ' ';
  align ??= '>';
  const len = sign.length + body.length;
  if (len >= w) return sign + body;
  const pad = w - len;
  switch (align) {
    case '<': return sign + body + fill.repeat(pad);
    case '^': return fill.repeat(Math.floor(pad / 2)) + sign + body + fill.repeat(pad - Math.floor(pad / 2));
    case '=': return sign + fill.repeat(pad) + body;
    default: return fill.repeat(pad) + sign + body;
  }
}
