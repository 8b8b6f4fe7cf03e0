// The NIC options `vmsup run` and the daemon's define/start share: parsing
// (--nat, --forward, --lladdr, -L, -i, -n), vmd-style MACs, the -L /31s, and
// turning a stored NIC list into the worker's MachineOptions.nics.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addon, type NicOptions } from '../native/index.js';
import { VmsupError } from './protocol/errors.js';

export type NicKind = 'nat' | 'local' | 'tap' | 'switch';

export interface Forward {
  /** Host byte order IPv4 address the host side listens on (127.0.0.1 by default). */
  hostAddr: number;
  hostPort: number;
  guestPort: number;
}

/** A NIC as a definition stores it (the `interfaces` table): the MAC is fixed at define. */
export interface NicSpec {
  kind: NicKind;
  /** kind 'switch': the switch's name. */
  switch?: string;
  lladdr: string;
  /** kind 'nat': host ports forwarded to the guest. */
  forwards?: Forward[];
}

/** A NIC as a client asks for it: the daemon generates the MAC when none is given. */
export interface NicRequest {
  kind: NicKind;
  switch?: string;
  lladdr?: string;
  forwards?: Forward[];
}

/** A MAC as vmd makes them: fe:e1:ba:d0 and two random bytes (locally administered, unicast). */
export function generateMac(): string {
  const r = crypto.randomBytes(2);
  return `fe:e1:ba:d0:${r[0].toString(16).padStart(2, '0')}:${r[1].toString(16).padStart(2, '0')}`;
}

/** --lladdr: six hex pairs, unicast. */
export function parseMac(v: string): string {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(v)) throw new VmsupError('USAGE', `invalid lladdr: ${v}`);
  if (parseInt(v.slice(0, 2), 16) & 1) throw new VmsupError('USAGE', `invalid lladdr: ${v} (a multicast address)`);
  return v.toLowerCase();
}

export function parseIpv4(v: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  if (!m) return undefined;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return undefined;
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

export function formatIpv4(a: number): string {
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
}

/** --forward tcp:[HOSTADDR:]HOSTPORT:GUESTPORT (tcp only, as the issue asks; HOSTADDR IPv4). */
export function parseForward(v: string): Forward {
  const bad = (why: string): never => {
    throw new VmsupError('USAGE', `invalid forward: ${v} (${why}; expected tcp:[HOSTADDR:]HOSTPORT:GUESTPORT)`);
  };
  const parts = v.split(':');
  if (parts[0] !== 'tcp') bad('only tcp is supported');
  if (parts.length !== 3 && parts.length !== 4) bad('wrong number of fields');
  let hostAddr = 0x7f000001;
  if (parts.length === 4) {
    const a = parseIpv4(parts[1]);
    if (a === undefined) bad(`bad host address ${parts[1]}`);
    hostAddr = a as number;
  }
  const port = (s: string): number => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 1 || n > 65535) bad(`bad port ${s}`);
    return n;
  };
  return { hostAddr, hostPort: port(parts[parts.length - 2]), guestPort: port(parts[parts.length - 1]) };
}

/**
 * Collects the NIC options of one command line in the order given: --nat, -L,
 * -n SWITCH and -i COUNT each add NICs; --forward belongs to the --nat NIC;
 * the Nth --lladdr sets the MAC of the Nth NIC.
 */
export class NicArgs {
  readonly nics: NicRequest[] = [];
  private readonly lladdrs: string[] = [];
  private readonly forwards: Forward[] = [];

