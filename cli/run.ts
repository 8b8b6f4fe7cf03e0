// vmsup run: boots a machine in the foreground, without the daemon.
// The console is this terminal; power-off ends the run.
import fs from 'node:fs';
import { addon, type DiskOptions, type MachineOptions, type NicOptions } from '../native/index.js';
import { openMachine, runMachine, saveMachine } from '../workers/machine-runner.js';
import { VmsupError } from '../daemon/protocol/errors.js';
import type { DiskInput } from '../daemon/protocol/messages.js';
import { EXIT_FAIL, EXIT_OK, EXIT_USAGE, type CommandDefinition } from './command.js';
import { MACHINE_LONG_OPTIONS, machineOption } from './machine-options.js';
import { bootOrder } from '../daemon/boot-order.js';
import { DEFAULT_FIRMWARE, DEFAULT_UBOOT } from '../daemon/settings.js';
import { formatIpv4, machineNic, NicArgs, nicSpecs, setUpLocal as setUpLocalNic } from '../daemon/nics.js';

const USAGE =
  'run [-m size] [-c cpus] [--timeout seconds] [--stop-timeout seconds] [--bios file] [--initrd file] ' +
  '[--cmdline string] [-d [raw:|raw!:|qcow2:]disk] [-r [raw:|raw!:|qcow2:]cdrom] [-B disk|cdrom|net]\n' +
  '\t    [--nat [--forward tcp:[HOSTADDR:]HOSTPORT:GUESTPORT]...] [-L] [--lladdr xx:xx:xx:xx:xx:xx] [--no-jit]\n' +
  '\t    [--signature file [--signature-granularity 1|2|4|8|16]] [--save file] [-b file]\n' +
  'run --restore file [--force] [--save file] [--timeout seconds]\n' +
  '\t    (-b: an ELF, a Linux Image or a raw binary loaded at 0x80200000; without -b and\n' +
  '\t    --bios the disks boot through OpenSBI and U-Boot (' + DEFAULT_FIRMWARE + ', ' + DEFAULT_UBOOT + ');\n' +
  '\t    -d is repeatable, -r attaches a cdrom (an ISO 9660 image, read-only), -B the device booted first;\n' +
  '\t    console escapes after a newline (~s saves with --save):\n' +
  '\t    ~. quit, ~p Ctrl-Alt-Del, ~~ a literal ~; SIGTERM/SIGINT: Ctrl-Alt-Del, then the guest is\n' +
  '\t    forced off after --stop-timeout seconds (default 30), or at a second signal;\n' +
  '\t    --signature: when the ELF ends through HTIF, write its riscv-arch-test signature,\n' +
  '\t    begin_signature..end_signature, as Spike does: one line of N bytes (default 4)\n' +
  '\t    per granule, lowest address first, each line in lowercase hex, most significant byte first;\n' +
  '\t    --nat: a NIC behind user-mode NAT (DHCP, the host at 10.0.2.2, DNS at 10.0.2.3), no root needed;\n' +
  '\t    --forward: a host port to a guest port (127.0.0.1 unless HOSTADDR is given);\n' +
  '\t    -L: a local interface (root): a tap whose host side gets the first address of a /31\n' +
  '\t    from 100.64.0.0/10, the guest the second one by DHCP; --lladdr: the NIC\'s MAC;\n' +
  '\t    --save: on the ~s escape or SIGUSR1, save the running machine to the file and exit;\n' +
  '\t    --restore: continue a saved machine (its options come from the file; --force\n' +
  '\t    accepts disks modified since the save))';

interface RunArgs {
  opts: MachineOptions;
  /** -L: the NIC that needs a tap and a /31 before the machine starts. */
  local: boolean;
  timeoutSec?: number;
  /** --stop-timeout: how long a guest has to power off after a signal's Ctrl-Alt-Del. */
  stopTimeoutSec: number;
  /** --signature: where to write the riscv-arch-test signature. */
  signatureFile?: string;
  /** --signature-granularity: bytes per signature line. */
  granularity: number;
  /** --save: where ~s / SIGUSR1 saves the machine. */
  saveFile?: string;
  /** --restore: the saved machine to continue. */
  restoreFile?: string;
  /** --force: restore even when a disk changed since the save. */
  force?: boolean;
}

