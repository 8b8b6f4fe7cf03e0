// Bad input to `vmsup run` on the Linux boot path: each case ends with one
// clear error line on stderr and a non-zero exit, and no guest runs.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { G, rootfsCopy, runVmsup, scratchDir } from './guest.js';

const dir = scratchDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function expectOneErrorLine(args: string[], re: RegExp): void {
  const r = runVmsup(args, 60);
  expect(r.status, r.stderr).not.toBe(0);
  expect(r.status).not.toBe(null);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines.length, r.stderr).toBe(1);
  expect(lines[0]).toMatch(/^vmsup: /);
  expect(lines[0]).toMatch(re);
}

describe('vmsup run refuses bad boot input', () => {
  test('a truncated kernel Image', () => {
    const p = path.join(dir, 'Image.truncated');
    fs.writeFileSync(p, fs.readFileSync(G.image).subarray(0, 1 << 20));
    expectOneErrorLine(['-b', p, '--initrd', G.initrd], /truncated/);
  });

  test('an empty kernel file', () => {
    // Anything else that is not ELF or a Linux Image boots as a raw binary (as QEMU's -kernel).
    const p = path.join(dir, 'empty-kernel');
    fs.writeFileSync(p, '');
    expectOneErrorLine(['-b', p], /kernel .*empty-kernel is empty/);
  });

  test('a missing kernel file', () => {
    expectOneErrorLine(['-b', path.join(dir, 'no-such-kernel')], /no-such-kernel/);
  });

  test('an initrd that does not fit in RAM', () => {
    const p = path.join(dir, 'big-initrd');
    fs.writeFileSync(p, Buffer.alloc(12 << 20, 0x5a));
    expectOneErrorLine(['-m', '16M', '-b', G.image, '--initrd', p], /initrd .* does not fit in guest RAM/);
  });

  test('--bios with an initrd that would collide with the firmware\'s FDT copy', () => {
    const p = path.join(dir, 'big-initrd2');
    fs.writeFileSync(p, Buffer.alloc(8 << 20, 0x5a));
    expectOneErrorLine(['-m', '16M', '--bios', G.fwJump, '-b', G.image, '--initrd', p], /does not fit/);
  });

  test('a missing disk', () => {
    expectOneErrorLine(['-b', G.image, '--initrd', G.initrd, '-d', path.join(dir, 'no-such-disk.img')], /no-such-disk\.img/);
  });

  test('a disk that cannot be read (a directory)', () => {
    const d = path.join(dir, 'a-directory');
    fs.mkdirSync(d, { recursive: true });
    expectOneErrorLine(['-b', G.image, '--initrd', G.initrd, '-d', d], /a-directory/);
  });

  test('the same disk given twice', () => {
    const disk = rootfsCopy(dir);
    expectOneErrorLine(['-b', G.image, '-d', disk, '-r', `raw:${disk}`], /given twice/);
    const link = path.join(dir, 'same-disk-link');
    fs.symlinkSync(disk, link);
    expectOneErrorLine(['-b', G.image, '-d', disk, '-d', link], /given twice/);
  });

  test('firmware too large to sit below the kernel', () => {
    const p = path.join(dir, 'huge-firmware');
    fs.writeFileSync(p, Buffer.alloc(3 << 20, 0x13));
    expectOneErrorLine(['--bios', p, '-b', G.image], /firmware/);
  });
});
