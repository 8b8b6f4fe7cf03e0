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
    const cpu0 = c.cpuSeconds();
    const out = await c.sh(`s=$(cut -d' ' -f1 /proc/uptime); wget -q -O /dev/null http://${hostAddr}:${port}/ && e=$(cut -d' ' -f1 /proc/uptime); echo "XFER $s $e"`);
    const cpu1 = c.cpuSeconds();
    const m = /XFER ([\d.]+) ([\d.]+)/.exec(out);
    const secs = m ? Number(m[2]) - Number(m[1]) : NaN;
    let rtt = NaN;
    if (!(kind === 'nat')) {
      const p = await c.sh(`ping -c 10 -i 0.2 ${hostAddr}`);
      const r = /= [\d.]+\/([\d.]+)\//.exec(p);
      rtt = r ? Number(r[1]) : NaN;
    }
    return { mbps: secs > 0 ? MB / secs : NaN, secs, cpu: cpu1 - cpu0, rtt };
  } finally {
    await c.stop().catch(() => c.p.kill('SIGKILL'));
  }
}

const med = (v) => { const s = v.filter(Number.isFinite).sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const fmt = (v, d = 1) => { const s = v.filter(Number.isFinite); return s.length ? `${med(s).toFixed(d)} [${Math.min(...s).toFixed(d)}-${Math.max(...s).toFixed(d)}]` : 'n/a'; };

let nsHolder = null;
async function main() {
  const peers = qemu ? ['vmsup', 'qemu'] : ['vmsup'];
  const kinds = ['nat'];
  if (isRoot && spawnSync('unshare', ['-n', 'true']).status === 0) kinds.push('local');
  console.log(`bench/net: ${MB} MiB HTTP transfer host->guest (wget by the guest, timed by its /proc/uptime), ${RUNS} interleaved runs + 1 warm-up`);
  const res = {};
  for (const kind of kinds) {
    let server, addr;
    if (kind === 'nat') {
      server = await serve('127.0.0.1');
      addr = '10.0.2.2';
    } else {
      // A namespace held by a sleeping process; the server runs inside it.
      nsHolder = spawn('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up; exec sleep 3600'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
      server = spawn('nsenter', [`--net=/proc/${nsHolder.pid}/ns/net`, process.execPath, '-e',
        `const b=Buffer.alloc(${MB << 20},0x5a);require('http').createServer((q,r)=>{r.setHeader('content-length',b.length);r.end(b)}).listen(8080,'0.0.0.0')`], { stdio: 'ignore' });
      addr = '100.64.0.0';
    }
    const port = kind === 'nat' ? server.address().port : 8080;
    for (const peer of peers) res[`${kind}/${peer}`] = [];
    for (let i = 0; i <= RUNS; i++) {
      for (const peer of peers) {
        try {
          const r = await runOnce(kind, peer, port, addr);
          if (i > 0) res[`${kind}/${peer}`].push(r);
        } catch (e) {
          console.log(`  ${kind}/${peer} run ${i}: failed: ${String(e.message).split('\n')[0]}`);
        }
      }
    }
    if (kind === 'nat') server.close();
    else { server.kill('SIGKILL'); nsHolder.kill('SIGKILL'); }
  }
  console.log('\n| path | peer | MiB/s (guest clock) | host CPU s in transfer | ping RTT ms |');
  console.log('|---|---|---:|---:|---:|');
  for (const [k, v] of Object.entries(res)) {
    const [kind, peer] = k.split('/');
    const label = kind === 'nat' ? (peer === 'vmsup' ? '--nat (libslirp)' : '-netdev user') : (peer === 'vmsup' ? '-L (tap, built-in DHCP)' : 'tap');
    console.log(`| ${label} | ${peer} | ${fmt(v.map((r) => r.mbps), 2)} | ${fmt(v.map((r) => r.cpu), 2)} | ${fmt(v.map((r) => r.rtt), 2)} |`);
  }
  for (const kind of kinds) {
    const a = med((res[`${kind}/vmsup`] ?? []).map((r) => r.mbps)), b = med((res[`${kind}/qemu`] ?? []).map((r) => r.mbps));
    if (Number.isFinite(a) && Number.isFinite(b)) console.log(`${kind}: vmsup/qemu throughput ratio ${(a / b).toFixed(2)}`);
  }
  if (!kinds.includes('local')) console.log('(-L vs tap not measured: needs root and unshare)');
}
main().catch((e) => { console.error(e); process.exit(1); });
