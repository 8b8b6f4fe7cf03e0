// One base for every vmsup error: a stable code and an optional hint, so the CLI
// prints one clear line (`vmsup: …`) and the protocol can carry errors as data.
export class VmsupError extends Error {
  readonly code: string;
  readonly hint?: string;

  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.name = 'VmsupError';
    this.code = code.startsWith('ERR_VMSUP_') ? code : `ERR_VMSUP_${code}`;
    this.hint = hint;
  }
}

/** Turns anything thrown into a VmsupError without losing its code. */
export function asVmsupError(err: unknown): VmsupError {
  if (err instanceof VmsupError) return err;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // A hint travels too (db/errors.ts's DbError carries one).
    const hint = (err as { hint?: unknown }).hint;
    return new VmsupError(typeof code === 'string' ? code : 'INTERNAL', err.message, typeof hint === 'string' ? hint : undefined);
  }
  return new VmsupError('INTERNAL', String(err));
}
