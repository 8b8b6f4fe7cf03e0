// --nat end to end: the shared guest behind libslirp, driven through
// `bin/vmsup run` and its console. DHCP from slirp, the host reached at the
// gateway, a forwarded port from the host to the guest's httpd, and the
// start-up errors of the network options.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { G, GuestConsole, runVmsup } from '../boot/guest.js';
import { runUntil, sh, Vm } from './addon-vm.js';

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

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 20_000 }, (res) => {
      let body = '';
      res.on('data', (b) => { body += b; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('http timeout')));
    req.on('error', reject);
  });
}

describe('vmsup run --nat', () => {
  let server: http.Server;
  let hostPort = 0;
  const payload = 'HOST-SAYS-' + 'x'.repeat(100_000) + '-END';

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end(payload));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hostPort = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => { server.close(); });

  test('the guest gets an address by DHCP, reaches the host at the gateway, and serves a forwarded port', async () => {
    const fwd = await freePort();
    const c = GuestConsole.run(['-b', G.image, '--initrd', G.initrd, '--nat', '--lladdr', 'fe:e1:ba:d0:12:34',
      '--forward', `tcp:${fwd}:8080`], 400);
    try {
      await c.waitFor(/vmsup-guest:[^\n]*# $/, 300_000);
      expect(await c.sh('cat /sys/class/net/eth0/address')).toContain('fe:e1:ba:d0:12:34');
      const dhcp = await c.sh('udhcpc -i eth0 -n -q -t 5 -T 2 2>&1; ip -4 addr show eth0');
      expect(dhcp).toContain('10.0.2.15');
      // slirp tells the guest the DNS forwarder's address.
      expect(await c.sh('cat /etc/resolv.conf')).toContain('10.0.2.3');
      // The host, at the gateway address: a 100 kB page through NAT.
      const got = await c.sh(`wget -q -O - http://10.0.2.2:${hostPort}/ | md5sum; echo ${payload.length}`);
      const crypto = await import('node:crypto');
      expect(got).toContain(crypto.createHash('md5').update(payload).digest('hex'));
      // Host -> guest through the forwarded port.
      await c.sh('mkdir -p /tmp/www && echo GUEST-HTTPD-OK > /tmp/www/index.html && httpd -p 8080 -h /tmp/www');
      const r = await httpGet(fwd, '/index.html');
      expect(r.status).toBe(200);
      expect(r.body).toContain('GUEST-HTTPD-OK');
      c.type('poweroff -f\n');
      expect(await c.exited).toBe(0);
    } finally {
      c.kill();
    }
  }, 600_000);

  test('a guest opening many connections hits the per-VM cap', async () => {
    const held: net.Socket[] = [];
    const srv = net.createServer((c) => { held.push(c); });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-nat-'));
    const vm = new Vm(dir, 'capped', [{ kind: 'nat', mac: 'fe:e1:ba:d0:00:77', maxConnections: 8 }]);
    try {
      await runUntil([vm], vm, /vmsup-guest:[^\n]*# $/, 0);
      expect(await sh([vm], vm, 'udhcpc -i eth0 -n -q -t 5 -T 2 >/dev/null 2>&1; echo rc=$?')).toContain('rc=0');
      await sh([vm], vm, `for i in $(seq 1 30); do (sleep 60 | nc 10.0.2.2 ${port} >/dev/null 2>&1 &); done; sleep 4; echo opened`);
      // At most the cap's worth of host sockets; the rest of the SYNs were dropped and counted.
      expect(held.length).toBeGreaterThan(0);
      expect(held.length).toBeLessThanOrEqual(8);
      expect(vm.m.stats().nics?.[0].txDropped).toBeGreaterThan(0);
    } finally {
      vm.close();
      for (const c of held) c.destroy();
      srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 400_000);

  test('a forwarded port already in use is a clear error at start', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const p = (busy.address() as net.AddressInfo).port;
    try {
      const r = runVmsup(['-b', G.image, '--initrd', G.initrd, '--nat', '--forward', `tcp:127.0.0.1:${p}:80`], 60);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`vmsup: cannot forward tcp:127\\.0\\.0\\.1:${p}:80: port already in use`));
    } finally {
      busy.close();
    }
  }, 90_000);

  test.each([
    [['--nat', '--forward', 'udp:80:80'], /invalid forward: udp:80:80 \(only tcp/],
    [['--nat', '--forward', 'tcp:99999:80'], /invalid forward: .*bad port 99999/],
    [['--nat', '--forward', 'tcp:1.2.3:80:80'], /bad host address 1\.2\.3/],
    [['--forward', 'tcp:8080:80'], /--forward needs --nat/],
    [['--nat', '--lladdr', 'ff:e1:ba:d0:00:01'], /invalid lladdr: .*multicast/],
    [['--nat', '--lladdr', 'fe:e1:ba:d0:00'], /invalid lladdr/],
    [['--nat', '-L'], /choose one/],
    [['-d', 'a', '-d', 'b', '-d', 'c', '-d', 'd', '-d', 'e'], /too many disks \(at most 4\)/],
    [['-c', '9'], /invalid number of cpus: 9 \(1 to 8\)/],
  ])('vmsup run %j is refused', (extra, msg) => {
    const r = runVmsup(['-b', G.image, ...(extra as string[])], 60);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(msg as RegExp);
  });
});
