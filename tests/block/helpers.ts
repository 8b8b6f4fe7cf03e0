// Shared helpers of the disk-image tests: temp dirs, qemu-img/qemu-io runners,
// and deterministic test data.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { blockAddon, type DiskFormatName, type NativeBlockImage } from '../../native/index.js';

export const MIB = 1024 * 1024;

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vmsup-${tag}-`));
}

export function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `qemu-img check`: exit status and output (0 = clean; 3 = leaks; 2 = corruptions). */
export function qemuCheck(file: string, format: DiskFormatName = 'qcow2'): { status: number; out: string } {
  const r = spawnSync('qemu-img', ['check', '-f', format, file], { encoding: 'utf8' });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

export function qemuIo(file: string, format: DiskFormatName, ...cmds: string[]): void {
  const args = ['-f', format];
  for (const c of cmds) args.push('-c', c);
  args.push(file);
  execFileSync('qemu-io', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A deterministic pseudo-random buffer (xorshift), the same for the same seed. */
export function pattern(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

export function open(file: string, format: DiskFormatName, readOnly = false): NativeBlockImage {
  return new (blockAddon().BlockImage)(file, format, readOnly);
}

export function readAll(file: string, format: DiskFormatName): Buffer {
  const img = open(file, format, true);
  try {
    const size = img.size();
    const parts: Buffer[] = [];
    for (let off = 0; off < size; off += 16 * MIB) parts.push(img.read(off, Math.min(16 * MIB, size - off)));
    return Buffer.concat(parts);
  } finally {
    img.close();
  }
}

/** The bytes qemu-img sees: converts to raw and reads the result. */
export function qemuView(file: string, format: DiskFormatName, dir: string): Buffer {
  const out = path.join(dir, `view-${Math.random().toString(36).slice(2)}.raw`);
  qemuImg('convert', '-f', format, '-O', 'raw', file, out);
  const b = fs.readFileSync(out);
  fs.unlinkSync(out);
  return b;
}
