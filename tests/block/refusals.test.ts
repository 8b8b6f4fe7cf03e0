// What the backends refuse, and how: unsupported qcow2 features are named,
// dirty/corrupt images open read-only only, a second writer is locked out, and
// a raw disk stays raw whatever its contents.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { blockAddon } from '../../native/index.js';
import { MIB, open, pattern, qemuImg, tempDir } from './helpers.js';

const dir = tempDir('refuse');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const p = (n: string) => path.join(dir, n);

function setIncompatible(file: string, bits: bigint) {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(bits);
  fs.writeSync(fd, b, 0, 8, 72);
  fs.closeSync(fd);
}

describe('unsupported qcow2 features are refused by name', () => {
  const cases: [string, string[], RegExp][] = [
    ['an external data file', ['-o', `data_file=${path.join(dir, 'ext-data.raw')}`], /external data file/],
    ['extended L2 entries', ['-o', 'extended_l2=on'], /extended L2/],
    ['zstd compression', ['-o', 'compression_type=zstd'], /compression type 1 \(zstd\)/],
  ];
  for (const [name, opts, msg] of cases) {
    test(name, () => {
      const f = p(`${name.replace(/\W+/g, '_')}.qcow2`);
      qemuImg('create', '-q', '-f', 'qcow2', ...opts, f, '1M');
      for (const ro of [true, false]) {
        expect(() => open(f, 'qcow2', ro)).toThrow(msg);
      }
      try {
        open(f, 'qcow2', true);
      } catch (e) {
        expect((e as Error & { code: string }).code).toBe('ERR_VMSUP_DISK');
        expect((e as Error).message).toContain(f); // names the file
      }
    });
  }

  for (const [method, name] of [[1, 'AES'], [2, 'LUKS']] as const) {
    test(`${name} encryption (crypt_method ${method})`, () => {
      // qemu-img cannot make a LUKS image here (its PBKDF timing needs a CPU
      // clock it does not get), so the header field is set by hand.
      const f = p(`crypt-${method}.qcow2`);
      blockAddon().createImage(f, 'qcow2', MIB);
      const fd = fs.openSync(f, 'r+');
      const b = Buffer.alloc(4);
      b.writeUInt32BE(method);
      fs.writeSync(fd, b, 0, 4, 32);
      fs.closeSync(fd);
      expect(() => open(f, 'qcow2', true)).toThrow(new RegExp(`encryption is not supported \\(crypt_method ${method}, ${name}\\)`));
    });
  }

  test('an unknown incompatible feature bit', () => {
    const f = p('unknown-bit.qcow2');
    blockAddon().createImage(f, 'qcow2', MIB);
    setIncompatible(f, 1n << 13n);
    expect(() => open(f, 'qcow2', true)).toThrow(/unknown incompatible feature: bit 13/);
  });

  test('a dirty image (lazy refcounts) opens read-only only, with the repair named', () => {
    const f = p('dirty.qcow2');
    blockAddon().createImage(f, 'qcow2', MIB);
    const w = open(f, 'qcow2');
    w.write(0, pattern(4096, 1));
    w.close();
    setIncompatible(f, 1n);
    expect(() => open(f, 'qcow2')).toThrow(/dirty.*qemu-img check -r all/);
    const ro = open(f, 'qcow2', true);
    expect(ro.read(0, 4096).equals(pattern(4096, 1))).toBe(true);
    ro.close();
  });

  test('a corrupt image refuses writes and can be read', () => {
    const f = p('corrupt.qcow2');
    blockAddon().createImage(f, 'qcow2', MIB);
    setIncompatible(f, 2n);
    expect(() => open(f, 'qcow2')).toThrow(/marked corrupt/);
    const ro = open(f, 'qcow2', true);
    expect(ro.read(0, 512).equals(Buffer.alloc(512))).toBe(true);
    expect(() => ro.write(0, Buffer.alloc(512))).toThrow(/read-only/i);
    ro.close();
  });
});

describe('locking', () => {
  test('the top image of a running VM cannot be opened by a second writer', () => {
    const f = p('locked.qcow2');
    blockAddon().createImage(f, 'qcow2', MIB);
    const a = open(f, 'qcow2');
    expect(() => open(f, 'qcow2')).toThrow(new RegExp(`${f.replace(/[.]/g, '\\.')} is in use`));
    expect(() => open(f, 'raw')).toThrow(/in use/); // the lock is on the file, whatever the format
    a.close();
    open(f, 'qcow2').close(); // released on close
  });

  test('base images are shared read-only by several overlays', () => {
    const base = p('shared-base.qcow2');
    blockAddon().createImage(base, 'qcow2', MIB);
    const o1 = p('o1.qcow2');
    const o2 = p('o2.qcow2');
    blockAddon().createImage(o1, 'qcow2', 0, { backing: 'shared-base.qcow2', backingFormat: 'qcow2' });
    blockAddon().createImage(o2, 'qcow2', 0, { backing: 'shared-base.qcow2', backingFormat: 'qcow2' });
    const a = open(o1, 'qcow2');
    const b = open(o2, 'qcow2');
    expect(() => open(base, 'qcow2')).toThrow(/in use/); // nobody may write a base in use
    a.close();
    b.close();
  });

  test('a second process is locked out too', () => {
    const f = p('locked-proc.raw');
    blockAddon().createImage(f, 'raw', MIB);
    const a = open(f, 'raw');
    const addonPath = path.resolve(import.meta.dirname, '../../build/Release/vmsup.node');
    const script =
      `const m = require(${JSON.stringify(addonPath)});` +
      `try { new m.BlockImage(${JSON.stringify(f)}, 'raw', false); console.log('opened'); }` +
      `catch (e) { console.log(e.code + ' ' + e.message); }`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    a.close();
    expect(r.stdout).toContain(`ERR_VMSUP_DISK disk image ${f} is in use`);
    const r2 = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r2.stdout).toContain('opened');
  });
});

describe('the format is never probed', () => {
  test('a raw disk whose guest wrote a qcow2 header is still raw', () => {
    const f = p('raw-with-header.img');
    blockAddon().createImage(f, 'raw', 4 * MIB);
    // A valid qcow2 image's first cluster, written by the "guest" onto the raw disk.
    const q = p('donor.qcow2');
    blockAddon().createImage(q, 'qcow2', 64 * MIB);
    const hdr = fs.readFileSync(q).subarray(0, 65536);
    const img = open(f, 'raw');
    img.write(0, hdr);
    img.close();
    const again = open(f, 'raw');
    expect(again.size()).toBe(4 * MIB); // not the qcow2's 64 MiB
    expect(again.read(0, 65536).equals(hdr)).toBe(true);
    again.close();
    expect(blockAddon().imageInfo(f, 'raw').format).toBe('raw');
  });
});
