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

/** vmctl's parse_size: at least 1 MiB, rounded down to whole MiB. */
export function parseSize(word: string, type: string): number {
  const val = scanScaled(word);
  if (val === undefined) throw new VmsupError('BAD_SIZE', `invalid ${type} size: ${word}`);
  if (val < 1024 * 1024) throw new VmsupError('BAD_SIZE', `${type} size must be at least 1MB`);
  return Math.floor(val / (1024 * 1024)) * 1024 * 1024;
}
