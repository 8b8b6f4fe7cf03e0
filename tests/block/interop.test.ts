// Interoperability with the real peer, Debian's qemu-utils (qemu-img, qemu-io):
// images vmsup writes pass `qemu-img check` and read back identically through
// qemu-img; images qemu-img makes read (and write) correctly through vmsup.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { blockAddon } from '../../native/index.js';
import { MIB, open, pattern, qemuCheck, qemuImg, qemuIo, qemuView, readAll, tempDir } from './helpers.js';

const dir = tempDir('interop');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const p = (n: string) => path.join(dir, n);

/** Applies writes to both an image and a reference buffer. */
function writeBoth(img: ReturnType<typeof open>, model: Buffer, off: number, data: Buffer) {
  img.write(off, data);
  data.copy(model, off);
}

describe('images vmsup creates and writes', () => {
  for (const cluster of [512, 4096, 65536, 2 * MIB]) {
    test(`qcow2 with ${cluster}-byte clusters passes qemu-img check and converts to what was written`, () => {
      const f = p(`w-${cluster}.qcow2`);
      const size = 8 * MIB;
      blockAddon().createImage(f, 'qcow2', size, { clusterSize: cluster });
      expect(qemuCheck(f).status).toBe(0);
      const model = Buffer.alloc(size);
      const img = open(f, 'qcow2');
      writeBoth(img, model, 0, pattern(3 * cluster + 17, 1)); // several clusters, ragged end
      writeBoth(img, model, 5 * MIB - 100, pattern(300, 2)); // across an MiB boundary
      writeBoth(img, model, 100, pattern(50, 3)); // rewrite inside an allocated cluster
      writeBoth(img, model, size - 512, pattern(512, 4)); // the last sector
      img.flush();
      img.close();
      const check = qemuCheck(f);
      expect(check.out).toContain('No errors');
      expect(check.status).toBe(0);
      expect(qemuView(f, 'qcow2', dir).equals(model)).toBe(true);
    });
  }

  test('an overlay on a base reads the base, copies on write, and leaves the base unchanged', () => {
    const base = p('cow-base.qcow2');
    const over = p('cow-over.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', base, '4M');
    qemuIo(base, 'qcow2', 'write -P 0x11 0 4M');
    blockAddon().createImage(over, 'qcow2', 0, { backing: 'cow-base.qcow2', backingFormat: 'qcow2' });
    const info = blockAddon().imageInfo(over, 'qcow2');
    expect(info.virtualSize).toBe(4 * MIB);
    expect(info.backingFile).toBe('cow-base.qcow2');
    const img = open(over, 'qcow2');
    img.write(65536 + 1000, Buffer.alloc(10, 0x22));
    img.close();
    const want = Buffer.alloc(4 * MIB, 0x11);
    want.fill(0x22, 65536 + 1000, 65536 + 1010);
    expect(qemuView(over, 'qcow2', dir).equals(want)).toBe(true);
    expect(qemuView(base, 'qcow2', dir).equals(Buffer.alloc(4 * MIB, 0x11))).toBe(true);
    expect(qemuCheck(over).status).toBe(0);
    // Only the written cluster was allocated in the overlay.
    const map = qemuImg('map', '--output=json', '-f', 'qcow2', over);
    const own = (JSON.parse(map) as { depth: number; data: boolean; length: number }[]).filter((e) => e.depth === 0 && e.data);
    expect(own.reduce((s, e) => s + e.length, 0)).toBe(65536);
  });
});

