// Two VMs on one of vmsup's own switches, in one process (as the daemon will
// run them): frames go VM to VM through the switch's rings, both directions;
// with locked lladdr a guest that changes its MAC is cut off; a switch with
// ports cannot be deleted. Drives the real shared guest through the addon,
// its console written to a file and typed into with consoleInput.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { addon } from '../../native/index.js';
import { G } from '../boot/guest.js';
import { runUntil, sh, Vm } from './addon-vm.js';

describe('two VMs on a vmsup switch', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-net-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('ping both ways through the switch; locked lladdr cuts off a guest that changes its MAC', async () => {
    const sw = `test-sw-${process.pid}`;
    addon().switchCreate(sw, true);
    const a = new Vm(dir, 'a', [{ kind: 'switch', switch: sw, mac: 'fe:e1:ba:d0:00:0a' }]);
    const b = new Vm(dir, 'b', [{ kind: 'switch', switch: sw, mac: 'fe:e1:ba:d0:00:0b' }]);
    const vms = [a, b];
    try {
      await runUntil(vms, a, /vmsup-guest:[^\n]*# $/, 0);
      await runUntil(vms, b, /vmsup-guest:[^\n]*# $/, 0);
      await sh(vms, a, 'ip addr add 10.9.0.1/24 dev eth0 && ip link set eth0 up');
      await sh(vms, b, 'ip addr add 10.9.0.2/24 dev eth0 && ip link set eth0 up');
      expect(await sh(vms, a, 'ping -c 3 -W 10 10.9.0.2')).toMatch(/3 packets transmitted, 3 packets received/);
      expect(await sh(vms, b, 'ping -c 2 -W 10 10.9.0.1')).toMatch(/2 packets transmitted, 2 packets received/);
      let info = addon().switchList().find((s) => s.name === sw)!;
      expect(info.ports).toBe(2);
      expect(info.rxFrames).toBeGreaterThanOrEqual(10);
      expect(info.lockedDrops).toBe(0);
      expect(() => addon().switchDelete(sw)).toThrow(/has 2 ports in use/);
      // A spoofs another MAC: the locked switch drops its frames.
      await sh(vms, a, 'ip link set eth0 down; ip link set eth0 address fe:e1:ba:d0:00:99; ip link set eth0 up; ip neigh flush all');
      expect(await sh(vms, a, 'ping -c 2 -W 2 10.9.0.2')).toMatch(/2 packets transmitted, 0 packets received/);
      info = addon().switchList().find((s) => s.name === sw)!;
      expect(info.lockedDrops).toBeGreaterThan(0);
      // A's NIC counters: frames went out, and the guest's ring never stalled.
      expect(a.m.stats().nics?.[0].txFrames).toBeGreaterThan(0);
      expect(b.m.stats().nics?.[0].rxFrames).toBeGreaterThan(0);
    } finally {
      a.close();
      b.close();
    }
    addon().switchDelete(sw);
    expect(addon().switchList().some((s) => s.name === sw)).toBe(false);
  }, 600_000);

  test('a NIC on a switch that does not exist is a clear error', () => {
    expect(() => new (addon().Machine)({ memory: 64 << 20, cpus: 1, kernel: G.image,
      nics: [{ kind: 'switch', switch: 'no-such-switch', mac: 'fe:e1:ba:d0:00:01' }] })).toThrow(/no such switch: no-such-switch/);
  });
});
