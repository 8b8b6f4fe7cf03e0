// vmsupd benchmark. Prints figures; asserts nothing. See bench/README.md.
import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';
import { fileURLToPath } from 'node:url';
import { Client } from '../../dist/cli/client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const guest = path.resolve(process.argv[2] ?? path.join(root, '../shared/guest'));
const NVMS = Number(process.env.BENCH_VMS ?? 10);
const NDEF = Number(process.env.BENCH_DEFINED ?? 50);
const MEM_MB = Number(process.env.BENCH_MEM_MB ?? 128);
const IDLE_S = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const STATUS_RUNS = Number(process.env.BENCH_STATUS_RUNS ?? 500);
const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(2)} ms`;

const LOAD_ONLY = process.env.BENCH_LOAD_ONLY === '1';
const HOLD = Number(process.env.BENCH_HOLD ?? 200);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 20);
// Section 5 (issue 8) needs two throw-away users; only root can make them.
const LOAD_GROUP = 'vmsupbg';
const LOAD_USERS = ['vmsupbh', 'vmsupbf'];
const asRoot = process.getuid() === 0;
const sh = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
if (asRoot) {
  for (const u of LOAD_USERS) sh('userdel', [u]);
  sh('groupadd', ['-f', LOAD_GROUP]);
  for (const u of LOAD_USERS) sh('useradd', ['-M', '-U', '-G', LOAD_GROUP, u]);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-bench-'));
fs.chmodSync(dir, 0o755);
const socket = path.join(dir, 'vmsup.sock');
const stateDir = path.join(dir, 'state');
fs.mkdirSync(stateDir);
// connections_per_user: section 5's holder must be able to hold its 200 (the default share is 32).
fs.writeFileSync(path.join(stateDir, 'vmsupd.conf'), 'shutdown_timeout = 5\nconnections_per_user = 256\n');
const env = { ...process.env, VMSUP_SOCKET: socket };

const daemon = spawn(process.execPath, [path.join(root, 'bin/vmsupd'), '-d', '--state-dir', stateDir, '--socket', socket, ...(asRoot ? ['--group', LOAD_GROUP] : [])], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let dlog = '';
daemon.stderr.on('data', (d) => (dlog += d));
const loadProcs = [];
const cleanup = () => {
  for (const p of loadProcs) if (p.exitCode === null) p.kill('SIGKILL');
  if (daemon.exitCode === null) daemon.kill('SIGKILL');
  if (asRoot) {
    for (const u of LOAD_USERS) sh('userdel', [u]);
    sh('groupdel', [LOAD_GROUP]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);

function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime + stime
}
function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}
async function cpuOver(seconds) {
  const t0 = cpuTicks(daemon.pid);
  const w0 = Date.now();
  await sleep(seconds * 1000);
  const used = (cpuTicks(daemon.pid) - t0) / CLK_TCK;
  return (100 * used) / ((Date.now() - w0) / 1000);
}
function cli(args) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    execFile(process.execPath, [path.join(root, 'bin/vmsup'), ...args], { env }, (err, stdout, stderr) => {
      resolve({ ok: !err, ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout, stderr });
    });
  });
}

try {
  for (let i = 0; i < 300 && !fs.existsSync(socket); i++) await sleep(100);
  if (!fs.existsSync(socket)) throw new Error(`vmsupd did not start:\n${dlog}`);
  const c = await Client.connect(socket);
  console.log(`vmsupd benchmark: guest ${guest}, ${os.cpus().length} host cores, node ${process.version}`);

  // 0. the idle daemon
  const idleDaemon = await cpuOver(Math.min(IDLE_S, 5));
  const rss0 = rssBytes(daemon.pid);

  // 1. status round-trip with NDEF defined VMs
  const kernel = path.join(guest, 'Image');
  const initrd = path.join(guest, 'initramfs.cpio.gz');
  for (let i = 0; i < NDEF; i++)
    await c.request('define', { name: `def${i}`, config: { memory: MEM_MB << 20, kernel, initrd, cmdline: 'console=ttyS0' } });
  const rt = [];
  for (let i = 0; i < STATUS_RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = await c.request('status', {});
    rt.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.vms.length !== NDEF) throw new Error('status lost VMs');
  }
  const cliRuns = [];
  for (let i = 0; i < 30; i++) cliRuns.push((await cli(['status'])).ms);
  console.log(`\n## status with ${NDEF} defined VMs`);
  console.log(`protocol round-trip (one connection, ${STATUS_RUNS} requests): median ${ms(pct(rt, 50))}, p99 ${ms(pct(rt, 99))}`);
  console.log(`bin/vmsup status, whole command (node start-up included, 30 runs): median ${ms(pct(cliRuns, 50))}, p99 ${ms(pct(cliRuns, 99))}`);

  if (!LOAD_ONLY) {
    // 2. start NVMS VMs to their ready marker
    console.log(`\n## start ${NVMS} Linux VMs (${MEM_MB} MiB, 1 vCPU, initramfs) to VMSUP-GUEST-READY`);
    const names = Array.from({ length: NVMS }, (_, i) => `def${i}`);
    const t0 = Date.now();
    const readyAt = await Promise.all(
      names.map(async (n) => {
        const cc = await Client.connect(socket);
        await cc.request('start', { vm: n });
        const con = await cc.request('console', { vm: n });
        let seen = Buffer.from(con.history, 'base64').toString('latin1');
        if (!seen.includes('VMSUP-GUEST-READY')) {
          const fd = fs.openSync(con.tty, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
          const rs = new tty.ReadStream(fd);
          await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${n}: no marker in 300 s`)), 300_000);
            rs.on('data', (b) => {
              seen += b.toString('latin1');
              if (seen.includes('VMSUP-GUEST-READY')) {
                clearTimeout(timer);
                resolve();
              }
            });
          });
          rs.destroy();
        }
        const at = Date.now() - t0;
        cc.close(); // releases the console: the daemon drains it again
        return at;
      }),
    );
    console.log(`all ${NVMS} ready after ${(Math.max(...readyAt) / 1000).toFixed(2)} s; per VM median ${(pct(readyAt, 50) / 1000).toFixed(2)} s, first ${(Math.min(...readyAt) / 1000).toFixed(2)} s`);

    // let them reach the prompt and settle
    await sleep(5000);

    // 3. memory per running VM beyond its touched guest pages
    const st = await c.request('status', {});
    const running = st.vms.filter((v) => v.state === 'running');
    const guestTouched = running.reduce((s, v) => s + v.curmem, 0);
    const rss1 = rssBytes(daemon.pid);
    const perVm = (rss1 - rss0 - guestTouched) / running.length;
    console.log(`\n## host memory`);
    console.log(`vmsupd RSS: ${(rss0 / 2 ** 20).toFixed(1)} MiB idle, ${(rss1 / 2 ** 20).toFixed(1)} MiB with ${running.length} running VMs`);
    console.log(`guest pages touched (CURMEM, sum): ${(guestTouched / 2 ** 20).toFixed(1)} MiB`);
    console.log(`host memory per running VM beyond its touched guest pages: ${(perVm / 2 ** 20).toFixed(1)} MiB`);
    // Part of that figure: the JIT's code cache (status codeCacheBytes; capped per hart, issue 11).
    const codeCache = running.reduce((s, v) => s + (v.codeCacheBytes ?? 0), 0);
    console.log(`  of which JIT code cache: ${(codeCache / running.length / 2 ** 20).toFixed(1)} MiB per VM (${(codeCache / 2 ** 20).toFixed(1)} MiB in all)`);

    // 4. CPU of idle and of paused guests
    console.log(`\n## host CPU (vmsupd process, all threads; % of one core)`);
    console.log(`idle daemon, no VM running: ${idleDaemon.toFixed(2)} %`);
    const idle = await cpuOver(IDLE_S);
    console.log(`${running.length} idle guests at their shell prompt, over ${IDLE_S} s: ${idle.toFixed(2)} % (${(idle / running.length).toFixed(2)} % per guest)`);
    for (const v of running) await c.request('pause', { vm: v.name });
    const paused = await cpuOver(IDLE_S);
    console.log(`${running.length} paused guests, over ${IDLE_S} s: ${paused.toFixed(2)} %`);
    for (const v of running) await c.request('unpause', { vm: v.name });

    const t1 = Date.now();
    await c.request('stop', { all: true, wait: true });
    console.log(`\nstop -a -w of ${running.length} guests (Ctrl-Alt-Del, clean power-off): ${((Date.now() - t1) / 1000).toFixed(2)} s`);
  }

  // 5. status while one user holds HOLD idle connections and another floods waits (issue 8)
  if (asRoot) {
    const loadUser = (user, args) => {
      const uid = Number(sh('id', ['-u', user]).trim());
      const gid = Number(sh('getent', ['group', LOAD_GROUP]).split(':')[2]);
      const p = spawn(process.execPath, [path.join(root, 'bench/daemon/load-user.mjs'), socket, ...args], { uid, gid, stdio: ['ignore', 'pipe', 'inherit'] });
      loadProcs.push(p);
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      return { p, line: async () => { while (!out.includes('\n')) { if (p.exitCode !== null) throw new Error('load user failed'); await sleep(50); } return JSON.parse(out); } };
    };
    // The flooder's own running VM, for its waits to wait on.
    await c.request('define', { name: 'flooded', config: { memory: 64 << 20, kernel, initrd, cmdline: 'console=ttyS0', owner: LOAD_USERS[1] } });
    await c.request('start', { vm: 'flooded' });
    // Paused: its waits are held all the same, and its vCPU does not compete with the daemon for the host.
    await c.request('pause', { vm: 'flooded' });
    const holder = loadUser(LOAD_USERS[0], ['hold', String(HOLD)]);
    const { held } = await holder.line();
    const flooder = loadUser(LOAD_USERS[1], ['flood', 'flooded', String(LOAD_SECONDS)]);
    await sleep(1000);
    const loaded = [];
    const cpu0 = cpuTicks(daemon.pid);
    const w0 = Date.now();
    const until = Date.now() + (LOAD_SECONDS - 2) * 1000;
    while (Date.now() < until && loaded.length < 5000) {
      const t0 = process.hrtime.bigint();
      await c.request('status', {});
      loaded.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await sleep(2);
    }
    const cpuLoaded = (100 * (cpuTicks(daemon.pid) - cpu0)) / CLK_TCK / ((Date.now() - w0) / 1000);
    const { waits } = await flooder.line();
    const st = await c.request('stats', {});
    console.log(`\n## status under load: one user holds ${held} idle connections, another floods waits (${LOAD_SECONDS} s)`);
    console.log(`waits sent and abandoned by the flooder: ${waits} (${Math.round(waits / LOAD_SECONDS)}/s); vmsupd CPU meanwhile ${cpuLoaded.toFixed(0)} % of one core; afterwards ${st.connections} connections, ${st.waiters} waiters`);
    console.log(`status round-trip (${loaded.length} requests, ${NDEF + 1} VMs): median ${ms(pct(loaded, 50))}, p99 ${ms(pct(loaded, 99))} (bar: p99 < 10 ms; unloaded p99 ${ms(pct(rt, 99))}, ratio ${(pct(loaded, 99) / pct(rt, 99)).toFixed(2)})`);
    holder.p.kill('SIGKILL');
    await c.request('stop', { vm: 'flooded', force: true, wait: true });
  } else console.log('\n## status under load: skipped (needs root to create the load users)');
  c.close();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
} catch (e) {
  console.error(`bench/daemon: ${e.message}`);
  process.exitCode = 1;
}
