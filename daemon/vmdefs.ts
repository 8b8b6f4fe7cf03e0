// VM definitions and the access checks on them, as pure functions: what a
// client's options make of a definition (over a template's), who owns it, what
// boots it, which NICs it may have, who may make an instance of it, who may
// control it or get its console. No I/O: user and group names come from a
// `Names` the caller passes (daemon/access.ts's in the daemon, a table in the
// tests), and the switches from the caller's repository. The supervisor calls
// these inside its mailbox (daemon/supervisor.ts); daemon/vmdefs.test.ts tests them.
import type { SwitchRecord, VmDefinition, VmRecord } from '../db/repository.js';
import { isRoot, mayControl, type Peer } from './access.js';
import { nicSpecs, type NicSpec } from './nics.js';
import { VmsupError } from './protocol/errors.js';
import { DEFAULT_CMDLINE, DEFAULT_MEMORY, checkVmName, type AllowInstance, type NicInput, type VmConfigInput } from './protocol/messages.js';
import { absolutePath } from './vmfiles.js';
import { bootOrder } from './boot-order.js';

/** User and group names, both ways (daemon/access.ts reads /etc/passwd and /etc/group). */
export interface Names {
  lookupUser(name: string): { uid: number; gid: number } | undefined;
  lookupGroup(name: string): number | undefined;
  userName(uid: number): string;
  groupName(gid: number): string;
}

/** What a definition is checked against besides the client's options. */
export interface DefinitionContext {
  names: Names;
  /** The defined switches (a `-n` NIC must name one the peer may use). */
  switches: SwitchRecord[];
  /** Whether vmsupd runs as root: only then may a VM have taps (-L, -i). */
  rootDaemon: boolean;
}

/** The boot chain of a VM with no -b/--bios (settings `firmware`, `uboot`). */
export interface BootSettings {
  firmware: string;
  uboot: string;
}

/** `--owner user[:group]`: root may give a VM to anyone, a user only to themself and one of their groups. */
export function resolveOwner(peer: Peer, spec: string | undefined, names: Names): { ownerUid: number; ownerGid: number } {
  if (spec === undefined) return { ownerUid: peer.uid, ownerGid: peer.gid };
  const [u, g] = spec.split(':');
  let ownerUid = peer.uid;
  let ownerGid = peer.gid;
  if (u) {
    const pw = names.lookupUser(u);
    if (!pw) throw new VmsupError('NO_USER', `invalid user: ${u}`);
    ownerUid = pw.uid;
    ownerGid = pw.gid;
  }
  if (g !== undefined && g !== '') {
    const gid = names.lookupGroup(g);
    if (gid === undefined) throw new VmsupError('NO_GROUP', `invalid group: ${g}`);
    ownerGid = gid;
  }
  if (!isRoot(peer) && (ownerUid !== peer.uid || !peer.groups.has(ownerGid)))
    throw new VmsupError('PERMISSION', 'permission denied: only root may give a vm to another user or group');
  return { ownerUid, ownerGid };
}

/**
 * What boots a VM, as `qemu-system-riscv64 -M virt` would: with no -b and no
 * --bios, the `firmware` (OpenSBI) and then `uboot` (a raw S-mode binary at
 * 0x80200000) of the settings; a raw -b binary without --bios runs after the
 * default firmware (QEMU's -kernel). Everything here is opened as the owner.
 */
export function bootChain<T extends Pick<VmDefinition, 'kernel' | 'bios'>>(def: T, rawKernel: boolean, settings: BootSettings): T {
  if (!def.kernel && !def.bios) return { ...def, kernel: settings.uboot, bios: settings.firmware };
  if (def.kernel && !def.bios && rawKernel) return { ...def, bios: settings.firmware };
  return def;
}

/** -n names a switch the peer may use (vmd's switch `group`); -L and -i make taps: only a root daemon can (vmd's rule); --nat needs nothing. */
export function checkNics(peer: Peer, nics: NicSpec[], ctx: DefinitionContext): NicSpec[] {
  for (const n of nics) {
    if (n.kind !== 'switch') continue;
    const sw = ctx.switches.find((x) => x.name === n.switch);
    if (!sw) throw new VmsupError('NO_SWITCH', `switch not found: ${n.switch}`, 'create it with vmsup switch create');
    // vmd's switch `group`: a non-root user attaches only to a switch of a group they are in.
    if (!isRoot(peer) && (sw.groupGid === null || !peer.groups.has(sw.groupGid)))
      throw new VmsupError(
        'PERMISSION',
        `permission denied: switch ${sw.name} ${sw.groupGid === null ? 'has no group (root only)' : `belongs to group ${ctx.names.groupName(sw.groupGid)}, which ${ctx.names.userName(peer.uid)} is not in`}`,
      );
  }
  if (!ctx.rootDaemon) {
    if (nics.some((n) => n.kind === 'local'))
      throw new VmsupError('NET', '-L needs root (a tap and a host address) and this vmsupd is not root; use --nat for user-mode networking');
    if (nics.some((n) => n.kind === 'tap')) throw new VmsupError('NET', '-i needs root (taps): this vmsupd is not root; use --nat for user-mode networking');
  }
  return nics;
}

