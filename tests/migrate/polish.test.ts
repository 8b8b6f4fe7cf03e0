// vmsup send --live's pre-copy bounds as daemon settings (live_max_passes,
// live_stop_pages), through bin/vmsup with the reference Linux guest.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Daemon, GUEST, VMSUP, onPty } from '../daemon/harness.js';

const LINUX = ['-m', '128M', '-b', path.join(GUEST, 'Image'), '--initrd', path.join(GUEST, 'initramfs.cpio.gz')];
const haveGuest = fs.existsSync(path.join(GUEST, 'Image'));

let daemons: Daemon[] = [];
afterEach(async () => {
  await Promise.all(daemons.map((d) => d.cleanup()));
  daemons = [];
});

interface Piped {
  send: number | null;
  receive: number | null;
  /** The sender's stderr and the receiver's. */
  s: string;
  r: string;
}

const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;

/** `vmsup SRC… | vmsup DST…` through bash, each against its own daemon; stderr of both into files. */
async function pipeline(src: Daemon, srcArgs: string[], dst: Daemon, dstArgs: string[], timeoutMs = 240_000): Promise<Piped> {
  const dir = fs.mkdtempSync(path.join(src.dir, 'pipe-'));
  const node = q(process.execPath);
  const cmd =
    `VMSUP_SOCKET=${q(src.socket)} ${node} ${q(VMSUP)} ${srcArgs.map(q).join(' ')} 2>${q(dir + '/s')} | ` +
    `VMSUP_SOCKET=${q(dst.socket)} ${node} ${q(VMSUP)} ${dstArgs.map(q).join(' ')} 2>${q(dir + '/r')} >/dev/null; ` +
    'echo "${PIPESTATUS[0]} ${PIPESTATUS[1]}"';
  const out = await run('bash', ['-c', cmd], timeoutMs);
  const [a, b] = out.trim().split(' ');
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'latin1') : '');
  return { send: a ? Number(a) : null, receive: b ? Number(b) : null, s: read(dir + '/s'), r: read(dir + '/r') };
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (x) => (out += x.toString('latin1')));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}

/** Boots `name`, writes the marker into its tmpfs, and leaves a dd loop rewriting 8 MiB of it. */
async function bootBusy(d: Daemon, name: string): Promise<void> {
  expect((await d.vmsup(['define', ...LINUX, name])).code).toBe(0);
  const c = onPty(d, ['start', '-c', name], 180_000);
  await c.waitFor(/vmsup-guest:\/# /);
  c.type('echo MARK-$((40+2)) > /tmp/marker; ' +
    '(while :; do dd if=/dev/zero of=/tmp/big bs=64k count=128 2>/dev/null; done) & sleep 2; echo BUSY\r');
  await c.waitFor(/\nBUSY/);
  c.type('\r~.');
  expect(await c.exited).toBe(0);
  c.close();
}

test.skipIf(!haveGuest)('live_max_passes = 1: send --live pauses the guest after one pre-copy pass, however much it writes', async () => {
  // The same busy guest takes 3 or more passes with the defaults (tests/migrate/migrate.test.ts).
  const src = await Daemon.create({ live_max_passes: 1, live_stop_pages: 0 });
  daemons.push(src);
  const dst = await Daemon.create();
  daemons.push(dst);
  await bootBusy(src, 'mover');
  const p = await pipeline(src, ['send', '--live', 'mover'], dst, ['receive', 'mover']);
  expect(p.send, p.s + p.r).toBe(0);
  expect(p.receive, p.r + p.s).toBe(0);
  // One pre-copy pass, then the paused last one.
  expect(/(\d+) passes/.exec(p.s)?.[1], p.s).toBe('2');
  expect((await dst.status('mover'))!.state).toBe('running');
}, 400_000);
