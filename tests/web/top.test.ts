// Metrics without the web: `vmsup top` in a real terminal (tmux), status
// --json, and the rule that sampling costs a paused VM nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildBareMetal, Daemon, sleep, VMSUP } from '../daemon/harness.js';

const SESSION = `vmsup-top-${process.pid}`;
let d: Daemon;

/** A bare-metal ELF that spins for ever: one VM that always wants the CPU. */
function buildSpinner(dir: string): string {
  const src = path.join(dir, 'spin.S');
  const elf = path.join(dir, 'spin.elf');
  const ld = path.join(dir, 'spin.ld');
  fs.writeFileSync(src, '  .section .text.init, "ax"\n  .globl _start\n_start:\n1: addi t0, t0, 1\n  j 1b\n');
  fs.writeFileSync(ld, 'OUTPUT_ARCH(riscv)\nENTRY(_start)\nSECTIONS {\n . = 0x80000000;\n .text : { *(.text.init) }\n}\n');
  const r = spawnSync(
    'riscv64-linux-gnu-gcc',
    ['-static', '-no-pie', '-nostdlib', '-nostartfiles', '-Wl,--build-id=none', '-march=rv64gc', '-mabi=lp64d', '-T', ld, '-o', elf, src],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return elf;
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8' });
}

beforeAll(async () => {
  d = await Daemon.create();
  const idle = buildBareMetal(d.dir, 'idle', 'IDLE-READY', 'idle');
  const spin = buildSpinner(d.dir);
  for (const [name, elf] of [
    ['aidle', idle],
    ['bspin', spin],
    ['cpaused', idle],
  ]) {
    const r = await d.vmsup(['start', '-m', '32M', '-b', elf, name]);
    expect(r.code, r.stderr).toBe(0);
  }
  expect((await d.vmsup(['pause', 'cpaused'])).code).toBe(0);
});

afterAll(async () => {
  spawnSync('tmux', ['kill-session', '-t', SESSION], { stdio: 'ignore' });
  await d?.cleanup();
});

test('status --json carries each running VM metrics: MIPS, CPU, resident memory and device counters', async () => {
  await d.waitFor(async () => {
    const vm = (await d.status('bspin')) as { metrics?: { mips: number; cpu: number } } | undefined;
    return (vm?.metrics?.mips ?? 0) > 1 && (vm?.metrics?.cpu ?? 0) > 5;
  }, 30_000);
  const vm = (await d.status('bspin')) as unknown as { metrics: { rss: number; instret: number; counters: Record<string, number> } };
  expect(vm.metrics.rss).toBeGreaterThan(0);
  expect(vm.metrics.instret).toBeGreaterThan(1e6);
  expect(vm.metrics.counters).toHaveProperty('interrupts');
  expect(vm.metrics.counters).toHaveProperty('console_out_bytes');
  const stopped = await d.vmsup(['status', '--json']);
  expect(stopped.code).toBe(0);
});

test('a paused VM costs nothing while its metrics are sampled', async () => {
  const vm = (await d.status('cpaused'))!;
  expect(vm.state).toBe('paused');
  const stat = () => {
    const rest = fs.readFileSync(`/proc/${d.proc!.pid}/task/${vm.pid}/stat`, 'latin1').split(') ')[1].split(' ');
    return Number(rest[11]) + Number(rest[12]);
  };
  const before = stat();
  await sleep(3000); // three samples
  expect(stat() - before).toBe(0);
  const m = (await d.status('cpaused')) as unknown as { metrics: { cpu: number; mips: number } };
  expect(m.metrics.cpu).toBe(0);
  expect(m.metrics.mips).toBe(0);
});

test('vmsup top redraws in place under tmux, sorted by CPU, and re-sorts and quits on keys', async () => {
  const cmd = `VMSUP_SOCKET=${d.socket} ${process.execPath} ${VMSUP} top -d 0.5`;
  tmux('new-session', '-d', '-s', SESSION, '-x', '120', '-y', '20', cmd);
  const screen = () => tmux('capture-pane', '-p', '-t', SESSION);
  const waitScreen = async (re: RegExp) => {
    const end = Date.now() + 30_000;
    let s = '';
    while (Date.now() < end) {
      s = screen();
      if (re.test(s)) return s;
      await sleep(200);
    }
    throw new Error(`no ${re} on the screen:\n${s}`);
  };
  // the spinner's line comes first when sorted by CPU
  let s = await waitScreen(/ID NAME[\s\S]*bspin\s+running\s+\d{2,3}\.\d[\s\S]*aidle[\s\S]*/);
  const rows = (t: string) => t.split('\n').filter((l) => /^\s+\d+ \w/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
  expect(rows(s)[0]).toBe('bspin');
  expect(s).toMatch(/^vmsup top - \d\d:\d\d:\d\d - 3 vms, 3 running/m);
  // redrawn in place: one header line on the screen, however many frames went by
  await sleep(1500);
  s = screen();
  expect(s.match(/ID NAME/g)).toHaveLength(1);
  // n sorts by name
  tmux('send-keys', '-t', SESSION, 'n');
  s = await waitScreen(/sorted by name/);
  expect(rows(s)).toEqual(['aidle', 'bspin', 'cpaused']);
  // q quits and gives the shell its screen back
  tmux('send-keys', '-t', SESSION, 'q');
  const end = Date.now() + 10_000;
  while (Date.now() < end && spawnSync('tmux', ['has-session', '-t', SESSION]).status === 0) await sleep(200);
  expect(spawnSync('tmux', ['has-session', '-t', SESSION]).status).not.toBe(0);
}, 90_000);

test('vmsup top -b prints frames without a terminal', async () => {
  const r = await d.vmsup(['top', '-b', '-n', '2', '-d', '0.3', '-o', 'name']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.match(/ID NAME/g)).toHaveLength(2);
  expect(r.stdout).toMatch(/cpaused\s+paused/);
});

test('vmsup web says so when the web interface is off', async () => {
  const r = await d.vmsup(['web']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^vmsup: the web interface is off\nvmsup: start vmsupd with --http/);
});
