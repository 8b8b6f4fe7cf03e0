// -L end to end, inside a network namespace this test creates (unshare -n):
// `vmsup run -L` makes a tap with the first address of a /31 from
// 100.64.0.0/10, the built-in DHCP responder gives the guest the second one,
// and the test pings the host side and fetches a page from the guest's httpd
// from the host side of the namespace. Needs root (skipped otherwise).
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { G, GuestConsole, vmsup } from '../boot/guest.js';

const isRoot = process.getuid?.() === 0;
const canUnshare = isRoot && spawnSync('unshare', ['-n', 'true']).status === 0;

describe.skipIf(!canUnshare)('vmsup run -L (in a network namespace)', () => {
  test('the guest gets 100.64.0.1/31 by DHCP, pings the host side and serves HTTP to it', async () => {
    const inner = `ip link set lo up && exec timeout -k 5 400 ${process.execPath} ${vmsup} run -L ` +
      `--lladdr fe:e1:ba:d0:00:42 -b ${G.image} --initrd ${G.initrd}`;
    const c = new GuestConsole(['unshare', '-n', '--', 'sh', '-c', inner]);
    try {
      await c.waitFor(/vmsup-guest:[^\n]*# $/, 300_000);
      expect(c.err).toContain('vmsup: local interface vmsup0: host 100.64.0.0, guest 100.64.0.1/31');
      const dhcp = await c.sh('udhcpc -i eth0 -n -q -t 5 -T 2 2>&1; ip -4 addr show eth0; ip route');
      expect(dhcp).toMatch(/inet 100\.64\.0\.1\/31/);
      expect(dhcp).toMatch(/default via 100\.64\.0\.0/);
      expect(await c.sh('cat /etc/resolv.conf')).toContain('nameserver 100.64.0.0');
      expect(await c.sh('ping -c 2 -W 5 100.64.0.0')).toMatch(/2 packets transmitted, 2 (packets )?received/);
      await c.sh('mkdir -p /tmp/www && echo GUEST-LOCAL-OK > /tmp/www/index.html && httpd -p 80 -h /tmp/www');
      // The host side of the tap is in the namespace of the unshare'd process.
      const r = spawnSync('nsenter', [`--net=/proc/${c.proc.pid}/ns/net`, 'curl', '-s', '--max-time', '30',
        'http://100.64.0.1/index.html'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout).toContain('GUEST-LOCAL-OK');
      c.type('poweroff -f\n');
      expect(await c.exited).toBe(0);
    } finally {
      c.kill();
    }
  }, 600_000);

  test('-L without root says so in one line and suggests --nat', () => {
    const r = spawnSync('unshare', ['-n', '--', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
      process.execPath, vmsup, 'run', '-L', '-b', G.image, '--initrd', G.initrd], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/vmsup: -L needs root .* use --nat/);
  }, 90_000);
});
