// The VM options `start` and `define` share (vmctl's start options). File
// paths are made absolute here, in the client's working directory, as vmctl
// does: the daemon refuses relative paths.
import path from 'node:path';
import { VmsupError } from '../daemon/protocol/errors.js';
import { LIMITS, type VmConfigInput } from '../daemon/protocol/messages.js';
import { parseDisk } from './run.js';
import { parseSize } from './size.js';
import { checkVmArg } from './idarg.js';
import { NicArgs } from '../daemon/nics.js';

export const VM_OPTIONS_USAGE =
  '[-b path] [-B device] [-d [raw:|raw!:|qcow2:]disk] [-r path] [-m size] [-t name] [--initrd path] [--cmdline string] [--bios path] [--cpus n] [--owner user[:group]]\n' +
  '\t    [--nat [--forward tcp:[HOSTADDR:]HOSTPORT:GUESTPORT]...] [-L] [-i count] [-n switch]... [--lladdr xx:xx:xx:xx:xx:xx]... [--no-jit]';

/** The long options of start/define that take a value (for the getopt forms). */
export const VM_LONG_OPTIONS = ['initrd', 'cmdline', 'bios', 'cpus', 'owner', 'forward', 'lladdr'];

export interface VmArgs {
  name?: string;
  config: VmConfigInput;
  template?: string;
  console: boolean;
  json: boolean;
  /** define --replace: change an existing definition in place. */
  replace: boolean;
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
    switch (a) {
      case '-c':
        if (!allowConsole) fail(`unknown option: ${a}`);
        out.console = true;
        break;
      case '-b':
        if (cfg.kernel !== undefined) fail('kernel specified multiple times');
        cfg.kernel = path.resolve(val());
        break;
      case '-B': {
        const v = val();
        if (!['disk', 'net', 'cdrom'].includes(v)) fail(`invalid boot device: ${v}`);
        cfg.bootDevice = v as 'disk' | 'net' | 'cdrom';
        break;
      }
      case '-d': {
        cfg.disks ??= [];
        if (cfg.disks.length >= LIMITS.disksMax) throw new VmsupError('USAGE', 'too many disks');
        cfg.disks.push(parseDisk(val(), false));
        break;
      }
      case '-r': {
        // vmd's cdrom: an ISO 9660 image, attached read-only (one, as vmd has).
        cfg.disks ??= [];
        if (cfg.disks.some((d) => d.readOnly)) fail('cdrom specified multiple times');
        if (cfg.disks.length >= LIMITS.disksMax) throw new VmsupError('USAGE', 'too many disks');
        cfg.disks.push(parseDisk(val(), true));
        break;
      }
      case '-m':
        if (cfg.memory !== undefined) fail('memory specified multiple times');
        cfg.memory = parseSize(val(), 'memory');
        if (cfg.memory < LIMITS.memoryMin || cfg.memory > LIMITS.memoryMax)
          throw new VmsupError('BAD_SIZE', `memory size must be between 16M and 32G`);
        break;
      case '-t':
        if (out.template !== undefined) fail('template specified multiple times');
        out.template = val();
        break;
      case '--initrd':
        cfg.initrd = path.resolve(val());
        break;
      case '--cmdline':
        cfg.cmdline = val();
        break;
      case '--bios':
        cfg.bios = path.resolve(val());
        break;
      case '--cpus': {
        const v = val();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < LIMITS.cpusMin || n > LIMITS.cpusMax)
          throw new VmsupError('USAGE', `invalid number of cpus: ${v} (${LIMITS.cpusMin} to ${LIMITS.cpusMax})`);
        cfg.cpus = n;
        break;
      }
      case '--owner':
        cfg.owner = val();
        break;
      case '--json':
        out.json = true;
        break;
      case '--no-jit':
        cfg.jit = false;  // the interpreter (issue 11), kept in the definition
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
