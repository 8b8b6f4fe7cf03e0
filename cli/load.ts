// vmsup load FILE: vmctl's load. Reads a vm.conf(5) file (as the user who runs
// it: the daemon never reads a user's file), checks every VM in it against the
// daemon (names, quotas, instance rules, the files as each VM's owner) without
// storing anything, and only then applies it: new VMs are defined, changed ones
// redefined in place (a running VM gets its new definition at its next start),
// VMs this file defined before and no longer has are undefined (a running one
// when it stops), and enabled VMs that are stopped are started. A file with one
// error changes nothing.
import fs from 'node:fs';
import path from 'node:path';
import { VmsupError } from '../daemon/protocol/errors.js';
import type { Params, VmConfigInput, VmInfo } from '../daemon/protocol/messages.js';
import { parseVmConf, VmConfError, type ConfVm, type VmConf } from '../daemon/vmconf.js';
import { EXIT_FAIL, EXIT_OK, type CommandDefinition } from './command.js';
import { call, say } from './client.js';
import { terminalSafe } from './format.js';

const USAGE = 'load [-n] [--json] file';

/** Reads a vm.conf file as this user; refuses what is not a regular file. */
function readConf(p: string): string {
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > 1024 * 1024) throw new Error('larger than 1 MiB');
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** What the daemon does not do yet, as file:line errors. */
function unsupported(conf: VmConf): string[] {
  const errors: string[] = [];
  for (const sw of conf.switches) {
    const at = `${sw.file}:${sw.line}: switch "${sw.name}"`;
    if (!sw.enabled || !sw.up) errors.push(`${at}: a disabled or down switch is not supported; leave it out`);
  }
  const lockedSwitches = new Set(conf.switches.filter((sw) => sw.lockedLladdr).map((sw) => sw.name));
  for (const vm of conf.vms) {
    for (const itf of vm.interfaces) {
      const at = `${vm.file}:${vm.line}: vm "${vm.name}"`;
      if (itf.name !== undefined) errors.push(`${at}: interface ${itf.name}: vmsupd names its taps itself; leave the name out`);
      if (itf.group !== undefined || itf.up !== undefined) errors.push(`${at}: interface group, up and down are not supported`);
      if (itf.locked && !(itf.switch !== undefined && lockedSwitches.has(itf.switch)))
        errors.push(`${at}: locked lladdr on an interface: set 'locked lladdr' in the block of switch ${itf.switch ?? '(none)'}`);
    }
    if (vm.cdrom !== undefined && vm.disks.length >= 4)
      errors.push(`${vm.file}:${vm.line}: vm "${vm.name}": too many disks (a cdrom counts as one of the 4)`);
  }
  return errors;
}

/** The file's global settings as the daemon's configure request, or undefined for none. */
function globalParams(conf: VmConf): Params<'configure'> | undefined {
  if (!conf.localPrefix && !conf.socketOwner && !conf.staggeredStart) return undefined;
  return {
    ...(conf.localPrefix ? { localPrefix: conf.localPrefix } : {}),
    ...(conf.socketOwner ? { socketOwner: conf.socketOwner } : {}),
    ...(conf.staggeredStart ? { staggeredStart: conf.staggeredStart } : {}),
  };
}

