// The one table of machine options: the flags that describe a machine, for
// `vmsup run` (cli/run.ts) and for `define`/`start` (cli/vmopts.ts). Each row
// names its flags, the MachineOptions / VmConfigInput field it sets, how its
// value is parsed and checked, and its help. What only one side has stays in
// that side's parser: `run`'s --timeout, --save, --signature…, `start -c`
// (the console), define/start's -t, --owner, the "specified multiple times"
// rules and the memory range the daemon enforces. The NIC flags (--nat, -L,
// --forward, --lladdr, -i, -n) are parsed by daemon/nics.ts's NicArgs, also
// shared. README.md ("Flags that differ…") says which flags differ and why.
import path from 'node:path';
import { VmsupError } from '../daemon/protocol/errors.js';
import { LIMITS, type DiskInput } from '../daemon/protocol/messages.js';
import { parseSize } from './size.js';

/** The boot devices -B accepts. */
export const BOOT_DEVICES = ['disk', 'cdrom', 'net'] as const;

/** One machine option; `parse` throws the option's own error for a bad value. */
export interface MachineOption {
  /** The spellings both `run` and define/start accept. */
  flags: string[];
  /** Spellings only `run` accepts: `-c` is the console in `start` (vmctl's meaning). */
  runFlags?: string[];
  /** The field set (disks: one more disk is appended). */
  field: 'memory' | 'cpus' | 'kernel' | 'bios' | 'initrd' | 'cmdline' | 'disks' | 'bootDevice' | 'jit';
  /** The value's name in help; none for a switch. */
  arg?: string;
  /** Only `vmsup run` has it (the daemon has no per-VM setting for it yet). */
  runOnly?: boolean;
  /** The value for `field`; `fail` throws a usage error worded as the calling command words them. */
  parse(v: string, fail: (msg: string) => never): unknown;
  help: string;
}

const file = (v: string) => path.resolve(v);

export const MACHINE_OPTIONS: readonly MachineOption[] = [
  { flags: ['-m'], field: 'memory', arg: 'size', parse: (v) => parseSize(v, 'memory'), help: 'guest RAM (K, M, G suffixes)' },
  {
    flags: ['--cpus'], runFlags: ['-c'], field: 'cpus', arg: 'n',
    parse(v) {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < LIMITS.cpusMin || n > LIMITS.cpusMax)
        throw new VmsupError('USAGE', `invalid number of cpus: ${v} (${LIMITS.cpusMin} to ${LIMITS.cpusMax})`);
      return n;
    },
    help: 'harts',
  },
  { flags: ['-b'], field: 'kernel', arg: 'path', parse: file, help: 'an ELF, a Linux Image or a raw binary loaded at 0x80200000' },
  { flags: ['--bios'], field: 'bios', arg: 'path', parse: file, help: 'the M-mode firmware (OpenSBI)' },
  { flags: ['--initrd'], field: 'initrd', arg: 'path', parse: file, help: 'an initramfs for -b' },
  { flags: ['--cmdline'], field: 'cmdline', arg: 'string', parse: (v) => v, help: 'the kernel command line' },
  { flags: ['-d'], field: 'disks', arg: '[raw:|raw!:|qcow2:]disk', parse: (v) => parseDisk(v, false), help: 'a disk (repeatable)' },
  { flags: ['-r'], field: 'disks', arg: 'path', parse: (v) => parseDisk(v, true), help: 'a cdrom: an ISO 9660 image, read-only' },
  {
    flags: ['-B'], field: 'bootDevice', arg: 'device',
    parse(v, fail) {
      if (!(BOOT_DEVICES as readonly string[]).includes(v)) fail(`invalid boot device: ${v} (disk, cdrom or net)`);
      return v;
    },
    help: 'the device booted first: disk, cdrom or net',
  },
  { flags: ['--no-jit'], field: 'jit', runOnly: true, parse: () => false, help: 'interpret only' },
];

/** The row for argument `a` in `run` (`forRun`) or in define/start, if any. */
export function machineOption(a: string, forRun: boolean): MachineOption | undefined {
  return MACHINE_OPTIONS.find(
    (o) => (forRun || !o.runOnly) && (o.flags.includes(a) || (forRun && (o.runFlags ?? []).includes(a))),
  );
}

/** The long machine options that take a value, for getopt's longWithValue (without --). */
export const MACHINE_LONG_OPTIONS = MACHINE_OPTIONS.filter((o) => o.arg !== undefined)
  .flatMap((o) => o.flags)
  .filter((f) => f.startsWith('--'))
  .map((f) => f.slice(2));

/**
 * A -d/-r argument: `raw:path`, `qcow2:path`, `raw!:path` (raw even if the file
 * carries the qcow2 signature) or a bare path, whose format the daemon (or
 * `run`) detects once. The path is made absolute in this process's working
 * directory: the daemon refuses relative paths.
 */
export function parseDisk(spec: string, readOnly: boolean): DiskInput {
  const m = /^(raw|raw!|qcow2):(.*)$/.exec(spec);
  const p = m ? m[2] : spec;
  if (p === '') throw new VmsupError('USAGE', `invalid disk: ${spec}`);
  const d: DiskInput = { path: path.resolve(p), readOnly };
  if (m) d.format = m[1] === 'qcow2' ? 'qcow2' : 'raw';
  if (m?.[1] === 'raw!') d.force = true;
  return d;
}
