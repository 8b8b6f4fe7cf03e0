// Switch uplinks (issue 9) through vmsupd, inside a network namespace this
// test creates (root only): a switch joined to a Linux bridge that has an
// address in the namespace; guests on it reach the bridge and the bridge
// reaches them (ping both ways, HTTP from the namespace to a guest's httpd).
// The switch is `locked lladdr`: a guest that changes its MAC loses its
// frames (counted), the other guest's traffic still flows. Then the bad
// input: a tap name that is something else's, a missing bridge, a daemon
// that is not root.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { Daemon, GUEST, onPty, sleep, VMSUP, VMSUPD } from '../daemon/harness.js';

const LINUX = ['-m', '128M', '-b', path.join(GUEST, 'Image'), '--initrd', path.join(GUEST, 'initramfs.cpio.gz'), '--cmdline', 'console=ttyS0'];

/** A vmsupd inside the named network namespace `ns` (ip netns), so that its taps stay off the host. */
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

interface SwitchInfo {
  name: string;
  ports: number;
  lockedDrops: number;
  uplink: string | null;
  uplinkTap: string | null;
  uplinkRxFrames: number;
  uplinkTxFrames: number;
  vms: string[];
}

const isRoot = process.getuid?.() === 0;
const NS = `vmsupupl${process.pid}`;
const canNetns = isRoot && spawnSync('ip', ['netns', 'add', NS]).status === 0;
const inNs = (args: string[]) => spawnSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8', timeout: 60_000 });
const sh = (cmd: string) => {
  const r = inNs(['sh', '-c', cmd]);
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
};
/** The taps vmsupd made in the namespace (vmsupN, or the names a test gave), by name. */
const links = () =>
  inNs(['ip', '-o', 'link', 'show'])
    .stdout.split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
const bridgePorts = (br: string) =>
  inNs(['ip', '-o', 'link', 'show', 'master', br])
    .stdout.split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);

let d: Daemon | undefined;
afterEach(async () => {
  await d?.cleanup();
  d = undefined;
});
afterAll(() => {
  if (canNetns) spawnSync('ip', ['netns', 'del', NS]);
});

async function nsDaemon(): Promise<NsDaemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsupd-test-'));
  fs.chmodSync(dir, 0o755);
  const nd = new NsDaemon(dir);
  nd.ns = NS;
  nd.writeSettings({ shutdown_timeout: 3 });
  await nd.start();
  d = nd;
  return nd;
}
const status = async (x: Daemon) => JSON.parse((await x.vmsup(['switch', 'status', '--json'])).stdout) as SwitchInfo[];

