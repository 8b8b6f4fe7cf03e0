// bench/net: see bench/README.md. Interleaved runs, medians with [min-max].
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const guest = fs.existsSync(path.resolve(root, '../shared/guest/Image'))
  ? path.resolve(root, '../shared/guest') : path.resolve(root, 'guest/out');
const G = { image: path.join(guest, 'Image'), initrd: path.join(guest, 'initramfs.cpio.gz'), fw: path.join(guest, 'fw_jump.bin') };
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MB = Number(process.env.BENCH_NET_MB ?? 32);
const qemu = spawnSync('which', ['qemu-system-riscv64']).status === 0 ? 'qemu-system-riscv64' : null;
const isRoot = process.getuid() === 0;
// Which rows: nat, local (root), pair (VM<->VM); all by default.
const ROWS = (process.env.BENCH_NET_ROWS ?? 'nat,local,pair').split(',');
// An A/B of a data-path change on the VM<->VM row: another build of the addon, run as peer 'vmsup-base'.
const BASELINE = process.env.BENCH_NET_BASELINE_ADDON;
// perf's split of the transfer's CPU (root and perf needed); BENCH_NET_PERF_TOP=N also prints the top N symbols.
const PERF = isRoot && spawnSync('which', ['perf']).status === 0 && process.env.BENCH_NET_PERF !== '0';
const PERF_TOP = Number(process.env.BENCH_NET_PERF_TOP ?? 0);
const tmp = fs.mkdtempSync('/tmp/vmsup-bench-net-');
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

