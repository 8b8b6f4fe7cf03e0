// Access control: the socket is 0660 root:<group>; other users see and control
// only their own VMs (or their group's), and cannot hand the daemon files they
// could not read themselves. The users and the group are created here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Daemon, GUEST } from './harness.js';

const KERNEL = path.join(GUEST, 'Image');
const GROUP = 'vmsuptg';
const ALICE = 'vmsupta';
const BOB = 'vmsuptb';
const MALLORY = 'vmsuptm';

function sh(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

let d: Daemon;
beforeAll(async () => {
  // Each user gets a private primary group (-U), as Debian's adduser does.
  for (const u of [ALICE, BOB, MALLORY]) sh('userdel', [u]);
  sh('groupadd', ['-f', GROUP]);
  sh('useradd', ['-M', '-U', '-G', GROUP, ALICE]);
  sh('useradd', ['-M', '-U', '-G', GROUP, BOB]);
  sh('useradd', ['-M', '-U', MALLORY]);
  d = await Daemon.create({}, ['--group', GROUP]);
});
afterAll(async () => {
  await d.cleanup();
  for (const u of [ALICE, BOB, MALLORY]) sh('userdel', [u]);
  sh('groupdel', [GROUP]);
});

describe('the socket', () => {
  test('is 0660 root:<group>', () => {
    const st = fs.statSync(d.socket);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.uid).toBe(0);
    expect(st.gid).toBe(Number(spawnSync('getent', ['group', GROUP], { encoding: 'utf8' }).stdout.split(':')[2]));
  });

  test('refuses a user outside the group', async () => {
    const r = await d.vmsup(['status'], { asUser: MALLORY });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`vmsup: connect: ${d.socket}: Permission denied: vmsupd's socket refused this user`);
    expect(r.stderr).toContain(`usermod -aG ${GROUP} ${MALLORY}`);
  });
});

describe('ownership', () => {
  test('a user defines a VM of their own, which root sees as theirs', async () => {
    const r = await d.vmsup(['define', '-b', KERNEL, 'alicevm'], { asUser: ALICE });
    expect(r.code).toBe(0);
    const row = (await d.vmsup(['status', 'alicevm'])).stdout.split('\n')[1].trim().split(/\s+/);
    expect(row[6]).toBe(ALICE);
  });

  test("a user does not see or control root's VMs", async () => {
    await d.vmsup(['define', '-b', KERNEL, 'rootvm']);
    const s = await d.vmsup(['status', '--json'], { asUser: ALICE });
    expect(s.code).toBe(0);
    const names = (JSON.parse(s.stdout) as { name: string }[]).map((v) => v.name);
    expect(names).toContain('alicevm');
    expect(names).not.toContain('rootvm');
    for (const cmd of [['start', 'rootvm'], ['undefine', 'rootvm'], ['enable', 'rootvm'], ['stop', 'rootvm']]) {
      const r = await d.vmsup(cmd, { asUser: ALICE });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('vmsup: permission denied: vm rootvm belongs to another user\n');
    }
    expect((await d.status('rootvm'))?.enabled).toBe(false);
  });

  test("a group member controls a VM given to the group, others' private VMs stay private", async () => {
    expect((await d.vmsup(['define', '-b', KERNEL, '--owner', `${ALICE}:${GROUP}`, 'shared'])).code).toBe(0);
    const bobSees = (JSON.parse((await d.vmsup(['status', '--json'], { asUser: BOB })).stdout) as { name: string }[]).map((v) => v.name);
    expect(bobSees).toContain('shared');
    expect(bobSees).not.toContain('alicevm');
    expect((await d.vmsup(['enable', 'shared'], { asUser: BOB })).code).toBe(0);
    expect((await d.vmsup(['disable', 'shared'], { asUser: BOB })).code).toBe(0);
  });

  test('a user may not give a VM files they cannot read', async () => {
    const secret = path.join(d.dir, 'secret-kernel');
    fs.copyFileSync(KERNEL, secret);
    fs.chmodSync(secret, 0o600);
    const r = await d.vmsup(['define', '-b', secret, 'sneaky'], { asUser: ALICE });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`vmsup: cannot open kernel '${secret}': Permission denied\n`);
    expect(await d.status('sneaky')).toBeUndefined();
    // nor a disk they could read but not write
    const disk = path.join(d.dir, 'ro.img');
    fs.writeFileSync(disk, Buffer.alloc(65536));
    fs.chmodSync(disk, 0o644);
    const w = await d.vmsup(['define', '-b', KERNEL, '-d', disk, 'sneaky2'], { asUser: ALICE });
    expect(w.code).toBe(1);
    expect(w.stderr).toBe(`vmsup: cannot open disk '${disk}': Permission denied\n`);
  });

  test("a user starts their VM: the console tty is theirs (0620), and others cannot stop it", async () => {
    const linux = ['-m', '64M', '-b', KERNEL, '--initrd', path.join(GUEST, 'initramfs.cpio.gz')];
    const r = await d.vmsup(['start', ...linux, 'alicerun'], { asUser: ALICE });
    expect(r.code).toBe(0);
    const vm = await d.status('alicerun');
    const st = fs.statSync(vm!.tty as string);
    expect(st.uid).toBe(Number(spawnSync('id', ['-u', ALICE], { encoding: 'utf8' }).stdout.trim()));
    expect(st.mode & 0o777).toBe(0o620);
    const b = await d.vmsup(['stop', '-f', 'alicerun'], { asUser: BOB });
    expect(b.code).toBe(1);
    expect(b.stderr).toBe('vmsup: permission denied: vm alicerun belongs to another user\n');
    const a = await d.vmsup(['stop', '-f', 'alicerun'], { asUser: ALICE });
    expect(a.code).toBe(0);
    expect(await d.status('alicerun')).toBeUndefined();
  });

  test('a symlink does not lend a user a file behind a directory they cannot search', async () => {
    const priv = path.join(d.dir, 'private');
    fs.mkdirSync(priv, { mode: 0o700 });
    fs.copyFileSync(KERNEL, path.join(priv, 'kernel'));
    fs.chmodSync(path.join(priv, 'kernel'), 0o644);
    const link = path.join(d.dir, 'alice-link');
    fs.symlinkSync(path.join(priv, 'kernel'), link);
    const r = await d.vmsup(['define', '-b', link, 'linked'], { asUser: ALICE });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`vmsup: cannot open kernel '${link}': Permission denied\n`);
  });

  test('only root may give a VM away or change the daemon', async () => {
    const r = await d.vmsup(['define', '-b', KERNEL, '--owner', 'root', 'gift'], { asUser: ALICE });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vmsup: permission denied: only root may give a vm to another user or group\n/);
    for (const cmd of [['log', 'verbose'], ['reload'], ['reset', 'vms']]) {
      const x = await d.vmsup(cmd, { asUser: ALICE });
      expect(x.code).toBe(1);
      expect(x.stderr).toMatch(/^vmsup: permission denied: only root (or vmsupd's own user )?may/);
    }
  });
});
