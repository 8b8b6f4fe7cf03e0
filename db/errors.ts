// The database layer's error: the same code/hint fields as the daemon's
// VmsupError (daemon/protocol/errors.ts), whose asVmsupError() keeps both, so
// db/ needs nothing from the daemon.
export class DbError extends Error {
  readonly code: string;
  readonly hint?: string;

  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.name = 'DbError';
    this.code = `ERR_VMSUP_${code}`;
    this.hint = hint;
  }
}
