// Guests survive a daemon restart (issue 10): on SIGTERM vmsupd saves every
// running guest into its state directory (on_shutdown = save, the default);
// the next vmsupd resumes it with RAM intact, console history kept and uptime
// continuing. A saved state that cannot be restored boots the VM afresh, with
// the reason in the events.
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

interface Ev { to: string; reason: string }

test.skipIf(!haveGuest)('SIGTERM saves the running guest; the next vmsupd resumes it', async () => {
  d = await Daemon.create();
  const onPty = (args: string[]) => onPtyOf(d!, args, 120_000);
  expect((await d.vmsup(['define', ...LINUX, '--cmdline', 'console=ttyS0', 'keep'])).code).toBe(0);
  const c = onPty(['start', '-c', 'keep']);
  await c.waitFor(/vmsup-guest:\/# /);
  c.type('echo MARK-$((40+2)) > /tmp/marker; echo UP=$(cut -d" " -f1 /proc/uptime) WROTE\r');
  await c.waitFor(/UP=[0-9.]+ WROTE/);
  const up0 = Number(/UP=([0-9.]+) WROTE/.exec(c.screen())![1]);
  // Output while no client is attached goes to the console history.
  c.type('(sleep 2; echo HISTORY-$((3+4))) &\r');
  // The guest echoed the line and prompts again (a detach escape right away could overtake it).
  await c.waitFor(/HISTORY-\$\(\(3\+4\)\)\) &\s*\r?\n(\[\d+\] \d+\s*)?vmsup-guest:\/# /);
  c.type('\r~.');
  expect(await c.exited).toBe(0);
  c.close();
  await new Promise((r) => setTimeout(r, 3500));

  expect(await d.stop()).toBe(0);
  expect(fs.existsSync(path.join(d.stateDir, 'resume', '1.vmsave'))).toBe(true);
  expect(fs.readFileSync(path.join(d.stateDir, 'resume', '1.console'), 'latin1')).toMatch(/HISTORY-7/);
  const t0 = Date.now();
  await d.start();
  await d.waitState('keep', 'running');
  const ms = Date.now() - t0;
  console.log(`daemon restart to the guest running again: ${ms} ms`);
  expect(fs.readdirSync(path.join(d.stateDir, 'resume'))).toEqual([]);

  const c2 = onPty(['console', 'keep']);
  await c2.waitFor(/Connected\./);
  await c2.waitFor(/HISTORY-7/, 10_000);  // the console history from before the restart
  c2.type('cat /tmp/marker; echo UP2=$(cut -d" " -f1 /proc/uptime)\r');
  await c2.waitFor(/UP2=[0-9.]+/);
  expect(c2.screen()).toMatch(/MARK-42/);
  const up1 = Number(/UP2=([0-9.]+)/.exec(c2.screen())![1]);
  expect(up1).toBeGreaterThanOrEqual(up0);
  expect(up1).toBeLessThan(up0 + 60);
  c2.type('\r~.');
  expect(await c2.exited).toBe(0);
  c2.close();
  const ev = JSON.parse((await d.vmsup(['events', '--json', 'keep'])).stdout) as Ev[];
  expect(ev.some((e) => e.reason === 'saved for resume: vmsupd is shutting down')).toBe(true);
  expect(ev.some((e) => e.reason === 'resuming after a vmsupd restart')).toBe(true);
}, 200_000);

test.skipIf(!haveGuest)('a saved state that cannot be restored boots the VM afresh, with the reason', async () => {
  d = await Daemon.create();
  expect((await d.vmsup(['define', ...LINUX, 'again'])).code).toBe(0);
  expect((await d.vmsup(['start', 'again'])).code).toBe(0);
  expect(await d.stop()).toBe(0);
  const f = path.join(d.stateDir, 'resume', '1.vmsave');
  const b = fs.readFileSync(f);
  b.writeUInt32LE(99, 8);  // another format version
  fs.writeFileSync(f, b);
  await d.start();
  await d.waitState('again', 'running');
  const ev = JSON.parse((await d.vmsup(['events', '--json', 'again'])).stdout) as Ev[];
  expect(ev.some((e) => /^resume failed \(.*format version 99 is not supported.*\); booting normally$/.test(e.reason))).toBe(true);
}, 200_000);