/** What --save keeps in the snapshot beside the machine (its META section). */
interface SnapshotMeta {
  v: 1;
  opts: MachineOptions;
  local: boolean;
}

/** The native ERR_VMSUP_SNAPSHOT_* code of a save/restore failure, kept for the CLI's caller. */
function snapCode(err: unknown): string {
  const c = (err as NodeJS.ErrnoException).code;
  return typeof c === 'string' && c.startsWith('ERR_VMSUP_') ? c : 'SNAPSHOT';
}

/** The options a snapshot was saved with, minus per-process descriptors. */
function snapshotMeta(opts: MachineOptions, local: boolean): string {
  const o: MachineOptions = { ...opts, nics: opts.nics?.map((n) => ({ ...n, tapFd: undefined, localHostAddr: undefined })) };
  delete o.consoleOut;
  delete o.consoleIn;
  delete o.wakeFd;
  return JSON.stringify({ v: 1, opts: o, local } satisfies SnapshotMeta);
}

/** --restore FILE [--force] [--save FILE] [--timeout S]: the machine's options come from the file. */
function parseRestoreArgs(args: string[]): RunArgs {
  let restoreFile: string | undefined;
  let saveFile: string | undefined;
  let force = false;
  let timeoutSec: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case '--restore': restoreFile = needValue(args, i++, a); break;
      case '--save': saveFile = needValue(args, i++, a); break;
      case '--force': force = true; break;
      case '--timeout': {
        const v = needValue(args, i++, a);
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new VmsupError('USAGE', `invalid timeout: ${v}`);
        timeoutSec = n;
        break;
      }
      default:
        throw new VmsupError('USAGE', `${a}: --restore takes the machine's options from the saved file\nusage: vmsup ${USAGE}`);
    }
  }
  let raw: string;
  try {
    raw = addon().readSnapshotMeta(restoreFile!);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new VmsupError(snapCode(e), e.message);
  }
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(raw) as SnapshotMeta;
    if (meta.v !== 1 || typeof meta.opts !== 'object' || meta.opts === null) throw new Error('unknown layout');
  } catch {
    throw new VmsupError('SNAPSHOT', `${restoreFile}: the saved options are not ones this vmsup wrote`);
  }
  return { opts: meta.opts, local: meta.local === true, timeoutSec, stopTimeoutSec: DEFAULT_STOP_TIMEOUT, granularity: 4, saveFile, restoreFile, force };
}

/** Bytes per line --signature-granularity accepts: powers of two up to a 128-bit (Q) register. */
export const SIGNATURE_GRANULARITIES = [1, 2, 4, 8, 16];

/** Seconds a guest has to power off after SIGTERM/SIGINT's Ctrl-Alt-Del: vmsupd's stop_timeout. */
export const DEFAULT_STOP_TIMEOUT = 30;

/**
 * A riscv-arch-test signature in the text form Spike's +signature= and Sail's
 * --test-signature= write, which RISCOF compares line by line: the region is cut
 * into `granularity`-byte lines from its lowest address; each line is the
 * little-endian value of those bytes in lowercase hex, 2 digits per byte, most
 * significant (highest-addressed) byte first. A short last line is padded with
 * zero bytes at its top, as Spike does.
 */
export function formatSignature(region: Uint8Array, granularity: number): string {
  const lines: string[] = [];
  for (let i = 0; i < region.length; i += granularity) {
    let line = '';
    for (let j = granularity - 1; j >= 0; j--) {
      const b = i + j < region.length ? region[i + j] : 0;
      line += b.toString(16).padStart(2, '0');
    }
    lines.push(line + '\n');
  }
  return lines.join('');
}

