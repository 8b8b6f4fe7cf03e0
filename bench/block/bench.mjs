#!/usr/bin/env node
// Disk backend benchmark: vmsup's raw and qcow2 backends side by side with
// `qemu-img bench` on the same files, with the ratios. Not a test.
//
//   bash scripts/build.sh && nice node bench/block/bench.mjs
//   BENCH_MB=256 BENCH_RUNS=3 BENCH_DIR=/var/tmp BENCH_ONLY='qcow2.*seq' nice node bench/block/bench.mjs
//
// Workloads (queue depth 1 for both; qemu-img bench's access pattern: the
// offset advances by a step modulo the disk size):
//   seq-read-1M / seq-write-1M   1 MiB requests, step 1 MiB, four passes
//   rand-read-4K / rand-write-4K 4 KiB requests, step 4 KiB x 7919 (a prime, so
//                                the offsets visit 4 KiB blocks in a scattered order)
// Files: raw (fully written), qcow2 fresh (empty; writes allocate, recreated
// before every write run), qcow2 allocated (fully written). 64 KiB clusters.
// vmsup runs its backend in a native loop (benchImage), buffered I/O like
// qemu-img bench -t writeback; the -t none (O_DIRECT) column is for reference.
// Each figure is the best of BENCH_RUNS runs; the page cache is warm for reads.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { blockAddon } from '../../dist/native/index.js';

const MIB = 1024 * 1024;
const sizeMb = Number(process.env.BENCH_MB ?? 256);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const size = sizeMb * MIB;
const dir = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'vmsup-bench-'));
const block = blockAddon();

const workloads = [
  { name: 'seq-read-1M', write: false, bs: MIB, step: MIB, count: 4 * sizeMb },
  { name: 'seq-write-1M', write: true, bs: MIB, step: MIB, count: 4 * sizeMb },
  { name: 'rand-read-4K', write: false, bs: 4096, step: 4096 * 7919, count: 20000 },
  { name: 'rand-write-4K', write: true, bs: 4096, step: 4096 * 7919, count: 20000 },
];

function qemuImg(...args) {
  return execFileSync('qemu-img', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function qemuBench(file, fmt, w, cache) {
  const args = ['bench', '-f', fmt, '-t', cache, '-d', '1', '-c', String(w.count), '-s', String(w.bs), '-S', String(w.step)];
  if (w.write) args.push('-w');
  args.push(file);
  const out = qemuImg(...args);
  const m = /Run completed in ([\d.]+) seconds/.exec(out);
  if (!m) throw new Error(`unexpected qemu-img bench output: ${out}`);
  return Number(m[1]);
}

// Source data: random (incompressible, every cluster allocated).
const srcRaw = path.join(dir, 'src.raw');
{
  const fd = fs.openSync(srcRaw, 'w');
  const chunk = Buffer.alloc(16 * MIB);
  for (let off = 0; off < size; off += chunk.length) {
    crypto.randomFillSync(chunk);
    fs.writeSync(fd, chunk, 0, chunk.length, off);
  }
  fs.closeSync(fd);
}

const cases = [
  {
    name: 'raw',
    fmt: 'raw',
    prepare: (f) => fs.copyFileSync(srcRaw, f),
    freshForWrites: false,
  },
  {
    name: 'qcow2 fresh',
    fmt: 'qcow2',
    prepare: (f) => qemuImg('create', '-q', '-f', 'qcow2', f, String(size)),
    freshForWrites: true,
  },
  {
    name: 'qcow2 allocated',
    fmt: 'qcow2',
    prepare: (f) => qemuImg('convert', '-f', 'raw', '-O', 'qcow2', srcRaw, f),
    freshForWrites: false,
  },
];

// Reads the whole file so every run starts from a warm page cache, whoever ran
// before (an O_DIRECT write run of qemu-img drops the file's cached pages).
function warm(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(16 * MIB);
  while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
  fs.closeSync(fd);
}


function rate(w, secs) {
  return w.bs >= MIB ? `${((w.count * w.bs) / MIB / secs).toFixed(0)} MiB/s` : `${(w.count / secs / 1000).toFixed(1)}k IOPS`;
}

const rows = [];
console.log(`vmsup disk backends vs qemu-img bench (${os.cpus()[0]?.model ?? 'cpu'}, ${sizeMb} MiB files in ${dir}, best of ${runs})`);
for (const c of cases) {
  const file = path.join(dir, `${c.name.replace(/\W+/g, '-')}.${c.fmt}`);
  c.prepare(file);
  for (const w of workloads) {
    if (process.env.BENCH_ONLY && !new RegExp(process.env.BENCH_ONLY).test(`${c.name} ${w.name}`)) continue;
    const fresh = () => {
      if (w.write && c.freshForWrites) {
        fs.rmSync(file, { force: true });
        c.prepare(file);
      }
      else warm(file);
    };
    // The three contenders take turns, run after run, so that the machine's
    // background load and the page cache's state spread evenly over them.
    let ours = Infinity, wb = Infinity, none = Infinity;
    for (let i = 0; i < runs; i++) {
      fresh();
      ours = Math.min(ours, block.benchImage(file, c.fmt, w.write, w.bs, w.step, w.count));
      fresh();
      wb = Math.min(wb, qemuBench(file, c.fmt, w, 'writeback'));
      fresh();
      none = Math.min(none, qemuBench(file, c.fmt, w, 'none'));
    }
    rows.push({ c: c.name, w: w.name, ours: rate(w, ours), wb: rate(w, wb), ratio: (wb / ours).toFixed(2), none: rate(w, none), ratioNone: (none / ours).toFixed(2) });
  }
}
fs.rmSync(dir, { recursive: true, force: true });

const head = ['image', 'workload', 'vmsup', 'qemu-img wb', 'vmsup/qemu wb', 'qemu-img none', 'vmsup/qemu none'];
const table = [head, ...rows.map((r) => [r.c, r.w, r.ours, r.wb, `${r.ratio}x`, r.none, `${r.ratioNone}x`])];
const widths = head.map((_, i) => Math.max(...table.map((r) => r[i].length)));
for (const r of table) console.log(r.map((v, i) => v.padEnd(widths[i])).join('  '));
console.log('ratio = qemu-img time / vmsup time: above 1 means vmsup is faster.');
