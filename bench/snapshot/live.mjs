#!/usr/bin/env node
// Live migration downtime (issue 10): `vmsup send --live NAME | vmsup receive NAME` from one
// vmsupd into a second one on this host, while the guest runs its CPU benchmark
// (`vmsup.test=bench vmsup.bench_mb=512`, 256 MiB guest); QEMU's peer: two qemu-system-riscv64
// processes, `migrate -d tcp:127.0.0.1:PORT` into `-incoming`, with the downtime that
// `info migrate` reports (QEMU's defaults: 300 ms downtime limit, its default bandwidth).
//
//   vmsup: the sender's downtime (pause -> last byte handed to the client) and the
//          receiver's (the sender's pause -> END written, from the stream, + END received ->
//          resumed), the passes and bytes; the guest must then finish its benchmark and power
//          off on the second daemon. QEMU: `downtime` and `total time` of `info migrate`; the
//          destination must print BENCH-DONE with the benchmark's CRC.
//
// Each figure is the median of BENCH_RUNS runs (interleaved). Usage: node bench/snapshot/live.mjs GUEST_DIR
// Environment: BENCH_RUNS (3), BENCH_TIMEOUT (180 s), BENCH_LIVE_DELAY (2.5 s after the start).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT ?? 180) * 1000;
const DELAY_MS = Number(process.env.BENCH_LIVE_DELAY ?? 2.5) * 1000;
const BENCH_MB = 512;
const BENCH_CRC = 'b98eb2fd'; // /work/shared/guest/README.md: cpubench 512 MiB
const guestDir = path.resolve(process.argv[2] ?? process.env.VMSUP_GUEST_DIR ?? '');
const G = (f) => path.join(guestDir, f);
const CMDLINE = `console=ttyS0 vmsup.test=bench vmsup.bench_mb=${BENCH_MB}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-bench-live-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (a) => { const s = a.filter((x) => Number.isFinite(x)).sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)] : NaN; };

function run(argv, env, stdio = ['ignore', 'pipe', 'pipe']) {
  const p = spawn(argv[0], argv.slice(1), { env, stdio });
  let out = '';
  let err = '';
  p.stdout?.on('data', (b) => (out += b));
  p.stderr?.on('data', (b) => (err += b));
  const t = setTimeout(() => p.kill('SIGKILL'), TIMEOUT_MS);
  const done = new Promise((r) => p.on('close', (code) => { clearTimeout(t); r({ code, out, err }); }));
  return { p, done };
}

class Vmsupd {
  constructor(name) {
    this.dir = path.join(tmp, name);
    fs.mkdirSync(path.join(this.dir, 'state'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(this.dir, 'state', 'vmsupd.conf'), 'shutdown_timeout = 3\n');
    this.socket = path.join(this.dir, 'run', 'vmsup.sock');
    this.env = { ...process.env, VMSUP_SOCKET: this.socket };
  }
  async start() {
    this.log = '';
    this.p = spawn(process.execPath, [path.join(REPO, 'bin/vmsupd'), '-d', '--state-dir', path.join(this.dir, 'state'), '--socket', this.socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.p.stdout.on('data', (d) => (this.log += d));
    this.p.stderr.on('data', (d) => (this.log += d));
    for (let i = 0; i < 600 && !this.log.includes('listening on'); i++) await sleep(50);
    if (!this.log.includes('listening on')) throw new Error(`vmsupd did not start: ${this.log}`);
  }
  async vmsup(args) {
    const r = await run([process.execPath, path.join(REPO, 'bin/vmsup'), ...args], this.env).done;
    if (r.code !== 0) throw new Error(`vmsup ${args.join(' ')}: ${r.err}`);
    return r.out;
  }
  async state(name) {
    const vms = JSON.parse(await this.vmsup(['status', '--json']));
    return vms.find((v) => v.name === name);
  }
  async stop() {
    if (!this.p || this.p.exitCode !== null) return;
    const exited = new Promise((r) => this.p.once('exit', r));
    this.p.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000).then(() => this.p.kill('SIGKILL'))]);
  }
}

async function vmsupRun(i, src, dst) {
  const name = `live${i}`;
  await src.vmsup(['define', '-m', '256M', '-b', G('Image'), '--initrd', G('initramfs.cpio.gz'), '--cmdline', CMDLINE, name]);
  await src.vmsup(['start', name]);
  await sleep(DELAY_MS); // booted (about 1 s with the JIT) and into cpubench
  const a = run([process.execPath, path.join(REPO, 'bin/vmsup'), 'send', '--live', name], src.env);
  const b = run([process.execPath, path.join(REPO, 'bin/vmsup'), 'receive', name], dst.env, ['pipe', 'ignore', 'pipe']);
  a.p.stdout.pipe(b.p.stdin);
  b.p.stdin.on('error', () => {});
  const [s, r] = await Promise.all([a.done, b.done]);
  if (s.code !== 0 || r.code !== 0) throw new Error(`send/receive failed:\n${s.err}\n${r.err}`);
  // The benchmark must finish on the new host: the guest powers off after it.
  const t0 = Date.now();
  let vm;
  while (Date.now() - t0 < TIMEOUT_MS) {
    vm = await dst.state(name);
    if (vm?.state === 'stopped') break;
    await sleep(250);
  }
  if (vm?.state !== 'stopped' || !/powered off/.test(vm.reason ?? '')) throw new Error(`the moved guest did not finish its benchmark: ${JSON.stringify(vm)}`);
  return {
    sender: Number(/downtime (\d+) ms/.exec(s.err)?.[1]),
    receiver: Number(/downtime (\d+) ms \(/.exec(r.err)?.[1]),
    passes: Number(/(\d+) passes/.exec(s.err)?.[1]),
    bytes: s.err.match(/: ([\d.]+ [KMG]i?B) in/)?.[1] ?? '?',
  };
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

async function qemuRun(i) {
  const port = 47000 + i;
  const sock = path.join(tmp, `mon${i}.sock`);
  const args = ['-M', 'virt', '-m', '256M', '-nographic', '-bios', G('fw_jump.bin'), '-kernel', G('Image'),
    '-initrd', G('initramfs.cpio.gz'), '-append', CMDLINE];
  const dst = run(['qemu-system-riscv64', ...args, '-incoming', `tcp:127.0.0.1:${port}`], process.env, ['pipe', 'pipe', 'pipe']);
  let dstOut = '';
  dst.p.stdout.on('data', (b) => (dstOut += b));
  const src = run(['qemu-system-riscv64', ...args, '-monitor', `unix:${sock},server,nowait`], process.env, ['pipe', 'pipe', 'pipe']);
  let srcOut = '';
  src.p.stdout.on('data', (b) => (srcOut += b));
  try {
    const t0 = Date.now();
    while (!srcOut.includes('VMSUP-GUEST-READY')) {
      if (Date.now() - t0 > TIMEOUT_MS) throw new Error('qemu: no ready marker');
      await sleep(20);
    }
    await sleep(1000); // into cpubench
    const mon = await monitor(sock);
    await mon.cmd('');
    await mon.cmd(`migrate -d tcp:127.0.0.1:${port}`);
    let info = '';
    for (let k = 0; k < 20000; k++) {
      info = await mon.cmd('info migrate');
      if (/Migration status: (completed|failed)/.test(info)) break;
      await sleep(20);
    }
    mon.close();
    if (!/Migration status: completed/.test(info)) throw new Error(`qemu migrate: ${info}`);
    const t1 = Date.now();
    while (!/BENCH-DONE/.test(dstOut)) {
      if (Date.now() - t1 > TIMEOUT_MS) throw new Error('qemu: the destination did not finish the benchmark');
      await sleep(50);
    }
    if (!dstOut.includes(`BENCH-DONE ${BENCH_CRC}`)) throw new Error(`qemu: wrong benchmark result: ${/BENCH-DONE.*/.exec(dstOut)?.[0]}`);
    if (process.env.BENCH_DEBUG) console.log(info);
    return { downtime: Number(/(?:^|\n)downtime: (\d+) ms/.exec(info)?.[1]), total: Number(/total time: (\d+) ms/.exec(info)?.[1]) };
  } finally {
    src.p.kill('SIGKILL');
    dst.p.kill('SIGKILL');
  }
}

for (const f of ['Image', 'initramfs.cpio.gz']) {
  if (!fs.existsSync(G(f))) { console.error(`bench/snapshot: ${guestDir} has no ${f}`); process.exit(2); }
}
const src = new Vmsupd('src');
const dst = new Vmsupd('dst');
const res = { vmsup: [], qemu: [] };
let qemuOk = fs.existsSync(G('fw_jump.bin'));
try {
  await src.start();
  await dst.start();
  for (let i = 0; i < RUNS; i++) {
    res.vmsup.push(await vmsupRun(i, src, dst));
    if (qemuOk) {
      try { res.qemu.push(await qemuRun(i)); }
      catch (e) { qemuOk = false; console.log(`qemu: not measured: ${e.message.split('\n')[0]}`); }
    }
  }
} finally {
  await src.stop();
  await dst.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
const v = { sender: median(res.vmsup.map((r) => r.sender)), receiver: median(res.vmsup.map((r) => r.receiver)), passes: median(res.vmsup.map((r) => r.passes)) };
console.log(`send --live of a 256 MiB guest running cpubench ${BENCH_MB} MiB, median of ${RUNS} runs`);
console.log(`vmsup  downtime: sender ${v.sender} ms, receiver ${v.receiver} ms; ${v.passes} passes (${res.vmsup.map((r) => r.bytes).join(', ')})`);
if (res.qemu.length) {
  const q = { downtime: median(res.qemu.map((r) => r.downtime)), total: median(res.qemu.map((r) => r.total)) };
  console.log(`qemu   migrate tcp (defaults): downtime ${q.downtime} ms, total time ${q.total} ms`);
  console.log(`ratio vmsup receiver downtime / qemu downtime: ${(v.receiver / q.downtime).toFixed(2)}`);
}
