// vmsup send / receive loose ends (issue 10), through bin/vmsup with the reference Linux guest:
// the live pre-copy bounds as settings, SIGTERM during a send, the progress bars.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import os from 'node:os';
import { Daemon, GUEST, VMSUP, onPty, sleep } from '../daemon/harness.js';
import { loadSettings } from '../../daemon/settings.js';

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

test('live_max_passes and live_stop_pages: read from vmsupd.conf, out-of-range and fractional values refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-live-settings-'));
  try {
    const load = (text: string) => {
      fs.writeFileSync(path.join(dir, 'vmsupd.conf'), text);
      const warnings: string[] = [];
      const s = loadSettings(dir, (w) => warnings.push(w));
      return { passes: s.liveMaxPasses, pages: s.liveStopPages, warnings };
    };
    expect(load('')).toEqual({ passes: 8, pages: 256, warnings: [] });
    expect(load('live_max_passes = 3\nlive_stop_pages = 0\n')).toEqual({ passes: 3, pages: 0, warnings: [] });
    const bad = load('live_max_passes = 0\nlive_max_passes = 2.5\nlive_stop_pages = -1\nlive_stop_pages = 99999999\n');
    expect([bad.passes, bad.pages]).toEqual([8, 256]);
    expect(bad.warnings).toHaveLength(4);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

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

/** Boots `name` and writes the marker into its tmpfs. */
async function bootMarked(d: Daemon, name: string): Promise<void> {
  expect((await d.vmsup(['define', ...LINUX, name])).code).toBe(0);
  const c = onPty(d, ['start', '-c', name], 180_000);
  await c.waitFor(/vmsup-guest:\/# /);
  c.type('echo MARK-$((40+2)) > /tmp/marker; echo WROTE\r');
  await c.waitFor(/\nWROTE/);
  c.type('\r~.');
  expect(await c.exited).toBe(0);
  c.close();
}

/** Types a shell line on the VM's console and returns the screen once `until` shows. */
async function onConsole(d: Daemon, vm: string, line: string, until: RegExp): Promise<string> {
  const c = onPty(d, ['console', vm], 120_000);
  await c.waitFor(/Connected\./);
  c.type(`${line}\r`);
  await c.waitFor(until);
  const text = c.screen();
  c.type('\r~.');
  await c.exited;
  c.close();
  return text;
}

function exitOf(p: ReturnType<typeof spawn>, ms: number): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  p.stderr?.on('data', (x) => (stderr += x));
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stderr });
    });
  });
}

test.skipIf(!haveGuest).each([[[]], [['--live']]])('SIGTERM during a send %j: the client is told, the receiver gets a truncated stream, the next vmsupd resumes the vm', async (opts: string[]) => {
  const src = await Daemon.create();
  daemons.push(src);
  const dst = await Daemon.create();
  daemons.push(dst);
  await bootMarked(src, 'a');
  // The sender's stdout is left unread: the send stalls (the guest paused in it, or running for --live).
  const send = spawn(process.execPath, [VMSUP, 'send', ...opts, 'a'], { env: src.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  const sent = exitOf(send, 120_000);
  await src.waitFor(async () => /a: send (--live )?requested by/.test(src.log), 60_000);
  await sleep(500);
  const srcExit = src.stop(90_000);
  // Now its bytes go on to a receiver on another daemon, up to where the send was cut.
  const receive = spawn(process.execPath, [VMSUP, 'receive', 'a'], { env: dst.env(), stdio: ['pipe', 'ignore', 'pipe'] });
  const received = exitOf(receive, 120_000);
  send.stdout!.pipe(receive.stdin!);
  receive.stdin!.on('error', () => undefined);
  const s = await sent;
  const r = await received;
  expect(s.code, s.stderr).not.toBe(0);
  expect(s.stderr).toMatch(/send vm command failed: vmsupd is shutting down: the send was cancelled; the vm will be resumed by the next vmsupd/);
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).toMatch(/receive command failed: .*truncated/);
  expect(await dst.status('a')).toBeUndefined();
  expect(await srcExit).toBe(0);
  // Saved as the running VM it was before the send: the next vmsupd resumes it running.
  await src.start();
  await src.waitState('a', 'running', 60_000);
  expect(await onConsole(src, 'a', 'cat /tmp/marker', /MARK-42/)).toMatch(/MARK-42/);
}, 400_000);

const haveScript = spawnSync('script', ['--version']).status === 0;

test.skipIf(!haveGuest || !haveScript)('progress bars: drawn on stderr when it is a terminal (bytes, pass, rate), never into a file', async () => {
  const d = await Daemon.create();
  daemons.push(d);
  await bootMarked(d, 'a');
  // script(1) from util-linux gives both ends a pseudo-terminal for stderr; the state goes through the pipe.
  const node = q(process.execPath);
  const env = `VMSUP_SOCKET=${q(d.socket)}`;
  const line = `${env} ${node} ${q(VMSUP)} send --live a | ${env} ${node} ${q(VMSUP)} receive b; echo "CODES \${PIPESTATUS[0]} \${PIPESTATUS[1]}"`;
  const screen = await run('script', ['-qfc', `bash -c ${q(line)}`, '/dev/null'], 240_000);
  expect(/CODES (\d+) (\d+)/.exec(screen)?.slice(1), screen).toEqual(['0', '0']);
  // Each end's bar: a redrawn line with a moving marker, the bytes so far, the pass, the rate.
  const bar = (label: string) => new RegExp(`\\r\\x1b\\[K${label} \\[[= >]{20}\\] \\d+(\\.\\d)? (B|KiB|MiB|GiB)  pass \\d+  \\d+(\\.\\d+)? (B|KiB|MiB|GiB)/s`);
  expect(screen).toMatch(bar('send a'));
  expect(screen).toMatch(bar('receive b'));
  // The bar is wiped before the summary line.
  expect(screen).toMatch(/\r\x1b\[K(vmsup: )?sent vm \d+ \(a\)/);
  expect((await d.status('b'))!.state).toBe('running');
  // stderr into files: the summaries only, no bar.
  const p = await pipeline(d, ['send', 'b'], d, ['receive', 'c']);
  expect(p.send, p.s + p.r).toBe(0);
  expect(p.receive, p.r + p.s).toBe(0);
  expect(p.s).toMatch(/^(vmsup: )?sent vm \d+ \(b\): [^\r\x1b]*\n$/);
  expect(p.r).toMatch(/^(vmsup: )?received vm \d+ \(c\): [^\r\x1b]*\n$/);
}, 400_000);
