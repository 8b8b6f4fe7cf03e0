// vmsupd's log: one line per message on stderr (the journal, under systemd).
// `vmsup log verbose|brief` switches debug lines on and off at run time.
export class Logger {
  verbose: boolean;
  constructor(verbose: boolean) {
    this.verbose = verbose;
  }
  private write(level: string, msg: string): void {
    process.stderr.write(`vmsupd: ${level}${msg}\n`);
  }
  info(msg: string): void {
    this.write('', msg);
  }
  warn(msg: string): void {
    this.write('warning: ', msg);
  }
  debug(msg: string): void {
    if (this.verbose) this.write('debug: ', msg);
  }
}
