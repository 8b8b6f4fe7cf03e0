#!/usr/bin/env node
// Boot benchmark (issue 3): vmsup and qemu-system-riscv64 side by side on the same kernel and
// initramfs.
//
//   1. boot to VMSUP-GUEST-READY and power off (cmdline vmsup.test=poweroff): wall time from
//      spawning the emulator to the marker line on its console, and to the process's exit;
//   2. vmsup.test=bench: the guest's own BENCH-DONE figure (CLOCK_MONOTONIC ms for the 64 MiB CRC
//      in /bin/cpubench), its CRC checked against the known answer, and the run's wall time;
//   3. idle: the host CPU time (utime+stime from /proc/<pid>/stat, summed over the emulator's
//      process tree) used by a guest sitting at its shell prompt for BENCH_IDLE_SECONDS; then the
//      guest must still answer a command, so a hung emulator cannot pass for an idle one.
//
// Runs are interleaved (vmsup, qemu, vmsup, qemu, ...) so that load from the rest of this shared
// machine falls on both; each figure is the median of BENCH_RUNS runs, after one warm-up run each.
// Nothing is estimated: a peer that does not reach the marker is reported as such.
//
// Usage: node bench/boot/boot.mjs GUEST_DIR   (bench/boot/run.sh finds GUEST_DIR)
// Environment: BENCH_RUNS (5), BENCH_TIMEOUT seconds per run (120), BENCH_IDLE_SECONDS (10),
//   BENCH_PEERS (comma list, default "vmsup,vmsup-bios,vmsup-nojit,qemu"; vmsup-nojit is the interpreter), BENCH_MB (cpubench MiB, 64).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = intEnv('BENCH_RUNS', 5, 1);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT', 120, 1);
const IDLE_S = intEnv('BENCH_IDLE_SECONDS', 10, 1);
const BENCH_MB = intEnv('BENCH_MB', 64, 1);
// The CRC /bin/cpubench must print for a given size (independent of the machine).
const KNOWN_CRC = { 1: '665310df', 64: 'b82eeeec', 512: 'b98eb2fd' };
const READY = 'VMSUP-GUEST-READY';
const PROMPT = /vmsup-guest:[^\n]*# $/;

