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

function runGuest() {
  const outFile = path.join(os.tmpdir(), `vmsup-bench-cpu-${process.pid}.out`);
  const fd = fs.openSync(outFile, 'w+');
  try {
    const m = new (addon().Machine)({ memory: 64 * 1024 * 1024, cpus: 1, kernel: elf, consoleOut: fd });
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
    const { instret } = m.stats();
    m.close();
    if (st.reason !== 'pass') throw new Error(`guest ended with ${st.reason}`);
    const result = fs.readFileSync(outFile, 'utf8').trim();
    return { ns, cpuNs, instret, result };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(outFile, { force: true });
  }
}

function runNative() {
  const [result, ns] = execFileSync(native, { encoding: 'utf8', timeout: 60_000 }).trim().split(' ');
  return { result, ns: Number(ns) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs, f) => `${f(Math.min(...xs))}..${f(Math.max(...xs))}`;
const guest = [];
const host = [];
for (let i = 0; i < RUNS; i++) {
  guest.push(runGuest());
  host.push(runNative());
}
const g = guest.map((r) => r.ns);
const h = host.map((r) => r.ns);
if (guest.some((r) => r.result !== host[0].result) || host.some((r) => r.result !== host[0].result)) {
  console.error(`bench/cpu: results differ: guest ${guest.map((r) => r.result)} native ${host[0].result}`);
  process.exit(1);
}
const instret = guest[0].instret;
const gns = median(g);
const gcpu = median(guest.map((r) => r.cpuNs));
const hns = median(h);
console.log(`result                      ${host[0].result} (guest and native agree)`);
console.log(`guest instructions retired  ${instret}`);
const mips = (ns) => (instret / (ns / 1e3)).toFixed(1);
console.log(`runs                        ${RUNS} of each, interleaved; medians (min..max)`);
console.log(`guest time                  ${(gns / 1e6).toFixed(1)} ms (${spread(g, (x) => (x / 1e6).toFixed(1))})`);
console.log(`guest MIPS (wall clock)     ${mips(gns)} (${spread(g.map((x) => -x), (x) => mips(-x))})`);
console.log(`guest MIPS (CPU time)       ${mips(gcpu)}   (differs from wall clock when the host is busy)`);
console.log(`host ns per guest insn      ${(gns / instret).toFixed(2)} wall, ${(gcpu / instret).toFixed(2)} CPU`);
console.log(`native x86-64 time          ${(hns / 1e6).toFixed(1)} ms (${spread(h, (x) => (x / 1e6).toFixed(1))})`);
console.log(`slowdown (guest / native)   ${(gns / hns).toFixed(1)}x`);
