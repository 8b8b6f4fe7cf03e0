// --nat forwards DNS: the guest asks slirp's 10.0.2.3, which asks the host's
// resolver. To make that deterministic, the test runs vmsup in a network and
// mount namespace of its own, where /etc/resolv.conf (bind-mounted) names
// 127.0.0.1 and a tiny DNS responder there knows one name. Root only.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { G, GuestConsole, vmsup } from '../boot/guest.js';

const isRoot = process.getuid?.() === 0;
const canUnshare = isRoot && spawnSync('unshare', ['-n', '-m', 'true']).status === 0;

// Answers A for vmsup-dns.test with 10.9.8.7, no data for its other types,
// NXDOMAIN for every other name; exits when its parent (vmsup) is gone.
const RESPONDER = `
const d = require('dgram').createSocket('udp4');
d.on('message', (m, r) => {
  if (m.length < 17) return;
  let i = 12; const labels = [];
  while (i < m.length && m[i] !== 0 && labels.length < 64) { labels.push(m.subarray(i + 1, i + 1 + m[i]).toString()); i += m[i] + 1; }
  if (i + 5 > m.length) return;
  const qtype = m.readUInt16BE(i + 1), qend = i + 5;
  const known = labels.join('.').toLowerCase() === 'vmsup-dns.test', a = known && qtype === 1;
  const h = Buffer.from(m.subarray(0, qend));
  h[2] = 0x81; h[3] = known ? 0x80 : 0x83;
  h.writeUInt16BE(1, 4); h.writeUInt16BE(a ? 1 : 0, 6); h.writeUInt32BE(0, 8);
  const ans = a ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9, 8, 7]) : Buffer.alloc(0);
  d.send(Buffer.concat([h, ans]), r.port, r.address);
});
d.bind(53, '127.0.0.1', () => console.error('DNS-UP'));
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500);
setTimeout(() => process.exit(0), 600_000);
`;

describe.skipIf(!canUnshare)('vmsup run --nat: DNS through slirp (network + mount namespace)', () => {
  test("the guest resolves a name through 10.0.2.3, and a name the resolver does not know fails clearly", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-dns-'));
    fs.writeFileSync(path.join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    fs.writeFileSync(path.join(dir, 'dns.js'), RESPONDER);
    const inner =
      `mount --bind ${dir}/resolv.conf /etc/resolv.conf && ip link set lo up && ` +
      `${process.execPath} ${dir}/dns.js & sleep 1; ` +
      `exec timeout -k 5 400 ${process.execPath} ${vmsup} run --nat -b ${G.image} --initrd ${G.initrd}`;
    const c = new GuestConsole(['unshare', '-n', '-m', '--propagation', 'private', '--', 'sh', '-c', inner]);
    try {
      await c.waitFor(/vmsup-guest:[^\n]*# $/, 300_000);
      expect(c.err).toContain('DNS-UP');
      const dhcp = await c.sh('udhcpc -i eth0 -n -q -t 5 -T 2 >/dev/null 2>&1; cat /etc/resolv.conf');
      expect(dhcp).toContain('nameserver 10.0.2.3');
      const ok = await c.sh('nslookup -type=a vmsup-dns.test 10.0.2.3; echo RC=$?');
      expect(ok).toMatch(/Address:\s*10\.9\.8\.7/);
      expect(ok).toMatch(/RC=0/);
      const nx = await c.sh('nslookup -type=a nosuch.test 10.0.2.3; echo RC=$?');
      expect(nx).toMatch(/NXDOMAIN/);
      expect(nx).not.toMatch(/RC=0/);
      c.type('poweroff -f\n');
      expect(await c.exited).toBe(0);
    } finally {
      c.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
