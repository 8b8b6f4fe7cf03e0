// A guest machine driven through the addon in this process (as a daemon
// worker would), its console written to a file and typed into with
// consoleInput. Several of them run in turn in one thread.
import fs from 'node:fs';
import path from 'node:path';
import { addon, type DiskOptions, type NativeMachine, type NicOptions } from '../../native/index.js';
import { G } from '../boot/guest.js';

export class Vm {
  m: NativeMachine;
  file: string;
  fd: number;
  constructor(dir: string, name: string, nics: NicOptions[], disks: DiskOptions[] = []) {
    this.file = path.join(dir, `${name}.console`);
    this.fd = fs.openSync(this.file, 'w+');
    this.m = new (addon().Machine)({
      memory: 256 << 20, cpus: 1, kernel: G.image, initrd: G.initrd, cmdline: 'console=ttyS0', consoleOut: this.fd,
      nics, disks,
    });
  }
  out(): string {
    return fs.readFileSync(this.file, 'latin1').replace(/\r/g, '');
  }
  close(): void {
    this.m.close();
    fs.closeSync(this.fd);
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Runs both machines in turn until `vm`'s console (after `from`) matches. */
export async function runUntil(vms: Vm[], vm: Vm, re: RegExp, from: number, ms = 240_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    for (const v of vms) {
      const st = v.m.run(10);
      if (st.reason !== 'slice') throw new Error(`machine ended: ${st.reason}`);
    }
    const text = vm.out().slice(from);
    if (re.test(text)) return text;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re}:\n${text.slice(-2000)}`);
    await tick();
  }
}

export async function sh(vms: Vm[], vm: Vm, cmd: string): Promise<string> {
  const from = vm.out().length;
  vm.m.consoleInput(Buffer.from(cmd + '\n'));
  return runUntil(vms, vm, /vmsup-guest:[^\n]*# $/, from);
}