function intEnv(name, dflt, min) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench/boot: ${name}=${v} is not an integer >= ${min}`);
    process.exit(2);
  }
  return n;
}

const guestDir = path.resolve(process.argv[2] ?? process.env.VMSUP_GUEST_DIR ?? '');
for (const f of ['Image', 'initramfs.cpio.gz', 'fw_jump.bin']) {
  if (!fs.existsSync(path.join(guestDir, f))) {
    console.error(`bench/boot: ${guestDir} has no ${f} (usage: boot.mjs GUEST_DIR)`);
    process.exit(2);
  }
}
const G = (f) => path.join(guestDir, f);

// ------------------------------------------------------------------------------------ peers
const ALL_PEERS = {
  vmsup: {
    label: 'vmsup run (own SBI)',
    argv: (cmdline) => [path.join(REPO, 'bin/vmsup'), 'run', '-m', '256M', '-b', G('Image'),
      '--initrd', G('initramfs.cpio.gz'), '--cmdline', cmdline],
  },
  'vmsup-bios': {
    label: 'vmsup run --bios fw_jump',
    argv: (cmdline) => [path.join(REPO, 'bin/vmsup'), 'run', '-m', '256M', '--bios', G('fw_jump.bin'),
      '-b', G('Image'), '--initrd', G('initramfs.cpio.gz'), '--cmdline', cmdline],
  },
  'vmsup-nojit': {
    label: 'vmsup run --no-jit (interpreter)',
    argv: (cmdline) => [path.join(REPO, 'bin/vmsup'), 'run', '--no-jit', '-m', '256M', '-b', G('Image'),
      '--initrd', G('initramfs.cpio.gz'), '--cmdline', cmdline],
  },
  qemu: {
    label: 'qemu -M virt -bios fw_jump',
    argv: (cmdline) => ['qemu-system-riscv64', '-M', 'virt', '-m', '256M', '-nographic',
      '-bios', G('fw_jump.bin'), '-kernel', G('Image'), '-initrd', G('initramfs.cpio.gz'),
      '-append', cmdline],
  },
};
const peerNames = (process.env.BENCH_PEERS ?? 'vmsup,vmsup-bios,vmsup-nojit,qemu').split(',').filter(Boolean);
for (const n of peerNames) {
  if (!ALL_PEERS[n]) { console.error(`bench/boot: unknown peer ${n}`); process.exit(2); }
}
// fail: mode -> why that mode could not be measured; noBoot: the guest never reached its marker,
// so nothing else is tried on that peer.
const peers = peerNames.map((name) => ({ name, ...ALL_PEERS[name], fail: {}, noBoot: false }));
const failText = (p) => Object.entries(p.fail).map(([m, why]) => `${m}: ${why}`).join('; ');

// ------------------------------------------------------------------------------------ /proc
const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { return 100; }
})();

/** pid -> { ppid, ticks } for every process we can read. */
function procTable() {
  const t = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let s;
    try { s = fs.readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; }
    // proc(5): "pid (comm) state ppid ..."; comm may hold spaces and ')' so cut at the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // After comm: [0]=state [1]=ppid ... [11]=utime [12]=stime (fields 14 and 15 of the line).
    t.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
  }
  return t;
}

/** utime+stime in clock ticks of `root` and all its descendants. */
function treeTicks(root) {
  const t = procTable();
  const kids = new Map();
  for (const [pid, p] of t) {
    if (!kids.has(p.ppid)) kids.set(p.ppid, []);
    kids.get(p.ppid).push(pid);
  }
  let sum = 0;
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop();
    const p = t.get(pid);
    if (p) sum += p.ticks;
    for (const k of kids.get(pid) ?? []) todo.push(k);
  }
  return sum;
}

// ------------------------------------------------------------------------------------ one run
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the peer with `cmdline` under timeout(1) and follows its console.
 * Returns a handle: promises for the marker / exit, the console text, and kill().
 */
function start(peer, cmdline, limitS) {
  const argv = peer.argv(cmdline);
  const t0 = process.hrtime.bigint();
  // timeout(1) is the outer guard; our own timer below is the inner one. The bash around it
  // reports, after the peer has exited, the CPU time of everything it waited for (bash's `times`,
  // second line: children's user and system time), which covers the emulator's whole run.
  const script = 'timeout -k 5 "$0" "$@"; rc=$?; { echo @@cpu; times; } >&2; exit $rc';
  const child = spawn('bash', ['-c', script, String(limitS + 10), ...argv], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group, so kill() takes every process of the peer
  });
  const since = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const h = {
    child, t0, console: '', stderr: '', tMarker: null, tExit: null, exitCode: null, signal: null,
    bench: null, waiters: [],
  };
  let partial = '';
  const keep = (s, add) => (s + add).slice(-65536); // bounded: a console flood cannot grow memory
  child.stdout.on('data', (buf) => {
    const text = buf.toString('latin1');
    h.console = keep(h.console, text);
    partial += text;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl).replace(/\r$/, '');
      partial = partial.slice(nl + 1);
      if (line === READY && h.tMarker === null) h.tMarker = since();
      const m = /^BENCH-DONE ([0-9a-f]{8}) (\d+)$/.exec(line);
      if (m) h.bench = { crc: m[1], ms: Number(m[2]), t: since() };
    }
    if (partial.length > 4096) partial = partial.slice(-4096);
    for (const w of h.waiters.splice(0)) w();
  });
  child.stderr.on('data', (buf) => { h.stderr = keep(h.stderr, buf.toString('latin1')); });
  child.stdin.on('error', () => {});
  h.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      h.tExit = since();
      h.exitCode = code;
      h.signal = signal;
      for (const w of h.waiters.splice(0)) w();
      resolve();
    });
  });
  h.kill = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone already */ } };
  /** Resolves true once pred() holds, false when the peer exits or limitS passes first. */
  h.until = async (pred, seconds) => {
    const deadline = Date.now() + seconds * 1000;
    while (!pred()) {
      if (h.tExit !== null || Date.now() >= deadline) return pred();
      await new Promise((r) => {
        h.waiters.push(r);
        setTimeout(r, Math.max(10, Math.min(500, deadline - Date.now())));
      });
    }
    return true;
  };
  return h;
}

function lastLine(text) {
  const lines = text.replace(/\r/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1].slice(0, 200) : '(nothing)';
}

/** The last line userland printed after the marker (kernel printk lines skipped). */
function guestWords(text) {
  const after = text.slice(Math.max(0, text.lastIndexOf(READY) + READY.length));
  const lines = after.replace(/\r/g, '').split('\n').map((l) => l.trim()).filter((l) => l && !/^\[\s*\d+\.\d+\]/.test(l));
  return lines.length ? lines[lines.length - 1].slice(0, 200) : '(nothing)';
}

/** Why a run went wrong, in one line, or null when it did what the mode asks. */
function verdict(h, mode, timedOut) {
  if (h.tMarker === null) {
    if (timedOut || h.exitCode === 124 || h.exitCode === 137) {
      return `did not reach the marker in ${TIMEOUT_S} s`;
    }
    const said = h.stderr.replace(/@@cpu\n.*\n.*\n?/, '').trim();
    return `exited with status ${h.exitCode ?? h.signal} before the marker; last words: ${lastLine(said || h.console)}`;
  }
  if (mode === 'bench') {
    if (!h.bench && timedOut) return `reached the marker but printed no BENCH-DONE line in ${TIMEOUT_S} s`;
    if (!h.bench) return `ended without a BENCH-DONE line; the guest said: ${guestWords(h.console)}`;
    const want = KNOWN_CRC[BENCH_MB];
    if (want && h.bench.crc !== want) return `BENCH-DONE with a wrong CRC ${h.bench.crc} (expected ${want})`;
  }
  if (timedOut) return `reached the marker but did not power off within ${TIMEOUT_S} s`;
  if (h.exitCode !== 0) return `reached the marker but exited with status ${h.exitCode ?? h.signal}`;
  return null;
}

async function runTest(peer, mode) {
  const cmdline = mode === 'bench'
    ? `console=ttyS0 vmsup.test=bench vmsup.bench_mb=${BENCH_MB}` : 'console=ttyS0 vmsup.test=poweroff';
  const h = start(peer, cmdline, TIMEOUT_S);
  await h.until(() => h.tExit !== null, TIMEOUT_S);
  const timedOut = h.tExit === null;
  if (timedOut) { h.kill(); await h.exited; }
  const why = verdict(h, mode, timedOut);
  const t = /@@cpu\n.*\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(h.stderr);
  const cpu = t ? Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]) : null;
  return { why, marker: h.tMarker, exit: h.tExit, bench: h.bench, cpu };
}

async function runIdle(peer) {
  const h = start(peer, 'console=ttyS0', TIMEOUT_S + IDLE_S + 30);
  try {
    if (!(await h.until(() => h.tMarker !== null, TIMEOUT_S))) return { why: verdict(h, 'idle', h.tExit === null) };
    // The shell prints its prompt (no newline) once init has started it on the console.
    if (!(await h.until(() => PROMPT.test(h.console), 30))) {
      return { why: `reached the marker but no shell prompt within 30 s; last words: ${lastLine(h.console)}` };
    }
    await sleep(1000); // let the boot's last work (shell start-up, printk) settle
    const before = treeTicks(h.child.pid);
    const t0 = process.hrtime.bigint();
    await sleep(IDLE_S * 1000);
    const after = treeTicks(h.child.pid);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (h.tExit !== null) return { why: `the guest exited while idle (status ${h.exitCode ?? h.signal})` };
    // Prove the guest is alive: the answer (42) is not in the echoed command text.
    h.child.stdin.write('echo idle-check-$((6*7))\n');
    if (!(await h.until(() => h.console.includes('idle-check-42'), 30))) {
      return { why: 'the guest did not answer a shell command after the idle period (hung?)' };
    }
    const cpuS = (after - before) / CLK_TCK;
    return { why: null, cpuS, wall, pct: (100 * cpuS) / wall };
  } finally {
    h.kill();
    await h.exited;
  }
}

// ------------------------------------------------------------------------------------ stats
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
function summary(xs, digits, unit = '') {
  if (!xs.length) return null;
  return {
    median: median(xs),
    text: `${median(xs).toFixed(digits)}${unit} [${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}]`,
  };
}
const pad = (s, n) => String(s).padEnd(n);

// ------------------------------------------------------------------------------------ main
function hostLine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  let qemu = 'not installed';
  try { qemu = execFileSync('qemu-system-riscv64', ['--version']).toString().split('\n')[0]; } catch { /* absent */ }
  let rev = '?';
  try { rev = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']).toString().trim(); } catch { /* no git */ }
  return [
    `host: ${os.cpus().length} x ${cpu}, load average ${load}`,
    `peers: vmsup ${rev} | ${qemu}`,
    `guest: ${guestDir}`,
    `runs: ${RUNS} per peer and mode, interleaved, after 1 warm-up; timeout ${TIMEOUT_S} s per run; bench ${BENCH_MB} MiB`,
  ].join('\n');
}

async function main() {
  console.log('== boot benchmark: vmsup vs qemu-system-riscv64 (issue 3) ==');
  console.log(hostLine());
  const res = {};
  for (const p of peers) res[p.name] = { poweroff: [], bench: [], idle: null };

  for (const mode of ['poweroff', 'bench']) {
    for (let i = 0; i <= RUNS; i++) {          // i = 0 is the warm-up
      for (const p of peers) {
        if (p.noBoot || p.fail[mode]) continue;
        const r = await runTest(p, mode);
        const tag = i === 0 ? 'warm-up' : `run ${i}/${RUNS}`;
        if (r.why) {
          p.fail[mode] = r.why;
          if (r.marker === null) p.noBoot = true;
          console.log(`  ${pad(p.name, 11)} ${pad(mode, 8)} ${pad(tag, 9)} FAILED: ${r.why}`);
          continue;
        }
        const extra = r.bench ? `  BENCH-DONE ${r.bench.crc} ${r.bench.ms} ms` : '';
        const cpu = r.cpu != null ? `  cpu ${r.cpu.toFixed(2)} s` : '';
        console.log(`  ${pad(p.name, 11)} ${pad(mode, 8)} ${pad(tag, 9)} marker ${r.marker.toFixed(3)} s  exit ${r.exit.toFixed(3)} s${cpu}${extra}`);
        if (i > 0) res[p.name][mode].push(r);
      }
    }
  }
  for (const p of peers) {
    if (p.noBoot) continue;
    const r = await runIdle(p);
    if (r.why) { p.fail.idle = r.why; console.log(`  ${pad(p.name, 11)} idle     FAILED: ${r.why}`); continue; }
    res[p.name].idle = r;
    console.log(`  ${pad(p.name, 11)} idle     ${r.cpuS.toFixed(2)} s CPU in ${r.wall.toFixed(1)} s = ${r.pct.toFixed(2)}% of one core`);
  }

  // --------------------------------------------------------------------------------- table
  const qemu = res.qemu;
  const row = (cells) => console.log('  ' + cells.map(([s, n]) => pad(s, n)).join(' '));
  const W = [[0, 27], [0, 22], [0, 22], [0, 22], [0, 20], [0, 20]];
  const line = (...cells) => row(cells.map((c, i) => [c, W[i][1]]));
  const ratio = (a, b) => (a != null && b != null && b > 0 ? `${(a / b).toFixed(2)}x` : '-');

  console.log('');
  console.log(`Boot to ${READY} and power off (wall seconds from spawn; median [min-max] of ${RUNS})`);
  line('peer', 'to marker', 'to exit', 'host CPU s', 'bench: guest ms', 'bench: run wall s');
  const med = {};
  for (const p of peers) {
    const r = res[p.name];
    const mk = summary(r.poweroff.map((x) => x.marker), 3);
    const ex = summary(r.poweroff.map((x) => x.exit), 3);
    const cp = summary(r.poweroff.filter((x) => x.cpu != null).map((x) => x.cpu), 2);
    const bm = summary(r.bench.map((x) => x.bench.ms), 0);
    const bw = summary(r.bench.map((x) => x.exit), 2);
    med[p.name] = { mk: mk?.median, ex: ex?.median, cp: cp?.median, bm: bm?.median };
    if (p.noBoot) { line(p.label, `${p.name}: ${failText(p)}`); continue; }
    line(p.label, mk?.text ?? '-', ex?.text ?? '-', cp?.text ?? '-', bm?.text ?? '-', bw?.text ?? '-');
    for (const m of ['poweroff', 'bench']) {
      if (p.fail[m]) console.log(`  ${' '.repeat(27)} ${p.name} ${m}: ${p.fail[m]}`);
    }
  }
  if (qemu) {
    for (const p of peers) {
      if (p.name === 'qemu') continue;
      const m = med[p.name];
      if (m.mk == null) continue;
      line(`ratio ${p.name}/qemu`, ratio(m.mk, med.qemu.mk), ratio(m.ex, med.qemu.ex), ratio(m.cp, med.qemu.cp),
        ratio(m.bm, med.qemu.bm), '');
    }
  }
  console.log('');
  console.log(`Idle guest at its shell prompt for ${IDLE_S} s (host CPU of the emulator's processes, utime+stime)`);
  for (const p of peers) {
    const r = res[p.name].idle;
    if (r) line(p.label, `${r.cpuS.toFixed(2)} s CPU`, `${r.pct.toFixed(2)}% of one core`);
    else line(p.label, `${p.name}: ${p.noBoot ? failText(p) : `idle: ${p.fail.idle ?? 'not measured'}`}`);
  }

  console.log('');
  console.log('First bars (issue 3): boot within 1.5x of qemu, an idle guest under 2% of one core');
  for (const p of peers) {
    if (p.name === 'qemu') continue;
    const m = med[p.name];
    const boot = m.ex != null && med.qemu?.ex != null
      ? `boot ${ratio(m.ex, med.qemu.ex)} of qemu: ${m.ex / med.qemu.ex <= 1.5 ? 'met' : 'NOT met'}`
      : `boot: ${p.name}: ${p.fail.poweroff ?? 'no figure'}`;
    const idle = res[p.name].idle
      ? `idle ${res[p.name].idle.pct.toFixed(2)}%: ${res[p.name].idle.pct < 2 ? 'met' : 'NOT met'}`
      : 'idle: not measured';
    console.log(`  ${pad(p.name, 11)} ${boot}; ${idle}`);
  }
  // Exit status: 0 when every peer produced its figures, 1 otherwise (the figures above stand).
  process.exitCode = peers.some((p) => Object.keys(p.fail).length) ? 1 : 0;
}

main().catch((e) => { console.error(`bench/boot: ${e?.stack ?? e}`); process.exit(2); });
