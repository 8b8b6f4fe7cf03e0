// Where vmsup used to differ from vmctl (issue 13's list, each seen before the
// fix): getopt forms, rounding warnings, wait, forced stops, vmctl's words for
// bad names, events, help, -v, keyword prefixes, a per-user daemon's own
// user, the refused-socket hint, and a `vmsup run` whose guest ignores SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildBareMetal, Daemon, sleep, VMSUP, VMSUPD } from '../daemon/harness.js';

const GROUP = 'vmsupcg';
const OWNER = 'vmsupco'; // runs a per-user vmsupd
const OUTSIDER = 'vmsupcx'; // not in GROUP

function sh(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

let d: Daemon;
let work: string;
let IDLE: string;
let EXIT: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-vmctl-'));
  fs.chmodSync(work, 0o755);
  IDLE = buildBareMetal(work, 'idle', 'IDLE-READY', 'idle');
  EXIT = buildBareMetal(work, 'exit', 'EXITING', 'exit');
  for (const u of [OWNER, OUTSIDER]) sh('userdel', [u]);
  sh('groupadd', ['-f', GROUP]);
  sh('useradd', ['-M', '-U', OWNER]);
  sh('useradd', ['-M', '-U', OUTSIDER]);
  d = await Daemon.create({ stop_timeout: 2 }, ['--group', GROUP]);
});

afterAll(async () => {
  await d?.cleanup();
  for (const u of [OWNER, OUTSIDER]) sh('userdel', [u]);
  sh('groupdel', [GROUP]);
  fs.rmSync(work, { recursive: true, force: true });
});

describe('getopt forms', () => {
  test('-m128M attaches the value to its letter', async () => {
    const r = await d.vmsup(['define', '-m128M', `-b${IDLE}`, 'attached']);
    expect(r.stderr).toBe('vmsup: defined vm 1 (attached)\n');
    expect(r.code).toBe(0);
    expect((await d.status('attached'))?.memory).toBe(128 * 1024 * 1024);
  });

  test('stop -fw bundles its flags', async () => {
    expect((await d.vmsup(['start', 'attached'])).code).toBe(0);
    const r = await d.vmsup(['stop', '-fw', 'attached']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^vmsup: stopping vm attached: forced to terminate vm 1/);
    expect((await d.status('attached'))?.state).toBe('stopped');
  });
});