const usageError = (msg: string): never => {
  throw new VmsupError('USAGE', msg);
};

function needValue(args: string[], i: number, flag: string): string {
  const v = args[i + 1];
  if (v === undefined) throw new VmsupError('USAGE', `option ${flag} requires an argument`);
  return v;
}

// -d/-r's parser lives with the table of machine options, shared with define/start.
export { parseDisk } from './machine-options.js';

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"

/** `run`'s own format detection (the daemon does the same in daemon/vmfiles.ts):
 * no prefix = the qcow2 signature decides; `raw:` on a qcow2 image is refused unless forced. */
export function resolveDiskFormat(d: DiskInput): DiskOptions {
  let sig: 'raw' | 'qcow2' = 'raw';
  try {
    const fd = fs.openSync(d.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const b = Buffer.alloc(4);
      if (fs.fstatSync(fd).isFile() && fs.readSync(fd, b, 0, 4, 0) === 4 && b.equals(QCOW2_MAGIC)) sig = 'qcow2';
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* missing or unreadable: the open reports it */
  }
  if (d.format === 'raw' && sig === 'qcow2' && !d.force)
    throw new VmsupError(
      'FORMAT',
      `disk ${d.path} is a qcow2 image: refusing to attach it as raw (the guest would overwrite its header); use qcow2:${d.path}, or raw!:${d.path} to force`,
    );
  return { path: d.path, format: d.format ?? sig, readOnly: Boolean(d.readOnly) };
}

// The NIC helpers live in daemon/nics.ts, shared with the daemon's define/start.
export { generateMac, parseMac, parseForward, formatIpv4, pickLocalPair, LOCAL_PREFIX } from '../daemon/nics.js';

export function parseRunArgs(args: string[]): RunArgs {
  if (args.includes('--restore')) return parseRestoreArgs(args);
  const opts: MachineOptions = { memory: 256 * 1024 * 1024, cpus: 1, disks: [] };
  const limits = addon().limits;
  // --nat, -L, --forward, --lladdr: parsed as define/start parse them (daemon/nics.ts).
  const nicArgs = new NicArgs();
  let timeoutSec: number | undefined;
  let stopTimeoutSec = DEFAULT_STOP_TIMEOUT;
  let signatureFile: string | undefined;
  let granularity: number | undefined;
  let bootDevice: string | undefined;
  let saveFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if ((a === '--nat' || a === '-L' || a === '--forward' || a === '--lladdr') && nicArgs.take(a, () => needValue(args, i++, a))) continue;
    const mo = machineOption(a, true);
    if (mo) {
      const v = mo.parse(mo.arg === undefined ? '' : needValue(args, i++, a), usageError);
      // -d/-r: `run` opens the disks itself, so it detects their format here.
      if (mo.field === 'disks') opts.disks!.push(resolveDiskFormat(v as DiskInput));
      else if (mo.field === 'bootDevice') bootDevice = v as string;
      else (opts as unknown as Record<string, unknown>)[mo.field] = v;
      continue;
    }
    switch (a) {
      case '--timeout': {
        const v = needValue(args, i++, a);
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new VmsupError('USAGE', `invalid timeout: ${v}`);
        timeoutSec = n;
        break;
      }
      case '--stop-timeout': {
        const v = needValue(args, i++, a);
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > 3600) throw new VmsupError('USAGE', `invalid stop timeout: ${v} (1 to 3600 seconds)`);
        stopTimeoutSec = n;
        break;
      }
      case '--signature': signatureFile = needValue(args, i++, a); break;
      case '--save': saveFile = needValue(args, i++, a); break;
      case '--signature-granularity': {
        const v = needValue(args, i++, a);
        const n = Number(v);
        if (!/^\d+$/.test(v) || !SIGNATURE_GRANULARITIES.includes(n)) {
          throw new VmsupError('USAGE', `invalid signature granularity: ${v} (bytes per line: ${SIGNATURE_GRANULARITIES.join(', ')})`);
        }
        granularity = n;
        break;
      }
      default:
        throw new VmsupError('USAGE', `unknown option: ${a}\nusage: vmsup ${USAGE}`);
    }
  }
  if ((opts.disks?.length ?? 0) > limits.disks) throw new VmsupError('USAGE', `too many disks (at most ${limits.disks})`);
  const reqs = nicArgs.finish() ?? [];
  if (reqs.length > 1) throw new VmsupError('USAGE', '--nat and -L each give the one interface `run` sets up: choose one');
  if (reqs.length) opts.nics = nicSpecs(reqs).map(machineNic);
  const local = reqs[0]?.kind === 'local';
  if (granularity !== undefined && signatureFile === undefined) {
    throw new VmsupError('USAGE', '--signature-granularity needs --signature file');
  }
  if (signatureFile !== undefined && !opts.kernel) {
    throw new VmsupError('USAGE', '--signature needs a bare-metal ELF (-b) with begin_signature and end_signature');
  }
  const firmwareBoot = !opts.kernel && !opts.bios;
  if (firmwareBoot) {
    if (opts.disks!.length === 0 && bootDevice !== 'net') {
      throw new VmsupError('USAGE', `no kernel given (-b) and no disk or cdrom to boot\nusage: vmsup ${USAGE}`);
    }
    // As qemu-system-riscv64 -M virt: OpenSBI, then U-Boot, whose distro boot finds the OS.
    opts.bios = DEFAULT_FIRMWARE;
    opts.kernel = DEFAULT_UBOOT;
  }
  opts.defaultBios = DEFAULT_FIRMWARE;  // before a raw -b binary, when --bios is not given
  // The firmware boots virtio0: put the boot device there (a kernel given with -b keeps the order given).
  if (firmwareBoot || bootDevice !== undefined) opts.disks = bootOrder(opts.disks!, bootDevice);
  if (bootDevice !== undefined) opts.bootDevice = bootDevice;
  for (const f of [opts.kernel, opts.bios, opts.initrd]) {
    if (f !== undefined) {
      try {
        fs.accessSync(f, fs.constants.R_OK);
      } catch {
        throw new VmsupError('NO_FILE', `cannot read ${f}: no such file or not readable`);
      }
    }
  }
  return { opts, local, timeoutSec, stopTimeoutSec, signatureFile, granularity: granularity ?? 4, saveFile };
}

