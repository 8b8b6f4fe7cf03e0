#!/usr/bin/env node
// Save/restore benchmark (issue 10): vmsup and qemu-system-riscv64 side by side on the same
// kernel and initramfs, an idle 256 MiB guest at its shell prompt.
//
//   save:    vmsup run --save FILE, SIGUSR1 (the save the ~s escape does): the file's size, the
//            save time vmsup reports, and the wall time from the signal to the process's exit;
//            QEMU: `migrate "exec:cat > FILE"` on its monitor: the file's size and the migration's
//            total time from `info migrate`, and the wall time to "completed".
//   restore: vmsup run --restore FILE vs qemu ... -incoming "exec:cat FILE": wall time from the
//            spawn to a responsive console (the first shell prompt answering a newline that is
//            typed every 50 ms), then a command must answer, so a broken restore cannot pass.
//
// Runs are interleaved (vmsup, qemu, ...); each figure is the median of BENCH_RUNS runs.
// Usage: node bench/snapshot/snapshot.mjs GUEST_DIR   (bench/snapshot/run.sh finds GUEST_DIR)
// Environment: BENCH_RUNS (3), BENCH_IDLE_SECONDS (3, idle time before the save), BENCH_TIMEOUT (120).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IDLE_S = Number(process.env.BENCH_IDLE_SECONDS ?? 3);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT ?? 120) * 1000;
const PROMPT = /vmsup-guest:[^\n]*# $/;
const guestDir = path.resolve(process.argv[2] ?? process.env.VMSUP_GUEST_DIR ?? '');
const G = (f) => path.join(guestDir, f);
for (const f of ['Image', 'initramfs.cpio.gz', 'fw_jump.bin']) {
  if (!fs.existsSync(G(f))) { console.error(`bench/snapshot: ${guestDir} has no ${f}`); process.exit(2); }
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-bench-snap-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Proc {
  constructor(argv) {
    this.out = '';
    this.err = '';
    this.p = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.p.stdout.on('data', (b) => { this.out += b.toString('latin1').replace(/\r/g, ''); });
    this.p.stderr.on('data', (b) => { this.err += b.toString('latin1'); });
    this.p.stdin.on('error', () => {});
    this.exited = new Promise((r) => this.p.on('exit', (c) => r(c)));
  }
  async waitFor(re, from = 0, onPoll) {
    const t0 = Date.now();
    for (;;) {
      const m = re.exec(this.out.slice(from));
      if (m) return from + m.index + m[0].length;
      if (Date.now() - t0 > TIMEOUT_MS || this.p.exitCode !== null) {
        throw new Error(`no ${re} (exit ${this.p.exitCode})\n${this.out.slice(-800)}\n${this.err.slice(-800)}`);
      }
      if (onPoll) onPoll();
      await sleep(onPoll ? 50 : 10);
    }
  }
  type(s) { this.p.stdin.write(s); }
  kill() { if (this.p.exitCode === null) this.p.kill('SIGKILL'); }
}

// Wall ms from spawn to the first prompt that answers a typed newline, then a command check.
async function responsive(proc, t0) {
  await proc.waitFor(PROMPT, 0, () => proc.type('\n'));
  const ms = Date.now() - t0;
  const from = proc.out.length;
  proc.type('echo RESUMED-$((20+22))\n');
  await proc.waitFor(/RESUMED-42/, from);
  return ms;
}

const vmsupArgs = ['-m', '256M', '-b', G('Image'), '--initrd', G('initramfs.cpio.gz')];
const qemuArgs = ['-M', 'virt', '-m', '256M', '-nographic', '-bios', G('fw_jump.bin'), '-kernel', G('Image'),
  '-initrd', G('initramfs.cpio.gz'), '-append', 'console=ttyS0'];

async function vmsupRun(file) {
  const src = new Proc([process.execPath, path.join(REPO, 'bin/vmsup'), 'run', ...vmsupArgs, '--save', file]);
  try {
    await src.waitFor(PROMPT);
    await sleep(IDLE_S * 1000);
    const t0 = Date.now();
    src.p.kill('SIGUSR1');
    if ((await src.exited) !== 0) throw new Error(`vmsup save failed: ${src.err}`);
    const wall = Date.now() - t0;
    const m = /saved to .* in (\d+) ms/.exec(src.err);
    const size = fs.statSync(file).size;
    const t1 = Date.now();
    const dst = new Proc([process.execPath, path.join(REPO, 'bin/vmsup'), 'run', '--restore', file]);
    try {
      const restore = await responsive(dst, t1);
      return { size, save: m ? Number(m[1]) : NaN, saveWall: wall, restore };
    } finally { dst.kill(); }
  } finally { src.kill(); }
}

function monitor(sock) {
  return new Promise((resolve, reject) => {
    const c = net.connect(sock);
    let buf = '';
    c.on('data', (b) => { buf += b.toString('latin1'); });
    c.on('error', reject);
    c.on('connect', () => resolve({
      async cmd(s) {
        const from = buf.length;
        c.write(s + '\n');
        for (let i = 0; i < 2000; i++) {
          const tail = buf.slice(from);
          if (/\(qemu\) $/.test(tail) && tail.length > s.length) return tail;
          await sleep(5);
        }
        throw new Error(`qemu monitor: no answer to ${s}`);
      },
      close() { c.destroy(); },
    }));
  });
}

async function qemuRun(file) {
  const sock = path.join(tmp, 'mon.sock');
  fs.rmSync(sock, { force: true });
  const src = new Proc(['qemu-system-riscv64', ...qemuArgs, '-monitor', `unix:${sock},server,nowait`]);
  try {
    await src.waitFor(PROMPT);
    await sleep(IDLE_S * 1000);
    const mon = await monitor(sock);
    await mon.cmd('');
    const t0 = Date.now();
    await mon.cmd(`migrate "exec:cat > ${file}"`);
    let info = '';
    for (let i = 0; i < 4000; i++) {
      info = await mon.cmd('info migrate');
      if (/Migration status: (completed|failed)/.test(info)) break;
      await sleep(5);
    }
    const wall = Date.now() - t0;
    mon.close();
    if (!/Migration status: completed/.test(info)) throw new Error(`qemu migrate: ${info}`);
    const tt = /total time: (\d+) ms/.exec(info);
    const size = fs.statSync(file).size;
    src.kill();
    await src.exited;
    const t1 = Date.now();
    const dst = new Proc(['qemu-system-riscv64', ...qemuArgs, '-incoming', `exec:cat ${file}`]);
    try {
      const restore = await responsive(dst, t1);
      return { size, save: tt ? Number(tt[1]) : NaN, saveWall: wall, restore };
    } finally { dst.kill(); }
  } finally { src.kill(); }
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const res = { vmsup: [], qemu: [] };
let qemuOk = true;
for (let i = 0; i < RUNS; i++) {
  res.vmsup.push(await vmsupRun(path.join(tmp, 'vmsup.snap')));
  if (qemuOk) {
    try { res.qemu.push(await qemuRun(path.join(tmp, 'qemu.mig'))); }
    catch (e) { qemuOk = false; console.log(`qemu: not measured: ${e.message.split('\n')[0]}`); }
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
const fmt = (r) => ({
  size: median(r.map((x) => x.size)), save: median(r.map((x) => x.save)),
  saveWall: median(r.map((x) => x.saveWall)), restore: median(r.map((x) => x.restore)),
});
const v = fmt(res.vmsup);
console.log(`idle 256 MiB guest, median of ${RUNS} runs (idle ${IDLE_S} s before the save)`);
console.log(`vmsup  save: ${(v.size / 1048576).toFixed(1)} MiB, ${v.save} ms (wall to exit ${v.saveWall} ms); restore to a responsive console: ${v.restore} ms`);
if (res.qemu.length) {
  const q = fmt(res.qemu);
  console.log(`qemu   migrate exec:cat: ${(q.size / 1048576).toFixed(1)} MiB, total time ${q.save} ms (wall ${q.saveWall} ms); -incoming to a responsive console: ${q.restore} ms`);
  console.log(`ratios vmsup/qemu: size ${(v.size / q.size).toFixed(3)}, save time ${(v.save / q.save).toFixed(2)}, restore time ${(v.restore / q.restore).toFixed(2)}`);
}
