// The daemon's console path: a Machine in this process with its UART on a pty
// master (consoleIn/consoleOut), a console client on the slave. Typed lines
// reach the guest's shell and its answers come back; Ctrl-Alt-Del through the
// Machine powers the guest off.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { addon } from '../../native/index.js';
import { G } from './guest.js';

describe('a Machine with its console on a pty', () => {
  test('the shell answers on the pty and ctrlAltDel() powers the guest off', async () => {
    const a = addon();
    const pty = a.openPty(process.getuid!(), -1);
    // The client side of a console is a raw terminal (no echo, no line editing).
    execFileSync('stty', ['-F', pty.path, 'raw', '-echo']);
    const m = new a.Machine({
      memory: 256 << 20, cpus: 1, kernel: G.image, initrd: G.initrd,
      cmdline: 'console=ttyS0', consoleIn: pty.master, consoleOut: pty.master,
    });
    let out = '';
    const reader = fs.createReadStream('', { fd: pty.slave, autoClose: false });
    reader.on('data', (b) => { out += b.toString().replace(/\r/g, ''); });
    reader.on('error', () => { /* pty closed */ });
    let reason = 'slice';
    const runUntil = async (cond: () => boolean, ms: number) => {
      const t0 = Date.now();
      while (!cond() && reason === 'slice' && Date.now() - t0 < ms) {
        reason = m.run(20).reason;
        await new Promise((r) => setImmediate(r));
      }
    };
    try {
      await runUntil(() => /vmsup-guest:[^\n]*# $/.test(out), 180_000);
      expect(out).toMatch(/VMSUP-GUEST-READY/);
      fs.writeSync(pty.slave, 'echo pty-says-$((7 * 6))\n');
      await runUntil(() => /^pty-says-42$/m.test(out), 60_000);
      expect(out).toMatch(/^pty-says-42$/m);
      m.ctrlAltDel();
      await runUntil(() => false, 120_000);
      expect(reason).toBe('poweroff');
      await new Promise((r) => setTimeout(r, 200));
      expect(out).toMatch(/Requesting system poweroff/);
    } finally {
      m.close();
      reader.destroy();
      a.closeFd(pty.master);
      a.closeFd(pty.slave);
    }
  }, 300_000);
});
