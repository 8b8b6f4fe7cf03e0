// The device manager end to end: a board with the most of everything (4
// disks, 4 NICs, entropy, keyboard) uses virtio-mmio slots beyond QEMU's 8,
// with PLIC lines 12..19, and the guest finds and uses all of it. Limits
// come from the addon and are enforced there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { addon } from '../../native/index.js';
import { G } from '../boot/guest.js';
import { runUntil, sh, Vm } from './addon-vm.js';

describe('a full board', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-board-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('addon().limits are vmd\'s: 4 disks, 4 NICs, 8 cpus', () => {
    expect(addon().limits).toMatchObject({ disks: 4, nics: 4, cpus: 8 });
    expect(addon().limits.virtioSlots).toBeGreaterThanOrEqual(10);
  });

  test('4 disks and 4 NICs: the guest sees vda..vdd and eth0..eth3, and the keyboard in a high slot still powers it off', async () => {
    const disks = [0, 1, 2, 3].map((i) => {
      const p = path.join(dir, `d${i}.img`);
      fs.writeFileSync(p, Buffer.alloc(1 << 20, 0x41 + i));
      return { path: p, format: 'raw' as const };
    });
    const nics = [0, 1, 2, 3].map((i) => ({ kind: 'nat' as const, mac: `fe:e1:ba:d0:01:0${i}` }));
    const vm = new Vm(dir, 'full', nics, disks);
    try {
      await runUntil([vm], vm, /vmsup-guest:[^\n]*# $/, 0);
      const out = await sh([vm], vm, 'ls /sys/class/net; ls /sys/block; cat /sys/class/net/eth3/address; ' +
        'dd if=/dev/vdd bs=1 count=1 2>/dev/null; echo; grep -c virtio /proc/interrupts');
      for (const n of ['eth0', 'eth1', 'eth2', 'eth3', 'vda', 'vdb', 'vdc', 'vdd']) expect(out).toContain(n);
      expect(out).toContain('fe:e1:ba:d0:01:03');
      expect(out).toMatch(/\nD\n/);  // the fourth disk's first byte
      // The last NIC (a slot beyond QEMU's eight) works: DHCP through it.
      expect(await sh([vm], vm, 'udhcpc -i eth3 -n -q -t 5 -T 2 >/dev/null 2>&1; ip -4 addr show eth3')).toContain('10.0.2.15');
      vm.m.ctrlAltDel();
      for (let i = 0; i < 20000; i++) {
        const st = vm.m.run(10);
        if (st.reason === 'poweroff') break;
        if (i === 19999) throw new Error('no power-off after Ctrl-Alt-Del');
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      vm.close();
    }
  }, 400_000);

  test('a fifth NIC or disk is refused by the native side too', () => {
    const nics = [0, 1, 2, 3, 4].map((i) => ({ kind: 'nat' as const, mac: `fe:e1:ba:d0:02:0${i}` }));
    expect(() => new (addon().Machine)({ memory: 64 << 20, cpus: 1, kernel: G.image, nics }))
      .toThrow(/too many network interfaces \(at most 4\)/);
    expect(() => new (addon().Machine)({ memory: 64 << 20, cpus: 9, kernel: G.image })).toThrow(/cpus is out of range/);
  });
});
