// vmctl's size syntax (scan_scaled(3)): a number with an optional B, K, M, G, T, P
// or E suffix (powers of 1024; a fraction is allowed with a suffix, as in 1.5G).
// A plain number is bytes. Returns bytes, or an error message.
import { VmsupError } from '../daemon/protocol/errors.js';

const UNITS: Record<string, number> = { B: 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };

export function scanScaled(word: string): number | undefined {
  const m = /^\s*(\d+)(?:\.(\d+))?\s*([BKMGTPE])?\s*$/i.exec(word);
  if (!m) return undefined;
  const unit = m[3] ? UNITS[m[3].toUpperCase()] : 0;
  if (m[2] !== undefined && unit === 0) return undefined; // fraction needs a unit
  const whole = BigInt(m[1]) * 1024n ** BigInt(unit);
  let frac = 0n;
  if (m[2]) frac = (BigInt(m[2]) * 1024n ** BigInt(unit)) / 10n ** BigInt(m[2].length);
  const total = whole + frac;
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(total);
}

/**
 * fmt_scaled(3), as vmctl prints sizes: the largest unit that keeps the number
 * at least 1, with one decimal below 100 of that unit (`1.5G`, `64.0M`, `100M`).
 */
export function fmtScaled(bytes: number): string {
  let unit = 0;
  while (unit < 6 && bytes >= 1024 ** (unit + 1)) unit++;
  const scale = 1024 ** unit;
  let whole = Math.floor(bytes / scale);
  const suffix = 'BKMGTPE'[unit];
  if (unit === 0 || whole >= 100) {
    if (bytes - whole * scale >= scale / 2) whole++;
    return `${whole}${suffix}`;
  }
  let tenths = Math.floor(((bytes - whole * scale) * 10 + scale / 2) / scale);
  if (tenths >= 10) {
    whole++;
    tenths = 0;
  }
  return `${whole}.${tenths}${suffix}`;
}

/**
 * vmctl's parse_size: at least 1 MiB, rounded down to whole MiB, and, as vmctl
 * does, a warning when the rounding changed the size (`-m 100.5M`).
 */
export function parseSize(word: string, type: string, warn: (msg: string) => void = (m) => process.stderr.write(`vmsup: ${m}\n`)): number {
  const val = scanScaled(word);
  if (val === undefined) throw new VmsupError('BAD_SIZE', `invalid ${type} size: ${word}`);
  if (val < 1024 * 1024) throw new VmsupError('BAD_SIZE', `${type} size must be at least 1MB`);
  const size = Math.floor(val / (1024 * 1024)) * 1024 * 1024;
  if (size !== val) warn(`${type} size rounded to ${fmtScaled(size)}`);
  return size;
}