/**
 * Console escapes, as cu(1) and ssh(1) have them: recognised only right after
 * a newline (or at the very start), so a lone `~` in typed text passes through.
 */
export const ESCAPE_HELP =
  'console escapes, after a newline: ~. quit (the guest is stopped at once), ' +
  '~p Ctrl-Alt-Del (the guest powers off cleanly), ~s save (with --save) and quit, ~~ a literal ~, ~? this help; ' +
  'SIGTERM or SIGINT to vmsup also sends Ctrl-Alt-Del, a second one quits';

export type EscapeAction = 'quit' | 'ctrlaltdel' | 'help' | 'save';

/** Splits console input into bytes for the guest and escape actions. */
export class EscapeFilter {
  private atLineStart = true;
  private sawTilde = false;

  feed(input: Uint8Array): { bytes: Uint8Array; actions: EscapeAction[] } {
    const out: number[] = [];
    const actions: EscapeAction[] = [];
    for (const b of input) {
      if (this.sawTilde) {
        this.sawTilde = false;
        if (b === 0x2e) { actions.push('quit'); continue; }          // ~.
        if (b === 0x70) { actions.push('ctrlaltdel'); continue; }    // ~p
        if (b === 0x3f) { actions.push('help'); continue; }          // ~?
        if (b === 0x73) { actions.push('save'); continue; }          // ~s
        out.push(0x7e);                                              // ~~ or ~x: pass ~ on
        if (b === 0x7e) { this.atLineStart = false; continue; }
      } else if (b === 0x7e && this.atLineStart) {
        this.sawTilde = true;
        continue;
      }
      out.push(b);
      this.atLineStart = b === 0x0d || b === 0x0a;
    }
    return { bytes: Uint8Array.from(out), actions };
  }
}

