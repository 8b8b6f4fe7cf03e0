// Save and restore through `vmsup run --save/--restore` with the shared Linux
// guest: a marker written into the guest's tmpfs before the save is read back
// in a new process after the restore, the guest's uptime continues from where
// it was, a qcow2 disk written before and after the move checks clean, and
// corrupted, truncated and wrong-version files (and a disk changed since the
// save) are refused with a clear error.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { G, GuestConsole, runVmsup, scratchDir } from '../boot/guest.js';

const PROMPT = /vmsup-guest:[^\n]*# $/;
const haveGuest = fs.existsSync(G.image) && fs.existsSync(G.initrd);

function uptime(out: string): number {
  const m = /UP=([0-9.]+)/.exec(out);
  if (!m) throw new Error(`no uptime in ${JSON.stringify(out)}`);
  return Number(m[1]);
}

describe.skipIf(!haveGuest)('vmsup run --save / --restore', () => {
  let dir: string;
  let disk: string;
  let snap: string;
  let savedUptime = 0;

  beforeAll(() => {
    dir = scratchDir();
    disk = path.join(dir, 'disk.qcow2');
    snap = path.join(dir, 'guest.snap');
    const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('saves a running guest on ~s and exits', async () => {
    const c = GuestConsole.run(['-m', '256M', '-b', G.image, '--initrd', G.initrd, '-d', `qcow2:${disk}`, '--save', snap], 200);
    try {
      await c.waitFor(PROMPT, 150_000);
      await c.sh('echo MARKER-$((40+2)) > /tmp/marker');
      await c.sh('echo DISK-BEFORE-SAVE | dd of=/dev/vda bs=512 seek=0 2>/dev/null; sync');
      savedUptime = uptime(await c.sh('echo UP=$(cut -d" " -f1 /proc/uptime)'));
      c.type('~s');
      expect(await c.exited).toBe(0);
      expect(c.err).toMatch(/saved to .*guest\.snap/);
    } finally {
      c.kill();
    }
    const size = fs.statSync(snap).size;
    // Only touched, non-zero pages, compressed: far below the 256 MiB of RAM.
    expect(size).toBeGreaterThan(1 << 20);
    expect(size).toBeLessThan(64 << 20);
  });

  it('refuses corrupted, truncated and wrong-version files with a clear error', () => {
    const good = fs.readFileSync(snap);
    const cases: [string, Buffer, RegExp][] = [];
    const flipped = Buffer.from(good);
    flipped[Math.floor(good.length / 2)] ^= 0x40;
    cases.push(['flipped', flipped, /CRC mismatch/]);
    cases.push(['truncated', good.subarray(0, Math.floor(good.length * 0.7)), /truncated/]);
    // Versions 1 and 2 (2: a live send's PASS sections) are read; 99 is not.
    const v99 = Buffer.from(good);
    v99.writeUInt32LE(99, 8);
    cases.push(['version', v99, /format version 99 is not supported/]);
    const notSnap = Buffer.from(good);
    notSnap.write('NOTASNAP', 0, 'latin1');
    cases.push(['magic', notSnap, /not a vmsup snapshot/]);
    for (const [name, bytes, want] of cases) {
      const f = path.join(dir, `${name}.snap`);
      fs.writeFileSync(f, bytes);
      const r = runVmsup(['--restore', f], 60);
      expect(r.status, `${name}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, name).toMatch(/^vmsup: /m);
      expect(r.stderr, name).toMatch(want);
    }
  });

  it('restores in a new process: the marker is back, uptime continues, the disk keeps working', async () => {
    const c = GuestConsole.run(['--restore', snap], 150);
    try {
      c.type('\n');
      await c.waitFor(PROMPT, 60_000);
      expect(await c.sh('cat /tmp/marker')).toContain('MARKER-42');
      const up1 = uptime(await c.sh('echo UP=$(cut -d" " -f1 /proc/uptime)'));
      expect(up1).toBeGreaterThanOrEqual(savedUptime);
      // The guest clock continues from the saved time, as after a suspend.
      expect(up1).toBeLessThan(savedUptime + 60);
      expect(await c.sh('dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 16; echo')).toContain('DISK-BEFORE-SAVE');
      await c.sh('echo DISK-AFTER-RESTORE | dd of=/dev/vda bs=512 seek=8 2>/dev/null; sync');
      await c.sh('sleep 1');
      const up2 = uptime(await c.sh('echo UP=$(cut -d" " -f1 /proc/uptime)'));
      expect(up2).toBeGreaterThan(up1);
      c.type('poweroff -f\n');
      expect(await c.exited).toBe(0);
    } finally {
      c.kill();
    }
    const chk = spawnSync('qemu-img', ['check', disk], { encoding: 'utf8' });
    expect(chk.status, chk.stdout + chk.stderr).toBe(0);
    const raw = path.join(dir, 'disk.raw');
    const conv = spawnSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', disk, raw], { encoding: 'utf8' });
    expect(conv.status, conv.stderr).toBe(0);
    const bytes = fs.readFileSync(raw);
    expect(bytes.subarray(0, 16).toString('latin1')).toBe('DISK-BEFORE-SAVE');
    expect(bytes.subarray(4096, 4096 + 18).toString('latin1')).toBe('DISK-AFTER-RESTORE');
  });

  it('refuses a disk that changed since the save', () => {
    const r = runVmsup(['--restore', snap], 60);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/disk .*disk\.qcow2.* changed since the save: it was modified after the save/);
  });
});
