// Two VMs on one of vmsup's own switches, in one process (as the daemon will
// run them): frames go VM to VM through the switch's rings, both directions;
// with locked lladdr a guest that changes its MAC is cut off; a switch with
// ports cannot be deleted. Drives the real shared guest through the addon,
// its console written to a file and typed into with consoleInput.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, test } from 'vitest';
import { addon } from '../../native/index.js';
import { G, root } from '../boot/guest.js';
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

  test('two VMs in two worker threads exchange frames through the switch: ping both ways, 2 MiB over HTTP intact', async () => {
    const sw = `test-swt-${process.pid}`;
    addon().switchCreate(sw, false);
    const mk = (name: string, mac: string) => {
      const consoleFile = path.join(dir, `${name}.console`);
      fs.writeFileSync(consoleFile, '');
      const w = new Worker(new URL('./switch-worker.mjs', import.meta.url), {
        workerData: { addonPath: path.join(root, 'build/Release/vmsup.node'), kernel: G.image, initrd: G.initrd, sw, mac, consoleFile },
      });
      const out = () => fs.readFileSync(consoleFile, 'latin1').replace(/\r/g, '');
      const waitFor = async (re: RegExp, from: number) => {
        for (let i = 0; i < 6000; i++) {
          if (re.test(out().slice(from))) return out().slice(from);
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`${name}: timed out waiting for ${re}:\n${out().slice(-2000)}`);
      };
      const shw = async (cmd: string) => {
        const from = out().length;
        w.postMessage({ input: cmd + '\n' });
        return waitFor(/vmsup-guest:[^\n]*# $/, from);
      };
      const stop = () => new Promise<unknown>((r) => { w.once('message', r); w.postMessage({ stop: true }); });
      return { w, waitFor, shw, stop };
    };
    const a = mk('wa', 'fe:e1:ba:d0:00:1a');
    const b = mk('wb', 'fe:e1:ba:d0:00:1b');
    try {
      await a.waitFor(/vmsup-guest:[^\n]*# $/, 0);
      await b.waitFor(/vmsup-guest:[^\n]*# $/, 0);
      await a.shw('ip addr add 10.8.0.1/24 dev eth0 && ip link set eth0 up');
      await b.shw('ip addr add 10.8.0.2/24 dev eth0 && ip link set eth0 up');
      expect(await a.shw('ping -c 3 -W 10 10.8.0.2')).toMatch(/3 packets transmitted, 3 packets received/);
      expect(await b.shw('ping -c 3 -W 10 10.8.0.1')).toMatch(/3 packets transmitted, 3 packets received/);
      // A bulk transfer between the threads: 2 MiB over HTTP, checksummed on both ends.
      const served = await b.shw('mkdir -p /tmp/www && dd if=/dev/urandom of=/tmp/www/blob bs=64k count=32 2>/dev/null; ' +
        'md5sum /tmp/www/blob; httpd -p 80 -h /tmp/www');
      const md5 = /([0-9a-f]{32})\s+\/tmp\/www\/blob/.exec(served)?.[1];
      expect(md5).toBeTruthy();
      expect(await a.shw('wget -q -O - http://10.8.0.2/blob | md5sum')).toContain(md5!);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await Promise.all([a.w.terminate(), b.w.terminate()]);
    }
    addon().switchDelete(sw);
  }, 600_000);

  test('a NIC on a switch that does not exist is a clear error', () => {
    expect(() => new (addon().Machine)({ memory: 64 << 20, cpus: 1, kernel: G.image,
      nics: [{ kind: 'switch', switch: 'no-such-switch', mac: 'fe:e1:ba:d0:00:01' }] })).toThrow(/no such switch: no-such-switch/);
  });
});