/** One vm block as the daemon's define request. */
export function defineParams(vm: ConfVm, source: string): Params<'define'> {
  const config: VmConfigInput = {};
  if (vm.memory !== undefined) config.memory = vm.memory;
  if (vm.cpus !== undefined) config.cpus = vm.cpus;
  if (vm.kernel !== undefined) config.kernel = vm.kernel;
  if (vm.initrd !== undefined) config.initrd = vm.initrd;
  if (vm.cmdline !== undefined) config.cmdline = vm.cmdline;
  if (vm.bios !== undefined) config.bios = vm.bios;
  if (vm.bootDevice !== undefined) config.bootDevice = vm.bootDevice;
  if (vm.disks.length) config.disks = vm.disks.map((d) => ({ path: d.path, ...(d.format ? { format: d.format } : {}) }));
  // vmd's cdrom: an ISO 9660 image, attached read-only, as `-r` does.
  if (vm.cdrom !== undefined) config.disks = [...(config.disks ?? []), { path: vm.cdrom, format: 'raw', readOnly: true }];
  if (vm.owner !== undefined) config.owner = vm.owner;
  // vmd's interfaces: on a switch, a local interface (-L), or a tap (-i).
  if (vm.interfaces.length)
    config.nics = vm.interfaces.map((i) => ({
      kind: i.local ? ('local' as const) : i.switch !== undefined ? ('switch' as const) : ('tap' as const),
      ...(i.switch !== undefined ? { switch: i.switch } : {}),
      ...(i.lladdr !== undefined ? { lladdr: i.lladdr } : {}),
    }));
  return {
    name: vm.name,
    config,
    ...(vm.instanceOf !== undefined ? { template: vm.instanceOf } : {}),
    replace: true,
    source,
    // vm.conf(5): a VM starts with vmd unless it says `disable`.
    enabled: vm.enabled ?? true,
    ...(vm.allowInstance ? { allowInstance: vm.allowInstance } : {}),
  };
}

/** Parents before their instances, so that an instance's parent exists when it is defined. */
function ordered(vms: ConfVm[]): ConfVm[] {
  const byName = new Map(vms.map((v) => [v.name, v]));
  const out: ConfVm[] = [];
  const seen = new Set<string>();
  const visit = (v: ConfVm, depth: number) => {
    if (seen.has(v.name) || depth > vms.length) return;
    const parent = v.instanceOf !== undefined ? byName.get(v.instanceOf) : undefined;
    if (parent) visit(parent, depth + 1);
    seen.add(v.name);
    out.push(v);
  };
  for (const v of vms) visit(v, 0);
  return out;
}

export interface LoadOutcome {
  defined: string[];
  redefined: string[];
  undefined: string[];
  started: string[];
}

/**
 * Loads `file` into the daemon, all or nothing as far as the daemon can be asked
 * first. Throws VmConfError (file:line messages) when anything is wrong.
 */
