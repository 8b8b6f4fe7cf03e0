// A real vmsupd in a temporary state directory, driven only through bin/vmsup.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';
import { fileURLToPath } from 'node:url';
import { addon } from '../../native/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const VMSUP = path.join(repoRoot, 'bin/vmsup');
export const VMSUPD = path.join(repoRoot, 'bin/vmsupd');
export const GUEST = path.resolve(repoRoot, '../shared/guest');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export class Daemon {
  proc?: ChildProcess;
  log = '';
  readonly socket: string;
  readonly stateDir: string;

  constructor(
    readonly dir: string,
    readonly extraArgs: string[] = [],
  ) {
    this.socket = path.join(dir, 'run', 'vmsup.sock');
    this.stateDir = path.join(dir, 'state');
  }

  static async create(settings: Record<string, string | number> = {}, extraArgs: string[] = []): Promise<Daemon> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsupd-test-'));
    fs.chmodSync(dir, 0o755);
    const d = new Daemon(dir, extraArgs);
    // Guests that ignore Ctrl-Alt-Del would hold each clean-up for 30 s.
    d.writeSettings({ shutdown_timeout: 3, ...settings });
    await d.start();
    return d;
  }

  writeSettings(settings: Record<string, string | number>): void {
    fs.mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    const text = Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}\n`)
      .join('');
    fs.writeFileSync(path.join(this.stateDir, 'vmsupd.conf'), text);
  }

  async start(): Promise<void> {
    this.log = '';
    const p = spawn(process.execPath, [VMSUPD, '-d', '-v', '--state-dir', this.stateDir, '--socket', this.socket, ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = p;
    p.stdout!.on('data', (d) => (this.log += d));
    p.stderr!.on('data', (d) => (this.log += d));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (p.exitCode !== null) throw new Error(`vmsupd exited early (${p.exitCode}):\n${this.log}`);
      if (this.log.includes('listening on')) return;
      await sleep(50);
    }
    throw new Error(`vmsupd did not come up:\n${this.log}`);
  }

  /** SIGTERM and wait for the exit; returns the exit code. */
  async stop(timeoutMs = 90_000): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(t);
    return code;
  }

  async kill9(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  env(): NodeJS.ProcessEnv {
    return { ...process.env, VMSUP_SOCKET: this.socket };
  }

  /** Runs bin/vmsup; `asUser` runs it as that user through setpriv. */
  vmsup(args: string[], opts: { asUser?: string; timeoutMs?: number } = {}): Promise<Result> {
    let cmd = process.execPath;
    let argv = [VMSUP, ...args];
    if (opts.asUser) {
      cmd = 'runuser';
      argv = ['-u', opts.asUser, '--', process.execPath, VMSUP, ...args];
    }
    return new Promise((resolve) => {
      execFile(cmd, argv, { env: this.env(), timeout: opts.timeoutMs ?? 120_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }

  async status(name: string): Promise<{ state: string; [k: string]: unknown } | undefined> {
    const r = await this.vmsup(['status', '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return (JSON.parse(r.stdout) as { name: string; state: string }[]).find((v) => v.name === name);
  }

  async waitState(name: string, state: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: string | undefined;
    while (Date.now() < deadline) {
      last = (await this.status(name))?.state;
      if (last === state) return;
      await sleep(200);
    }
    throw new Error(`vm ${name} did not reach ${state} (last: ${last})\n${this.log}`);
  }

  async waitFor(cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms\n${this.log}`);
      await sleep(200);
    }
  }

  async cleanup(): Promise<void> {
    await this.stop(60_000).catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs `vmsup args` against daemon `d` on a fresh pty, as a user at a terminal
 * would; waitFor() polls what the terminal shows for up to `waitMs`.
 */
export function onPty(d: Daemon, args: string[], waitMs = 60_000) {
  const pty = addon().openPty(0, -1);
  const child = spawn(process.execPath, [VMSUP, ...args], { stdio: [pty.slave, pty.slave, pty.slave], env: d.env() });
  addon().closeFd(pty.slave);
  const master = new tty.ReadStream(pty.master);
  let screen = '';
  master.on('data', (b: Buffer) => (screen += b.toString('latin1')));
  master.on('error', () => undefined);
  return {
    type: (s: string) => fs.writeSync(pty.master, s),
    screen: () => screen,
    async waitFor(re: RegExp, ms = waitMs) {
      const end = Date.now() + ms;
      while (!re.test(screen)) {
        if (Date.now() > end) throw new Error(`no ${re} on the console; got:\n${screen.slice(-2000)}`);
        await sleep(100);
      }
    },
    exited: new Promise<number | null>((r) => child.once('exit', (c) => r(c))),
    close: () => master.destroy(),
  };
}

/** Builds a bare-metal RISC-V ELF that prints `marker` through HTIF, then acts on `tail`. */
export function buildBareMetal(
  dir: string,
  name: string,
  marker: string,
  tail: 'idle' | 'reset' | 'poweroff' | 'exit',
  flood = 0,
): string {
  const src = path.join(dir, `${name}.S`);
  const ld = path.join(dir, `${name}.ld`);
  const elf = path.join(dir, `${name}.elf`);
  const bytes = [...Buffer.from(marker + '\n')].join(', ');
  const tails = {
    // Sleep for ever with nothing enabled: WFI, and WFI again if it ever wakes.
    idle: `1: wfi\n  j 1b`,
    // QEMU virt's sifive,test syscon at 0x100000: 0x7777 resets, 0x5555 powers off.
    reset: `li t0, 0x100000\n  li t1, 0x7777\n  sw t1, 0(t0)\n1: j 1b`,
    poweroff: `li t0, 0x100000\n  li t1, 0x5555\n  sw t1, 0(t0)\n1: j 1b`,
    // HTIF exit with status 0 (tohost = 1): the run ends as "passed".
    exit: `la t2, tohost\n  li t1, 1\n  sd t1, 0(t2)\n1: j 1b`,
  };
  fs.writeFileSync(
    src,
    `  .section .text.init, "ax"
  .globl _start
_start:
  li s1, ${flood}
flood:
  beqz s1, marker
  la s0, line
  call puts
  addi s1, s1, -1
  j flood
marker:
  la s0, msg
  call puts
  ${tails[tail]}

# Prints the NUL-terminated string at s0 through HTIF.
puts:
next:
  lbu a0, 0(s0)
  beqz a0, done
  # HTIF console putchar: device 1, command 1, the byte in the low bits.
  li t1, 0x0101000000000000
  or t1, t1, a0
  la t2, tohost
  sd t1, 0(t2)
wait:
  ld t3, 0(t2)
  bnez t3, wait
  addi s0, s0, 1
  j next
done:
  ret
  .section .rodata
msg: .byte ${bytes}, 0
line: .ascii "flood flood flood flood flood flood flood flood flood flood 0123\\n"
  .byte 0
  .section .tohost, "aw"
  .align 6
  .globl tohost
tohost: .dword 0
  .align 6
  .globl fromhost
fromhost: .dword 0
`,
  );
  fs.writeFileSync(
    ld,
    `OUTPUT_ARCH(riscv)\nENTRY(_start)\nSECTIONS {\n . = 0x80000000;\n .text : { *(.text.init) *(.text*) }\n .rodata : { *(.rodata*) }\n .tohost : { *(.tohost) }\n}\n`,
  );
  const r = spawnSync('riscv64-linux-gnu-gcc', ['-static', '-no-pie', '-nostdlib', '-nostartfiles', '-Wl,--build-id=none', '-march=rv64gc', '-mabi=lp64d', '-T', ld, '-o', elf, src], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`cannot build ${name}: ${r.stderr}`);
  return elf;
}
