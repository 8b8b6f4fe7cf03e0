// Issue 8 F1/F2/F3/F11/F20 and issue 13 items 1-2: every file a VM uses is
// opened once, as the VM's owner, and handed to the worker as a descriptor.
// Each test reproduces an attack that worked before; the users are created here
// (unique names) and removed in afterAll.
import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { blockAddon } from '../../native/index.js';
import { Client } from '../../cli/client.js';
import { Daemon, VMSUP, buildBareMetal } from './harness.js';

const SUFFIX = `${process.pid % 100000}`;
const GROUP = `vmsupfg${SUFFIX}`;
const ALICE = `vmsupfa${SUFFIX}`;
const BOB = `vmsupfb${SUFFIX}`;
const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

function sh(cmd: string, args: string[]): number {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status ?? 1;
}
function uidOf(u: string): number {
  return Number(spawnSync('id', ['-u', u], { encoding: 'utf8' }).stdout.trim());
}

let d: Daemon;
let aliceDir: string;
let bobDir: string;
let kernel: string; // a bare-metal ELF that idles: starts are quick
let aliceUid: number;

/** A file owned by `user` (mode given), with `data`. */
function own(file: string, user: string, mode: number, data: Buffer | string = Buffer.alloc(1 << 20)): string {
  fs.writeFileSync(file, data);
  fs.chownSync(file, uidOf(user), uidOf(user));
  fs.chmodSync(file, mode);
  return file;
}

/** A qcow2 overlay owned by alice whose backing file is `backing` (built as root,
 * without opening the backing file: the daemon's own database is locked while it runs). */
function overlay(name: string, backing: string): string {
  const f = path.join(aliceDir, name);
  fs.rmSync(f, { force: true });
  const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', backing, '-F', 'raw', f, '1M'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img create: ${r.stderr}`);
  fs.chownSync(f, aliceUid, aliceUid);
  fs.chmodSync(f, 0o600);
  return f;
}

/** The files under the test's directory that vmsupd holds open (ptys, sockets
 * and pipes are left out: they are not this test's business). */
