// Switch uplinks (issue 9): `vmsup switch create NAME --uplink tap:IF |
// --uplink bridge:BR`, vm.conf's `switch { interface BR }`. An uplink is one
// more port of the native switch, backed by a tap the daemon opens here and
// hands to the addon (net/switch_registry.h), which polls it in a thread of
// its own.
//
// Which taps are vmsup's: a tap vmsup makes for an uplink carries the
// interface alias (IFLA_IFALIAS) `vmsup: uplink of switch NAME`. `tap:IF`
// creates IF when it does not exist; when an interface IF exists, it is used
// only if it is a tap (link kind "tun") with that alias prefix — a veth, a
// bridge, a physical NIC or a tap someone else made is refused. The taps are
// not persistent: they go away with the descriptor, so switch delete, daemon
// stop and even kill -9 of the daemon leave none behind, and the next start
// makes them again from the stored switches.
import fs from 'node:fs';
import { addon } from '../native/index.js';
import { VmsupError } from './protocol/errors.js';

export interface UplinkSpec {
  kind: 'tap' | 'bridge';
  ifname: string;
}

export const UPLINK_ALIAS = 'vmsup: uplink of switch ';

/** 'tap:IF' | 'bridge:BR', IF a Linux interface name (at most 15 characters). */
export function parseUplink(v: string): UplinkSpec {
  const m = /^(tap|bridge):([A-Za-z0-9_.-]{1,15})$/.exec(v);
  if (!m) throw new VmsupError('USAGE', `invalid uplink: ${v} (expected tap:IFNAME or bridge:BRNAME, a name of 1 to 15 of A-Z a-z 0-9 _ . -)`);
  return { kind: m[1] as UplinkSpec['kind'], ifname: m[2] };
}

export function formatUplink(u: UplinkSpec): string {
  return `${u.kind}:${u.ifname}`;
}

/** Root, or CAP_NET_ADMIN (bit 12) in the effective set: what taps and bridges need. */
export function canAdminNet(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n;
  } catch {
    return false;
  }
}

export const UPLINK_NEEDS_ROOT = 'switch uplinks need root or CAP_NET_ADMIN (a tap on the host) and this vmsupd has neither';

/** What the daemon refuses before it touches anything: privileges, and a tap name taken by something else. */
export function checkUplink(u: UplinkSpec): void {
  if (!canAdminNet()) throw new VmsupError('NET', UPLINK_NEEDS_ROOT);
  const info = addon().linkInfo(u.ifname);
  if (u.kind === 'tap') {
    if (info.exists && !(info.kind === 'tun' && info.alias.startsWith(UPLINK_ALIAS)))
      throw new VmsupError(
        'NET',
        `tap ${u.ifname} exists and belongs to something else (${info.kind === 'tun' ? 'a tap that is not a vmsup uplink' : `a ${info.kind || 'physical'} interface`}); choose another name`,
      );
  } else {
    if (!info.exists) throw new VmsupError('NET', `bridge ${u.ifname} not found (create it first: ip link add ${u.ifname} type bridge)`);
    if (info.kind !== 'bridge') throw new VmsupError('NET', `${u.ifname} is not a bridge (it is a ${info.kind || 'physical'} interface)`);
  }
}

/**
 * Opens switch `sw`'s uplink tap (marked as vmsup's, up, and for a bridge
 * uplink enslaved to the bridge) and hands it to the native switch. Returns
 * the tap's name. On failure nothing is left: the tap goes with its fd.
 */
export function attachUplink(sw: string, u: UplinkSpec): string {
  checkUplink(u);
  const a = addon();
  let tap: { fd: number; name: string };
  try {
    tap = a.openTap(u.kind === 'tap' ? u.ifname : '');
  } catch (e) {
    if (u.kind === 'tap' && /exists and belongs/.test(String((e as Error).message)))
      throw new VmsupError('NET', `tap ${u.ifname} is in use (another switch's uplink, or a VM's)`);
    throw e;
  }
  try {
    a.linkSetAlias(tap.name, UPLINK_ALIAS + sw);
    if (u.kind === 'bridge') a.bridgeAddIf(u.ifname, tap.name);
    a.linkSetUp(tap.name);
  } catch (e) {
    a.closeFd(tap.fd);
    throw new VmsupError('NET', `uplink ${formatUplink(u)}: ${(e as Error).message}`);
  }
  a.switchAttachUplink(sw, tap.fd, tap.name);
  return tap.name;
}
