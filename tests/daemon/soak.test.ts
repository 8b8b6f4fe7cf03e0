// A short soak (issue 8, continuous checks): three throw-away users cycle their
// own bare-metal VMs through start and stop while abandoning waits, cutting
// followed event streams, sending garbage, and a fourth holds as many idle
// connections as it may. Bounded to SOAK_SECONDS of load. Afterwards the
// daemon must hold no more than it did before: file descriptors
// (/proc/PID/fd), ptys, waiters and 'event' listeners back at their baseline,
// connections gone, RSS within a fixed margin; and root was served throughout.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Client } from '../../cli/client.js';
import type { DaemonStats } from '../../daemon/protocol/messages.js';
import { buildBareMetal, Daemon, sleep } from './harness.js';

const SOAK_SECONDS = Number(process.env.VMSUP_SOAK_SECONDS ?? 20);
const GROUP = 'vmsupkg';
const CYCLERS = ['vmsupk1', 'vmsupk2', 'vmsupk3'];
const HOLDER = 'vmsupkh';
const USERS = [...CYCLERS, HOLDER];
const HELPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'soak-user.mjs');

function sh(cmd: string, args: string[]): string {
  return spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
}

let work: string;
let IDLE: string;
let d: Daemon;
const procs: ChildProcess[] = [];

beforeAll(async () => {
  for (const u of USERS) sh('userdel', [u]);
  sh('groupadd', ['-f', GROUP]);
  for (const u of USERS) sh('useradd', ['-M', '-U', '-G', GROUP, u]);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-soak-'));
  fs.chmodSync(work, 0o755);
  IDLE = buildBareMetal(work, 'idle', 'VMSUP-GUEST-READY', 'idle');
  fs.copyFileSync(HELPER, path.join(work, 'soak-user.mjs'));
  // A short idle timeout so that the holder's connections churn too.
  d = await Daemon.create({ connections_per_user: 16, idle_timeout: 5, stop_timeout: 5 }, ['--group', GROUP]);
});
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await d?.cleanup();
  for (const u of USERS) sh('userdel', [u]);
  sh('groupdel', [GROUP]);
  fs.rmSync(work, { recursive: true, force: true });
});

interface Sample {
  fds: number;
  ptys: number;
  rssKiB: number;
  stats: DaemonStats;
}

async function sample(): Promise<Sample> {
  const pid = d.proc!.pid!;
  const fdDir = `/proc/${pid}/fd`;
  let fds = 0;
  let ptys = 0;
  for (const f of fs.readdirSync(fdDir)) {
    fds++;
    let target = '';
    try {
      target = fs.readlinkSync(path.join(fdDir, f));
    } catch {
      continue; // closed meanwhile
    }
    if (target === '/dev/ptmx' || target.startsWith('/dev/pts/')) ptys++;
  }
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  const c = await Client.connect(d.socket);
  try {
    return { fds, ptys, rssKiB, stats: await c.request('stats', {}) };
  } finally {
    c.close();
  }
}

function runAs(user: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const uid = Number(sh('id', ['-u', user]).trim());
  const gid = Number(sh('getent', ['group', GROUP]).split(':')[2]);
  const p = spawn(process.execPath, [path.join(work, 'soak-user.mjs'), d.socket, ...args], { uid, gid, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  let out = '';
  p.stdout!.on('data', (c) => (out += c));
  p.stderr!.on('data', (c) => (out += c));
  return new Promise((r) => p.once('exit', (code) => r({ code, out })));
}

test('under many users, connections, waits and start/stop cycles, the daemon holds nothing it did not hold before', async () => {
  // Warm-up: one start/stop as root, so lazily opened handles (worker pool, tty group…) are in the baseline.
  expect((await d.vmsup(['start', '-m', '16M', '-b', IDLE, 'warm'])).code).toBe(0);
  expect((await d.vmsup(['stop', '-f', '-w', 'warm'])).code).toBe(0);
  await sleep(6000); // the pool's idle worker thread ends (idleTimeout 5 s)
  const base = await sample();

  const runs = [
    ...CYCLERS.map((u) => runAs(u, [`${u}-vm`, IDLE, String(SOAK_SECONDS), 'cycle'])),
    runAs(HOLDER, ['none', IDLE, String(SOAK_SECONDS), 'hold']),
  ];
  // Root is served throughout, and the daemon's holdings stay bounded while it runs.
  const peaks: Sample[] = [];
  const until = Date.now() + SOAK_SECONDS * 1000;
  while (Date.now() < until) {
    const t0 = Date.now();
    const r = await d.vmsup(['status'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    peaks.push(await sample());
    await sleep(Math.max(0, 2000 - (Date.now() - t0)));
  }
  const results = await Promise.all(runs);
  const counts = results.map((r) => {
    expect(r.code, r.out).toBe(0);
    return JSON.parse(r.out.trim().split('\n').at(-1)!) as Record<string, number>;
  });
  for (const c of counts.slice(0, CYCLERS.length)) {
    expect(c.cycles).toBeGreaterThan(0);
    expect(c.errors).toBe(0);
  }
  // The holder got its share (connections_per_user) and, as the daemon counts, never more.
  expect(counts.at(-1)!.held).toBeGreaterThanOrEqual(15);
  const holderUid = sh('id', ['-u', HOLDER]).trim();
  expect(Math.max(...peaks.map((s) => s.stats.connectionsByUid[holderUid] ?? 0))).toBeLessThanOrEqual(16);

  // Everything the clients held is released once they are gone.
  let after = await sample();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (after.stats.connections > 1 || after.stats.waiters > 0 || after.fds > base.fds)) {
    await sleep(500);
    after = await sample();
  }
  const max = (k: (s: Sample) => number) => Math.max(...peaks.map(k));
  const report = {
    cycles: counts.slice(0, CYCLERS.length).reduce((a, c) => a + c.cycles, 0),
    requests: counts.reduce((a, c) => a + c.requests, 0),
    abandonedWaits: counts.reduce((a, c) => a + c.abandoned, 0),
    base: { fds: base.fds, ptys: base.ptys, rssMiB: base.rssKiB >> 10 },
    peak: { fds: max((s) => s.fds), ptys: max((s) => s.ptys), rssMiB: max((s) => s.rssKiB) >> 10, connections: max((s) => s.stats.connections), waiters: max((s) => s.stats.waiters) },
    after: { fds: after.fds, ptys: after.ptys, rssMiB: after.rssKiB >> 10, ...after.stats },
  };
  console.log(`soak: ${JSON.stringify(report)}`);
  expect(after.stats.connections).toBe(1); // the sampler's own
  expect(after.stats.longLived).toBe(0);
  expect(after.stats.waiters).toBe(0);
  expect(after.stats.eventListeners).toBe(base.stats.eventListeners);
  expect(after.ptys).toBe(base.ptys);
  expect(after.fds).toBeLessThanOrEqual(base.fds + 2);
  expect(after.rssKiB - base.rssKiB).toBeLessThan(128 * 1024);
  // While it ran: 3 cyclers' VMs plus connections, never anything like one per request.
  expect(report.peak.connections).toBeLessThanOrEqual(4 * 16 + 2);
  expect(report.peak.fds).toBeLessThan(base.fds + 4 * 16 + 3 * 16);
});