function daemonFiles(): string[] {
  const dir = `/proc/${d.proc!.pid}/fd`;
  const out: string[] = [];
  for (const n of fs.readdirSync(dir)) {
    try {
      const t = fs.readlinkSync(path.join(dir, n));
      if (t.startsWith(d.dir + '/') && !t.startsWith(d.stateDir + '/')) out.push(t);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

async function undefine(name: string): Promise<void> {
  await d.vmsup(['stop', '-f', name]);
  await d.vmsup(['undefine', name]);
}

beforeAll(async () => {
  for (const u of [ALICE, BOB]) sh('userdel', [u]);
  sh('groupadd', ['-f', GROUP]);
  expect(sh('useradd', ['-M', '-U', '-G', GROUP, ALICE])).toBe(0);
  expect(sh('useradd', ['-M', '-U', '-G', GROUP, BOB])).toBe(0);
  aliceUid = uidOf(ALICE);
  // One worker slot: a second VM waits in the queue (the FIFO test needs that).
  d = await Daemon.create({ max_running: 1, autostart_delay: 0 }, ['--group', GROUP]);
  aliceDir = path.join(d.dir, 'alice');
  bobDir = path.join(d.dir, 'bob');
  fs.mkdirSync(aliceDir, { mode: 0o700 });
  fs.chownSync(aliceDir, aliceUid, aliceUid);
  fs.mkdirSync(bobDir, { mode: 0o755 });
  fs.chownSync(bobDir, uidOf(BOB), uidOf(BOB));
  kernel = buildBareMetal(d.dir, 'idle', 'FILES-IDLE', 'idle');
  fs.chmodSync(kernel, 0o644);
}, 120_000);

afterAll(async () => {
  await d?.cleanup();
  for (const u of [ALICE, BOB]) sh('userdel', [u]);
  sh('groupdel', [GROUP]);
}, 120_000);

describe('F1: every file of a backing chain is opened as the owner', () => {
  const targets: [string, () => string, RegExp][] = [
    ['/etc/shadow', () => '/etc/shadow', /cannot open disk '\/etc\/shadow': Permission denied/],
    ["another user's 0600 file", () => own(path.join(bobDir, 'private.img'), BOB, 0o600), /bob\/private\.img': Permission denied/],
    ["the daemon's own database", () => path.join(d.stateDir, 'vmsup.db'), /vmsup\.db': Permission denied/],
    ['a root-only block device', () => '/dev/loop0', /\/dev\/loop0': Permission denied/],
  ];
  for (const [what, target, msg] of targets) {
    test(`a qcow2 overlay backed by ${what} does not start`, async () => {
      const ov = overlay('ov.qcow2', target());
      const name = `ov${targets.findIndex((t) => t[0] === what)}`;
      expect((await d.vmsup(['define', '-b', kernel, '-d', `qcow2:${ov}`, name], { asUser: ALICE })).code).toBe(0);
      const r = await d.vmsup(['start', name], { asUser: ALICE });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^vmsup: start vm command failed: .*backing file: /);
      expect(r.stderr).toMatch(msg);
      expect((await d.status(name))?.state).toBe('stopped');
      await undefine(name);
    });
  }

  test('a user gets no block device even when the node is theirs', async () => {
    const node = path.join(aliceDir, 'blk');
    fs.rmSync(node, { force: true });
    expect(sh('mknod', [node, 'b', '7', '0'])).toBe(0);
    fs.chownSync(node, aliceUid, aliceUid);
    fs.chmodSync(node, 0o600);
    const direct = await d.vmsup(['define', '-b', kernel, '-d', `raw:${node}`, 'blkvm'], { asUser: ALICE });
    expect(direct.code).toBe(1);
    expect(direct.stderr).toBe(`vmsup: disk '${node}' must be a regular file, not a block device (only root's vms may use one)\n`);
    const ov = overlay('ovblk.qcow2', node);
    expect((await d.vmsup(['define', '-b', kernel, '-d', `qcow2:${ov}`, 'ovblk'], { asUser: ALICE })).code).toBe(0);
    const r = await d.vmsup(['start', 'ovblk'], { asUser: ALICE });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/backing file: disk '.*\/blk' must be a regular file, not a block device/);
    await undefine('ovblk');
  });

  test("an overlay on the owner's own base starts; the daemon holds the chain's fds until the stop (no leak over cycles)", async () => {
    const base = own(path.join(aliceDir, 'base.img'), ALICE, 0o600);
    const ov = overlay('good.qcow2', base);
    expect((await d.vmsup(['define', '-b', kernel, '-d', `qcow2:${ov}`, 'good'], { asUser: ALICE })).code).toBe(0);
    const before = daemonFiles().length;
    for (let i = 0; i < 3; i++) {
      const r = await d.vmsup(['start', 'good'], { asUser: ALICE });
      expect(r.stderr).toMatch(/^vmsup: started vm \d+ successfully/);
      expect(r.code).toBe(0);
      const held = daemonFiles();
      expect(held).toContain(ov);
      expect(held).toContain(base);
      expect(held).toContain(kernel);
      expect((await d.vmsup(['stop', '-f', 'good'], { asUser: ALICE })).code).toBe(0);
      await d.waitState('good', 'stopped');
    }
    await d.waitFor(async () => daemonFiles().length <= before, 10_000);
    const after = daemonFiles();
    expect(after).not.toContain(ov);
    expect(after).not.toContain(base);
    expect(after.length).toBe(before);
    await undefine('good');
  });
});

describe('F2: stored paths are opened as the owner, at autostart and when root starts a user\'s VM', () => {
  test('a symlink re-pointed at a root-only file after define is refused at autostart and for root', async () => {
    const mine = own(path.join(aliceDir, 'mine.img'), ALICE, 0o600);
    const rootOnly = own(path.join(d.dir, 'root-only.img'), 'root', 0o600, Buffer.from('ROOT SECRET'.padEnd(65536, '.')));
    const link = path.join(aliceDir, 'swap.lnk');
    fs.symlinkSync(mine, link);
    fs.lchownSync(link, aliceUid, aliceUid);
    expect((await d.vmsup(['define', '-b', kernel, '-d', `raw:${link}`, 'swapvm'], { asUser: ALICE })).code).toBe(0);
    expect((await d.vmsup(['enable', 'swapvm'], { asUser: ALICE })).code).toBe(0);
    fs.unlinkSync(link);
    fs.symlinkSync(rootOnly, link);
    // Root starting the user's VM opens it as the user.
    const r = await d.vmsup(['start', 'swapvm']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`vmsup: start vm command failed: cannot open disk '${link}': Permission denied\n`);
    // And so does autostart at the next daemon start.
    expect(await d.stop()).toBe(0);
    await d.start();
    await d.waitFor(async () => {
      const ev = JSON.parse((await d.vmsup(['events', '--json', 'swapvm'])).stdout) as { reason: string }[];
      return ev.some((e) => /autostart failed: .*Permission denied/.test(e.reason));
    }, 60_000);
    expect((await d.status('swapvm'))?.state).toBe('stopped');
    expect(daemonFiles()).not.toContain(rootOnly);
    await d.vmsup(['disable', 'swapvm']);
    await undefine('swapvm');
  });
});

describe('F3: no race between a check and the open', () => {
  test('a symlink flipping between the user\'s file and a root-only file never lends the root-only file', async () => {
    const mine = own(path.join(aliceDir, 'flip-mine.img'), ALICE, 0o600);
    const rootOnly = own(path.join(d.dir, 'flip-root.img'), 'root', 0o600);
    const link = path.join(aliceDir, 'flip.lnk');
    fs.symlinkSync(mine, link);
    expect((await d.vmsup(['define', '-b', kernel, '-d', `raw:${link}`, 'flipvm'], { asUser: ALICE })).code).toBe(0);
    // The flipper: a separate process, bounded to 90 s even if we never kill it.
    const flipper = spawn(process.execPath, [
      '-e',
      `const fs = require('fs'); const [l, a, b] = process.argv.slice(1); const end = Date.now() + 90000;
       for (let i = 0; Date.now() < end; i++) { try { fs.symlinkSync(i % 2 ? b : a, l + '.t'); fs.renameSync(l + '.t', l); } catch {} }`,
      link,
      mine,
      rootOnly,
    ], { stdio: 'ignore' });
    let started = 0;
    let refused = 0;
    try {
      for (let i = 0; i < 6; i++) {
        const r = await d.vmsup(['start', 'flipvm'], { asUser: ALICE });
        if (r.code === 0) {
          started++;
          expect(daemonFiles()).not.toContain(rootOnly);
          expect(fs.readFileSync('/proc/locks', 'utf8')).not.toContain(`:${fs.statSync(rootOnly).ino} `);
          await d.vmsup(['stop', '-f', 'flipvm'], { asUser: ALICE });
          await d.waitState('flipvm', 'stopped');
        } else {
          refused++;
          expect(r.stderr).toMatch(/Permission denied|No such file/);
        }
      }
    } finally {
      flipper.kill('SIGKILL');
    }
    expect(started + refused).toBe(6);
    await undefine('flipvm');
  }, 300_000);
});

describe('F3: the file checked is the file used', () => {
  test('a symlink re-pointed while the VM waits for a worker slot changes nothing: the worker opens no path', async () => {
    const mine = own(path.join(aliceDir, 'q-mine.img'), ALICE, 0o600);
    const rootOnly = own(path.join(d.dir, 'q-root.img'), 'root', 0o600);
    const link = path.join(aliceDir, 'q.lnk');
    fs.symlinkSync(mine, link);
    // The slot holder is root's: a user's own VMs beyond their share are refused, not queued.
    expect((await d.vmsup(['define', '-b', kernel, 'qholder'])).code).toBe(0);
    expect((await d.vmsup(['define', '-b', kernel, '-d', `raw:${link}`, 'qlink'], { asUser: ALICE })).code).toBe(0);
    expect((await d.vmsup(['start', 'qholder'])).code).toBe(0);
    expect((await d.vmsup(['start', 'qlink'], { asUser: ALICE })).code).toBe(0);
    expect((await d.status('qlink'))?.state).toBe('waiting');
    fs.unlinkSync(link);
    fs.symlinkSync(rootOnly, link);
    await d.vmsup(['stop', '-f', 'qholder']);
    await d.waitState('qlink', 'running', 60_000);
    expect(daemonFiles()).toContain(mine);
    expect(daemonFiles()).not.toContain(rootOnly);
    await undefine('qlink');
    await undefine('qholder');
  }, 180_000);
});

describe('F11: a FIFO swapped in blocks nothing', () => {
  test('a FIFO as the kernel fails the start with a clear error', async () => {
    const k = path.join(aliceDir, 'kernel');
    fs.copyFileSync(kernel, k);
    fs.chownSync(k, aliceUid, aliceUid);
    expect((await d.vmsup(['define', '-b', k, 'fifovm'], { asUser: ALICE })).code).toBe(0);
    fs.unlinkSync(k);
    expect(sh('mkfifo', [k])).toBe(0);
    fs.chownSync(k, aliceUid, aliceUid);
    const r = await d.vmsup(['start', 'fifovm'], { asUser: ALICE, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`vmsup: start vm command failed: kernel '${k}' must be a regular file, not a FIFO\n`);
    fs.unlinkSync(k);
    await undefine('fifovm');
  });

  test('a VM waiting for a worker slot keeps the files it was started with; shutdown completes', async () => {
    const k = path.join(aliceDir, 'kernel2');
    fs.copyFileSync(kernel, k);
    fs.chownSync(k, aliceUid, aliceUid);
    expect((await d.vmsup(['define', '-b', kernel, 'holder'])).code).toBe(0);
    expect((await d.vmsup(['define', '-b', k, 'queued'], { asUser: ALICE })).code).toBe(0);
    expect((await d.vmsup(['start', 'holder'])).code).toBe(0);
    expect((await d.vmsup(['start', 'queued'], { asUser: ALICE })).code).toBe(0);
    expect((await d.status('queued'))?.state).toBe('waiting');
    // Swap a FIFO in while it waits: the worker must not open anything by path.
    fs.unlinkSync(k);
    expect(sh('mkfifo', [k])).toBe(0);
    await d.vmsup(['stop', '-f', 'holder']);
    await d.waitState('queued', 'running', 60_000);
    // Shutdown completes (no worker stuck in open), and the next start refuses the FIFO.
    const t0 = Date.now();
    expect(await d.stop(60_000)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(55_000);
    await d.start();
    const r = await d.vmsup(['start', 'queued'], { asUser: ALICE, timeoutMs: 30_000 });
    expect(r.stderr).toMatch(/not a FIFO/);
    fs.unlinkSync(k);
    await undefine('queued');
    await undefine('holder');
  }, 180_000);
});

describe('disk formats are detected once and pinned (issue 13 item 1)', () => {
  test('a qcow2 image given with no prefix is attached as qcow2, and the format is pinned', async () => {
    const q = path.join(aliceDir, 'plain.qcow2');
    fs.rmSync(q, { force: true });
    blockAddon().createImage(q, 'qcow2', 1 << 20);
    fs.chownSync(q, aliceUid, aliceUid);
    expect((await d.vmsup(['define', '-b', kernel, '-d', q, 'detected'], { asUser: ALICE })).code).toBe(0);
    expect((await d.status('detected'))?.disks).toEqual([{ path: q, format: 'qcow2', readOnly: false }]);
    const raw = own(path.join(aliceDir, 'plain.img'), ALICE, 0o600);
    expect((await d.vmsup(['define', '-b', kernel, '-d', raw, 'rawdet'], { asUser: ALICE })).code).toBe(0);
    expect((await d.status('rawdet'))?.disks).toEqual([{ path: raw, format: 'raw', readOnly: false }]);
    // A guest that writes a qcow2 signature onto its raw disk does not turn it into qcow2.
    const fd = fs.openSync(raw, 'r+');
    fs.writeSync(fd, QCOW2_MAGIC, 0, 4, 0);
    fs.closeSync(fd);
    const r = await d.vmsup(['start', 'rawdet'], { asUser: ALICE });
    expect(r.stderr).toMatch(/^vmsup: started vm \d+ successfully/);
    expect((await d.status('rawdet'))?.disks).toEqual([{ path: raw, format: 'raw', readOnly: false }]);
    await undefine('rawdet');
    await undefine('detected');
  });

  test('raw: on a qcow2 image is refused unless forced with raw!:', async () => {
    const q = path.join(aliceDir, 'forced.qcow2');
    fs.rmSync(q, { force: true });
    blockAddon().createImage(q, 'qcow2', 1 << 20);
    fs.chownSync(q, aliceUid, aliceUid);
    const r = await d.vmsup(['define', '-b', kernel, '-d', `raw:${q}`, 'rawq'], { asUser: ALICE });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`vmsup: disk ${q} is a qcow2 image: refusing to attach it as raw (the guest would overwrite its header)`);
    const t = await d.vmsup(['start', '-b', kernel, '-d', `raw:${q}`, 'rawq'], { asUser: ALICE });
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/is a qcow2 image: refusing to attach it as raw/);
    expect(await d.status('rawq')).toBeUndefined();
    const f = await d.vmsup(['define', '-b', kernel, '-d', `raw!:${q}`, 'rawq'], { asUser: ALICE });
    expect(f.code).toBe(0);
    expect((await d.status('rawq'))?.disks).toEqual([{ path: q, format: 'raw', readOnly: false }]);
    await undefine('rawq');
    // vmsup run does the same, without a daemon.
    const run = spawnSync(process.execPath, [VMSUP, 'run', '-b', kernel, '-d', `raw:${q}`], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/is a qcow2 image: refusing to attach it as raw/);
  });
});

describe('relative paths (issue 13 item 2, issue 8 F20)', () => {
  test("the CLI resolves -b and -d in the client's working directory", async () => {
    fs.copyFileSync(kernel, path.join(aliceDir, 'rel-kernel'));
    own(path.join(aliceDir, 'rel.img'), ALICE, 0o600);
    fs.chownSync(path.join(aliceDir, 'rel-kernel'), aliceUid, aliceUid);
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile('runuser', ['-u', ALICE, '--', process.execPath, VMSUP, 'define', '-b', 'rel-kernel', '-d', 'rel.img', 'relvm'], { env: d.env(), cwd: aliceDir }, (err, _o, e) =>
        resolve({ code: err ? 1 : 0, stderr: String(e) }),
      ),
    );
    expect(r.stderr).toMatch(/^vmsup: defined vm \d+ \(relvm\)\n$/);
    expect(r.code).toBe(0);
    const vm = await d.status('relvm');
    expect(vm?.kernel).toBe(path.join(aliceDir, 'rel-kernel'));
    expect(vm?.disks).toEqual([{ path: path.join(aliceDir, 'rel.img'), format: 'raw', readOnly: false }]);
    await undefine('relvm');
  });

  test('the daemon refuses a relative path with a clear error', async () => {
    const c = await Client.connect(d.socket);
    try {
      await expect(c.request('define', { name: 'relraw', config: { kernel: 'idle.elf' } })).rejects.toThrow('kernel path must be absolute: idle.elf');
      await expect(c.request('start', { vm: 'relraw2', config: { kernel: kernel, disks: [{ path: 'x.img', format: 'raw' }] } })).rejects.toThrow(
        'disk path must be absolute: x.img',
      );
    } finally {
      c.close();
    }
    expect(await d.status('relraw')).toBeUndefined();
  });
});
