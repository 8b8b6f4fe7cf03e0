// The VM options `start` and `define` share (vmctl's start options). File
// paths are made absolute here, in the client's working directory, as vmctl
// does: the daemon refuses relative paths.
import { VmsupError } from '../daemon/protocol/errors.js';
import { LIMITS, type DiskInput, type VmConfigInput } from '../daemon/protocol/messages.js';
import { MACHINE_LONG_OPTIONS, machineOption, type MachineOption } from './machine-options.js';
import { checkVmArg } from './idarg.js';
import { NicArgs } from '../daemon/nics.js';

export const VM_OPTIONS_USAGE =
  '[-b path] [-B device] [-d [raw:|raw!:|qcow2:]disk] [-r path] [-m size] [-t name] [--initrd path] [--cmdline string] [--bios path] [--cpus n] [--owner user[:group]]\n' +
  '\t    [--nat [--forward tcp:[HOSTADDR:]HOSTPORT:GUESTPORT]...] [-L] [-i count] [-n switch]... [--lladdr xx:xx:xx:xx:xx:xx]...';

/** The long options of start/define that take a value (for the getopt forms). */
export const VM_LONG_OPTIONS = [...MACHINE_LONG_OPTIONS, 'owner', 'forward', 'lladdr'];

export interface VmArgs {
  name?: string;
  config: VmConfigInput;
  template?: string;
  console: boolean;
  json: boolean;
  /** define --replace: change an existing definition in place. */
  replace: boolean;
}

/** define/start's own rules on the shared machine options, checked before the value is read:
 * one kernel, one memory size, one cdrom, at most LIMITS.disksMax disks. */
function checkRepeat(cfg: VmConfigInput, mo: MachineOption, a: string, fail: (msg: string) => never): void {
  if (mo.field === 'kernel' && cfg.kernel !== undefined) fail('kernel specified multiple times');
  if (mo.field === 'memory' && cfg.memory !== undefined) fail('memory specified multiple times');
  if (mo.field !== 'disks') return;
  // vmd's cdrom: an ISO 9660 image, attached read-only (one, as vmd has).
  if (a === '-r' && cfg.disks?.some((d) => d.readOnly)) fail('cdrom specified multiple times');
  if ((cfg.disks?.length ?? 0) >= LIMITS.disksMax) throw new VmsupError('USAGE', 'too many disks');
}

/** A parsed value of a shared machine option into the config. */
function setMachineOption(cfg: VmConfigInput, mo: MachineOption, v: unknown): void {
  switch (mo.field) {
    case 'memory':
      cfg.memory = v as number;
      if (cfg.memory < LIMITS.memoryMin || cfg.memory > LIMITS.memoryMax)
        throw new VmsupError('BAD_SIZE', `memory size must be between 16M and 32G`);
      break;
    case 'disks':
      (cfg.disks ??= []).push(v as DiskInput);
      break;
    case 'bootDevice':
      cfg.bootDevice = v as 'disk' | 'net' | 'cdrom';
      break;
    case 'cpus':
    case 'kernel':
    case 'bios':
    case 'initrd':
    case 'cmdline':
      cfg[mo.field] = v as never;
      break;
    case 'jit':
      break; // `run` only: machineOption() does not offer it here
  }
}

/** Parses vmctl-style options; `allowConsole` enables -c (start only). */
export function parseVmArgs(args: string[], usage: string, allowConsole: boolean): VmArgs {
  const cfg: VmConfigInput = {};
  const out: VmArgs = { config: cfg, console: false, json: false, replace: false };
  const fail = (msg: string): never => {
    throw new VmsupError('USAGE', `${msg}\nusage: vmsup ${usage}`);
  };
  const nics = new NicArgs();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const val = () => {
      const v = args[++i];
      if (v === undefined) fail(`option ${a} requires an argument`);
      return v as string;
    };
    if (nics.take(a, val)) continue;
    const mo = machineOption(a, false);
    if (mo) {
      checkRepeat(cfg, mo, a, fail);
      setMachineOption(cfg, mo, mo.parse(val(), fail));
      continue;
    }
    switch (a) {
      case '-c':
        if (!allowConsole) fail(`unknown option: ${a}`);
        out.console = true;
        break;
      case '-t':
        if (out.template !== undefined) fail('template specified multiple times');
        out.template = val();
        break;
      case '--owner':
        cfg.owner = val();
        break;
      case '--json':
        out.json = true;
        break;
      case '--replace':
        if (allowConsole) fail(`unknown option: ${a}`);
        out.replace = true;
        break;
      default:
        if (a.startsWith('-')) fail(`unknown option: ${a}`);
        if (out.name !== undefined) fail(`unexpected argument: ${a}`);
        out.name = a;
    }
  }
  const n = nics.finish();
  if (n) cfg.nics = n;
  if (out.name === undefined) fail('missing id or name');
  checkVmArg(out.name!, !allowConsole);
  return out;
}
