// vmsupd's save and restore (issue 10) with the reference Linux guest: a
// marker written into the guest's tmpfs, `vmsup pause` + `vmsup save NAME FILE`,
// the VM stopped, a corrupted copy refused while the daemon keeps serving,
// then `vmsup restore FILE` and the marker read back through the console.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Daemon, GUEST, onPty as onPtyOf } from '../daemon/harness.js';

const LINUX = ['-m', '128M', '-b', path.join(GUEST, 'Image'), '--initrd', path.join(GUEST, 'initramfs.cpio.gz')];
const haveGuest = fs.existsSync(path.join(GUEST, 'Image'));

let d: Daemon | undefined;
afterEach(async () => {
  await d?.cleanup();
  d = undefined;
});

test.skipIf(!haveGuest)('pause + save NAME FILE, stop, restore FILE: the guest continues with its tmpfs', async () => {
  d = await Daemon.create();
  const onPty = (args: string[]) => onPtyOf(d!, args, 120_000);
  expect((await d.vmsup(['define', ...LINUX, '--cmdline', 'console=ttyS0', 'snap'])).code).toBe(0);
  const c = onPty(['start', '-c', 'snap']);
  await c.waitFor(/vmsup-guest:\/# /);
  c.type('echo MARK-$((40+2)) > /tmp/marker; echo WROTE\r');
  await c.waitFor(/\nWROTE/);
  c.type('\r~.');
  expect(await c.exited).toBe(0);
  c.close();

  const file = path.join(d.dir, 'snap.vmsave');
  const running = await d.vmsup(['save', 'snap', file]);
  expect(running.code).not.toBe(0);
  expect(running.stderr).toMatch(/save vm command failed: vm snap is running/);
  expect((await d.vmsup(['pause', 'snap'])).code).toBe(0);
  const saved = await d.vmsup(['save', 'snap', file]);
  expect(saved.code, saved.stderr).toBe(0);
  expect(saved.stderr + saved.stdout).toMatch(/saved vm \d+ to .*snap\.vmsave/);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  // A second save does not overwrite the file.
  expect((await d.vmsup(['save', 'snap', file])).stderr).toMatch(/File exists/);
  expect((await d.vmsup(['stop', '-f', 'snap'])).code).toBe(0);
  await d.waitState('snap', 'stopped');

  // Corrupted and truncated copies: a clear error each, the VM stays stopped, the daemon serves on.
  const good = fs.readFileSync(file);
  const bad = Buffer.from(good);
  bad[Math.floor(good.length / 2)] ^= 1;
  fs.writeFileSync(path.join(d.dir, 'bad.vmsave'), bad);
  fs.writeFileSync(path.join(d.dir, 'short.vmsave'), good.subarray(0, good.length - 100));
  const r1 = await d.vmsup(['restore', path.join(d.dir, 'bad.vmsave')]);
  expect(r1.code).not.toBe(0);
  expect(r1.stderr).toMatch(/restore command failed: .*CRC mismatch/);
  const r2 = await d.vmsup(['restore', path.join(d.dir, 'short.vmsave')]);
  expect(r2.code).not.toBe(0);
  expect(r2.stderr).toMatch(/restore command failed: .*truncated/);
  expect((await d.status('snap'))!.state).toBe('stopped');

  const restored = await d.vmsup(['restore', file]);
  expect(restored.code, restored.stderr).toBe(0);
  expect((await d.status('snap'))!.state).toBe('running');
  const c2 = onPty(['console', 'snap']);
  await c2.waitFor(/Connected\./);
  c2.type('cat /tmp/marker\r');
  await c2.waitFor(/MARK-42/);
  c2.type('\r~.');
  expect(await c2.exited).toBe(0);
  c2.close();
}, 200_000);

test.skipIf(!haveGuest || process.getuid?.() !== 0)('save and restore open files only as the client could', async () => {
  const GROUP = 'vmsupsg';
  const USER = 'vmsupsu';
  const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' });
  sh('userdel', [USER]);
  sh('groupadd', ['-f', GROUP]);
  sh('useradd', ['-M', '-U', '-G', GROUP, USER]);
  try {
    d = await Daemon.create({}, ['--group', GROUP]);
    const as = { asUser: USER };
    expect((await d.vmsup(['define', ...LINUX, 'usersnap'], as)).code).toBe(0);
    expect((await d.vmsup(['start', 'usersnap'], as)).code).toBe(0);
    expect((await d.vmsup(['pause', 'usersnap'], as)).code).toBe(0);
    // d.dir is root's (0755): the user cannot create files there, so neither will the daemon for them.
    const denied = await d.vmsup(['save', 'usersnap', path.join(d.dir, 'x.vmsave')], as);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/cannot create .*x\.vmsave: Permission denied/);
    expect(fs.existsSync(path.join(d.dir, 'x.vmsave'))).toBe(false);
    const own = fs.mkdtempSync(path.join(d.dir, 'user-'));
    const uid = Number(spawnSync('id', ['-u', USER], { encoding: 'utf8' }).stdout.trim());
    fs.chownSync(own, uid, -1);
    const file = path.join(own, 'u.vmsave');
    const ok = await d.vmsup(['save', 'usersnap', file], as);
    expect(ok.code, ok.stderr).toBe(0);
    expect(fs.statSync(file).uid).toBe(uid);
    // A root-only copy of it: the user may not make the daemon read it.
    const rootOnly = path.join(d.dir, 'root.vmsave');
    fs.copyFileSync(file, rootOnly);
    fs.chmodSync(rootOnly, 0o600);
    expect((await d.vmsup(['stop', '-f', 'usersnap'], as)).code).toBe(0);
    await d.waitState('usersnap', 'stopped');
    const r1 = await d.vmsup(['restore', rootOnly], as);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toMatch(/cannot open snapshot .*root\.vmsave.*Permission denied/);
    const r2 = await d.vmsup(['restore', file], as);
    expect(r2.code, r2.stderr).toBe(0);
    expect((await d.status('usersnap'))!.state).toBe('running');
  } finally {
    await d?.cleanup();
    d = undefined;
    sh('userdel', [USER]);
    sh('groupdel', [GROUP]);
  }
}, 200_000);

test.skipIf(!haveGuest)('restore refuses a disk modified since the save, with the reason, unless -f', async () => {
  d = await Daemon.create();
  const disk = path.join(d.dir, 'disk.raw');
  fs.writeFileSync(disk, Buffer.alloc(4 << 20));
  expect((await d.vmsup(['define', ...LINUX, '-d', disk, 'withdisk'])).code).toBe(0);
  expect((await d.vmsup(['start', 'withdisk'])).code).toBe(0);
  expect((await d.vmsup(['pause', 'withdisk'])).code).toBe(0);
  const file = path.join(d.dir, 'withdisk.vmsave');
  expect((await d.vmsup(['save', 'withdisk', file])).code).toBe(0);
  expect((await d.vmsup(['stop', '-f', 'withdisk'])).code).toBe(0);
  await d.waitState('withdisk', 'stopped');
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(disk, later, later);
  const refused = await d.vmsup(['restore', file]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/disk .*disk\.raw.* changed since the save: it was modified after the save/);
  expect((await d.status('withdisk'))!.state).toBe('stopped');
  const forced = await d.vmsup(['restore', '-f', file]);
  expect(forced.code, forced.stderr).toBe(0);
  expect((await d.status('withdisk'))!.state).toBe('running');
}, 200_000);