describe('images qemu-img makes', () => {
  const size = 6 * MIB;
  const src = p('src.raw');
  // Random (incompressible), zeros, text (compressible: convert -c stores it
  // in compressed clusters), random again.
  const text = Buffer.from('vmsup compresses this line of text well enough. '.repeat(40000)).subarray(0, 1.5 * MIB);
  const data = Buffer.concat([pattern(2 * MIB, 7), Buffer.alloc(MIB), text, pattern(1.5 * MIB, 8)]);
  fs.writeFileSync(src, data);

  const variants: [string, string[]][] = [
    ['plain (64 KiB clusters)', []],
    ['4 KiB clusters', ['-o', 'cluster_size=4k']],
    ['2 MiB clusters', ['-o', 'cluster_size=2M']],
    ['v2 (compat=0.10)', ['-o', 'compat=0.10']],
    ['compressed (convert -c)', ['-c']],
    ['compressed with 4 KiB clusters', ['-c', '-o', 'cluster_size=4k']],
    ['1-bit refcounts', ['-o', 'refcount_bits=1']],
    ['64-bit refcounts', ['-o', 'refcount_bits=64']],
  ];
  for (const [name, opts] of variants) {
    test(`${name}: reads what qemu-img wrote, and takes writes qemu-img check accepts`, () => {
      const f = p(`q-${name.replace(/\W+/g, '_')}.qcow2`);
      qemuImg('convert', '-f', 'raw', '-O', 'qcow2', ...opts, src, f);
      if (opts.includes('-c')) expect(qemuCheck(f).out).not.toMatch(/\s0\.00% compressed/);
      expect(readAll(f, 'qcow2').equals(data)).toBe(true);
      // Writes: into allocated data, into a hole, partial clusters (COW inside
      // compressed clusters allocates new ones).
      const model = Buffer.from(data);
      const img = open(f, 'qcow2');
      writeBoth(img, model, 1000, pattern(5000, 9));
      writeBoth(img, model, 2 * MIB + 300, pattern(70000, 10));
      writeBoth(img, model, 4 * MIB, pattern(MIB, 11));
      img.close();
      expect(readAll(f, 'qcow2').equals(model)).toBe(true);
      const c = qemuCheck(f);
      expect(c.status, c.out).toBe(0);
      expect(qemuView(f, 'qcow2', dir).equals(model)).toBe(true);
    });
  }

  test('an overlay qemu-img made on a base, with zero clusters written by qemu-io', () => {
    const base = p('qb.qcow2');
    const over = p('qo.qcow2');
    qemuImg('convert', '-f', 'raw', '-O', 'qcow2', src, base);
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'qb.qcow2', '-F', 'qcow2', over);
    qemuIo(over, 'qcow2', 'write -P 0x77 64k 64k', 'write -z 0 64k', 'write -z 5M 128k');
    const want = Buffer.from(data);
    want.fill(0x77, 65536, 131072);
    want.fill(0, 0, 65536);
    want.fill(0, 5 * MIB, 5 * MIB + 131072);
    expect(readAll(over, 'qcow2').equals(want)).toBe(true);
    // A partial write into a zero cluster: the rest of the cluster stays zero
    // (not the base's bytes).
    const img = open(over, 'qcow2');
    img.write(5 * MIB + 10, Buffer.alloc(10, 0x99));
    img.close();
    want.fill(0x99, 5 * MIB + 10, 5 * MIB + 20);
    expect(readAll(over, 'qcow2').equals(want)).toBe(true);
    expect(qemuCheck(over).status).toBe(0);
    expect(qemuView(over, 'qcow2', dir).equals(want)).toBe(true);
  });

  test('a qemu-img image with 512-byte clusters grows its refcount table as vmsup fills it', () => {
    const f = p('small-clusters.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512', f, '32M');
    const before = blockAddon().imageInfo(f, 'qcow2');
    const reftableBefore = fs.readFileSync(f).subarray(48, 60);
    const model = Buffer.alloc(32 * MIB);
    const img = open(f, 'qcow2');
    for (let off = 0; off < 24 * MIB; off += 4 * MIB) writeBoth(img, model, off, pattern(4 * MIB, off));
    img.close();
    expect(blockAddon().imageInfo(f, 'qcow2').fileSize).toBeGreaterThan(before.fileSize + 24 * MIB);
    // The header now names a new, larger refcount table.
    expect(fs.readFileSync(f).subarray(48, 60).equals(reftableBefore)).toBe(false);
    const c = qemuCheck(f);
    expect(c.status, c.out).toBe(0);
    expect(qemuView(f, 'qcow2', dir).equals(model)).toBe(true);
  });
});

describe('vmsup create -i', () => {
  test('a qcow2 copy of the guest rootfs is identical (qemu-img compare) and sparse', () => {
    const rootfs = path.resolve(import.meta.dirname, '../../../shared/guest/rootfs.ext4');
    const f = p('rootfs.qcow2');
    blockAddon().convertImage(rootfs, 'raw', f, 'qcow2', 0);
    expect(qemuImg('compare', '-f', 'raw', '-F', 'qcow2', rootfs, f)).toContain('identical');
    // About 8 MiB of the 32 MiB is used; the copy must not hold the zero runs.
    expect(fs.statSync(f).size).toBeLessThan(16 * MIB);
    expect(qemuCheck(f).status).toBe(0);
  });
});
