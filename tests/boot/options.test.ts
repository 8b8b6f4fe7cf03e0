// Option parsing for firmware boots: `vmsup run` and define/start's -r/-B.
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseRunArgs } from '../../cli/run.js';
import { parseVmArgs } from '../../cli/vmopts.js';
import { bootOrder } from '../../daemon/boot-order.js';
import { DEFAULT_FIRMWARE, DEFAULT_UBOOT } from '../../daemon/settings.js';

describe('vmsup run', () => {
  test('no -b and no --bios: the default firmware and U-Boot boot the disks', () => {
    const { opts } = parseRunArgs(['-d', '/etc/hostname']);
    expect(opts.bios).toBe(DEFAULT_FIRMWARE);
    expect(opts.kernel).toBe(DEFAULT_UBOOT);
  });

  test('no -b and nothing to boot is refused', () => {
    expect(() => parseRunArgs([])).toThrow(/no kernel given \(-b\) and no disk or cdrom/);
  });

  test('-B cdrom puts the cdrom in the first slot; by default disks go first', () => {
    const cd = parseRunArgs(['-d', '/etc/hostname', '-r', '/etc/passwd', '-B', 'cdrom']).opts;
    expect(cd.disks!.map((d) => d.path)).toEqual(['/etc/passwd', '/etc/hostname']);
    expect(cd.bootDevice).toBe('cdrom');
    const disk = parseRunArgs(['-r', '/etc/passwd', '-d', '/etc/hostname']).opts;
    expect(disk.disks!.map((d) => d.path)).toEqual(['/etc/hostname', '/etc/passwd']);
    expect(disk.disks![1].readOnly).toBe(true);
  });

  test('-B takes disk, cdrom or net only', () => {
    expect(() => parseRunArgs(['-d', '/etc/hostname', '-B', 'floppy'])).toThrow(/invalid boot device: floppy/);
    expect(parseRunArgs(['-B', 'net']).opts.bootDevice).toBe('net');
  });
});

describe('define/start', () => {
  test('-r is a read-only cdrom, at most one', () => {
    const { config } = parseVmArgs(['-r', 'a.iso', '-d', 'b.img', 'vm'], 'start', true);
    // Absolute in the client's directory; no prefix: the daemon detects the format once.
    expect(config.disks).toEqual([{ path: path.resolve('a.iso'), readOnly: true }, { path: path.resolve('b.img'), readOnly: false }]);
    expect(() => parseVmArgs(['-r', 'a.iso', '-r', 'b.iso', 'vm'], 'start', true)).toThrow(/cdrom specified multiple times/);
  });

  test('bootOrder keeps each group in its order', () => {
    const ds = [{ n: 1, readOnly: true }, { n: 2 }, { n: 3 }];
    expect(bootOrder(ds, 'cdrom').map((d) => d.n)).toEqual([1, 2, 3]);
    expect(bootOrder(ds, null).map((d) => d.n)).toEqual([2, 3, 1]);
    expect(bootOrder(ds, 'net').map((d) => d.n)).toEqual([2, 3, 1]);
  });
});