/** A full definition from a client's options, over a template's when one is given. */
export function buildDefinition(
  peer: Peer,
  name: string,
  cfg: VmConfigInput,
  template: VmRecord | undefined,
  transient: boolean,
  ctx: DefinitionContext,
): VmDefinition {
  checkVmName(name);
  const base = template;
  const def: VmDefinition = {
    name,
    ...resolveOwner(peer, cfg.owner, ctx.names),
    memory: cfg.memory ?? base?.memory ?? DEFAULT_MEMORY,
    cpus: cfg.cpus ?? base?.cpus ?? 1,
    // Paths are the client's, made absolute by the CLI; files are opened (and
    // disk formats pinned) as the owner by daemon/vmfiles.ts, not here.
    kernel: cfg.kernel !== undefined ? absolutePath(cfg.kernel, 'kernel') : base?.kernel ?? null,
    initrd: cfg.initrd !== undefined ? absolutePath(cfg.initrd, 'initrd') : base?.initrd ?? null,
    cmdline: cfg.cmdline ?? base?.cmdline ?? DEFAULT_CMDLINE,
    bios: cfg.bios !== undefined ? absolutePath(cfg.bios, 'bios') : base?.bios ?? null,
    bootDevice: cfg.bootDevice ?? base?.bootDevice ?? null,
    disks: (cfg.disks ?? base?.disks ?? []).map((d) => ({ path: absolutePath(d.path, 'disk'), format: d.format ?? 'raw', readOnly: Boolean(d.readOnly) })),
    // An instance gets its own MACs: the template's would collide with it on a switch.
    nics: checkNics(peer, nicSpecs(cfg.nics ?? base?.nics.map((n) => ({ ...n, lladdr: undefined })) ?? []), ctx),
    enabled: false,
    transient,
    template: base?.name ?? null,
    source: null,
    allowInstance: null,
  };
  if (!def.kernel && !def.bios && def.disks.length === 0 && def.bootDevice !== 'net') throw new VmsupError('USAGE', 'no kernel or disk/cdrom specified');
  // With no -b/--bios the firmware (settings firmware + uboot) boots the disks; U-Boot's
  // distro boot tries virtio0 first, so the -B device goes into the first slot.
  if ((!def.kernel && !def.bios) || def.bootDevice) def.disks = bootOrder(def.disks, def.bootDevice);
  return def;
}

/**
 * MACs stay a VM's across a redefinition: a NIC of the same kind (and switch)
 * in the same place keeps its stored MAC unless --lladdr (`given`) names one.
 */
export function keepLladdrs(was: NicSpec[], now: NicSpec[] | undefined, given: (NicInput | undefined)[] | undefined): NicSpec[] | undefined {
  return now?.map((n, i) => {
    const old = was[i];
    const named = given?.[i]?.lladdr !== undefined;
    return !named && old && old.kind === n.kind && old.switch === n.switch ? { ...n, lladdr: old.lladdr } : n;
  });
}

/**
 * The parent of a new instance (`start -t`, `define -t`, vm.conf's
 * `vm NAME instance PARENT`), checked as vmd checks instances: root may make
 * any; another user only of a VM they own or whose `allow instance` names
 * them (`owner user`, `owner :group`, `owner user:group`), and the instance
 * may change only what `allow instance` lists (boot, cdrom, disk, interface,
 * memory, instance: may itself allow instances). `parent` is what `ref` names.
 */
export function instanceParent(
  peer: Peer,
  ref: string,
  parent: VmRecord | undefined,
  cfg: VmConfigInput | undefined,
  allow: AllowInstance | undefined,
  names: Names,
): VmRecord {
  if (!parent) throw new VmsupError('NO_VM', `vm not found: ${ref}`);
  if (isRoot(peer)) return parent;
  const named = (spec: string) => {
    const [u, g] = spec.split(':');
    const userOk = !u || names.lookupUser(u)?.uid === peer.uid;
    const groupOk = g === undefined || g === '' || (names.lookupGroup(g) !== undefined && peer.groups.has(names.lookupGroup(g)!));
    return (u || g) && userOk && groupOk;
  };
  const allowed = parent.ownerUid === peer.uid || (parent.allowInstance?.owners ?? []).some(named);
  if (!allowed) {
    if (!mayControl(peer, parent)) throw new VmsupError('NO_VM', `vm not found: ${ref}`);
    throw new VmsupError('PERMISSION', `permission denied: vm ${parent.name} does not allow ${names.userName(peer.uid)} to create instances`);
  }
  const may = new Set<string>(parent.allowInstance?.options ?? []);
  const changes: [boolean, string, string][] = [
    [cfg?.memory !== undefined || cfg?.cpus !== undefined, 'memory', 'memory or cpus'],
    [cfg?.kernel !== undefined || cfg?.initrd !== undefined || cfg?.bios !== undefined || cfg?.cmdline !== undefined, 'boot', 'the boot image'],
    [cfg?.disks !== undefined, 'disk', 'disks'],
    [cfg?.nics !== undefined, 'interface', 'interfaces'],
    [cfg?.bootDevice !== undefined, 'boot', 'the boot device'],
    [allow !== undefined, 'instance', 'instances of its own'],
  ];
  for (const [changed, option, what] of changes)
    if (changed && !may.has(option))
      throw new VmsupError('PERMISSION', `permission denied: an instance of vm ${parent.name} may not change ${what} (allow instance { ${option} } is not set)`);
  return parent;
}

/** A VM the peer may control (owner, the owning group, root); `vm` is what `ref` names. */
export function controlled(peer: Peer, ref: string, vm: VmRecord | undefined): VmRecord {
  if (!vm) throw new VmsupError('NO_VM', `vm not found: ${ref}`);
  if (!mayControl(peer, vm)) throw new VmsupError('PERMISSION', `permission denied: vm ${vm.name} belongs to another user`);
  return vm;
}

/** The console goes to the VM's owner (or root) only: the owning group controls the VM but does not get its tty. */
export function checkConsoleOwner(peer: Peer, vm: Pick<VmRecord, 'name' | 'ownerUid'>): void {
  if (!isRoot(peer) && peer.uid !== vm.ownerUid)
    throw new VmsupError('PERMISSION', `console: permission denied: only the owner of vm ${vm.name} gets its console`);
}