describe('sizes are rounded with the warning vmctl prints', () => {
  test('-m 100.5M', async () => {
    const r = await d.vmsup(['define', '-m', '100.5M', '-b', IDLE, 'rounded']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('vmsup: memory size rounded to 100M\n');
    expect((await d.status('rounded'))?.memory).toBe(100 * 1024 * 1024);
  });

  test('create -s 1.5M', async () => {
    const img = path.join(work, 'small.img');
    const r = await d.vmsup(['create', '-s', '1.5M', img]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('vmsup: disk size rounded to 1.0M\n');
    expect(fs.statSync(img).size).toBe(1024 * 1024);
  });
});

describe('wait and stop -w say what really happened', () => {
  test('wait on a VM that stopped long ago reports its state, not "terminated"', async () => {
    expect((await d.vmsup(['define', '-b', EXIT, 'oldvm'])).code).toBe(0);
    // The guest ends at once (HTIF exit): start may see it stop before it answers.
    await d.vmsup(['start', 'oldvm']);
    await d.waitFor(async () => (await d.vmsup(['events', '-n', '50', 'oldvm'])).stdout.includes('test passed'));
    const r = await d.vmsup(['wait', 'oldvm']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^vmsup: waiting for vm oldvm: vm \d+ is not running: it is stopped/);
    expect(r.stderr).not.toContain('terminated');
  });

  test('wait nosuch is one line', async () => {
    const r = await d.vmsup(['wait', 'nosuch']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('vmsup: waiting for vm nosuch: vm not found: nosuch\n');
  });

  test('stop -w of a guest that ignores Ctrl-Alt-Del says it was forced, and why', async () => {
    expect((await d.vmsup(['define', '-b', IDLE, 'stubborn'])).code).toBe(0);
    expect((await d.vmsup(['start', 'stubborn'])).code).toBe(0);
    const r = await d.vmsup(['stop', '-w', 'stubborn']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^vmsup: stopping vm stubborn: forced to terminate vm \d+ \(.*ignored Ctrl-Alt-Del for 2 s and was forced off\)/);
  });
});

describe("vmctl's words, not the protocol's", () => {
  test('a name that is too long', async () => {
    const r = await d.vmsup(['define', '-b', IDLE, 'a'.repeat(300)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vmsup: name too long/);
    expect(r.stderr).not.toMatch(/malformed|params\./);
  });

  test("start ''", async () => {
    const r = await d.vmsup(['start', '']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vmsup: invalid vm name/);
    expect(r.stderr).not.toMatch(/malformed|params\./);
  });
});

describe('events', () => {
  test('-n without a count', async () => {
    const r = await d.vmsup(['events', '-n']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vmsup: option -n requires an argument/);
    expect(r.stderr).not.toContain('undefined');
  });

  test('an unknown VM fails as status does', async () => {
    const s = await d.vmsup(['status', 'nosuch']);
    const e = await d.vmsup(['events', 'nosuch']);
    expect(s.code).toBe(1);
    expect(e.code).toBe(1);
    expect(e.stderr).toBe('vmsup: vm not found: nosuch\n');
  });
});

describe('help and global options', () => {
  test('vmsup help start and start -h print the usage of start', async () => {
    for (const args of [['help', 'start'], ['start', '-h'], ['star', '--help']]) {
      const r = await d.vmsup(args);
      expect(r.code).toBe(0);
      expect(r.stderr.split('\n')[0]).toMatch(/^usage: vmsup start /);
      expect(r.stderr).not.toContain('vmsup stop');
    }
  });

  test('an unknown command gives one usage line', async () => {
    const r = await d.vmsup(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('vmsup: unknown command: frobnicate\nusage: vmsup [-hv] command [arg ...]\n');
  });

  test('-v says which socket it talks to', async () => {
    const r = await d.vmsup(['-v', 'status']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`vmsup: connecting to ${d.socket}`);
  });

  test("log and reset take vmctl's prefixes in any case", async () => {
    for (const args of [['log', 'verb'], ['log', 'VERBOSE'], ['log', 'b'], ['reset', 'ALL'], ['reset', 'sw']]) {
      const r = await d.vmsup(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    expect((await d.vmsup(['log', 'loud'])).code).toBe(2);
  });
});

describe('who may use and administer a daemon', () => {
  test("a user outside the socket's group is told the socket refused them, and why", async () => {
    const r = await d.vmsup(['status'], { asUser: OUTSIDER });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Permission denied: vmsupd's socket refused this user");
    expect(r.stderr).toContain(`usermod -aG ${GROUP} ${OUTSIDER}`);
    expect(r.stderr).not.toContain('is vmsupd running');
  });

  test("a per-user daemon's own user may log, reload and reset it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsupd-user-'));
    fs.chmodSync(dir, 0o755);
    sh('chown', [OWNER, dir]);
    const sock = path.join(dir, 'vmsup.sock');
    const p = spawn('runuser', ['-u', OWNER, '--', process.execPath, VMSUPD, '-d', '--state-dir', path.join(dir, 'state'), '--socket', sock], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    p.stderr!.on('data', (b) => (log += b));
    p.stdout!.on('data', (b) => (log += b));
    try {
      for (let i = 0; i < 300 && !log.includes('listening on'); i++) await sleep(100);
      expect(log).toContain('listening on');
      const as = (args: string[]) => {
        const r = spawnSync('runuser', ['-u', OWNER, '--', process.execPath, VMSUP, ...args], { env: { ...process.env, VMSUP_SOCKET: sock }, encoding: 'utf8' });
        return { code: r.status, stderr: r.stderr };
      };
      for (const args of [['log', 'verbose'], ['reload'], ['reset']]) {
        const r = as(args);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vmsup run', () => {
  test('a guest that ignores the SIGTERM Ctrl-Alt-Del is forced off after --stop-timeout', async () => {
    const p = spawn(process.execPath, [VMSUP, 'run', '--stop-timeout', '2', '-b', IDLE], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (b) => (out += b));
    p.stderr!.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    for (let i = 0; i < 300 && !out.includes('IDLE-READY'); i++) await sleep(100);
    expect(out).toContain('IDLE-READY');
    p.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(60_000).then(() => 'hung' as const)]);
    if (code === 'hung') p.kill('SIGKILL');
    expect(code).toBe(1);
    expect(out).toContain('vmsup: the guest ignored Ctrl-Alt-Del for 2 s and was forced off');
  });
});
