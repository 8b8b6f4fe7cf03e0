// Networking through vmsupd (issue 9): VMs defined and started through the
// daemon with --nat/--forward/--lladdr, -n SWITCH; their NICs stored (MACs
// fixed at define) and shown by status --json. The shared guest, driven
// through bin/vmsup and its console on a pty.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { Daemon, GUEST, onPty, sleep, VMSUP, VMSUPD } from '../daemon/harness.js';

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
  tap?: string;
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
  // define --replace keeps a NIC's MAC (same kind, same place); a new NIC gets a new one.
  const re = await d.vmsup(['define', '--replace', ...LINUX, '--cpus', '2', '--nat', '--forward', 'tcp:18080:80', 'given']);
  expect(re.code, re.stderr).toBe(0);
  expect((await nicsOf('given'))[0]).toMatchObject({ lladdr: 'fe:e1:ba:d0:ab:cd', forwards: [{ hostPort: 18080, guestPort: 80 }] });
  const nosw = await d.vmsup(['define', ...LINUX, '-n', 'nosuch', 'lonely']);
  expect(nosw.stderr).toMatch(/switch not found: nosuch/);
  // A switch deleted after the define: the start is refused, nothing is left running.
  expect((await d.vmsup(['switch', 'create', 'gone'])).code).toBe(0);
  expect((await d.vmsup(['define', ...LINUX, '-n', 'gone', 'lonely'])).code).toBe(0);
  expect((await d.vmsup(['switch', 'delete', 'gone'])).code).toBe(0);
  const st = await d.vmsup(['start', 'lonely']);
  expect(st.code).not.toBe(0);
  expect(st.stderr).toMatch(/switch not found: gone/);
  expect((await d.status('lonely'))?.state).toBe('stopped');
  // A forwarded port already in use: the start fails with the reason, the VM stays stopped.
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    expect((await d.vmsup(['define', ...LINUX, '--nat', '--forward', `tcp:${port}:80`, 'clash'])).code).toBe(0);
    const cl = await d.vmsup(['start', 'clash']);
    expect(cl.code).not.toBe(0);
    expect(cl.stderr).toMatch(new RegExp(`cannot forward tcp:127\\.0\\.0\\.1:${port}:80: port already in use`));
    expect((await d.status('clash'))?.state).toBe('stopped');
  } finally {
    busy.close();
  }
}, 120_000);

