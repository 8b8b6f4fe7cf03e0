// Helpers for the Linux boot tests: where the reference guest lives, scratch
// copies of its disk image, and a console driver that types into a running
// `vmsup run` and waits for what the guest prints.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The prebuilt guest (../shared/guest beside the checkout, as in CI). */
export const guestDir = path.resolve(root, '../shared/guest');
export const vmsup = path.join(root, 'bin', 'vmsup');
export const G = {
  image: path.join(guestDir, 'Image'),
  initrd: path.join(guestDir, 'initramfs.cpio.gz'),
  rootfs: path.join(guestDir, 'rootfs.ext4'),
  fwJump: path.join(guestDir, 'fw_jump.bin'),
};

export function scratchDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-boot-'));
}

/** A writable copy of the guest's ext4 root (the original stays untouched). */
export function rootfsCopy(dir: string): string {
  const p = path.join(dir, 'rootfs.ext4');
  fs.copyFileSync(G.rootfs, p);
  fs.chmodSync(p, 0o644);
  return p;
}

/** Runs vmsup to completion (under `timeout`), returning status and output. */
export function runVmsup(args: string[], timeoutSec = 240): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('timeout', ['-k', '5', String(timeoutSec), process.execPath, vmsup, 'run', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A guest console: stdout collected (with \r removed), stdin typed into. */
export class GuestConsole {
  readonly proc: ChildProcessWithoutNullStreams;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;

  /** `argv` is the whole command (e.g. vmsup run ..., or script -c "..." for a pty). */
  constructor(argv: string[]) {
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (b: Buffer) => { this.out += b.toString('latin1').replace(/\r/g, ''); });
    this.proc.stderr.on('data', (b: Buffer) => { this.err += b.toString('latin1'); });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
  }

  static run(args: string[], timeoutSec = 240): GuestConsole {
    return new GuestConsole(['timeout', '-k', '5', String(timeoutSec), process.execPath, vmsup, 'run', ...args]);
  }

  /** Waits until the output (after `from`) matches; returns the index after the match. */
  async waitFor(re: RegExp, timeoutMs = 180_000, from = 0): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const m = re.exec(this.out.slice(from));
      if (m) return from + m.index + m[0].length;
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`timed out waiting for ${re}\n--- console ---\n${this.out.slice(-3000)}\n--- stderr ---\n${this.err}`);
      }
      if (this.proc.exitCode !== null) {
        throw new Error(`vmsup exited (${this.proc.exitCode}) before ${re}\n--- console ---\n${this.out.slice(-3000)}\n--- stderr ---\n${this.err}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  type(s: string): void {
    this.proc.stdin.write(s);
  }

  /** Types a shell command and waits for the prompt after it; returns its output. */
  async sh(cmd: string, timeoutMs = 120_000): Promise<string> {
    const from = this.out.length;
    this.type(cmd + '\n');
    const end = await this.waitFor(/vmsup-guest:[^\n]*# $/, timeoutMs, from);
    return this.out.slice(from, end);
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

export function e2fsck(image: string): { status: number | null; output: string } {
  const r = spawnSync('e2fsck', ['-fn', image], { encoding: 'utf8' });
  return { status: r.status, output: (r.stdout ?? '') + (r.stderr ?? '') };
}

export function debugfsCat(image: string, file: string): string {
  const r = spawnSync('debugfs', ['-R', `cat ${file}`, image], { encoding: 'utf8' });
  return r.stdout ?? '';
}