export async function loadConf(file: string, dryRun: boolean): Promise<LoadOutcome> {
  const abs = path.resolve(file);
  const conf = parseVmConf(abs, readConf);
  const errs = unsupported(conf);
  if (errs.length) throw new VmConfError(errs);
  const vms = ordered(conf.vms);
  const before = (await call('status', {})).vms;
  const existing = new Map<string, VmInfo>(before.map((v) => [v.name, v]));
  const inFile = new Set(vms.map((v) => v.name));
  // 1. Every VM checked by the daemon, nothing stored. An instance of a parent
  // the same file brings is checked when it is defined (its parent exists then).
  const errors: string[] = [];
  const globals = globalParams(conf);
  if (globals) {
    try {
      await call('configure', { ...globals, dryRun: true });
    } catch (e) {
      const at = Object.values(conf.globalsAt)[0]!;
      errors.push(`${at.file}:${at.line}: global settings: ${(e as Error).message}`);
    }
  }
  const switches = new Map((await call('switch-status', {})).switches.map((sw) => [sw.name, sw]));
  const newSwitches = conf.switches.filter((sw) => !switches.has(sw.name));
  for (const sw of conf.switches) {
    const have = switches.get(sw.name);
    const uplink = sw.interface !== undefined ? `bridge:${sw.interface}` : null;
    if (have && (have.lockedLladdr !== sw.lockedLladdr || (have.group ?? undefined) !== sw.group || (have.uplink ?? null) !== uplink))
      errors.push(`${sw.file}:${sw.line}: switch "${sw.name}" exists with other settings (delete it first)`);
  }
  const waitsForSwitch = (vm: ConfVm) => vm.interfaces.some((i) => i.switch !== undefined && newSwitches.some((sw) => sw.name === i.switch));
  for (const vm of vms) {
    const other = existing.get(vm.name);
    if (other && other.source !== abs && other.source !== null)
      errors.push(`${vm.file}:${vm.line}: vm "${vm.name}" was defined by ${other.source}`);
    if (vm.instanceOf !== undefined && inFile.has(vm.instanceOf) && !existing.has(vm.instanceOf)) continue;
    if (waitsForSwitch(vm)) continue;
    try {
      await call('define', { ...defineParams(vm, abs), dryRun: true });
    } catch (e) {
      errors.push(`${vm.file}:${vm.line}: vm "${vm.name}": ${(e as Error).message}`);
    }
  }
  if (errors.length) throw new VmConfError(errors);
  const out: LoadOutcome = { defined: [], redefined: [], undefined: [], started: [] };
  if (dryRun) return out;
  // 2. Apply: the switches (root's, like the globals: a refusal stops here,
  // before anything changed), the globals, then the VMs.
  for (const sw of newSwitches) {
    try {
      // vmd's `interface BR` in a switch block: the Linux bridge the switch joins (a tap of its own enslaved to BR).
      await call('switch-create', {
        name: sw.name,
        lockedLladdr: sw.lockedLladdr,
        ...(sw.group !== undefined ? { group: sw.group } : {}),
        ...(sw.interface !== undefined ? { uplink: `bridge:${sw.interface}` } : {}),
      });
    } catch (e) {
      throw new VmConfError([`${sw.file}:${sw.line}: switch "${sw.name}": ${(e as Error).message}`]);
    }
  }
  if (globals) await call('configure', globals);
  for (const vm of vms) {
    try {
      await call('define', defineParams(vm, abs));
    } catch (e) {
      throw new VmConfError([`${vm.file}:${vm.line}: vm "${vm.name}": ${(e as Error).message}`]);
    }
    (existing.has(vm.name) ? out.redefined : out.defined).push(vm.name);
  }
  // 3. What this file defined before and no longer has.
  for (const v of before) {
    if (v.source !== abs || inFile.has(v.name)) continue;
    await call('undefine', { vm: String(v.id), whenStopped: true });
    out.undefined.push(v.name);
  }
  // 4. vmd starts the enabled VMs of a configuration it loads.
  for (const vm of vms) {
    if (vm.enabled === false) continue;
    const cur = existing.get(vm.name);
    if (cur && cur.state !== 'stopped') continue;
    try {
      await call('start', { vm: vm.name });
      out.started.push(vm.name);
    } catch (e) {
      say(`${terminalSafe(vm.file)}:${vm.line}: vm "${terminalSafe(vm.name)}": ${terminalSafe((e as Error).message)}`);
    }
  }
  return out;
}

export const loadCommand: CommandDefinition = {
  names: ['load'],
  options: { short: 'n' },
  usage: USAGE,
  help: 'Load VMs from a vm.conf(5) file (-n: check it only); reload loads the same files again.',
  async handler(args) {
    let json = false;
    let dryRun = false;
    const rest: string[] = [];
    for (const a of args) {
      if (a === '--json') json = true;
      else if (a === '-n') dryRun = true;
      else if (a.startsWith('-') && a !== '-') throw new VmsupError('USAGE', `unknown option: ${a}\nusage: vmsup ${USAGE}`);
      else rest.push(a);
    }
    if (rest.length !== 1) throw new VmsupError('USAGE', `usage: vmsup ${USAGE}`);
    let res: LoadOutcome;
    try {
      res = await loadConf(rest[0], dryRun);
    } catch (e) {
      if (!(e instanceof VmConfError)) throw e;
      for (const m of e.errors) process.stderr.write(`vmsup: ${terminalSafe(m)}\n`);
      say(`${terminalSafe(rest[0])}: not loaded: nothing changed`);
      return { exitCode: EXIT_FAIL };
    }
    if (json) return { output: JSON.stringify(res), exitCode: EXIT_OK };
    if (dryRun) say(`${terminalSafe(rest[0])}: configuration OK`);
    else
      say(
        `${terminalSafe(rest[0])}: loaded: ${res.defined.length} defined, ${res.redefined.length} redefined, ` +
          `${res.undefined.length} undefined, ${res.started.length} started`,
      );
    return { exitCode: EXIT_OK };
  },
};
