// Acceptance with a real guest: Linux boots from qcow2 images (made by vmsup
// and by qemu-img), writes through virtio-blk, powers off, and the images stay
// clean for `qemu-img check` and hold exactly what the guest wrote.
// Needs a build (dist/) and ../shared/guest.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { blockAddon } from '../../native/index.js';
import { MIB, qemuCheck, qemuImg, qemuView, tempDir } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../..');
const guest = path.resolve(root, '../shared/guest');
const rootfs = path.join(guest, 'rootfs.ext4');
const dir = tempDir('guest');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const p = (n: string) => path.join(dir, n);

interface Boot {
  status: number | null;
  output: string;
}

/** Boots the guest kernel with `disks` (vmsup run -d specs); types `commands` at the first shell prompt. */
function boot(disks: string[], cmdline: string, commands: string[] = []): Promise<Boot> {
  return new Promise((resolve) => {
    const args = [path.join(root, 'bin/vmsup'), 'run', '-b', path.join(guest, 'Image'), '--timeout', '150', '--cmdline', cmdline];
    for (const d of disks) args.push('-d', d);
    const child = spawn('timeout', ['180', process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let typed = false;
    const onData = (b: Buffer) => {
      output += b.toString('latin1');
      if (!typed && commands.length > 0 && output.includes('vmsup-guest:/# ')) {
        typed = true;
        child.stdin.write(commands.map((c) => `${c}\n`).join(''));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (status) => resolve({ status, output }));
  });
}

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

describe('Linux on qcow2 disks', () => {
  test('the guest rootfs converted with `vmsup create -i` boots, and the image stays clean', async () => {
    const img = p('root.qcow2');
    blockAddon().convertImage(rootfs, 'raw', img, 'qcow2', 0);
    const r = await boot([`qcow2:${img}`], 'console=ttyS0 root=/dev/vda rw vmsup.test=poweroff');
    expect(r.output).toContain('VMSUP-GUEST-READY');
    expect(r.output).toContain('reboot: Power down');
    expect(r.status).toBe(0);
    const c = qemuCheck(img);
    expect(c.status, c.out).toBe(0);
  }, 200_000);

  test('a guest write + power-off: qemu-img check is clean and qemu-img convert gives what the guest wrote', async () => {
    const img = p('root-w.qcow2');
    blockAddon().convertImage(rootfs, 'raw', img, 'qcow2', 0);
    const data = p('data.qcow2');
    blockAddon().createImage(data, 'qcow2', 16 * MIB);
    const r = await boot([`qcow2:${img}`, `qcow2:${data}`], 'console=ttyS0 root=/dev/vda rw', [
      'printf hello-from-guest | dd of=/dev/vdb bs=512 seek=3 conv=notrunc',
      'dd if=/bin/busybox of=/dev/vdb bs=4096 seek=2048 conv=notrunc',
      'echo guest-wrote-this > /written-by-guest',
      'sync; poweroff -f',
    ]);
    expect(r.output).toContain('reboot: Power down');
    expect(r.status).toBe(0);
    for (const f of [img, data]) {
      const c = qemuCheck(f);
      expect(c.status, c.out).toBe(0);
    }
    // The bytes the guest wrote: its own /bin/busybox (taken from the ext4
    // image with debugfs) at 8 MiB, and the string at sector 3.
    const busybox = p('busybox');
    execFileSync('debugfs', ['-R', `dump /bin/busybox ${busybox}`, rootfs], { stdio: 'ignore' });
    const want = Buffer.alloc(16 * MIB);
    Buffer.from('hello-from-guest').copy(want, 3 * 512);
    fs.readFileSync(busybox).copy(want, 8 * MIB);
    expect(qemuView(data, 'qcow2', dir).equals(want)).toBe(true);
    // The file the guest made on its root filesystem is there for e2fsprogs too.
    const raw = p('root-w.raw');
    qemuImg('convert', '-f', 'qcow2', '-O', 'raw', img, raw);
    execFileSync('e2fsck', ['-fn', raw], { stdio: 'ignore' });
    const cat = execFileSync('debugfs', ['-R', 'cat /written-by-guest', raw], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(cat).toBe('guest-wrote-this\n');
  }, 200_000);

  const variants: [string, string[]][] = [
    ['plain', []],
    ['compressed (convert -c)', ['-c']],
    ['v2 (compat=0.10) with 4 KiB clusters', ['-o', 'compat=0.10,cluster_size=4k']],
    ['2 MiB clusters', ['-o', 'cluster_size=2M']],
  ];
  for (const [name, opts] of variants) {
    test(`an image qemu-img made, ${name}, boots and stays clean`, async () => {
      const img = p(`q-${name.replace(/\W+/g, '_')}.qcow2`);
      qemuImg('convert', '-f', 'raw', '-O', 'qcow2', ...opts, rootfs, img);
      const r = await boot([`qcow2:${img}`], 'console=ttyS0 root=/dev/vda rw vmsup.test=poweroff');
      expect(r.output).toContain('VMSUP-GUEST-READY');
      expect(r.status).toBe(0);
      const c = qemuCheck(img);
      expect(c.status, c.out).toBe(0);
    }, 200_000);
  }

  test('an overlay qemu-img made on a raw base boots; the base is untouched', async () => {
    const base = p('base.raw');
    fs.copyFileSync(rootfs, base);
    const before = sha(base);
    const over = p('over.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', over);
    const r = await boot([`qcow2:${over}`], 'console=ttyS0 root=/dev/vda rw vmsup.test=poweroff');
    expect(r.output).toContain('VMSUP-GUEST-READY');
    expect(r.status).toBe(0);
    expect(sha(base)).toBe(before);
    expect(qemuCheck(over).status).toBe(0);
    // The guest's mount wrote into the overlay (ext4 superblock, journal).
    const map = JSON.parse(qemuImg('map', '--output=json', '-f', 'qcow2', over)) as { depth: number; data: boolean }[];
    expect(map.some((e) => e.depth === 0 && e.data)).toBe(true);
  }, 200_000);
});
