// Web interface benchmark. Prints figures; asserts nothing. See bench/README.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import WebSocket from 'ws';
import { Client } from '../../dist/cli/client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const guest = path.resolve(process.argv[2] ?? path.join(root, '../shared/guest'));
const NVMS = Number(process.env.BENCH_VMS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const KEYS = Number(process.env.BENCH_KEYS ?? 100);
const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-bench-web-'));
const socket = path.join(dir, 'vmsup.sock');
const stateDir = path.join(dir, 'state');
fs.mkdirSync(stateDir);
fs.writeFileSync(path.join(stateDir, 'vmsupd.conf'), 'shutdown_timeout = 5\n');
const daemon = spawn(process.execPath, [path.join(root, 'bin/vmsupd'), '-d', '--state-dir', stateDir, '--socket', socket, '--http', '127.0.0.1:0'], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let dlog = '';
daemon.stderr.on('data', (d) => (dlog += d));
let browser;
const cleanup = () => {
  if (daemon.exitCode === null) daemon.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);

/** utime + stime ticks of the daemon's main thread and of the whole process (VM threads too). */
function ticks(pid) {
  const read = (f) => {
    const t = fs.readFileSync(f, 'utf8');
    const rest = t.slice(t.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  };
  return { main: read(`/proc/${pid}/task/${pid}/stat`), all: read(`/proc/${pid}/stat`) };
}
async function cpuOver(seconds) {
  const t0 = ticks(daemon.pid);
  const w0 = Date.now();
  await sleep(seconds * 1000);
  const t1 = ticks(daemon.pid);
  const wall = (Date.now() - w0) / 1000;
  return { main: (100 * (t1.main - t0.main)) / CLK_TCK / wall, all: (100 * (t1.all - t0.all)) / CLK_TCK / wall };
}
const fmt = (c) => `daemon main thread ${c.main.toFixed(2)} % of a core, whole process (VM threads too) ${c.all.toFixed(2)} %`;

/** Median and p95 of keystroke -> echo through `write(key)` and an output stream. */
async function echoLatency(write, onOutput) {
  let waiting;
  onOutput((chunk) => {
    if (waiting && chunk.includes('x')) {
      const w = waiting;
      waiting = undefined;
      w();
    }
  });
  const lat = [];
  for (let i = 0; i < KEYS; i++) {
    const got = new Promise((r) => (waiting = r));
    const t0 = process.hrtime.bigint();
    write('x');
    await Promise.race([got, sleep(5000)]);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (i % 40 === 39) {
      write('\x15'); // ^U: keep the shell's line short
      await sleep(50);
    }
  }
  write('\x15');
  await sleep(100);
  return { median: pct(lat, 50), p95: pct(lat, 95) };
}

try {
  for (let i = 0; i < 300 && !/web interface on (\S+)/.test(dlog); i++) await sleep(100);
  const base = /web interface on (\S+)/.exec(dlog)?.[1];
  if (!base) throw new Error(`vmsupd did not start its web interface:\n${dlog}`);
  const c = await Client.connect(socket);
  console.log(`web benchmark: guest ${guest}, ${os.cpus().length} host cores, node ${process.version}, ${NVMS} VMs`);
  const kernel = path.join(guest, 'Image');
  const initrd = path.join(guest, 'initramfs.cpio.gz');
  for (let i = 0; i < NVMS; i++) {
    await c.request('define', { name: `w${i}`, config: { memory: 128 << 20, kernel, initrd, cmdline: 'console=ttyS0' } });
    await c.request('start', { vm: `w${i}` });
  }
  // Booted and idle at the prompt: the console stops growing.
  for (let i = 0; i < 120; i++) {
    const vms = (await c.request('metrics', {})).vms;
    if (vms.every((v) => (v.info.metrics?.counters.console_out_bytes ?? 0) > 0 && (v.info.metrics?.rates.console_out_bytes ?? 1) === 0)) break;
    await sleep(1000);
  }
  await sleep(3000);

  console.log(`\n## vmsupd CPU over ${SECONDS} s, ${NVMS} idle Linux guests`);
  const closed = await cpuOver(SECONDS);
  console.log(`web UI closed: ${fmt(closed)}`);

  browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const login = async () => {
    const { url } = await c.request('web-login', {});
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => location.pathname === '/');
    return page;
  };
  const list = await login();
  await list.waitForSelector('tr[data-vm="w0"]');
  const detail = await browser.newPage();
  await detail.goto(`${base}/vm?name=w0`);
  const cons = await browser.newPage();
  await cons.goto(`${base}/console?name=w1`);
  await cons.waitForSelector('#role[data-role="typist"]');
  await sleep(2000);
  const open = await cpuOver(SECONDS);
  console.log(`web UI open (list + one detail page + one console, refreshing every 2 s): ${fmt(open)}`);
  console.log(`ratio open/closed, main thread: ${(open.main / Math.max(closed.main, 0.01)).toFixed(2)}x; added: ${(open.main - closed.main).toFixed(2)} points of a core`);
  await browser.close();
  browser = undefined;
  await sleep(1000);

  console.log(`\n## console keystroke -> echo, ${KEYS} keys each (guest shell echo), vm w2`);
  // The web console's path: the daemon's WebSocket (the same frames the page sends).
  const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: (await c.request('web-login', {})).url.split('#')[1] }) });
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/vms/w2/console`, { headers: { cookie, origin: base } });
  await new Promise((r, j) => (ws.on('open', r), ws.on('error', j)));
  await sleep(500);
  const web = await echoLatency(
    (s) => ws.send(Buffer.from(s)),
    (fn) => ws.on('message', (d, bin) => bin && fn(d.toString('latin1'))),
  );
  ws.close();
  await sleep(500);
  // vmsup console's path: claim the console, then read and write its tty.
  const cc = await Client.connect(socket);
  const con = await cc.request('console', { vm: 'w2' });
  const fd = fs.openSync(con.tty, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const rs = new tty.ReadStream(fd);
  rs.setRawMode(true);
  const cli = await echoLatency(
    (s) => fs.writeSync(fd, s),
    (fn) => rs.on('data', (b) => fn(b.toString('latin1'))),
  );
  rs.destroy();
  cc.close();
  console.log(`web console (WebSocket): median ${web.median.toFixed(2)} ms, p95 ${web.p95.toFixed(2)} ms`);
  console.log(`vmsup console (tty):     median ${cli.median.toFixed(2)} ms, p95 ${cli.p95.toFixed(2)} ms`);
  console.log(`ratio web/cli (median): ${(web.median / cli.median).toFixed(2)}x`);
  c.close();
} finally {
  await browser?.close().catch(() => undefined);
  daemon.kill('SIGTERM');
  await new Promise((r) => (daemon.exitCode !== null ? r() : daemon.once('exit', r)));
}