describe.skipIf(!canNetns)('switch uplinks (in a network namespace)', () => {
  test('a locked switch joined to a bridge: ping both ways and HTTP; a spoofing guest is cut off, the other still talks', async () => {
    sh('ip link set lo up; ip link add br0 type bridge; ip addr add 10.88.0.1/24 dev br0; ip link set br0 up');
    const nd = await nsDaemon();
    const cr = await nd.vmsup(['switch', 'create', '--locked-lladdr', '--uplink', 'bridge:br0', 'up0']);
    expect(cr.code, cr.stderr).toBe(0);
    let [sw] = await status(nd);
    expect(sw).toMatchObject({ name: 'up0', uplink: 'bridge:br0', ports: 0 });
    expect(sw.uplinkTap).toMatch(/^vmsup\d+$/);
    expect(bridgePorts('br0')).toEqual([sw.uplinkTap]);
    expect(inNs(['ip', '-o', 'link', 'show', sw.uplinkTap!]).stdout).toContain('alias vmsup: uplink of switch up0');

    for (const n of ['g1', 'g2']) {
      const r = await nd.vmsup(['define', ...LINUX, '-n', 'up0', n]);
      expect(r.code, r.stderr).toBe(0);
    }
    const c1 = onPty(nd, ['start', '-c', 'g1'], 240_000);
    const c2 = onPty(nd, ['start', '-c', 'g2'], 240_000);
    try {
      await c1.waitFor(/vmsup-guest:\/# /);
      await c2.waitFor(/vmsup-guest:\/# /);
      // The markers are typed as O''K so that the echo of the command line never matches.
      c1.type("ip addr add 10.88.0.11/24 dev eth0; ip link set eth0 up; echo U''P1\r");
      c2.type("ip addr add 10.88.0.12/24 dev eth0; ip link set eth0 up; echo U''P2\r");
      await c1.waitFor(/UP1\s/);
      await c2.waitFor(/UP2\s/);
      // Guest -> bridge.
      c1.type("ping -c 3 -W 5 10.88.0.1 >/dev/null && echo P1-O''K || echo P1-F''AIL\r");
      await c1.waitFor(/P1-(OK|FAIL)\s/);
      expect(c1.screen()).toMatch(/P1-OK\s/);
      // Bridge -> guest: ping, and HTTP from the namespace to the guest's httpd.
      c1.type("mkdir -p /tmp/www && echo GUEST-UPLINK-OK > /tmp/www/index.html && httpd -p 80 -h /tmp/www && echo HTTPD-U''P\r");
      await c1.waitFor(/HTTPD-UP\s/);
      expect(inNs(['ping', '-c', '2', '-W', '5', '10.88.0.11']).status).toBe(0);
      const http = inNs(['curl', '-s', '--max-time', '30', 'http://10.88.0.11/index.html']);
      expect(http.stdout).toContain('GUEST-UPLINK-OK');
      [sw] = await status(nd);
      expect(sw).toMatchObject({ ports: 2, vms: ['g1', 'g2'], lockedDrops: 0 });
      expect(sw.uplinkRxFrames).toBeGreaterThan(0);
      expect(sw.uplinkTxFrames).toBeGreaterThan(0);

      // g1 takes another MAC: on a locked switch none of its frames get through.
      c1.type("ip link set eth0 down; ip link set eth0 address fe:e1:ba:d0:66:66; ip link set eth0 up; ip neigh flush dev eth0; echo SPO''OF\r");
      await c1.waitFor(/SPOOF\s/);
      c1.type("ping -c 3 -W 3 10.88.0.1 >/dev/null && echo P2-O''K || echo P2-F''AIL\r");
      await c1.waitFor(/P2-(OK|FAIL)\s/);
      expect(c1.screen()).toMatch(/P2-FAIL\s/);
      [sw] = await status(nd);
      expect(sw.lockedDrops).toBeGreaterThan(0);
      // ... while g2's traffic still flows.
      c2.type("ping -c 3 -W 5 10.88.0.1 >/dev/null && echo P3-O''K || echo P3-F''AIL\r");
      await c2.waitFor(/P3-(OK|FAIL)\s/);
      expect(c2.screen()).toMatch(/P3-OK\s/);
      expect(inNs(['ping', '-c', '2', '-W', '5', '10.88.0.12']).status).toBe(0);
      c1.type('\r~.');
      c2.type('\r~.');
      await c1.exited;
      await c2.exited;
    } finally {
      c1.close();
      c2.close();
    }
    await nd.vmsup(['stop', '-f', 'g1']);
    await nd.vmsup(['stop', '-f', 'g2']);
    await nd.waitState('g1', 'stopped');
    await nd.waitState('g2', 'stopped');

    // kill -9: the tap goes with the process; the next start makes it again, in the bridge.
    const before = sw.uplinkTap!;
    await nd.kill9();
    await nd.waitFor(async () => !links().includes(before), 30_000);
    expect(bridgePorts('br0')).toEqual([]);
    await nd.start();
    [sw] = await status(nd);
    expect(sw.uplinkTap).toMatch(/^vmsup\d+$/);
    expect(bridgePorts('br0')).toEqual([sw.uplinkTap]);
    // A clean stop and start: the same.
    await nd.stop();
    expect(bridgePorts('br0')).toEqual([]);
    await nd.start();
    [sw] = await status(nd);
    expect(bridgePorts('br0')).toEqual([sw.uplinkTap]);
    // Delete: the tap goes.
    const del = await nd.vmsup(['switch', 'delete', 'up0']);
    expect(del.code, del.stderr).toBe(0);
    expect(bridgePorts('br0')).toEqual([]);
    expect(links().filter((l) => l.startsWith('vmsup'))).toEqual([]);
  }, 600_000);

  test("tap:IF makes IF; a name that is something else's, a missing bridge and a bad uplink are refused; vm.conf's interface is the bridge uplink", async () => {
    sh('ip link add br1 type bridge; ip link add vup0 type veth peer name vup1; ip tuntap add mode tap name ftap0');
    const nd = await nsDaemon();
    const veth = await nd.vmsup(['switch', 'create', '--uplink', 'tap:vup0', 's1']);
    expect(veth.code).not.toBe(0);
    expect(veth.stderr).toBe('vmsup: tap vup0 exists and belongs to something else (a veth interface); choose another name\n');
    const foreign = await nd.vmsup(['switch', 'create', '--uplink', 'tap:ftap0', 's1']);
    expect(foreign.stderr).toBe('vmsup: tap ftap0 exists and belongs to something else (a tap that is not a vmsup uplink); choose another name\n');
    const br = await nd.vmsup(['switch', 'create', '--uplink', 'tap:br1', 's1']);
    expect(br.stderr).toMatch(/^vmsup: tap br1 exists and belongs to something else \(a bridge interface\)/);
    const nobr = await nd.vmsup(['switch', 'create', '--uplink', 'bridge:nobr', 's1']);
    expect(nobr.stderr).toMatch(/^vmsup: bridge nobr not found/);
    const notbr = await nd.vmsup(['switch', 'create', '--uplink', 'bridge:vup0', 's1']);
    expect(notbr.stderr).toMatch(/^vmsup: vup0 is not a bridge/);
    const bad = await nd.vmsup(['switch', 'create', '--uplink', 'eth:x', 's1']);
    expect(bad.stderr).toMatch(/^vmsup: invalid uplink: eth:x/);
    // None of them left a switch behind.
    expect(await status(nd)).toEqual([]);

    // tap:IF with a free name: vmsupd makes IF (and marks it as its own).
    const ok = await nd.vmsup(['switch', 'create', '--uplink', 'tap:upt0', 's1']);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await status(nd))[0]).toMatchObject({ name: 's1', uplink: 'tap:upt0', uplinkTap: 'upt0' });
    expect(links()).toContain('upt0');
    // Ours, but taken by s1: refused as in use.
    const busy = await nd.vmsup(['switch', 'create', '--uplink', 'tap:upt0', 's2']);
    expect(busy.stderr).toBe('vmsup: tap upt0 is in use (another switch\'s uplink, or a VM\'s)\n');
    const table = await nd.vmsup(['switch', 'status']);
    expect(table.stdout).toMatch(/^NAME\s+UPLINK\s+GROUP/);
    expect(table.stdout).toMatch(/\ns1\s+tap:upt0\(upt0\)\s/);
    expect((await nd.vmsup(['switch', 'delete', 's1'])).code).toBe(0);
    expect(links()).not.toContain('upt0');

    // vm.conf: vmd's `interface BR` in a switch block.
    const conf = path.join(nd.dir, 'vm.conf');
    fs.writeFileSync(conf, 'switch "vc" {\n  interface br1\n}\n');
    const load = await nd.vmsup(['load', conf]);
    expect(load.code, load.stderr).toBe(0);
    const [vc] = await status(nd);
    expect(vc).toMatchObject({ name: 'vc', uplink: 'bridge:br1' });
    expect(bridgePorts('br1')).toEqual([vc.uplinkTap]);
    // A file whose switch names another bridge: the stored switch differs, refused.
    fs.writeFileSync(conf, 'switch "vc" {\n  interface br9\n}\n');
    const again = await nd.vmsup(['load', conf]);
    expect(again.stderr).toMatch(/switch "vc" exists with other settings/);
    // The bridge gone while vmsupd was down: the switch comes back without its uplink, and says so.
    await nd.stop();
    sh('ip link del br1');
    await nd.start();
    expect((await status(nd))[0]).toMatchObject({ name: 'vc', uplink: 'bridge:br1', uplinkTap: null });
    expect((await nd.vmsup(['switch', 'status'])).stdout).toMatch(/\nvc\s+bridge:br1\(down\)\s/);
    expect(nd.log).toMatch(/switch vc: uplink bridge:br1: bridge br1 not found/);
  }, 120_000);
});