  /** Takes option `a` (its value from `val`); false when it is not a NIC option. */
  take(a: string, val: () => string): boolean {
    switch (a) {
      case '--nat':
        if (this.nics.some((n) => n.kind === 'nat')) throw new VmsupError('USAGE', '--nat specified multiple times');
        this.nics.push({ kind: 'nat' });
        return true;
      case '-L':
        if (this.nics.some((n) => n.kind === 'local')) throw new VmsupError('USAGE', '-L specified multiple times');
        this.nics.push({ kind: 'local' });
        return true;
      case '-n': {
        const s = val();
        checkSwitchName(s);
        this.nics.push({ kind: 'switch', switch: s });
        return true;
      }
      case '-i': {
        const v = val();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > addon().limits.nics) throw new VmsupError('USAGE', `invalid count of interfaces: ${v} (1 to ${addon().limits.nics})`);
        for (let k = 0; k < n; k++) this.nics.push({ kind: 'tap' });
        return true;
      }
      case '--forward':
        this.forwards.push(parseForward(val()));
        return true;
      case '--lladdr':
        this.lladdrs.push(parseMac(val()));
        return true;
      default:
        return false;
    }
  }

  /** The NICs asked for, checked against the device limit; undefined when none were. */
  finish(): NicRequest[] | undefined {
    const max = addon().limits.nics;
    if (this.nics.length > max) throw new VmsupError('USAGE', `too many interfaces (at most ${max})`);
    if (this.forwards.length) {
      const nat = this.nics.find((n) => n.kind === 'nat');
      if (!nat) throw new VmsupError('USAGE', '--forward needs --nat');
      checkForwards(this.forwards);
      nat.forwards = this.forwards;
    }
    if (this.lladdrs.length > this.nics.length) throw new VmsupError('USAGE', '--lladdr needs an interface (--nat, -L, -i or -n) for each one given');
    this.lladdrs.forEach((m, i) => (this.nics[i].lladdr = m));
    return this.nics.length ? this.nics : undefined;
  }
}

/** Switch names: what vm.conf's `switch "name"` and the native registry accept. */
export function checkSwitchName(s: string): void {
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(s)) throw new VmsupError('USAGE', `invalid switch name: ${s} (1 to 32 of A-Z a-z 0-9 _ . -)`);
}

export function checkForwards(forwards: Forward[]): void {
  const seen = new Set<string>();
  for (const f of forwards) {
    const k = `${f.hostAddr}:${f.hostPort}`;
    if (seen.has(k)) throw new VmsupError('USAGE', `host port ${f.hostPort} is forwarded twice`);
    seen.add(k);
  }
}

/** A client's NIC list made into a definition's: checked again (hostile input), MACs fixed. */
export function nicSpecs(reqs: NicRequest[]): NicSpec[] {
  const max = addon().limits.nics;
  if (reqs.length > max) throw new VmsupError('USAGE', `too many interfaces (at most ${max})`);
  return reqs.map((r) => {
    if (r.kind === 'switch') {
      if (r.switch === undefined) throw new VmsupError('USAGE', 'a switch interface needs the switch name');
      checkSwitchName(r.switch);
    } else if (r.switch !== undefined) throw new VmsupError('USAGE', `a ${r.kind} interface has no switch`);
    if (r.forwards?.length && r.kind !== 'nat') throw new VmsupError('USAGE', '--forward needs --nat');
    if (r.forwards) checkForwards(r.forwards);
    const spec: NicSpec = { kind: r.kind, lladdr: r.lladdr !== undefined ? parseMac(r.lladdr) : generateMac() };
    if (r.switch !== undefined) spec.switch = r.switch;
    if (r.kind === 'nat') spec.forwards = r.forwards ?? [];
    return spec;
  });
}

/** vmd's default local_prefix. */
export const LOCAL_PREFIX = { base: (100 << 24) | (64 << 16), bits: 10 };

/** "100.64.0.0/10" → base and prefix length. */
export function parsePrefix(v: string): { base: number; bits: number } {
  const [a, b] = v.split('/');
  const base = parseIpv4(a);
  const bits = Number(b);
  if (base === undefined || !/^\d+$/.test(b ?? '') || bits < 1 || bits > 31) throw new VmsupError('USAGE', `invalid prefix: ${v}`);
  return { base, bits };
}

/** vm.conf's and `configure`'s `local prefix`: an IPv4 prefix with room for two /31s or more (/30 or wider). */
export function isLocalPrefix(v: string): boolean {
  try {
    return parsePrefix(v).bits <= 30;
  } catch {
    return false;
  }
}