class Console {
  constructor(argv) {
    this.out = '';
    this.p = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.p.stdout.on('data', (b) => { this.out += b.toString('latin1').replace(/\r/g, ''); });
    this.p.stderr.on('data', (b) => { this.out += b.toString('latin1'); });
    this.exited = new Promise((r) => this.p.on('exit', r));
  }
  async waitFor(re, ms, from = 0) {
    const t0 = Date.now();
    for (;;) {
      const m = re.exec(this.out.slice(from));
      if (m) return from + m.index + m[0].length;
      if (Date.now() - t0 > ms || this.p.exitCode !== null) throw new Error(`no ${re}: ${this.out.slice(-800)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async sh(cmd, ms = 600_000) {
    const from = this.out.length;
    this.p.stdin.write(cmd + '\n');
    const end = await this.waitFor(/vmsup-guest:[^\n]*# $/, ms, from);
    return this.out.slice(from, end);
  }
  pids() { return treePids(this.p.pid); }
  waitSeconds() { return runqueueWait(this.pids()); }
  cpuSeconds() {
    // utime+stime of the emulator's whole process tree (timeout -> vmsup's node, or qemu).
    const one = (pid) => {
      let t = 0;
      try {
        const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        t = (Number(f[11]) + Number(f[12])) / 100;
        for (const c of fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) if (c) t += one(c);
      } catch { /* gone */ }
      return t;
    };
    return one(this.p.pid);
  }
  async stop() {
    this.p.stdin.write('poweroff -f\n');
    const t = setTimeout(() => this.p.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(t);
  }
}

function treePids(pid) {
  const out = [pid];
  try {
    for (const c of fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(...treePids(Number(c)));
  } catch { /* gone */ }
  return out;
}

// Seconds the threads of these processes spent runnable but waiting for a CPU
// (/proc/PID/task/TID/schedstat, second field): on a shared, loaded host the
// part of the wall time that is the load's, not the emulator's.
function runqueueWait(pids) {
  let ns = 0;
  for (const pid of pids) {
    try {
      for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
        try { ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[1]); } catch { /* gone */ }
      }
    } catch { /* gone */ }
  }
  return ns / 1e9;
}

// One VM of bench/net/pair.mjs: its console is a file, typed into through the pair's stdin.
class PairConsole {
  constructor(pair, name) { this.pair = pair; this.name = name; this.file = path.join(pair.dir, `${name}.console`); }
  get out() { try { return fs.readFileSync(this.file, 'latin1').replace(/\r/g, ''); } catch { return ''; } }
  async waitFor(re, ms, from = 0) {
    const t0 = Date.now();
    for (;;) {
      const o = this.out, m = re.exec(o.slice(from));
      if (m) return from + m.index + m[0].length;
      if (Date.now() - t0 > ms || this.pair.p.exitCode !== null) throw new Error(`${this.name}: no ${re}: ${o.slice(-800)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async sh(cmd, ms = 600_000) {
    const from = this.out.length;
    this.pair.p.stdin.write(`${this.name} ${cmd}\n`);
    const end = await this.waitFor(/vmsup-guest:[^\n]*# $/, ms, from);
    return this.out.slice(from, end);
  }
}

// perf's view of where the emulator's CPU went while it is recording:
// the guest's CPU (JIT/TCG code, interpreter, MMU, timers, interrupt
// controllers), the data path in user space (virtio-net and its queues,
// slirp, tap, the switch), the host kernel (system calls: sockets, tap, ppoll,
// futex, and the interrupts of the machine), and the rest (the JS runtime,
// libc not attributable, unresolved symbols).
const DATA_RE = /VirtioNet|VirtQueue|virtqueue|VirtioMmio|VirtioDevice|fill_posted|serve_queue|chain_(read|write|readable|writable)|DescChain|Slirp|slirp|Switch|Spsc|TapBackend|tap_|Dhcp|NetBackend|virtio_net|virtio_queue|vring|net_(socket|tap|slirp|hub|fill|rx|tx)|qemu_(send|deliver|net|receive)|virtio_(notify|queue|mmio)|iov_|address_space_(map|unmap)|dma_memory/;
const GUEST_RE = /Hart|Jit|jit|interp|mmu|Mmu|tlb|Tlb|Clint|Plic|TimeBase|Machine::run|helper_|tcg_|cpu_exec|cpu_loop|cpu_get_tb|tb_|code_gen|riscv_|Uart|Htif|lookup_tb|probe_access|get_page_addr/;
function perfStart(pids) {
  if (!PERF) return null;
  const f = path.join(tmp, `perf-${Date.now()}-${Math.random().toString(36).slice(2)}.data`);
  const p = spawn('perf', ['record', '-F', '1999', '-q', '-o', f, '-p', pids.join(',')], { stdio: 'ignore' });
  return { p, f, exited: new Promise((r) => p.on('exit', r)) };
}
async function perfStop(rec) {
  if (!rec) return null;
  await new Promise((r) => setTimeout(r, 100));
  rec.p.kill('SIGINT');
  const t = setTimeout(() => rec.p.kill('SIGKILL'), 20_000);
  await rec.exited;
  clearTimeout(t);
  const r = spawnSync('perf', ['report', '-i', rec.f, '--stdio', '-q', '--sort', 'dso,sym', '--percent-limit', '0'],
    { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (process.env.BENCH_NET_PERF_KEEP) fs.writeFileSync(rec.f + '.txt', r.stdout ?? ''), fs.copyFileSync(rec.f + '.txt', '/tmp/np-last-report.txt');
  fs.rmSync(rec.f, { force: true });
  const split = { guest: 0, data: 0, kernel: 0, other: 0 };
  const agg = new Map();
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^\s*([\d.]+)%\s+(.+?)\s+\[(.)\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const pct = Number(m[1]), sym = m[4].trim();
    const dso = m[2].startsWith('[JIT]') ? '[JIT]' : m[2];
    let k;
    if (m[3] === 'k' || dso.startsWith('[kernel')) k = 'kernel';
    else if (/slirp/.test(dso) || DATA_RE.test(sym)) k = 'data';
    else if (dso === '[unknown]' || dso === '[JIT]' || /^\[?anon|^perf-\d+\.map|^jitted-|^\/\/anon/.test(dso) || GUEST_RE.test(sym)) k = 'guest';
    // The addon is the machine: what is not the data path there is the guest's CPU (JIT, its
    // compiler and block cache, interpreter, MMU, timers). QEMU's resolved symbols alike.
    else if (/\.node$/.test(dso) || (/^qemu-system/.test(dso) && !/^0x/.test(sym))) k = 'guest';
    else k = 'other';
    split[k] += pct;
    const key = /^0x/.test(sym) ? `${k.padEnd(6)} ${dso} [unresolved]` : `${k.padEnd(6)} ${dso} ${sym}`.slice(0, 150);
    agg.set(key, (agg.get(key) ?? 0) + pct);
  }
  const top = [...agg].sort((x, y) => y[1] - x[1]).slice(0, PERF_TOP).map(([key, pct]) => `${pct.toFixed(2).padStart(6)}% ${key}`);
  return { split, top };
}

const payload = Buffer.alloc(MB << 20, 0x5a);
function serve(host) {
  return new Promise((resolve) => {
    const s = http.createServer((_q, res) => { res.setHeader('content-length', payload.length); res.end(payload); });
    s.listen(0, host, () => resolve(s));
  });
}

// One run: boot, bring eth0 up, time a MB-MiB wget by the guest's clock, ping RTT.
async function runOnce(kind, peer, port, hostAddr) {
  const vmsup = [process.execPath, path.join(root, 'bin/vmsup'), 'run', '-b', G.image, '--initrd', G.initrd];
  let argv;
  if (peer === 'vmsup') argv = [...vmsup, kind === 'nat' ? '--nat' : '-L'];
  else {
    argv = [qemu, '-M', 'virt', '-m', '256M', '-nographic', '-bios', G.fw, '-kernel', G.image, '-initrd', G.initrd,
      '-append', 'console=ttyS0'];
    argv.push(...(kind === 'nat' ? ['-netdev', 'user,id=n0'] : ['-netdev', 'tap,id=n0,ifname=qtap0,script=no,downscript=no']),
      '-device', 'virtio-net-device,netdev=n0');
  }
  if (kind === 'local') argv = ['nsenter', `--net=/proc/${nsHolder.pid}/ns/net`, ...argv];
  const c = new Console(['timeout', '-k', '5', '900', ...argv]);
  try {
    await c.waitFor(/vmsup-guest:[^\n]*# $/, 300_000);
    if (kind === 'local' && peer === 'qemu') {
      // QEMU's tap has no DHCP server: the same /31 by hand.
      spawnSync('nsenter', [`--net=/proc/${nsHolder.pid}/ns/net`, 'sh', '-c', 'ip addr add 100.64.0.0/31 dev qtap0 && ip link set qtap0 up']);
      await c.sh('ip addr add 100.64.0.1/31 dev eth0 && ip link set eth0 up && ip route add default via 100.64.0.0');
    } else {
      await c.sh('udhcpc -i eth0 -n -q -t 5 -T 2 >/dev/null 2>&1');
    }
    await c.sh(`wget -q -O /dev/null http://${hostAddr}:${port}/ ; echo warm`);
    const cpu0 = c.cpuSeconds(), w0 = c.waitSeconds();
    const rec = perfStart(c.pids());
    const out = await c.sh(`s=$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://${hostAddr}:${port}/ && e=$(cut -d' ' -f1 /proc/uptime); echo "XFER $s $e"`);
    const cpu1 = c.cpuSeconds(), w1 = c.waitSeconds();
    const prof = await perfStop(rec);
    const m = /XFER ([\d.]+) ([\d.]+)/.exec(out);
    const secs = m ? Number(m[2]) - Number(m[1]) : NaN;
    let rtt = NaN;
    if (!(kind === 'nat')) {
      const p = await c.sh(`ping -c 10 -i 0.2 ${hostAddr}`);
      const r = /= [\d.]+\/([\d.]+)\//.exec(p);
      rtt = r ? Number(r[1]) : NaN;
    }
    return { mbps: secs > 0 ? MB / secs : NaN, secs, cpu: cpu1 - cpu0, wait: w1 - w0, rtt, prof };
  } finally {
    await c.stop().catch(() => c.p.kill('SIGKILL'));
  }
}

// VM->VM: guest b serves MB MiB from its RAM with busybox httpd, guest a
// fetches it. vmsup: both VMs in one process (bench/net/pair.mjs), each in a
// worker thread, on one vmsup switch. QEMU: two processes joined by
// `-netdev socket` over localhost TCP.
async function runPair(peer, qport) {
  let a, b, procs, cpuSeconds, pidsOf, stopAll;
  const prompt = /vmsup-guest:[^\n]*# $/;
  if (peer.startsWith('vmsup')) {
    const dir = fs.mkdtempSync(path.join(tmp, 'pair-'));
    const pair = new Console(['timeout', '-k', '5', '900', process.execPath, path.join(root, 'bench/net/pair.mjs'), dir,
      ...(peer === 'vmsup-base' ? [BASELINE] : [])]);
    pair.dir = dir;
    a = new PairConsole(pair, 'a');
    b = new PairConsole(pair, 'b');
    procs = [pair];
    stopAll = async () => {
      pair.p.stdin.write('stop\n');
      const t = setTimeout(() => pair.p.kill('SIGKILL'), 20_000);
      await pair.exited;
      clearTimeout(t);
    };
  } else {
    const q = (mac, how) => new Console(['timeout', '-k', '5', '900', qemu, '-M', 'virt', '-m', '256M', '-nographic', '-bios', G.fw,
      '-kernel', G.image, '-initrd', G.initrd, '-append', 'console=ttyS0',
      '-netdev', `socket,id=n0,${how}=127.0.0.1:${qport}`, '-device', `virtio-net-device,netdev=n0,mac=${mac}`]);
    b = q('52:54:00:12:34:0b', 'listen');
    await new Promise((r) => setTimeout(r, 500));
    a = q('52:54:00:12:34:0a', 'connect');
    procs = [a, b];
    stopAll = async () => { await Promise.all([a, b].map((c) => c.stop().catch(() => c.p.kill('SIGKILL')))); };
  }
  cpuSeconds = () => procs.reduce((t, c) => t + c.cpuSeconds(), 0);
  pidsOf = () => procs.flatMap((c) => c.pids());
  const waitSeconds = () => runqueueWait(pidsOf());
  try {
    await a.waitFor(prompt, 300_000);
    await b.waitFor(prompt, 300_000);
    await a.sh('ip addr add 10.8.0.1/24 dev eth0 && ip link set eth0 up');
    await b.sh('ip addr add 10.8.0.2/24 dev eth0 && ip link set eth0 up');
    await b.sh(`mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/blob bs=1M count=${MB} 2>/dev/null; httpd -p 80 -h /tmp/www`);
    await a.sh('wget -q -O /dev/null http://10.8.0.2/blob ; echo warm');
    const cpu0 = cpuSeconds(), w0 = waitSeconds();
    const rec = perfStart(pidsOf());
    const out = await a.sh(`s=$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://10.8.0.2/blob && e=$(cut -d' ' -f1 /proc/uptime); echo "XFER $s $e"`);
    const cpu1 = cpuSeconds(), w1 = waitSeconds();
    const prof = await perfStop(rec);
    const m = /XFER ([\d.]+) ([\d.]+)/.exec(out);
    const secs = m ? Number(m[2]) - Number(m[1]) : NaN;
    const p = await a.sh('ping -c 10 -i 0.2 10.8.0.2');
    const r = /= [\d.]+\/([\d.]+)\//.exec(p);
    return { mbps: secs > 0 ? MB / secs : NaN, secs, cpu: cpu1 - cpu0, wait: w1 - w0, rtt: r ? Number(r[1]) : NaN, prof };
  } finally {
    await stopAll().catch(() => procs.forEach((c) => c.p.kill('SIGKILL')));
  }
}

const med = (v) => { const s = v.filter(Number.isFinite).sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const fmt = (v, d = 1) => { const s = v.filter(Number.isFinite); return s.length ? `${med(s).toFixed(d)} [${Math.min(...s).toFixed(d)}-${Math.max(...s).toFixed(d)}]` : 'n/a'; };

let nsHolder = null;
const splitCell = (v) => {
  const ps = v.map((r) => r.prof).filter(Boolean);
  if (!ps.length) return 'n/a';
  const k = (key) => med(ps.map((p) => p.split[key])).toFixed(0);
  return `${k('guest')} / ${k('data')} / ${k('kernel')} / ${k('other')}`;
};
async function main() {
  const peers = (qemu ? ['vmsup', 'qemu'] : ['vmsup']).filter((x) => (process.env.BENCH_NET_PEERS ?? 'vmsup,qemu').split(',').includes(x));
  const kinds = [];
  if (ROWS.includes('nat')) kinds.push('nat');
  const canLocal = isRoot && spawnSync('unshare', ['-n', 'true']).status === 0;
  if (ROWS.includes('local') && canLocal) kinds.push('local');
  if (ROWS.includes('pair')) kinds.push('pair');
  console.log(`bench/net: ${MB} MiB HTTP transfers (wget by the guest, timed by its /proc/uptime), ${RUNS} interleaved runs + 1 warm-up; rows: ${kinds.join(', ')}`);
  const res = {};
  for (const kind of kinds) {
    let server, addr, port;
    if (kind === 'nat') {
      server = await serve('127.0.0.1');
      addr = '10.0.2.2';
      port = server.address().port;
    } else if (kind === 'local') {
      // A namespace held by a sleeping process; the server runs inside it.
      nsHolder = spawn('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up; exec sleep 3600'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
      server = spawn('nsenter', [`--net=/proc/${nsHolder.pid}/ns/net`, process.execPath, '-e',
        `const b=Buffer.alloc(${MB << 20},0x5a);require('http').createServer((q,r)=>{r.setHeader('content-length',b.length);r.end(b)}).listen(8080,'0.0.0.0')`], { stdio: 'ignore' });
      addr = '100.64.0.0';
      port = 8080;
    } else {
      // A free localhost port for QEMU's -netdev socket.
      const s = http.createServer();
      await new Promise((r) => s.listen(0, '127.0.0.1', r));
      port = s.address().port;
      await new Promise((r) => s.close(r));
    }
    const rowPeers = kind === 'pair' && BASELINE ? ['vmsup-base', ...peers] : peers;
    for (const peer of rowPeers) res[`${kind}/${peer}`] = [];
    for (let i = 0; i <= RUNS; i++) {
      for (const peer of rowPeers) {
        try {
          const r = kind === 'pair' ? await runPair(peer, port) : await runOnce(kind, peer, port, addr);
          const sp = r.prof ? Object.entries(r.prof.split).map(([k, x]) => `${k} ${x.toFixed(0)}%`).join(', ') : '';
          console.log(`  ${kind}/${peer} run ${i}${i ? '' : ' (warm-up)'}: ${r.mbps.toFixed(2)} MiB/s, ${r.secs.toFixed(2)} s, host CPU ${r.cpu.toFixed(2)} s, waiting for a CPU ${r.wait.toFixed(2)} s, RTT ${r.rtt} ms; ${sp}`);
          if (r.prof?.top.length) console.log(`    ${r.prof.top.join('\n    ')}`);
          if (i > 0) res[`${kind}/${peer}`].push(r);
        } catch (e) {
          console.log(`  ${kind}/${peer} run ${i}: failed: ${String(e.message).split('\n')[0]}`);
        }
      }
    }
    if (kind === 'nat') server.close();
    else if (kind === 'local') { server.kill('SIGKILL'); nsHolder.kill('SIGKILL'); }
  }
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`\nload average at the end: ${load}`);
  console.log('\n| path | peer | MiB/s (guest clock) | host CPU s in transfer | s waiting for a CPU | ping RTT ms | CPU split % guest / data path / kernel / other (perf) |');
  console.log('|---|---|---:|---:|---:|---:|---|');
  const labels = {
    'nat/vmsup': '--nat (libslirp)', 'nat/qemu': '-netdev user',
    'local/vmsup': '-L (tap, built-in DHCP)', 'local/qemu': 'tap',
    'pair/vmsup': 'VM<->VM, vmsup switch', 'pair/qemu': 'VM<->VM, -netdev socket',
    'pair/vmsup-base': `VM<->VM, vmsup switch, ${BASELINE}`,
  };
  for (const [k, v] of Object.entries(res)) {
    const peer = k.split('/')[1];
    console.log(`| ${labels[k] ?? k} | ${peer} | ${fmt(v.map((r) => r.mbps), 2)} | ${fmt(v.map((r) => r.cpu), 2)} | ${fmt(v.map((r) => r.wait), 2)} | ${fmt(v.map((r) => r.rtt), 2)} | ${splitCell(v)} |`);
  }
  for (const [kind, base] of [...kinds.map((k) => [k, 'qemu']), ...(BASELINE ? [['pair', 'vmsup-base']] : [])]) {
    const a = (res[`${kind}/vmsup`] ?? []), b = (res[`${kind}/${base}`] ?? []);
    const ra = med(a.map((r) => r.mbps)) / med(b.map((r) => r.mbps)), rc = med(a.map((r) => r.cpu)) / med(b.map((r) => r.cpu));
    const rr = med(a.map((r) => r.rtt)) / med(b.map((r) => r.rtt));
    if (Number.isFinite(ra)) {
      console.log(`${kind}: vmsup/${base} throughput ${ra.toFixed(2)}x, CPU per transfer ${rc.toFixed(2)}x` +
        (Number.isFinite(rr) ? `, ping RTT ${rr.toFixed(2)}x` : ''));
    }
  }
  if (ROWS.includes('local') && !canLocal) console.log('(-L vs tap not measured: needs root and unshare)');
  if (!PERF) console.log('(no CPU split: needs root and perf)');
}
main().catch((e) => { console.error(e); process.exit(1); });