describe.skipIf(!isRoot)('a vmsupd that is not root', () => {
  test('refuses an uplink in one line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsupd-nobody-'));
    fs.chmodSync(dir, 0o755);
    spawnSync('chown', ['65534:65534', dir]);
    const sock = path.join(dir, 'vmsup.sock');
    const p = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, VMSUPD, '-d', '--state-dir', path.join(dir, 'state'), '--socket', sock], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    p.stderr!.on('data', (b) => (log += b));
    p.stdout!.on('data', (b) => (log += b));
    try {
      for (let i = 0; i < 300 && !log.includes('listening on'); i++) await sleep(100);
      expect(log).toContain('listening on');
      const r = spawnSync(process.execPath, [VMSUP, 'switch', 'create', '--uplink', 'bridge:br0', 'x'], {
        env: { ...process.env, VMSUP_SOCKET: sock },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toBe('vmsup: switch uplinks need root or CAP_NET_ADMIN (a tap on the host) and this vmsupd has neither\n');
      const st = spawnSync(process.execPath, [VMSUP, 'switch', 'status', '--json'], { env: { ...process.env, VMSUP_SOCKET: sock }, encoding: 'utf8', timeout: 60_000 });
      expect(JSON.parse(st.stdout)).toEqual([]);
    } finally {
      const gone = new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r)));
      p.kill('SIGKILL');
      await gone;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