/**
 * The first /31 of the prefix whose two addresses no interface of this host
 * (in this network namespace) uses, and that `taken` does not hold: the host
 * side gets the first address.
 */
export function pickLocalPair(prefix = LOCAL_PREFIX, taken: Set<number> = new Set()): number {
  const used = new Set<number>(taken);
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4') {
        const n = parseIpv4(a.address);
        if (n !== undefined) used.add(n & ~1);
      }
    }
  }
  const mask = prefix.bits === 0 ? 0 : (~0 << (32 - prefix.bits)) >>> 0;
  const base = (prefix.base & mask) >>> 0;
  const count = 2 ** (32 - prefix.bits) / 2;
  for (let i = 0; i < count; i++) {
    const host = base + 2 * i;
    if (!used.has(host)) return host;
  }
  throw new VmsupError('NET', `no free /31 left in ${formatIpv4(base)}/${prefix.bits}`);
}

export const LOCAL_NEEDS_ROOT = '-L needs root (a tap and a host address); use --nat for user-mode networking';

/**
 * Between picking a free /31 and putting its first address on the tap, another
 * process (a second `vmsup run -L`, or vmsupd) could pick the same one: the
 * pair is claimed first with an O_EXCL file `<netns inode>-<address>` in
 * LOCAL_CLAIMS, holding the claimer's pid, and released once the address is on
 * the tap (from then on the interface itself says the pair is taken). A claim
 * whose process is gone (killed in that window) is taken over.
 */
export const LOCAL_CLAIMS = '/run/vmsup/local';

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true; // being written right now
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims the /31 at `host` in this network namespace; a release function, or undefined when another live process holds it. */
export function claimLocalPair(host: number, dir = LOCAL_CLAIMS): (() => void) | undefined {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = path.join(dir, `${fs.statSync('/proc/self/ns/net').ino}-${formatIpv4(host)}`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(f, 'wx', 0o600);
      try {
        fs.writeSync(fd, String(process.pid));
      } finally {
        fs.closeSync(fd);
      }
      return () => fs.rmSync(f, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = 0;
    try {
      holder = Number(fs.readFileSync(f, 'utf8').trim());
    } catch {
      continue; // released meanwhile: try again
    }
    if (alive(holder)) return undefined;
    fs.rmSync(f, { force: true }); // a stale claim
  }
  return undefined;
}

/** -L: a tap with the first address of a /31; the guest gets the second from the built-in DHCP. */
export function setUpLocal(nic: NicOptions, prefix = LOCAL_PREFIX, taken?: Set<number>): { tap: string; host: number } {
  if (process.getuid?.() !== 0) throw new VmsupError('NET', LOCAL_NEEDS_ROOT);
  const skip = new Set(taken);
  let host = 0;
  let release: (() => void) | undefined;
  for (let i = 0; i < 1024 && !release; i++) {
    host = pickLocalPair(prefix, skip);
    release = claimLocalPair(host);
    skip.add(host);
  }
  if (!release) throw new VmsupError('NET', 'no free /31 could be claimed for -L (other processes hold them)');
  let tap: { fd: number; name: string };
  try {
    tap = addon().openTap('');
    try {
      addon().setInterfaceAddr(tap.name, host, 31);
    } catch (err) {
      addon().closeFd(tap.fd);
      throw err;
    }
  } finally {
    release();
  }
  nic.tapFd = tap.fd;
  nic.localHostAddr = host;
  return { tap: tap.name, host };
}

/** What the worker gets for a stored NIC (taps are opened by the caller: see setUpLocal). */
export function machineNic(n: NicSpec): NicOptions {
  const o: NicOptions = { kind: n.kind, mac: n.lladdr };
  if (n.switch !== undefined) o.switch = n.switch;
  if (n.kind === 'nat') o.forwards = (n.forwards ?? []).map((f) => ({ ...f }));
  return o;
}
