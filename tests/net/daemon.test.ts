// Networking through vmsupd (issue 9): VMs defined and started through the
// daemon with --nat/--forward/--lladdr, -n SWITCH; their NICs stored (MACs
// fixed at define) and shown by status --json. The shared guest, driven
// through bin/vmsup and its console on a pty.
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Daemon, GUEST, onPty } from '../daemon/harness.js';

const LINUX = ['-m', '128M', '-b', path.join(GUEST, 'Image'), '--initrd', path.join(GUEST, 'initramfs.cpio.gz'), '--cmdline', 'console=ttyS0'];

let d: Daemon | undefined;
afterEach(async () => {
  await d?.cleanup();
  d = undefined;
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function httpGet(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/index.html', timeout: 20_000 }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('http timeout')));
    req.on('error', reject);
  });
}

interface Nic {
  kind: string;
  lladdr: string;
  switch?: string;
  address?: string;
  forwards?: { hostAddr: number; hostPort: number; guestPort: number }[];
}
const nicsOf = async (name: string) => ((await d!.status(name)) as unknown as { nics: Nic[] }).nics;

test('a defined VM with --nat gets DHCP, a forwarded port reaches its httpd, status shows the NIC', async () => {
  d = await Daemon.create();
  const fwd = await freePort();
  const def = await d.vmsup(['define', ...LINUX, '--nat', '--forward', `tcp:${fwd}:8080`, 'natvm']);
  expect(def.code, def.stderr).toBe(0);
  // The MAC is made at define, vmd-style, and stays the VM's.
  const stored = await nicsOf('natvm');
  expect(stored).toHaveLength(1);
  expect(stored[0].kind).toBe('nat');
  expect(stored[0].lladdr).toMatch(/^fe:e1:ba:d0:[0-9a-f]{2}:[0-9a-f]{2}$/);
  expect(stored[0].forwards).toEqual([{ hostAddr: 0x7f000001, hostPort: fwd, guestPort: 8080 }]);

  const c = onPty(d, ['start', '-c', 'natvm'], 240_000);
  try {
    await c.waitFor(/vmsup-guest:\/# /);
    c.type('cat /sys/class/net/eth0/address; udhcpc -i eth0 -n -q -t 5 -T 2 >/dev/null 2>&1; ip -4 addr show eth0; echo DHCP-DONE\r');
    await c.waitFor(/DHCP-DONE\s[\s\S]*# /);
    expect(c.screen()).toContain(stored[0].lladdr);
    expect(c.screen()).toContain('inet 10.0.2.15');
    c.type('mkdir -p /tmp/www && echo GUEST-HTTPD-OK > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && echo HTTPD-UP\r');
    await c.waitFor(/HTTPD-UP\s/);
    const r = await httpGet(fwd);
    expect(r.status).toBe(200);
    expect(r.body).toContain('GUEST-HTTPD-OK');
    const live = await nicsOf('natvm');
    expect(live[0]).toMatchObject({ kind: 'nat', lladdr: stored[0].lladdr, address: '10.0.2.15' });
    c.type('\r~.');
    expect(await c.exited).toBe(0);
  } finally {
    c.close();
  }
  // A second start keeps the MAC.
  await d.vmsup(['stop', '-f', 'natvm']);
  expect((await nicsOf('natvm'))[0].lladdr).toBe(stored[0].lladdr);
}, 400_000);

test('NIC options are checked: the limit, --forward without --nat, a bad lladdr, a missing switch', async () => {
  d = await Daemon.create();
  const five = await d.vmsup(['define', ...LINUX, '--nat', '-n', 'a', '-n', 'b', '-n', 'c', '-n', 'd', 'many']);
  expect(five.code).not.toBe(0);
  expect(five.stderr).toMatch(/too many interfaces \(at most 4\)/);
  const fw = await d.vmsup(['define', ...LINUX, '--forward', 'tcp:8080:80', 'fw']);
  expect(fw.stderr).toMatch(/--forward needs --nat/);
  const mac = await d.vmsup(['define', ...LINUX, '--nat', '--lladdr', '01:00:5e:00:00:01', 'mac']);
  expect(mac.stderr).toMatch(/invalid lladdr: .*multicast/);
  const given = await d.vmsup(['define', ...LINUX, '--nat', '--lladdr', 'FE:E1:BA:D0:AB:CD', 'given']);
  expect(given.code).toBe(0);
  expect((await nicsOf('given'))[0].lladdr).toBe('fe:e1:ba:d0:ab:cd');
  await d.vmsup(['define', ...LINUX, '-n', 'nosuch', 'lonely']);
  const st = await d.vmsup(['start', 'lonely']);
  expect(st.code).not.toBe(0);
  expect(st.stderr).toMatch(/switch not found: nosuch/);
  expect((await d.status('lonely'))?.state).toBe('stopped');
}, 120_000);
