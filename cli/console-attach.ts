// Attaches the terminal to a VM's console tty like cu(1): raw mode, bytes both
// ways, and `~.` at the start of a line detaches (`~~` sends one `~`).
import fs from 'node:fs';
import tty from 'node:tty';
import { VmsupError } from '../daemon/protocol/errors.js';

export function attachConsole(ttyPath: string): Promise<number> {
  let rfd: number;
  let wfd: number;
  try {
    rfd = fs.openSync(ttyPath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    wfd = fs.openSync(ttyPath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  } catch (e) {
    throw new VmsupError('CONSOLE', `console: cannot open ${ttyPath}: ${(e as Error).message}`);
  }
  const input = new tty.ReadStream(rfd);
  input.setRawMode(true);
  const output = new tty.WriteStream(wfd);
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  process.stderr.write('Connected.\r\n');

  return new Promise((resolve) => {
    let atLineStart = true;
    let tilde = false;
    let done = false;
    const finish = (msg: string) => {
      if (done) return;
      done = true;
      if (stdin.isTTY) stdin.setRawMode(wasRaw);
      stdin.off('data', onKeys);
      stdin.pause();
      input.destroy();
      output.destroy();
      process.stderr.write(`\r\n${msg}\r\n`);
      resolve(0);
    };
    const onKeys = (buf: Buffer) => {
      const out: number[] = [];
      for (const b of buf) {
        if (tilde) {
          tilde = false;
          if (b === 0x2e /* . */) {
            if (out.length) output.write(Buffer.from(out));
            finish('[EOT]');
            return;
          }
          if (b !== 0x7e) out.push(0x7e); // "~~" sends one '~'
          out.push(b);
          atLineStart = b === 0x0d || b === 0x0a;
          continue;
        }
        if (atLineStart && b === 0x7e /* ~ */) {
          tilde = true;
          continue;
        }
        out.push(b);
        atLineStart = b === 0x0d || b === 0x0a || b === 0x15 /* ^U */ || b === 0x03 /* ^C */;
      }
      if (out.length) output.write(Buffer.from(out));
    };
    stdin.on('data', onKeys);
    stdin.on('end', () => finish('[EOT]'));
    stdin.resume();
    input.on('data', (d: Buffer) => process.stdout.write(d));
    // The daemon closes the pty when the VM stops: the tty then reads EOF/EIO.
    input.on('end', () => finish('[the vm stopped]'));
    input.on('error', () => finish('[the vm stopped]'));
  });
}
