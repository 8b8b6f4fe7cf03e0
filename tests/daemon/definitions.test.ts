// Definitions, persistence and bad input, through bin/vmsup against a real vmsupd.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { Daemon, GUEST, sleep, VMSUP } from './harness.js';

const KERNEL = path.join(GUEST, 'Image');
const INITRD = path.join(GUEST, 'initramfs.cpio.gz');

let d: Daemon;
beforeEach(async () => {
  d = await Daemon.create();
});
afterEach(async () => {
  await d.cleanup();
});

async function dbDump(): Promise<string> {
  const r = await d.vmsup(['status', '--json']);
  return r.stdout;
}

describe('define, status, enable, disable, undefine', () => {
  test('define stores a VM that status shows in vmctl\'s table', async () => {
    const r = await d.vmsup(['define', '-m', '64M', '--cpus', '2', '-b', KERNEL, '--initrd', INITRD, '--cmdline', 'console=ttyS0 quiet', 'web1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^vmsup: defined vm 1 \(web1\)/);
    const s = await d.vmsup(['status']);
    expect(s.code).toBe(0);
    const lines = s.stdout.trimEnd().split('\n');
    expect(lines[0].trim().split(/\s+/)).toEqual(['ID', 'PID', 'VCPUS', 'MAXMEM', 'CURMEM', 'TTY', 'OWNER', 'STATE', 'NAME']);
    expect(lines[1].trim().split(/\s+/)).toEqual(['1', '-', '2', '64M', '-', '-', 'root', 'stopped', 'web1']);
    const j = JSON.parse((await d.vmsup(['show', '--json', 'web1'])).stdout);
    expect(j[0]).toMatchObject({ name: 'web1', memory: 64 << 20, cpus: 2, kernel: KERNEL, initrd: INITRD, cmdline: 'console=ttyS0 quiet', enabled: false });
  });

  test('enable and disable flip autostart and are logged', async () => {
    await d.vmsup(['define', '-b', KERNEL, 'a']);
    expect((await d.vmsup(['enable', 'a'])).code).toBe(0);
    expect((await d.status('a'))?.enabled).toBe(true);
    expect((await d.vmsup(['disable', '1'])).code).toBe(0);
    expect((await d.status('a'))?.enabled).toBe(false);
    const ev = JSON.parse((await d.vmsup(['events', '--json', 'a'])).stdout) as { to: string; reason: string }[];
    expect(ev.map((e) => e.reason)).toEqual(['defined by root', 'enabled for autostart by root', 'disabled for autostart by root']);
  });

  test('events -f streams state changes as they happen', async () => {
    await d.vmsup(['define', '-b', KERNEL, 'watched']);
    const f = spawn(process.execPath, [VMSUP, 'events', '-f', '--json', 'watched'], { env: d.env() });
    let out = '';
    f.stdout.on('data', (b) => (out += b));
    const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { to: string; reason: string });
    const until = async (n: number) => {
      for (let i = 0; i < 300 && lines().length < n; i++) await sleep(100);
    };
    await until(1); // the backlog: its definition
    await d.vmsup(['enable', 'watched']);
    await d.vmsup(['undefine', 'watched']);
    await until(3);
    f.kill();
    expect(lines().map((e) => e.reason)).toEqual(['defined by root', 'enabled for autostart by root', 'undefined by root']);
  });

  test('undefine forgets the VM; its history stays in the event log', async () => {
    await d.vmsup(['define', '-b', KERNEL, 'gone']);
    const r = await d.vmsup(['undefine', 'gone']);
    expect(r.code).toBe(0);
    expect(await d.status('gone')).toBeUndefined();
    const ev = JSON.parse((await d.vmsup(['events', '--json', 'gone'])).stdout) as { to: string }[];
    expect(ev.map((e) => e.to)).toEqual(['defined', 'undefined']);
  });

  test('disks keep the format they were defined with', async () => {
    const img = path.join(d.dir, 'disk.img');
    fs.writeFileSync(img, Buffer.alloc(1 << 20));
    const q = path.join(d.dir, 'disk.qcow2');
    fs.writeFileSync(q, Buffer.alloc(1 << 16));
    expect((await d.vmsup(['define', '-b', KERNEL, '-d', img, '-d', `qcow2:${q}`, 'withdisks'])).code).toBe(0);
    const vm = await d.status('withdisks');
    expect(vm?.disks).toEqual([
      { path: img, format: 'raw', readOnly: false },
      { path: q, format: 'qcow2', readOnly: false },
    ]);
  });

  test('-t makes an instance of a template VM, with its options over the template\'s', async () => {
    await d.vmsup(['define', '-m', '64M', '--cpus', '2', '-b', KERNEL, '--initrd', INITRD, 'base']);
    expect((await d.vmsup(['define', '-t', 'base', '-m', '32M', 'inst'])).code).toBe(0);
    expect(await d.status('inst')).toMatchObject({ template: 'base', memory: 32 << 20, cpus: 2, kernel: KERNEL, initrd: INITRD });
    const bad = await d.vmsup(['define', '-t', 'nosuch', 'inst2']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('vmsup: vm not found: nosuch\n');
  });

  test('commands match by unique prefix, as vmctl\'s do', async () => {
    await d.vmsup(['def', '-b', KERNEL, 'pfx']);
    expect((await d.vmsup(['stat', 'pfx'])).stdout).toMatch(/pfx/);
    const amb = await d.vmsup(['st', 'pfx']);
    expect(amb.code).toBe(2);
    expect(amb.stderr).toMatch(/^vmsup: ambiguous argument: st/);
  });
});

describe('persistence', () => {
  test('definitions survive a daemon restart', async () => {
    await d.vmsup(['define', '-m', '32M', '-b', KERNEL, '--cmdline', 'console=ttyS0 x=1', 'keep']);
    expect(await d.stop()).toBe(0);
    await d.start();
    const vm = await d.status('keep');
    expect(vm).toMatchObject({ id: 1, name: 'keep', memory: 32 << 20, cmdline: 'console=ttyS0 x=1', state: 'stopped' });
  });

  test('definitions survive kill -9', async () => {
    await d.vmsup(['define', '-b', KERNEL, 'k1']);
    await d.vmsup(['define', '-b', KERNEL, '--cpus', '3', 'k2']);
    await d.kill9();
    await d.start();
    expect((await d.status('k1'))?.state).toBe('stopped');
    expect((await d.status('k2'))?.cpus).toBe(3);
  });
});

describe('bad input: one clear line, non-zero exit, nothing changes', () => {
  const cases: [string, string[], RegExp][] = [
    ['a name starting with a dot', ['define', '-b', KERNEL, '.hidden'], /^vmsup: invalid VM name\n/],
    ['a name starting with a dash', ['define', '-b', KERNEL, '--', '-x'], /vmsup: /],
    ['a name with a slash', ['define', '-b', KERNEL, 'a/b'], /^vmsup: invalid VM name\n/],
    ['a name of 64 bytes', ['define', '-b', KERNEL, 'x'.repeat(64)], /^vmsup: name too long/],
    ['memory below the limit', ['define', '-m', '8M', '-b', KERNEL, 'm'], /^vmsup: memory size must be between 16M and 32G\n/],
    ['memory above the limit', ['define', '-m', '64G', '-b', KERNEL, 'm'], /^vmsup: memory size must be between 16M and 32G\n/],
    ['an unparsable size', ['define', '-m', 'lots', '-b', KERNEL, 'm'], /^vmsup: invalid memory size: lots\n/],
    ['too many vCPUs', ['define', '--cpus', '9', '-b', KERNEL, 'c'], /^vmsup: invalid number of cpus: 9/],
    ['too many disks', ['define', '-b', KERNEL, '-d', 'a', '-d', 'b', '-d', 'c', '-d', 'd', '-d', 'e', 'dd'], /^vmsup: too many disks\n/],
    ['a missing kernel', ['define', '-b', '/nonexistent/kernel', 'nk'], /^vmsup: cannot open kernel '\/nonexistent\/kernel': No such file or directory\n/],
    ['no kernel at all', ['define', 'bare'], /^vmsup: no kernel or disk\/cdrom specified\n/],
    ['a disk given twice', ['define', '-b', KERNEL, '-d', KERNEL, '-d', KERNEL, 'twice'], /^vmsup: disk .* given twice\n/],
    ['an unknown VM', ['start', 'nosuchvm'], /^vmsup: vm not found: nosuchvm\n/],
    ['stop of an unknown VM', ['stop', 'nosuchvm'], /^vmsup: vm not found: nosuchvm\n/],
    ['undefine of an unknown VM', ['undefine', '42'], /^vmsup: vm not found: 42\n/],
    ['an unknown option', ['start', '-Z', 'x'], /^vmsup: unknown option: -Z\n/],
    ['an unknown command', ['frobnicate'], /^vmsup: unknown command: frobnicate\n/],
  ];
  for (const [what, args, msg] of cases) {
    test(what, async () => {
      await d.vmsup(['define', '-b', KERNEL, 'existing']);
      const before = await dbDump();
      const r = await d.vmsup(args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(await dbDump()).toBe(before);
    });
  }

  test('a duplicate name', async () => {
    await d.vmsup(['define', '-b', KERNEL, 'dup']);
    const before = await dbDump();
    const r = await d.vmsup(['define', '-m', '32M', '-b', KERNEL, 'dup']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('vmsup: vm dup already exists\n');
    expect(await dbDump()).toBe(before);
  });

  test('stopping a stopped VM', async () => {
    await d.vmsup(['define', '-b', KERNEL, 'idle']);
    const before = await dbDump();
    const r = await d.vmsup(['stop', 'idle']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('vmsup: stopping vm idle: cannot stop vm that is not running\n');
    expect(await dbDump()).toBe(before);
  });

  test('undefining a running VM is refused', async () => {
    await d.vmsup(['define', '-b', KERNEL, 'x']);
    // pause of a stopped VM: a state error, not a crash
    const r = await d.vmsup(['pause', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('vmsup: pause vm command failed: vm x is stopped\n');
  });

  test('with no daemon, the CLI says where it looked', async () => {
    await d.stop();
    const r = await d.vmsup(['status']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`vmsup: connect: ${d.socket}: No such file or directory`);
  });
});