function checkDisks(disks: DiskOptions[]): void {
  const seen = new Map<string, string>();
  for (const d of disks) {
    try {
      fs.accessSync(d.path, d.readOnly ? fs.constants.R_OK : fs.constants.R_OK | fs.constants.W_OK);
    } catch {
      const exists = fs.existsSync(d.path);
      throw new VmsupError('NO_FILE', exists
        ? `cannot open disk ${d.path}: permission denied${d.readOnly ? '' : ' (it must be writable; -r gives a read-only disk)'}`
        : `cannot open disk ${d.path}: no such file`);
    }
    const real = fs.realpathSync(d.path);
    const prev = seen.get(real);
    if (prev !== undefined) throw new VmsupError('USAGE', `disk ${d.path} is given twice${prev !== d.path ? ` (as ${prev})` : ''}`);
    seen.set(real, d.path);
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** -L: a tap with the first address of a /31; the guest gets the second from the built-in DHCP. */
function setUpLocal(nic: NicOptions): string {
  const { tap, host } = setUpLocalNic(nic);
  return `${tap}: host ${formatIpv4(host)}, guest ${formatIpv4(host + 1)}/31`;
}

export const runCommand: CommandDefinition = {
  names: ['run'],
  options: { short: 'b:B:c:d:Lm:r:', longWithValue: [...MACHINE_LONG_OPTIONS, 'timeout', 'stop-timeout', 'signature', 'signature-granularity', 'forward', 'lladdr', 'save', 'restore'] },
  usage: USAGE,
  help: 'Run a machine in the foreground, its console on this terminal (raw mode). ' + ESCAPE_HELP + '.',
  async handler(args) {
    const { opts, local, timeoutSec, stopTimeoutSec, signatureFile, granularity, saveFile, restoreFile, force } = parseRunArgs(args);
    const meta = saveFile !== undefined ? snapshotMeta(opts, local) : '';
    checkDisks(opts.disks ?? []);
    // The tap is non-persistent: it and its address go away when the machine
    // closes its descriptor, also when this process is killed.
    if (local && opts.nics?.[0]) process.stderr.write(`vmsup: local interface ${setUpLocal(opts.nics[0])}\n`);
    opts.consoleOut = 1;  // the UART writes straight to stdout; input goes through the escape filter
    const m = openMachine(opts, restoreFile === undefined ? undefined : {
      from: restoreFile,
      force: force === true,
      word: (err) => new VmsupError(snapCode(err), `${restoreFile}: ${(err as Error).message}`),
    });
    if (signatureFile !== undefined) {
      // Refuse before the run, not after it, an ELF without a usable signature region.
      try {
        m.signature();
      } catch (err) {
        m.close();
        throw new VmsupError('NO_SIGNATURE', (err as Error).message);
      }
    }
    // The guest ended through HTIF (pass or fail): the moment Spike dumps the signature.
    const writeSignature = () => {
      if (signatureFile === undefined) return;
      try {
        fs.writeFileSync(signatureFile, formatSignature(m.signature(), granularity));
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const msg = e.code?.startsWith('ERR_VMSUP') ? e.message : `cannot write the signature to ${signatureFile}: ${e.message}`;
        throw new VmsupError('NO_SIGNATURE', msg);
      }
    };
    const deadline = timeoutSec === undefined ? Infinity : Date.now() + timeoutSec * 1000;

    const stdin = process.stdin;
    const raw = stdin.isTTY === true;
    const filter = new EscapeFilter();
    let pending: Uint8Array[] = [];
    let quit = false;
    let saveNow = false;
    let signals = 0;
    /** When a signal's Ctrl-Alt-Del has gone unanswered for too long: as vmsupd, force the guest off. */
    let forceAt = Infinity;
    const onData = (chunk: Buffer) => {
      const { bytes, actions } = filter.feed(chunk);
      if (bytes.length) pending.push(bytes);
      for (const a of actions) {
        if (a === 'quit') quit = true;
        else if (a === 'ctrlaltdel') m.ctrlAltDel();
        else if (a === 'save') {
          if (saveFile !== undefined) saveNow = true;
          else process.stderr.write('\r\n[vmsup: ~s needs --save file]\r\n');
        }
        else process.stderr.write(`\r\n[vmsup: ${ESCAPE_HELP}]\r\n`);
      }
      // Back-pressure: stop reading while the machine has not taken what we have.
      if (pending.length > 16) stdin.pause();
    };
    const onSignal = () => {
      if (++signals === 1) {
        m.ctrlAltDel();
        forceAt = Date.now() + stopTimeoutSec * 1000;
        process.stderr.write(`\r\n[vmsup: Ctrl-Alt-Del sent; the guest is forced off in ${stopTimeoutSec} s, or at a second signal]\r\n`);
      } else quit = true;
    };
    if (raw) stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.on('error', () => { /* input gone: the guest keeps running */ });
    const onUsr1 = () => { if (saveFile !== undefined) saveNow = true; };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGUSR1', onUsr1);
    type Exit = { output?: string; exitCode: number };
    try {
      const end = await runMachine<Exit>(m, opts, {
        before() {
          // Hand queued keystrokes to the machine (its queue is bounded).
          while (pending.length) {
            const taken = m.consoleInput(pending[0]);
            if (taken < pending[0].length) {
              pending[0] = pending[0].subarray(taken);
              break;
            }
            pending.shift();
          }
          if (pending.length <= 16 && stdin.isPaused() && !stdin.readableEnded) stdin.resume();
          return undefined;
        },
        sliceMs: () => (pending.length ? 5 : 20),
        sliced(st) {
          if (st.reason === 'pass' || st.reason === 'fail') writeSignature();
        },
        // A reset needs nothing here: the board reloads the images and boots again.
        after() {
          if (saveNow && saveFile !== undefined) {
            let ms: number;
            try {
              ms = saveMachine(m, saveFile, meta);
            } catch (err) {
              throw new VmsupError(snapCode(err), `cannot save to ${saveFile}: ${(err as Error).message}`);
            }
            process.stderr.write(`\r\n[vmsup: saved to ${saveFile} in ${ms} ms]\r\n`);
            return { end: { exitCode: EXIT_OK } };
          }
          if (quit) {
            process.stderr.write('\r\n[vmsup: quit]\r\n');
            return { end: { exitCode: EXIT_OK } };
          }
          if (Date.now() > forceAt) {
            process.stderr.write(`\r\nvmsup: the guest ignored Ctrl-Alt-Del for ${stopTimeoutSec} s and was forced off\n`);
            return { end: { exitCode: EXIT_FAIL } };
          }
          if (Date.now() > deadline) {
            process.stderr.write(`vmsup: timeout: the guest was still running after ${timeoutSec} seconds\n`);
            return { end: { exitCode: EXIT_USAGE } };
          }
          return undefined;
        },
        yield: tick,  // lets stdin and signal events in
      });
      if (!('reason' in end)) return end;
      switch (end.reason) {
        case 'poweroff':
          return { exitCode: EXIT_OK };
        case 'pass':
          return { output: 'PASS', exitCode: EXIT_OK };
        case 'fail':
          return { output: `FAIL test ${end.exitCode}`, exitCode: EXIT_FAIL };
        case 'error':
          throw new VmsupError('MACHINE', end.message);
      }
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('SIGUSR1', onUsr1);
      stdin.off('data', onData);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      stdin.unref?.();
    }
  },
};
