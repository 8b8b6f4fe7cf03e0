// vmsup run: boots a machine in the foreground, without the daemon.
// The console is this terminal; power-off ends the run.
import fs from 'node:fs';
import { addon, type DiskOptions, type MachineOptions } from '../native/index.js';
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_FAIL, EXIT_OK, EXIT_USAGE, type CommandDefinition } from './command.js';
import { parseSize } from './size.js';

const USAGE =
  'run [-m size] [-c cpus] [--timeout seconds] [--bios file] [--initrd file] ' +
  '[--cmdline string] [-d [raw:|qcow2:]disk] [-r [raw:|qcow2:]disk] [--no-jit]\n' +
  '\t    [--signature file [--signature-granularity 1|2|4|8|16]] -b file\n' +
  '\t    (-d is repeatable, -r adds a read-only disk; console escapes after a newline:\n' +
  '\t    ~. quit, ~p Ctrl-Alt-Del, ~~ a literal ~; SIGTERM/SIGINT: Ctrl-Alt-Del, twice: quit;\n' +
  '\t    --signature: when the ELF ends through HTIF, write its riscv-arch-test signature,\n' +
  '\t    begin_signature..end_signature, as Spike does: one line of N bytes (default 4)\n' +
  '\t    per granule, lowest address first, each line in lowercase hex, most significant byte first)';

interface RunArgs {
  opts: MachineOptions;
  timeoutSec?: number;
  /** --signature: where to write the riscv-arch-test signature. */
  signatureFile?: string;
  /** --signature-granularity: bytes per signature line. */
  granularity: number;
}

/** Bytes per line --signature-granularity accepts: powers of two up to a 128-bit (Q) register. */
export const SIGNATURE_GRANULARITIES = [1, 2, 4, 8, 16];

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

function needValue(args: string[], i: number, flag: string): string {
  const v = args[i + 1];
  if (v === undefined) throw new VmsupError('USAGE', `option ${flag} requires an argument`);
  return v;
}

export function parseDisk(spec: string, readOnly: boolean): DiskOptions {
  const m = /^(raw|qcow2):(.*)$/.exec(spec);
  const format = m ? (m[1] as 'raw' | 'qcow2') : 'raw';
  const p = m ? m[2] : spec;
  if (p === '') throw new VmsupError('USAGE', `invalid disk: ${spec}`);
  return { path: p, format, readOnly };
}

export function parseRunArgs(args: string[]): RunArgs {
  const opts: MachineOptions = { memory: 256 * 1024 * 1024, cpus: 1, disks: [] };
  let timeoutSec: number | undefined;
  let signatureFile: string | undefined;
  let granularity: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case '-m': opts.memory = parseSize(needValue(args, i++, a), 'memory'); break;
      case '-c': case '--cpus': {
        const v = needValue(args, i++, a);
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > 8) throw new VmsupError('USAGE', `invalid number of cpus: ${v} (1 to 8)`);
        opts.cpus = n;
        break;
      }
      case '-b': opts.kernel = needValue(args, i++, a); break;
      case '--bios': opts.bios = needValue(args, i++, a); break;
      case '--initrd': opts.initrd = needValue(args, i++, a); break;
      case '--cmdline': opts.cmdline = needValue(args, i++, a); break;
      case '-d': opts.disks!.push(parseDisk(needValue(args, i++, a), false)); break;
      case '-r': opts.disks!.push(parseDisk(needValue(args, i++, a), true)); break;
      case '--no-jit': opts.jit = false; break;
      case '--timeout': {
        const v = needValue(args, i++, a);
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new VmsupError('USAGE', `invalid timeout: ${v}`);
        timeoutSec = n;
        break;
      }
      case '--signature': signatureFile = needValue(args, i++, a); break;
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
  if (granularity !== undefined && signatureFile === undefined) {
    throw new VmsupError('USAGE', '--signature-granularity needs --signature file');
  }
  if (signatureFile !== undefined && !opts.kernel) {
    throw new VmsupError('USAGE', '--signature needs a bare-metal ELF (-b) with begin_signature and end_signature');
  }
  if (!opts.kernel && !opts.bios) throw new VmsupError('USAGE', `no kernel given (-b)\nusage: vmsup ${USAGE}`);
  for (const f of [opts.kernel, opts.bios, opts.initrd]) {
    if (f !== undefined) {
      try {
        fs.accessSync(f, fs.constants.R_OK);
      } catch {
        throw new VmsupError('NO_FILE', `cannot read ${f}: no such file or not readable`);
      }
    }
  }
  return { opts, timeoutSec, signatureFile, granularity: granularity ?? 4 };
}

/**
 * Console escapes, as cu(1) and ssh(1) have them: recognised only right after
 * a newline (or at the very start), so a lone `~` in typed text passes through.
 */
export const ESCAPE_HELP =
  'console escapes, after a newline: ~. quit (the guest is stopped at once), ' +
  '~p Ctrl-Alt-Del (the guest powers off cleanly), ~~ a literal ~, ~? this help; ' +
  'SIGTERM or SIGINT to vmsup also sends Ctrl-Alt-Del, a second one quits';

export type EscapeAction = 'quit' | 'ctrlaltdel' | 'help';

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

export const runCommand: CommandDefinition = {
  names: ['run'],
  usage: USAGE,
  help: 'Run a machine in the foreground, its console on this terminal (raw mode). ' + ESCAPE_HELP + '.',
  async handler(args) {
    const { opts, timeoutSec, signatureFile, granularity } = parseRunArgs(args);
    checkDisks(opts.disks ?? []);
    opts.consoleOut = 1;  // the UART writes straight to stdout; input goes through the escape filter
    const m = new (addon().Machine)(opts);
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
    let signals = 0;
    const onData = (chunk: Buffer) => {
      const { bytes, actions } = filter.feed(chunk);
      if (bytes.length) pending.push(bytes);
      for (const a of actions) {
        if (a === 'quit') quit = true;
        else if (a === 'ctrlaltdel') m.ctrlAltDel();
        else process.stderr.write(`\r\n[vmsup: ${ESCAPE_HELP}]\r\n`);
      }
      // Back-pressure: stop reading while the machine has not taken what we have.
      if (pending.length > 16) stdin.pause();
    };
    const onSignal = () => {
      if (++signals === 1) m.ctrlAltDel();
      else quit = true;
    };
    if (raw) stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.on('error', () => { /* input gone: the guest keeps running */ });
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      for (;;) {
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
        const st = m.run(pending.length ? 5 : 20);
        switch (st.reason) {
          case 'slice':
          case 'reset':  // the board reloads the images and boots again
            break;
          case 'poweroff':
            return { exitCode: EXIT_OK };
          case 'pass':
            writeSignature();
            return { output: 'PASS', exitCode: EXIT_OK };
          case 'fail':
            writeSignature();
            return { output: `FAIL test ${st.exitCode}`, exitCode: EXIT_FAIL };
          case 'error':
            throw new VmsupError('MACHINE', st.message ?? 'machine error');
        }
        if (quit) {
          process.stderr.write('\r\n[vmsup: quit]\r\n');
          return { exitCode: EXIT_OK };
        }
        if (Date.now() > deadline) {
          process.stderr.write(`vmsup: timeout: the guest was still running after ${timeoutSec} seconds\n`);
          return { exitCode: EXIT_USAGE };
        }
        await tick();  // lets stdin and signal events in
      }
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      stdin.off('data', onData);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      stdin.unref?.();
      m.close();
    }
  },
};
