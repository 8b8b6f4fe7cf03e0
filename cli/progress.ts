// A one-line progress bar on stderr for vmsup send and receive, drawn only
// when stderr is a terminal: bytes so far, the pre-copy pass, and the rate.
// The total is not known in advance (only touched pages travel, and a live
// send's later passes depend on the guest), so the bar is a moving marker.
import { formatBytes } from '../daemon/migrate-stream.js';

const REDRAW_MS = 100;
const WIDTH = 20;

export class Progress {
  private readonly t0 = Date.now();
  private last = 0;
  private frame = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly on = Boolean(process.stderr.isTTY),
  ) {}

  update(bytes: number, pass: number, force = false): void {
    if (!this.on) return;
    const now = Date.now();
    if (!force && now - this.last < REDRAW_MS) return;
    this.last = now;
    const secs = Math.max(0.001, (now - this.t0) / 1000);
    const at = this.frame++ % WIDTH;
    const bar = '='.repeat(at) + '>' + ' '.repeat(WIDTH - at - 1);
    const passText = pass > 0 ? `  pass ${pass}` : '';
    process.stderr.write(`\r\x1b[K${this.label} [${bar}] ${formatBytes(bytes)}${passText}  ${formatBytes(Math.round(bytes / secs))}/s`);
    this.drawn = true;
  }

  /** Ends the line (before the summary). */
  done(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}
