// Issue 3 acceptance: the reference riscv64 Linux guest (../shared/guest)
// boots under `vmsup run` on the virt board — directly in S-mode with the
// emulator's SBI, or through OpenSBI fw_jump — with the initramfs or an ext4
// root on virtio-blk, answers on its serial console, and powers off or
// reboots on request.
import fs from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { G, GuestConsole, debugfsCat, e2fsck, rootfsCopy, runVmsup, scratchDir, vmsup } from './guest.js';

const dir = scratchDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('vmsup run boots Linux', () => {
  test('initramfs with vmsup.test=poweroff prints the marker and exits 0', () => {
    const r = runVmsup(['-b', G.image, '--initrd', G.initrd, '--cmdline', 'console=ttyS0 vmsup.test=poweroff']);
    expect(r.stdout).toMatch(/^VMSUP-GUEST-READY\r?$/m);
    expect(r.stdout).toMatch(/reboot: Power down/);
    expect(r.status, r.stderr).toBe(0);
  });

  test('vmsup.test=bench computes the expected CRC (1 MiB)', () => {
    const r = runVmsup(['-b', G.image, '--initrd', G.initrd, '--cmdline', 'console=ttyS0 vmsup.test=bench vmsup.bench_mb=1']);
    expect(r.stdout).toMatch(/^BENCH-DONE 665310df \d+\r?$/m);
    expect(r.status, r.stderr).toBe(0);
  });

  test('vmsup.test=bench computes the expected CRC (64 MiB default)', () => {
    const r = runVmsup(['-b', G.image, '--initrd', G.initrd, '--cmdline', 'console=ttyS0 vmsup.test=bench'], 400);
    expect(r.stdout).toMatch(/^BENCH-DONE b82eeeec \d+\r?$/m);
    expect(r.status, r.stderr).toBe(0);
  }, 420_000);

  for (const firmware of [false, true]) {
    test(`ext4 root on virtio-blk${firmware ? ' through OpenSBI fw_jump' : ''}: a file written from the shell survives power-off`, async () => {
      const disk = rootfsCopy(dir);
      const args = ['-b', G.image, '-d', disk, '--cmdline', 'console=ttyS0 root=/dev/vda rw'];
      if (firmware) args.unshift('--bios', G.fwJump);
      const c = GuestConsole.run(args);
      try {
        await c.waitFor(/VMSUP-GUEST-READY/);
        if (firmware) expect(c.out).toMatch(/OpenSBI v1\.1/);
        await c.waitFor(/vmsup-guest:[^\n]*# $/);
        const release = await c.sh('cat /etc/guest-release');
        expect(release).toMatch(/VMSUP_GUEST_ROOT=ext4/);
        await c.sh('echo written-by-the-guest-$((40+2)) > /vmsup-file');
        await c.sh('sync');
        c.type('poweroff\n');
        expect(await c.exited).toBe(0);
        expect(c.out).toMatch(/reboot: Power down/);
      } finally {
        c.kill();
      }
      const fsck = e2fsck(disk);
      expect(fsck.status, fsck.output).toBe(0);
      expect(debugfsCat(disk, '/vmsup-file')).toBe('written-by-the-guest-42\n');
    }, 300_000);
  }

  test('a read-only disk is read-only in the guest', async () => {
    const disk = rootfsCopy(dir);
    const before = fs.readFileSync(disk);
    const c = GuestConsole.run(['-b', G.image, '--initrd', G.initrd, '-r', disk]);
    try {
      await c.waitFor(/vmsup-guest:[^\n]*# $/);
      expect(await c.sh('cat /sys/block/vda/ro')).toMatch(/^1$/m);
      expect(await c.sh('dd if=/dev/zero of=/dev/vda bs=512 count=1 2>&1; echo rc=$?')).toMatch(/rc=1/);
      c.type('poweroff\n');
      expect(await c.exited).toBe(0);
    } finally {
      c.kill();
    }
    expect(fs.readFileSync(disk).equals(before)).toBe(true);
  }, 300_000);

  test('the shell answers through a pty, and Ctrl-Alt-Del (SIGTERM to vmsup) powers the guest off cleanly', async () => {
    // script(1) gives vmsup a terminal, so it runs its console in raw mode.
    const inner = [process.execPath, vmsup, 'run', '-b', G.image, '--initrd', G.initrd]
      .map((x) => `'${x}'`)
      .join(' ');
    const c = new GuestConsole(['timeout', '-k', '5', '240', 'script', '-qfec', `exec ${inner}`, '/dev/null']);
    try {
      await c.waitFor(/vmsup-guest:[^\n]*# $/);
      // A terminal in raw mode: the guest's tty does the echo, and ^C reaches the guest.
      const out = await c.sh('echo $((6 * 7)) && tty');
      expect(out).toMatch(/^42$/m);
      expect(out).toMatch(/\/dev\/(console|ttyS0)/);
      c.type('sleep 100\n');
      await new Promise((r) => setTimeout(r, 1000));
      c.type('\x03');
      await c.waitFor(/vmsup-guest:[^\n]*# $/, 60_000, c.out.length - 1);
      // Ctrl-Alt-Del from the host side: busybox init runs its ::ctrlaltdel: action.
      const pid = findVmsup(c.proc.pid!);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGTERM');
      await c.waitFor(/The system is going down NOW!/);
      await c.waitFor(/reboot: Power down/);
      expect(await c.exited).toBe(0);
    } finally {
      c.kill();
    }
  }, 300_000);

  test.each([false, true])('reboot -f boots the guest again, then it powers off (firmware: %s)', async (firmware) => {
    const args = ['-b', G.image, '--initrd', G.initrd];
    if (firmware) args.unshift('-c', '2', '--bios', G.fwJump);
    const c = GuestConsole.run(args);
    try {
      const first = await c.waitFor(/vmsup-guest:[^\n]*# $/);
      c.type('reboot -f\n');
      await c.waitFor(/reboot: Restarting system/, 120_000, first);
      const second = await c.waitFor(/VMSUP-GUEST-READY/, 180_000, first);
      await c.waitFor(/vmsup-guest:[^\n]*# $/, 120_000, second);
      c.type('poweroff -f\n');
      expect(await c.exited).toBe(0);
      expect(c.out.match(/VMSUP-GUEST-READY/g)?.length).toBe(2);
      if (firmware) expect(c.out.match(/OpenSBI v1\.1/g)?.length).toBe(2);
    } finally {
      c.kill();
    }
  }, 300_000);

  test('two harts: the kernel brings up the secondary through SBI HSM', async () => {
    const c = GuestConsole.run(['-c', '2', '-b', G.image, '--initrd', G.initrd]);
    try {
      await c.waitFor(/vmsup-guest:[^\n]*# $/);
      expect(c.out).toMatch(/smp: Brought up 1 node, 2 CPUs/);
      expect(await c.sh('grep -c ^processor /proc/cpuinfo')).toMatch(/^2$/m);
      c.type('poweroff -f\n');
      expect(await c.exited).toBe(0);
    } finally {
      c.kill();
    }
  }, 300_000);
});

// Issue 11: Linux boots on the default engine (the JIT on x86-64; VMSUP_JIT=0 runs this on the
// interpreter) with four harts, directly and through OpenSBI's fw_jump, and every hart runs code.
describe('four harts on the default engine (the JIT on x86-64)', () => {
  test.each([false, true])('Linux brings up 4 harts and runs on each (firmware: %s)', async (firmware) => {
    const args = ['-c', '4', '-b', G.image, '--initrd', G.initrd];
    if (firmware) args.unshift('--bios', G.fwJump);
    const c = GuestConsole.run(args);
    try {
      await c.waitFor(/vmsup-guest:[^\n]*# $/, 240_000);
      expect(c.out).toMatch(/smp: Brought up 1 node, 4 CPUs/);
      if (firmware) expect(c.out).toMatch(/OpenSBI v1\.1/);
      // A process pinned to each hart in turn runs there: field 39 of its /proc/self/stat is the
      // hart it last ran on.
      expect(await c.sh("for i in 0 1 2 3; do taskset -c $i awk '{print \"ran-on-\" $39}' /proc/self/stat; done")).toMatch(
        /ran-on-0\s+ran-on-1\s+ran-on-2\s+ran-on-3/,
      );
      c.type('poweroff -f\n');
      expect(await c.exited).toBe(0);
    } finally {
      c.kill();
    }
  }, 300_000);
});

/** The `vmsup run` node process among the descendants of `top`. */
function findVmsup(top: number): number {
  const children = new Map<number, number[]>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      /* gone */
    }
  }
  const queue = [top];
  while (queue.length) {
    const p = queue.shift()!;
    for (const c of children.get(p) ?? []) {
      try {
        const cmd = fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0');
        if (cmd[0] === process.execPath && cmd[1] === vmsup) return c;
      } catch {
        /* gone */
      }
      queue.push(c);
    }
  }
  return -1;
}
