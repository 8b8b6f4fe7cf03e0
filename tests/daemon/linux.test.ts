// The daemon with the reference Linux guest (../shared/guest): a shell on the
// console through a pty, and stop's Ctrl-Alt-Del making the guest power off.
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Daemon, GUEST, sleep, onPty as onPtyOf } from './harness.js';

const LINUX = ['-m', '128M', '-b', path.join(GUEST, 'Image'), '--initrd', path.join(GUEST, 'initramfs.cpio.gz')];

let d: Daemon | undefined;
afterEach(async () => {
  await d?.cleanup();
  d = undefined;
});

const onPty = (args: string[]) => onPtyOf(d!, args, 120_000);

test('the console is a shell that answers commands typed through a pty', async () => {
  d = await Daemon.create();
  await d.vmsup(['define', ...LINUX, '--cmdline', 'console=ttyS0', 'shell']);
  const c = onPty(['start', '-c', 'shell']);
  await c.waitFor(/VMSUP-GUEST-READY/);
  await c.waitFor(/vmsup-guest:\/# /);
  c.type('echo answer-$((6*7))\r');
  await c.waitFor(/answer-42/);
  c.type('\r~.');
  expect(await c.exited).toBe(0);
  c.close();
  // detached, the guest runs on; attach again and it still answers
  const c2 = onPty(['console', 'shell']);
  await c2.waitFor(/Connected\./);
  c2.type('echo again-$((2+3))\r');
  await c2.waitFor(/again-5/);
  c2.type('\r~.');
  expect(await c2.exited).toBe(0);
  c2.close();
}, 200_000);

test('stop -w: Ctrl-Alt-Del makes the guest power off cleanly, and stop waits for it', async () => {
  d = await Daemon.create();
  await d.vmsup(['define', ...LINUX, '--cmdline', 'console=ttyS0', 'polite']);
  const c = onPty(['start', '-c', 'polite']);
  await c.waitFor(/vmsup-guest:\/# /);
  c.type('~.');
  await c.exited;
  c.close();
  const r = await d.vmsup(['stop', '-w', 'polite']);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('vmsup: stopping vm polite: terminated vm 1\n');
  const vm = await d.status('polite');
  expect(vm!.state).toBe('stopped');
  expect(vm!.reason).toBe('shutdown requested by root; the guest powered off');
}, 200_000);
