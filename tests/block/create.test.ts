// `vmsup create`, driven as a user would: vmctl's options, messages and checks.
// Needs a build (dist/), as `npm test` makes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { blockAddon } from '../../native/index.js';
import { MIB, open, pattern, qemuCheck, qemuImg, tempDir } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../..');
const dir = tempDir('create');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const p = (n: string) => path.join(dir, n);

function vmsup(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/vmsup'), 'create', ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vmsup create', () => {
  test('makes an empty raw image of the given size, sparse', () => {
    const r = vmsup('-s', '64M', 'disk.raw');
    expect(r.stderr).toBe('vmsup: raw imagefile created\n');
    expect(r.status).toBe(0);
    const st = fs.statSync(p('disk.raw'));
    expect(st.size).toBe(64 * MIB);
    expect(st.blocks * 512).toBeLessThan(MIB);
  });

  test('picks the format from the prefix, else the extension, else raw', () => {
    expect(vmsup('-s', '1G', 'qcow2:prefixed.img').stderr).toBe('vmsup: qcow2 imagefile created\n');
    expect(blockAddon().imageInfo(p('prefixed.img'), 'qcow2').virtualSize).toBe(1024 * MIB);
    expect(vmsup('-s', '1G', 'by-ext.qcow2').stderr).toBe('vmsup: qcow2 imagefile created\n');
    expect(qemuCheck(p('by-ext.qcow2')).status).toBe(0);
    expect(vmsup('-s', '1M', 'plain.img').stderr).toBe('vmsup: raw imagefile created\n');
  });

  test('an image qemu-img accepts as qcow2 of the size asked for', () => {
    vmsup('-s', '1.5G', 'sized.qcow2');
    const info = JSON.parse(qemuImg('info', '--output=json', p('sized.qcow2'))) as { 'virtual-size': number; format: string };
    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(1536 * MIB);
  });

  test('without -s: "missing size argument"', () => {
    const r = vmsup('nosize.qcow2');
    expect(r.stderr).toContain('vmsup: could not create nosize.qcow2: missing size argument');
    expect(r.status).not.toBe(0);
    expect(fs.existsSync(p('nosize.qcow2'))).toBe(false);
  });

  test('vmctl size syntax, at least 1 MB', () => {
    expect(vmsup('-s', '512K', 'tiny.raw').stderr).toContain('disk size must be at least 1MB');
    expect(vmsup('-s', 'lots', 'bad.raw').stderr).toContain('invalid disk size: lots');
  });

  test('refuses to overwrite an existing file', () => {
    fs.writeFileSync(p('exists.raw'), 'keep me');
    const r = vmsup('-s', '1M', 'exists.raw');
    expect(r.stderr).toMatch(/could not create exists\.raw: File exists/);
    expect(r.status).toBe(1);
    expect(fs.readFileSync(p('exists.raw'), 'utf8')).toBe('keep me');
  });

  test('-b makes a qcow2 overlay of the base size; the base path is relative to the overlay', () => {
    fs.mkdirSync(p('imgs'));
    vmsup('-s', '8M', 'imgs/base.qcow2');
    const b = open(p('imgs/base.qcow2'), 'qcow2');
    b.write(0, pattern(4096, 5));
    b.close();
    const r = vmsup('-b', 'base.qcow2', 'imgs/over.qcow2');
    expect(r.stderr).toBe('vmsup: qcow2 imagefile created\n');
    const info = blockAddon().imageInfo(p('imgs/over.qcow2'), 'qcow2');
    expect(info.backingFile).toBe('base.qcow2');
    expect(info.backingFormat).toBe('qcow2');
    expect(info.virtualSize).toBe(8 * MIB);
    const o = open(p('imgs/over.qcow2'), 'qcow2', true);
    expect(o.read(0, 4096).equals(pattern(4096, 5))).toBe(true);
    o.close();
    expect(qemuCheck(p('imgs/over.qcow2')).status).toBe(0);
    // qemu-img resolves it the same way.
    expect(qemuImg('info', '--backing-chain', p('imgs/over.qcow2'))).toContain(p('imgs/base.qcow2'));
  });

  test('-b on a raw target: "base images require qcow2 disk format"', () => {
    vmsup('-s', '1M', 'b.qcow2');
    const r = vmsup('-b', 'b.qcow2', 'raw:over.img');
    expect(r.stderr).toContain('base images require qcow2 disk format');
    expect(r.status).toBe(1);
  });

  test('-b with a missing or unreadable base is refused', () => {
    expect(vmsup('-b', 'nope.qcow2', 'o.qcow2').stderr).toMatch(/base image .*nope\.qcow2: no such file/);
    expect(fs.existsSync(p('o.qcow2'))).toBe(false);
  });

  test('-b refuses a base chain that loops', () => {
    vmsup('-s', '1M', 'l1.qcow2');
    vmsup('-b', 'l1.qcow2', 'l2.qcow2');
    // Point l1 back at l2 by hand (qemu-img rebase -u does the same).
    qemuImg('rebase', '-u', '-f', 'qcow2', '-b', 'l2.qcow2', '-F', 'qcow2', p('l1.qcow2'));
    const r = vmsup('-b', 'l2.qcow2', 'l3.qcow2');
    expect(r.stderr).toMatch(/backing chain loops/);
    expect(r.status).toBe(1);
  });

  test('-b and -i together: "conflicting -b and -i arguments"', () => {
    const r = vmsup('-b', 'x.qcow2', '-i', 'y.raw', 'z.qcow2');
    expect(r.stderr).toContain('conflicting -b and -i arguments');
    expect(r.status).not.toBe(0);
  });

  test('-i copies a raw image into qcow2, sparse, and qemu-img compare calls them identical', () => {
    const src = p('src.raw');
    const data = Buffer.concat([pattern(MIB, 1), Buffer.alloc(3 * MIB), pattern(MIB, 2)]);
    fs.writeFileSync(src, data);
    const r = vmsup('-i', 'src.raw', 'copy.qcow2');
    expect(r.stderr).toBe('vmsup: qcow2 imagefile created\n');
    expect(r.stdout).toBe(''); // no progress bar when not on a terminal
    expect(qemuImg('compare', '-f', 'raw', '-F', 'qcow2', src, p('copy.qcow2'))).toContain('Images are identical');
    expect(qemuCheck(p('copy.qcow2')).status).toBe(0);
    expect(fs.statSync(p('copy.qcow2')).size).toBeLessThan(3 * MIB); // the zero MiBs were not written
  });

  test('-i copies a qcow2 image into raw (source format from its signature)', () => {
    const r = vmsup('-i', 'copy.qcow2', 'back.raw');
    expect(r.status).toBe(0);
    expect(qemuImg('compare', '-f', 'qcow2', '-F', 'raw', p('copy.qcow2'), p('back.raw'))).toContain('Images are identical');
    expect(fs.statSync(p('back.raw')).blocks * 512).toBeLessThan(4 * MIB);
  });

  test('-i with -s: larger is fine, smaller is refused', () => {
    expect(vmsup('-i', 'src.raw', '-s', '16M', 'big.qcow2').status).toBe(0);
    expect(blockAddon().imageInfo(p('big.qcow2'), 'qcow2').virtualSize).toBe(16 * MIB);
    const r = vmsup('-i', 'src.raw', '-s', '2M', 'small.qcow2');
    expect(r.stderr).toContain('size cannot be smaller than input disk size');
    expect(fs.existsSync(p('small.qcow2'))).toBe(false);
  });

  test('-i from a missing file', () => {
    expect(vmsup('-i', 'missing.raw', 'm.qcow2').stderr).toContain('failed to open source image file');
  });
});
