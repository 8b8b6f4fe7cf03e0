// Issue 13, "Boot from disk and cdrom": with no -b, `vmsup run` boots disks
// and cdroms as qemu-system-riscv64 -M virt does, through OpenSBI fw_dynamic
// and U-Boot's distro boot (extlinux.conf on MBR and GPT, boot.scr, an ISO
// 9660 cdrom), honours -B, runs raw -b binaries and M-mode firmware ELFs, and
// turns bad media into firmware errors on a VM that still powers off.
// The media are built from the shared guest by make-images.sh.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_FIRMWARE, DEFAULT_UBOOT } from '../../daemon/settings.js';
import { Daemon, onPty } from '../daemon/harness.js';
import { GuestConsole, guestDir, root, runVmsup, scratchDir } from './guest.js';

const dir = scratchDir();
const img = (name: string) => path.join(dir, name);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  const r = spawnSync('bash', [path.join(root, 'tests/boot/make-images.sh'), dir, guestDir], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}, 120_000);

/** Boots to the guest's marker (vmsup.test=poweroff) and returns the console. */
function bootsToMarker(args: string[]): string {
  const r = runVmsup([...args, '--timeout', '150'], 170);
  expect(r.stdout, r.stderr).toMatch(/^VMSUP-GUEST-READY\r?$/m);
  expect(r.stdout).toMatch(/reboot: Power down/);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('firmware boot: OpenSBI fw_dynamic + U-Boot distro boot', () => {
  test('extlinux.conf on an MBR partition (ext4)', () => {
    const out = bootsToMarker(['-d', img('mbr-extlinux.img')]);
    expect(out).toMatch(/OpenSBI v1\.1/);
    expect(out).toMatch(/Firmware Base\s+: 0x80000000/);
    expect(out).toMatch(/Domain0 Next Address\s+: 0x0*80200000/);
    expect(out).toMatch(/U-Boot 2023\.01/);
    expect(out).toMatch(/Found \/boot\/extlinux\/extlinux\.conf/);
  }, 200_000);

  test('--bios fw_dynamic.bin runs a Linux Image directly (the fw_dynamic info in a2)', () => {
    const out = bootsToMarker(['--bios', DEFAULT_FIRMWARE, '-b', path.join(guestDir, 'Image'),
      '--initrd', path.join(guestDir, 'initramfs.cpio.gz'), '--cmdline', 'console=ttyS0 vmsup.test=poweroff']);
    expect(out).toMatch(/Domain0 Next Address\s+: 0x0*80200000/);
    expect(out).toMatch(/Domain0 Next Mode\s+: S-mode/);
  }, 200_000);

  test('extlinux.conf on a GPT partition (ext4), two harts', () => {
    const out = bootsToMarker(['-c', '2', '-d', img('gpt-extlinux.img')]);
    expect(out).toMatch(/Platform HART Count\s+: 2/);
    expect(out).toMatch(/smp: Brought up 1 node, 2 CPUs/);
    expect(out).toMatch(/Found \/extlinux\/extlinux\.conf/);
  }, 200_000);

  test('boot.scr on a GPT FAT partition', () => {
    const out = bootsToMarker(['-d', img('gpt-bootscr.img')]);
    expect(out).toMatch(/Found U-Boot script \/boot\.scr/);
    expect(out).toMatch(/^VMSUP-BOOT-SCRIPT\r?$/m);
  }, 200_000);

  test('EFI: bootefi runs efi/boot/bootriscv64.efi from an EFI system partition', () => {
    // The shared guest kernel has no EFI stub (CONFIG_EFI is off), so the EFI binary is
    // efi-hello.S: it prints through ConOut and powers off through ResetSystem.
    const r = runVmsup(['-d', img('esp-efi.img'), '--timeout', '150'], 170);
    expect(r.stdout, r.stderr).toMatch(/Found EFI removable media binary efi\/boot\/bootriscv64\.efi/);
    expect(r.stdout).toMatch(/^VMSUP-EFI-HELLO\r?$/m);
    expect(r.status, r.stderr).toBe(0);
  }, 200_000);

  test('-r: an ISO 9660 cdrom made by xorriso', () => {
    const out = bootsToMarker(['-r', img('cdrom.iso')]);
    expect(out).toMatch(/Found \/extlinux\/extlinux\.conf/);
  }, 200_000);

  test('-B cdrom boots the cdrom before a disk; by default the disk goes first', () => {
    // The disk's extlinux.conf is under /boot, the cdrom's at the root.
    const cd = bootsToMarker(['-d', img('mbr-extlinux.img'), '-r', img('cdrom.iso'), '-B', 'cdrom']);
    expect(cd).toMatch(/Found \/extlinux\/extlinux\.conf/);
    expect(cd).not.toMatch(/Found \/boot\/extlinux/);
    const disk = bootsToMarker(['-r', img('cdrom.iso'), '-d', img('mbr-extlinux.img')]);
    expect(disk).toMatch(/Found \/boot\/extlinux\/extlinux\.conf/);
  }, 300_000);

  test('-b: U-Boot as a raw binary at 0x80200000, after fw_jump or the default firmware', () => {
    const jump = bootsToMarker(['--bios', path.join(guestDir, 'fw_jump.bin'), '-b', DEFAULT_UBOOT, '-d', img('gpt-extlinux.img')]);
    expect(jump).toMatch(/Firmware Base\s+: 0x80000000/);
    expect(jump).toMatch(/U-Boot 2023\.01/);
    const dflt = bootsToMarker(['-b', DEFAULT_UBOOT, '-d', img('gpt-extlinux.img')]);
    expect(dflt).toMatch(/OpenSBI v1\.1/);
  }, 300_000);
});

/** Starts a run, waits for the firmware's prompt after `errorRe`, then powers off from it. */
async function firmwareErrorThenPoweroff(args: string[], errorRe: RegExp): Promise<string> {
  const c = GuestConsole.run([...args, '--timeout', '150'], 170);
  try {
    const at = await c.waitFor(errorRe, 150_000);
    // Distro boot gives up on every target and U-Boot waits at its prompt.
    await c.waitFor(/\n=> $/, 150_000, at);
    c.type('poweroff\n');
    expect(await c.exited).toBe(0);
    expect(c.out).not.toMatch(/VMSUP-GUEST-READY/);
    expect(c.out).not.toMatch(/Starting kernel/);
    return c.out;
  } finally {
    c.kill();
  }
}

describe('bad media end in a firmware error; the VM stays stoppable', () => {
  test('a partition table pointing past the disk\'s end', async () => {
    await firmwareErrorThenPoweroff(['-d', img('bad-pastend.img')], /fs_devread read error/);
  }, 200_000);

  test('an extlinux.conf naming missing files; U-Boot\'s reset reboots the board (FDT reboot/SRST)', async () => {
    const c = GuestConsole.run(['-d', img('bad-missing.img'), '--timeout', '150'], 170);
    try {
      let at = await c.waitFor(/File not found \/boot\/no-such-initrd/, 150_000);
      at = await c.waitFor(/EXTLINUX FAILED/, 150_000, at);
      at = await c.waitFor(/\n=> $/, 150_000, at);
      c.type('reset\n');
      at = await c.waitFor(/U-Boot 2023\.01/, 150_000, at);  // a second boot of the firmware
      at = await c.waitFor(/\n=> $/, 150_000, at);
      c.type('poweroff\n');
      expect(await c.exited).toBe(0);
      expect(c.out).not.toMatch(/Starting kernel/);
    } finally {
      c.kill();
    }
  }, 200_000);

  test('a truncated ISO', async () => {
    await firmwareErrorThenPoweroff(['-r', img('bad-trunc.iso')], /Unable to read file|read error/);
  }, 200_000);

  test('a hostile ISO (boot image far past the end)', async () => {
    await firmwareErrorThenPoweroff(['-r', img('bad-hostile.iso')], /fs_devread read error/);
  }, 200_000);

  test('-B net with no network device: U-Boot tries DHCP only', async () => {
    const out = await firmwareErrorThenPoweroff(['-d', img('mbr-extlinux.img'), '-B', 'net'], /No ethernet found/);
    expect(out).not.toMatch(/Scanning virtio/);
  }, 200_000);
});

test('an M-mode ELF gets a0 = hartid and a1 = the FDT: Debian\'s M-mode U-Boot ELF runs and prints', async () => {
  const c = GuestConsole.run(['-b', '/usr/lib/u-boot/qemu-riscv64/uboot.elf', '--timeout', '150'], 170);
  try {
    await c.waitFor(/U-Boot 2023\.01/, 150_000);
    await c.waitFor(/Model: riscv-virtio,vmsup/, 150_000);
    await c.waitFor(/\n=> $/, 150_000);
    c.type('poweroff\n');
    expect(await c.exited).toBe(0);
  } finally {
    c.kill();
  }
}, 200_000);

test('the daemon boots a disk with no -b through its firmware settings, and -r/-B cdrom', async () => {
  const d = await Daemon.create({ firmware: DEFAULT_FIRMWARE, uboot: DEFAULT_UBOOT });
  try {
    const def = await d.vmsup(['define', '-m', '256M', '-d', img('bad-missing.img'), '-r', img('cdrom.iso'), '-B', 'cdrom', 'fromcd']);
    expect(def.code, def.stderr).toBe(0);
    const c = onPty(d, ['start', '-c', 'fromcd'], 150_000);
    await c.waitFor(/U-Boot 2023\.01/);
    await c.waitFor(/VMSUP-GUEST-READY/);
    c.close();
    await d.waitState('fromcd', 'stopped', 150_000);  // vmsup.test=poweroff
  } finally {
    await d.cleanup();
  }
}, 240_000);

test('the daemon: a hostile cdrom ends at U-Boot\'s prompt with a firmware error, and stop -f stops the VM', async () => {
  const d = await Daemon.create();
  try {
    const def = await d.vmsup(['define', '-r', img('bad-hostile.iso'), '-B', 'cdrom', 'badcd']);
    expect(def.code, def.stderr).toBe(0);
    const c = onPty(d, ['start', '-c', 'badcd'], 150_000);
    await c.waitFor(/fs_devread read error/);
    await c.waitFor(/\n=> $/);
    c.close();
    expect((await d.status('badcd'))!.state).toBe('running');
    const r = await d.vmsup(['stop', '-f', 'badcd']);
    expect(r.code, r.stderr).toBe(0);
    await d.waitState('badcd', 'stopped', 60_000);
    // The daemon is alive and answers.
    expect((await d.vmsup(['status'])).code).toBe(0);
  } finally {
    await d.cleanup();
  }
}, 240_000);
