// Runs the guest build of bench.c through the addon (as the daemon's worker
// would: Machine.run() slices) and the native build, and prints the figures.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addon } from '../../dist/native/index.js';

const [elf, native] = process.argv.slice(2);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5) || 5);
const GUEST_LIMIT_MS = 120_000;  // a guest that runs longer than this is broken: give up

function runGuest(jit) {
  const outFile = path.join(os.tmpdir(), `vmsup-bench-cpu-${process.pid}.out`);
  const fd = fs.openSync(outFile, 'w+');
  try {
    const m = new (addon().Machine)({ memory: 64 * 1024 * 1024, cpus: 1, kernel: elf, consoleOut: fd, jit });
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    let st;
    for (;;) {
      st = m.run(100);
      if (st.reason !== 'slice') break;
      if (Number(process.hrtime.bigint() - t0) / 1e6 > GUEST_LIMIT_MS) {
        m.close();
        throw new Error(`the guest did not finish within ${GUEST_LIMIT_MS / 1000} s`);
      }
    }
    const ns = Number(process.hrtime.bigint() - t0);
    const cu = process.cpuUsage(c0);
    const cpuNs = (cu.user + cu.system) * 1000;
    const { instret, codeCacheBytes } = m.stats();
    m.close();
    if (st.reason !== 'pass') throw new Error(`guest ended with ${st.reason}`);
    const result = fs.readFileSync(outFile, 'utf8').trim();
    return { ns, cpuNs, instret, result, codeCacheBytes };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(outFile, { force: true });
  }
}

// QEMU 7.2 TCG on the same ELF (-M spike has HTIF), when installed. Wall time
// of the whole process (start-up included, a few ms).
function runQemu() {
  const t0 = process.hrtime.bigint();
  try {
    const out = execFileSync('qemu-system-riscv64', ['-M', 'spike', '-bios', 'none', '-nographic', '-kernel', elf],
      { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { ns: Number(process.hrtime.bigint() - t0), result: out.trim() };
  } catch (e) {
    return null;
  }
}

function runNative() {
  const [result, ns] = execFileSync(native, { encoding: 'utf8', timeout: 60_000 }).trim().split(' ');
  return { result, ns: Number(ns) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs, f) => `${f(Math.min(...xs))}..${f(Math.max(...xs))}`;
const jit = [];
const interp = [];
const host = [];
const qemu = [];
let haveQemu = true;
for (let i = 0; i < RUNS; i++) {
  jit.push(runGuest(true));
  interp.push(runGuest(false));
  host.push(runNative());
  if (haveQemu) {
    const q = runQemu();
    if (q) qemu.push(q);
    else haveQemu = false;
  }
}
const h = host.map((r) => r.ns);
const want = host[0].result;
for (const [name, rs] of [['jit', jit], ['interpreter', interp], ['native', host]]) {
  if (rs.some((r) => r.result !== want)) {
    console.error(`bench/cpu: ${name} results differ: ${rs.map((r) => r.result)} vs native ${want}`);
    process.exit(1);
  }
}
const instret = jit[0].instret;
const hns = median(h);
const qns = qemu.length ? median(qemu.map((r) => r.ns)) : NaN;
const mips = (ns) => (instret / (ns / 1e3)).toFixed(1);
console.log(`result                      ${want} (guest and native agree)`);
console.log(`guest instructions retired  ${instret}`);
console.log(`runs                        ${RUNS} of each, interleaved; medians (min..max)`);
for (const [name, rs] of [['vmsup JIT', jit], ['vmsup interpreter', interp]]) {
  const g = rs.map((r) => r.ns);
  const gns = median(g);
  const gcpu = median(rs.map((r) => r.cpuNs));
  console.log(`${name}:`);
  console.log(`  guest time                ${(gns / 1e6).toFixed(1)} ms (${spread(g, (x) => (x / 1e6).toFixed(1))})`);
  console.log(`  guest MIPS (wall clock)   ${mips(gns)}; CPU time ${mips(gcpu)}`);
  console.log(`  host ns per guest insn    ${(gns / instret).toFixed(2)} wall, ${(gcpu / instret).toFixed(2)} CPU`);
  console.log(`  slowdown (guest / native) ${(gns / hns).toFixed(2)}x`);
  if (qemu.length) console.log(`  ratio to QEMU (time)      ${(gns / qns).toFixed(2)}x (below 1 = faster than QEMU)`);
  if (rs[0].codeCacheBytes) console.log(`  code cache                ${(rs[0].codeCacheBytes / 1024).toFixed(0)} KiB`);
}
if (qemu.length) {
  const q = qemu.map((r) => r.ns);
  const qok = qemu.every((r) => r.result.includes(want));
  console.log(`QEMU TCG (-M spike):`);
  console.log(`  time (whole process)      ${(qns / 1e6).toFixed(1)} ms (${spread(q, (x) => (x / 1e6).toFixed(1))})${qok ? '' : '  (output differs!)'}`);
  console.log(`  guest MIPS                ${mips(qns)}`);
} else {
  console.log('QEMU TCG                    not measured (qemu-system-riscv64 is not installed or failed)');
}
console.log(`native x86-64 time          ${(hns / 1e6).toFixed(1)} ms (${spread(h, (x) => (x / 1e6).toFixed(1))})`);
const jns = median(jit.map((r) => r.ns)), ins = median(interp.map((r) => r.ns));
console.log(`JIT speed-up over interpreter ${(ins / jns).toFixed(2)}x`);