test('two VMs on one switch ping each other; the switch cannot be deleted while they run', async () => {
  d = await Daemon.create();
  expect((await d.vmsup(['switch', 'create', 'lan'])).code).toBe(0);
  for (const n of ['sw1', 'sw2']) {
    const r = await d.vmsup(['define', ...LINUX, '-n', 'lan', n]);
    expect(r.code, r.stderr).toBe(0);
  }
  expect((await nicsOf('sw1'))[0]).toMatchObject({ kind: 'switch', switch: 'lan' });
  const c1 = onPty(d, ['start', '-c', 'sw1'], 240_000);
  const c2 = onPty(d, ['start', '-c', 'sw2'], 240_000);
  try {
    await c1.waitFor(/vmsup-guest:\/# /);
    await c2.waitFor(/vmsup-guest:\/# /);
    c1.type('ip addr add 10.77.0.1/24 dev eth0; ip link set eth0 up; echo UP1\r');
    c2.type('ip addr add 10.77.0.2/24 dev eth0; ip link set eth0 up; echo UP2\r');
    await c1.waitFor(/UP1\s/);
    await c2.waitFor(/UP2\s/);
    c1.type('ping -c 3 -W 5 10.77.0.2 >/dev/null && echo PING1-OK || echo PING1-FAIL\r');
    await c1.waitFor(/PING1-(OK|FAIL)\s/);
    c2.type('ping -c 3 -W 5 10.77.0.1 >/dev/null && echo PING2-OK || echo PING2-FAIL\r');
    await c2.waitFor(/PING2-(OK|FAIL)\s/);
    expect(c1.screen()).toMatch(/PING1-OK\s/);
    expect(c2.screen()).toMatch(/PING2-OK\s/);

    const del = await d.vmsup(['switch', 'delete', 'lan']);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toMatch(/switch lan is in use by running vms: sw1, sw2/);
    const st = JSON.parse((await d.vmsup(['switch', 'status', '--json'])).stdout) as { name: string; ports: number; rxFrames: number; vms: string[] }[];
    expect(st).toHaveLength(1);
    expect(st[0]).toMatchObject({ name: 'lan', ports: 2, vms: ['sw1', 'sw2'] });
    expect(st[0].rxFrames).toBeGreaterThan(0);
    c1.type('\r~.');
    c2.type('\r~.');
    await c1.exited;
    await c2.exited;
  } finally {
    c1.close();
    c2.close();
  }
  await d.vmsup(['stop', '-f', 'sw1']);
  await d.vmsup(['stop', '-f', 'sw2']);
  await d.waitState('sw1', 'stopped');
  await d.waitState('sw2', 'stopped');
  // The switch survives a daemon restart (stored), and then it may go.
  await d.stop();
  await d.start();
  const again = JSON.parse((await d.vmsup(['switch', 'status', '--json'])).stdout) as { name: string }[];
  expect(again.map((x) => x.name)).toEqual(['lan']);
  const ok = await d.vmsup(['switch', 'delete', 'lan']);
  expect(ok.code, ok.stderr).toBe(0);
  expect(JSON.parse((await d.vmsup(['switch', 'status', '--json'])).stdout)).toEqual([]);
}, 400_000);

describe('non-root users', () => {
  const GROUP = 'vmsupng';
  const ALICE = 'vmsupna';
  const OTHER = 'vmsupno'; // a group Alice is not in
  const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' });
  beforeAll(() => {
    sh('userdel', [ALICE]);
    sh('groupadd', ['-f', GROUP]);
    sh('groupadd', ['-f', OTHER]);
    sh('useradd', ['-M', '-U', '-G', GROUP, ALICE]);
  });
  afterAll(() => {
    sh('userdel', [ALICE]);
    sh('groupdel', [GROUP]);
    sh('groupdel', [OTHER]);
  });

  test('a non-root user attaches only to a switch of a group they are in', async () => {
    d = await Daemon.create({}, ['--group', GROUP]);
    expect((await d.vmsup(['switch', 'create', '--group', GROUP, 'shared'])).code).toBe(0);
    expect((await d.vmsup(['switch', 'create', '--locked-lladdr', 'rootonly'])).code).toBe(0);
    const mine = await d.vmsup(['define', '-b', path.join(GUEST, 'Image'), '-n', 'shared', 'alicevm'], { asUser: ALICE });
    expect(mine.code, mine.stderr).toBe(0);
    const other = await d.vmsup(['define', '-b', path.join(GUEST, 'Image'), '-n', 'rootonly', 'alicevm2'], { asUser: ALICE });
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/permission denied: switch rootonly has no group/);
    expect((await d.vmsup(['switch', 'create', '--group', OTHER, 'theirs'])).code).toBe(0);
    const theirs = await d.vmsup(['define', '-b', path.join(GUEST, 'Image'), '-n', 'theirs', 'alicevm3'], { asUser: ALICE });
    expect(theirs.code).not.toBe(0);
    expect(theirs.stderr).toMatch(new RegExp(`permission denied: switch theirs belongs to group ${OTHER}, which ${ALICE} is not in`));
    const m = await d.vmsup(['switch', 'create', 'mine'], { asUser: ALICE });
    expect(m.code).not.toBe(0);
    expect(m.stderr).toMatch(/permission denied: only root/);
    const st = JSON.parse((await d.vmsup(['switch', 'status', '--json'])).stdout) as { name: string; group: string | null; lockedLladdr: boolean }[];
    expect(st).toEqual([
      expect.objectContaining({ name: 'rootonly', group: null, lockedLladdr: true }),
      expect.objectContaining({ name: 'shared', group: GROUP, lockedLladdr: false }),
      expect.objectContaining({ name: 'theirs', group: OTHER }),
    ]);
  }, 120_000);

  test("a non-root user's vmsupd: --nat with a forwarded port works, -L says in one line that it needs root", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsupd-user-'));
    fs.chmodSync(dir, 0o755);
    spawnSync('chown', [ALICE, dir]);
    const sock = path.join(dir, 'vmsup.sock');
    // setpriv execs node itself (runuser would fork): the kill below reaches the daemon.
    const p = spawn('setpriv', ['--reuid', ALICE, '--regid', ALICE, '--init-groups', process.execPath, VMSUPD, '-d', '--state-dir', path.join(dir, 'state'), '--socket', sock], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    p.stderr!.on('data', (b) => (log += b));
    p.stdout!.on('data', (b) => (log += b));
    const as = (args: string[]) =>
      spawnSync('runuser', ['-u', ALICE, '--', process.execPath, VMSUP, ...args], { env: { ...process.env, VMSUP_SOCKET: sock }, encoding: 'utf8', timeout: 60_000 });
    try {
      for (let i = 0; i < 300 && !log.includes('listening on'); i++) await sleep(100);
      expect(log).toContain('listening on');
      const l = as(['define', ...LINUX, '-L', 'local']);
      expect(l.status).not.toBe(0);
      expect(l.stderr).toBe('vmsup: -L needs root (a tap and a host address) and this vmsupd is not root; use --nat for user-mode networking\n');
      expect(as(['define', ...LINUX, '-i', '1', 'taps']).stderr).toMatch(/-i needs root/);
      const fwd = await freePort();
      const n = as(['start', ...LINUX, '--nat', '--forward', `tcp:${fwd}:8080`, 'usernat']);
      expect(n.status, n.stderr).toBe(0);
      const st = JSON.parse(as(['status', '--json']).stdout) as { name: string; state: string; nics: Nic[] }[];
      const vm = st.find((v) => v.name === 'usernat')!;
      expect(vm.nics[0]).toMatchObject({ kind: 'nat', address: '10.0.2.15', forwards: [{ hostAddr: 0x7f000001, hostPort: fwd, guestPort: 8080 }] });
      // The console, through the user's daemon's socket (root may attach to any VM's console).
      const c = onPty({ env: () => ({ ...process.env, VMSUP_SOCKET: sock }) } as Daemon, ['console', 'usernat'], 240_000);
      try {
        await c.waitFor(/Connected\./);
        c.type('\r');
        await c.waitFor(/vmsup-guest:\/# /);
        c.type('udhcpc -i eth0 -n -q -t 5 -T 2 >/dev/null 2>&1; mkdir -p /tmp/www && echo USER-NAT-OK > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && echo HTTPD-UP\r');
        await c.waitFor(/HTTPD-UP\s/);
        const r = await httpGet(fwd);
        expect(r.body).toContain('USER-NAT-OK');
        c.type('\r~.');
        await c.exited;
      } finally {
        c.close();
      }
      as(['stop', '-f', 'usernat']);
    } finally {
      const gone = new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r)));
      p.kill('SIGKILL');
      await gone;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** A vmsupd inside the named network namespace `ns` (ip netns), so that -L's taps stay off the host. */
class NsDaemon extends Daemon {
  ns = '';
  override async start(): Promise<void> {
    this.log = '';
    const p = spawn('ip', ['netns', 'exec', this.ns, process.execPath, VMSUPD, '-d', '-v', '--state-dir', this.stateDir, '--socket', this.socket], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = p;
    p.stdout!.on('data', (b) => (this.log += b));
    p.stderr!.on('data', (b) => (this.log += b));
    const deadline = Date.now() + 30_000;
    while (!this.log.includes('listening on')) {
      if (p.exitCode !== null) throw new Error(`vmsupd exited early (${p.exitCode}):\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`vmsupd did not come up:\n${this.log}`);
      await sleep(50);
    }
  }
}

const isRoot = process.getuid?.() === 0;
const NS = `vmsupnetd${process.pid}`;
const canNetns = isRoot && spawnSync('ip', ['netns', 'add', NS]).status === 0;
const inNs = (args: string[]) => spawnSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8', timeout: 60_000 });
const taps = () => inNs(['ip', '-o', 'link', 'show']).stdout.split('\n').filter((l) => /vmsup\d/.test(l));

// Top level, so that it runs also when a filter skips the describe below.
afterAll(() => {
  if (canNetns) spawnSync('ip', ['netns', 'del', NS]);
});

describe.skipIf(!canNetns)('-L through the daemon (in a network namespace)', () => {
  test('DHCP and host->guest HTTP over -L; the tap goes when the VM stops and when vmsupd is killed', async () => {
    inNs(['ip', 'link', 'set', 'lo', 'up']);
    const nd = new NsDaemon(fs.mkdtempSync(path.join(os.tmpdir(), 'vmsupd-test-')));
    nd.ns = NS;
    d = nd;
    nd.writeSettings({ shutdown_timeout: 3 });
    await nd.start();
    const def = await nd.vmsup(['define', ...LINUX, '-L', 'lvm']);
    expect(def.code, def.stderr).toBe(0);
    const c = onPty(nd, ['start', '-c', 'lvm'], 240_000);
    try {
      await c.waitFor(/vmsup-guest:\/# /);
      c.type('udhcpc -i eth0 -n -q -t 5 -T 2 >/dev/null 2>&1; ip -4 addr show eth0; echo DHCP-DONE\r');
      await c.waitFor(/DHCP-DONE\s[\s\S]*# /);
      expect(c.screen()).toMatch(/inet 100\.64\.0\.1\/31/);
      c.type('mkdir -p /tmp/www && echo GUEST-LOCAL-OK > /tmp/www/index.html && httpd -p 80 -h /tmp/www && echo HTTPD-UP\r');
      await c.waitFor(/HTTPD-UP\s/);
      const r = inNs(['curl', '-s', '--max-time', '30', 'http://100.64.0.1/index.html']);
      expect(r.stdout).toContain('GUEST-LOCAL-OK');
      const nic = (await nicsOf('lvm'))[0];
      expect(nic).toMatchObject({ kind: 'local', address: '100.64.0.1' });
      expect(nic.tap).toMatch(/^vmsup\d+$/);
      expect(taps()).toHaveLength(1);
      c.type('\r~.');
      await c.exited;
    } finally {
      c.close();
    }
    await nd.vmsup(['stop', '-f', 'lvm']);
    await nd.waitState('lvm', 'stopped');
    await nd.waitFor(async () => taps().length === 0, 30_000);
    // Started again and vmsupd killed: at the next start nothing of it is left, and the /31 is free again.
    expect((await nd.vmsup(['start', 'lvm'])).code).toBe(0);
    await nd.waitFor(async () => taps().length === 1, 60_000);
    await nd.kill9();
    await nd.waitFor(async () => taps().length === 0, 30_000);
    await nd.start();
    expect(taps()).toHaveLength(0);
    expect((await nd.vmsup(['start', 'lvm'])).code).toBe(0);
    await nd.waitFor(async () => (await nicsOf('lvm'))[0]?.address === '100.64.0.1', 60_000);
    // -i 2: two NICs with a tap each, next to lvm's; gone again when the VM stops.
    expect((await nd.vmsup(['define', ...LINUX, '-i', '2', 'tvm'])).code).toBe(0);
    expect((await nd.vmsup(['start', 'tvm'])).code).toBe(0);
    await nd.waitFor(async () => taps().length === 3, 60_000);
    const tn = await nicsOf('tvm');
    expect(tn.map((n) => n.kind)).toEqual(['tap', 'tap']);
    expect(new Set(tn.map((n) => n.tap)).size).toBe(2);
    await nd.vmsup(['stop', '-f', 'tvm']);
    await nd.waitState('tvm', 'stopped');
    await nd.waitFor(async () => taps().length === 1, 30_000);
  }, 400_000);
});
