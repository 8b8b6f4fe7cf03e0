// Per-VM metrics: a ring of one sample a second for the last 10 minutes, kept
// in memory (never in SQLite). A sample is taken from what the VM's worker
// already publishes in its shared buffer (instret, resident bytes, device
// counters; the worker refreshes them once a second while it runs, once when it
// pauses) and from the kernel's accounting of the worker thread
// (/proc/self/task/TID/stat). Nothing here wakes a worker: a paused or idle VM
// costs the same with or without metrics.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { COUNTERS_OFFSET, MAX_COUNTERS } from '../workers/messages.js';

/** 10 minutes at one sample a second. */
export const RING_SECONDS = 600;

/** One second of one VM: rates over the interval since the sample before. */
export interface MetricSample {
  /** ms since the epoch */
  t: number;
  /** guest instructions retired, millions per second */
  mips: number;
  /** host CPU used by the VM's worker thread, % of one core */
  cpu: number;
  /** guest RAM backed by the host, bytes */
  rss: number;
  /** per-second rates of the device counters (same names as `counters`) */
  rates: Record<string, number>;
}

/** The latest figures of a running VM, as `status --json` and the web UI show them. */
export interface MetricsNow {
  mips: number;
  cpu: number;
  rss: number;
  instret: number;
  cpuSeconds: number;
  /** Host memory held by the JIT's translated code (0 on the interpreter). */
  codeCacheBytes: number;
  /** device counters since the VM started: console_out_bytes, console_in_bytes,
   * interrupts, blk0_reads, blk0_read_bytes, … (net devices add theirs) */
  counters: Record<string, number>;
  rates: Record<string, number>;
}

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck) return clkTck;
  try {
    clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clkTck = 100;
  }
  return clkTck;
}

/** utime + stime of a thread of this process, in seconds; undefined when it is gone. */
export function threadCpuSeconds(tid: number): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // proc(5): field 14 utime, 15 stime; rest[0] is field 3.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / ticksPerSecond();
}

/** The metrics of one running VM. */
export class VmMetrics {
  readonly ring: MetricSample[] = [];
  names: string[] = [];
  private prev?: { t: number; instret: number; cpu: number; counters: number[] };
  now: MetricsNow = { mips: 0, cpu: 0, rss: 0, instret: 0, cpuSeconds: 0, codeCacheBytes: 0, counters: {}, rates: {} };

  /** Takes one sample from the worker's shared buffer and the thread's CPU time. */
  sample(shared: SharedArrayBuffer, tid: number | null, at = Date.now()): void {
    const stats = new Float64Array(shared, 8, 4);
    const slots = new Float64Array(shared, COUNTERS_OFFSET, MAX_COUNTERS);
    const instret = stats[0];
    const rss = stats[1];
    const cpuSec = tid ? threadCpuSeconds(tid) ?? this.prev?.cpu ?? 0 : 0;
    const values = this.names.map((_, i) => slots[i]);
    const counters: Record<string, number> = {};
    this.names.forEach((n, i) => (counters[n] = values[i]));
    const rates: Record<string, number> = {};
    let mips = 0;
    let cpu = 0;
    const p = this.prev;
    if (p && at > p.t) {
      const dt = (at - p.t) / 1000;
      mips = Math.max(0, instret - p.instret) / dt / 1e6;
      cpu = (Math.max(0, cpuSec - p.cpu) / dt) * 100;
      this.names.forEach((n, i) => (rates[n] = Math.max(0, values[i] - (p.counters[i] ?? 0)) / dt));
      this.ring.push({ t: at, mips, cpu, rss, rates });
      if (this.ring.length > RING_SECONDS) this.ring.shift();
    }
    this.prev = { t: at, instret, cpu: cpuSec, counters: values };
    this.now = { mips, cpu, rss, instret, cpuSeconds: cpuSec, codeCacheBytes: stats[3], counters, rates };
  }

  /** The last `seconds` samples. */
  history(seconds = RING_SECONDS): MetricSample[] {
    return this.ring.slice(-Math.max(1, Math.min(RING_SECONDS, seconds)));
  }
}

/** Sum of the per-second rates whose counter name ends in one of `suffixes` (e.g. all disks' bytes). */
export function sumRates(rates: Record<string, number>, suffixes: string[]): number {
  let s = 0;
  for (const [k, v] of Object.entries(rates)) if (suffixes.some((x) => k.endsWith(x))) s += v;
  return s;
}
