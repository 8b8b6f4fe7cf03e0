// vmsup run: boots a machine in the foreground, without the daemon.
// The console is this terminal; power-off ends the run.
import fs from 'node:fs';
import { addon, type DiskOptions, type MachineOptions } from '../native/index.js';
import { VmsupError } from '../daemon/protocol/errors.js';
import { EXIT_FAIL, EXIT_OK, EXIT_USAGE, type CommandDefinition } from './command.js';
import { parseSize } from './size.js';

const USAGE =
  'run [-m size] [-c cpus] [--timeout seconds] [--bios file] [--initrd file] ' +
  '[--cmdline string] [-d [raw:|qcow2:]disk] [-r [raw:|qcow2:]disk] -b file';

interface RunArgs {
  opts: MachineOptions;
  timeoutSec?: number;
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
      case '--timeout': {
        const v = needValue(args, i++, a);
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new VmsupError('USAGE', `invalid timeout: ${v}`);
        timeoutSec = n;
        break;
      }
      default:
        throw new VmsupError('USAGE', `unknown option: ${a}\nusage: vmsup ${USAGE}`);
    }
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
  return { opts, timeoutSec };
}

export const runCommand: CommandDefinition = {
  names: ['run'],
  usage: USAGE,
  help: 'Run a machine in the foreground, its console on this terminal.',
  async handler(args) {
    const { opts, timeoutSec } = parseRunArgs(args);
    opts.consoleIn = 0;
    opts.consoleOut = 1;
    const m = new (addon().Machine)(opts);
    const deadline = timeoutSec === undefined ? Infinity : Date.now() + timeoutSec * 1000;
    try {
      for (;;) {
        const st = m.run(50);
        switch (st.reason) {
          case 'slice':
            break;
          case 'poweroff':
            return { exitCode: EXIT_OK };
          case 'pass':
            return { output: 'PASS', exitCode: EXIT_OK };
          case 'fail':
            return { output: `FAIL test ${st.exitCode}`, exitCode: EXIT_FAIL };
          case 'reset':
            break; // the machine has reset itself and boots again
          case 'error':
            throw new VmsupError('MACHINE', st.message ?? 'machine error');
        }
        if (Date.now() > deadline) {
          process.stderr.write(`vmsup: timeout: the guest was still running after ${timeoutSec} seconds\n`);
          return { exitCode: EXIT_USAGE };
        }
      }
    } finally {
      m.close();
    }
  },
};
