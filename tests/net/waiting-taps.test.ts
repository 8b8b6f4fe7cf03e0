// A VM with -i and -L taps that is stopped while it is still `waiting` (queued
// behind max_running, before a worker took it): its taps go with it (issue 9).
// The worker never ran, so no native Machine owns the tap descriptors the
// supervisor made; the VM's handle closes them. Root, inside a network namespace.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect, test } from 'vitest';
import { Daemon, GUEST, sleep, VMSUPD } from '../daemon/harness.js';

const LINUX = ['-m', '64M', '-b', path.join(GUEST, 'Image'), '--initrd', path.join(GUEST, 'initramfs.cpio.gz')];

/** A vmsupd inside the network namespace `ns`, so that its taps stay off the host. */
class NsDaemon extends Daemon {
  ns = '';
  override async start(): Promise<void> {
    this.log = '';
    const p = spawn('ip', ['netns', 'exec', this.ns, process.execPath, VMSUPD, '-d', '-v', '--state-dir', this.stateDir, '--socket', this.socket], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = p;
    p.stdout!.on('data', (b) => (this.log += b));
    p.stderr!.on('data', (b) => (this.log += b));
    const deadline = Date.now() + 30_000;
    while (!this.log.includes('listening on')) {
      if (p.exitCode !== null) throw new Error(`vmsupd exited early (${p.exitCode}):\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`vmsupd did not come up:\n${this.log}`);
      await sleep(50);
    }
  }
}

const isRoot = process.getuid?.() === 0;
const NS = `vmsupwait${process.pid}`;
const canNetns = isRoot && fs.existsSync(path.join(GUEST, 'Image')) && spawnSync('ip', ['netns', 'add', NS]).status === 0;
const inNs = (args: string[]) => spawnSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8', timeout: 60_000 });
const taps = () => inNs(['ip', '-o', 'link', 'show']).stdout.split('\n').filter((l) => /vmsup\d/.test(l));

let d: Daemon | undefined;
afterEach(async () => {
  await d?.cleanup();
  d = undefined;
});
afterAll(() => {
  if (canNetns) spawnSync('ip', ['netns', 'del', NS]);
});

test.skipIf(!canNetns)('a waiting VM with -i and -L taps, stopped before a worker took it: its taps are gone', async () => {
  const nd = new NsDaemon(fs.mkdtempSync(path.join(os.tmpdir(), 'vmsupd-test-')));
  nd.ns = NS;
  d = nd;
  nd.writeSettings({ shutdown_timeout: 3, max_running: 1 });
  await nd.start();
  expect((await nd.vmsup(['define', ...LINUX, 'first'])).code).toBe(0);
  expect((await nd.vmsup(['start', 'first'])).code).toBe(0);
  await nd.waitState('first', 'running', 60_000);
  expect((await nd.vmsup(['define', ...LINUX, '-i', '1', '-L', 'queued'])).code).toBe(0);
  // Its taps are made at start, while it waits for the one worker slot.
  const start = nd.vmsup(['start', 'queued'], { timeoutMs: 60_000 });
  await nd.waitState('queued', 'waiting', 60_000);
  await nd.waitFor(async () => taps().length === 2, 30_000);
  expect((await nd.vmsup(['stop', '-f', 'queued'])).code).toBe(0);
  await nd.waitState('queued', 'stopped', 30_000);
  await start;
  await nd.waitFor(async () => taps().length === 0, 30_000);
  expect((await nd.status('first'))!.state).toBe('running');
}, 200_000);
