// Every message of the control protocol, declared once and imported by both
// the daemon and the CLI. Each request type has a shape check that runs on the
// decoded frame before dispatch: unknown fields, wrong types, strings or
// arrays over their limits are rejected (vscode-jsonrpc's RequestType, vmd's
// IMSG_SIZE_CHECK). The limits below are the documented limits of a VM.
import { VmsupError } from './errors.js';
import type { MetricSample, MetricsNow } from '../metrics.js';
import { addon } from '../../native/index.js';

export type { MetricSample, MetricsNow };

/** Device limits come from the native device manager, the one place that enforces them. */
const DEVICE_LIMITS = addon().limits;

// ---- documented limits ---------------------------------------------------

export const LIMITS = {
  /** vmctl's rule: VM names are shorter than 64 bytes. */
  nameMaxBytes: 63,
  memoryMin: 16 * 1024 * 1024,
  memoryMax: 32 * 1024 * 1024 * 1024,
  cpusMin: 1,
  cpusMax: DEVICE_LIMITS.cpus,
  /** vmd allows 4 disks and 4 NICs per VM (native/machine/device_manager.h). */
  disksMax: DEVICE_LIMITS.disks,
  nicsMax: DEVICE_LIMITS.nics,
  pathMaxBytes: 1024,
  /** Linux riscv's COMMAND_LINE_SIZE. */
  cmdlineMaxBytes: 1024,
  /** Events returned by one `events` request. */
  eventsMax: 10_000,
  /** Console output kept while no client is attached (replayed on attach). */
  consoleHistoryBytes: 64 * 1024,
} as const;

export const DEFAULT_MEMORY = 512 * 1024 * 1024; // vmd's VM_DEFAULT_MEMORY
export const DEFAULT_CMDLINE = 'console=ttyS0';

export const VM_STATES = ['stopped', 'waiting', 'starting', 'running', 'paused', 'stopping'] as const;
export type VmState = (typeof VM_STATES)[number];

/** vmctl's name rule: alphanumerics, '.', '-', '_'; not starting with '.', '-', '_'; < 64 bytes. */
export function checkVmName(name: string): void {
  if (name === '' || /^[-._]/.test(name) || !/^[A-Za-z0-9._-]+$/.test(name))
    throw new VmsupError('INVALID_NAME', 'invalid VM name');
  if (Buffer.byteLength(name) > LIMITS.nameMaxBytes) throw new VmsupError('INVALID_NAME', 'vm name too long');
  if (/^\d+$/.test(name)) throw new VmsupError('INVALID_NAME', 'invalid VM name', 'a name of digits only would read as an id');
}

// ---- shape checks ----------------------------------------------------------

type Check<T> = (v: unknown, where: string) => T;

function bad(where: string, what: string): never {
  throw new VmsupError('BAD_REQUEST', `malformed request: ${where} ${what}`);
}

const str = (maxBytes: number, minLen = 0): Check<string> => (v, w) => {
  if (typeof v !== 'string') bad(w, 'must be a string');
  if (v.length < minLen) bad(w, 'is empty');
  if (Buffer.byteLength(v) > maxBytes) bad(w, `is longer than ${maxBytes} bytes`);
  if (v.includes('\0')) bad(w, 'contains a NUL byte');
  return v;
};
const int = (min: number, max: number): Check<number> => (v, w) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(w, 'must be an integer');
  if (v < min || v > max) bad(w, `must be between ${min} and ${max}`);
  return v;
};
const bool: Check<boolean> = (v, w) => {
  if (typeof v !== 'boolean') bad(w, 'must be true or false');
  return v;
};
const oneOf = <T extends string>(...vals: T[]): Check<T> => (v, w) => {
  if (typeof v !== 'string' || !(vals as string[]).includes(v)) bad(w, `must be one of ${vals.join(', ')}`);
  return v as T;
};
const arr = <T>(item: Check<T>, max: number): Check<T[]> => (v, w) => {
  if (!Array.isArray(v)) bad(w, 'must be an array');
  if (v.length > max) bad(w, `has more than ${max} entries`);
  return v.map((x, i) => item(x, `${w}[${i}]`));
};
type Shape = Record<string, Check<unknown>>;
type FromShape<S extends Shape, O extends keyof S = never> = { [K in Exclude<keyof S, O>]: ReturnType<S[K]> } & {
  [K in O]?: ReturnType<S[K]>;
};
const obj = <S extends Shape, O extends keyof S = never>(shape: S, optional: O[] = []): Check<FromShape<S, O>> => (v, w) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(w, 'must be an object');
  const rec = v as Record<string, unknown>;
  // Own properties only: `k in shape` would let "__proto__", "constructor" or
  // "toString" through, which every object inherits.
  for (const k of Object.keys(rec)) if (!Object.hasOwn(shape, k)) bad(w, `has an unknown field "${k}"`);
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, check] of Object.entries(shape)) {
    if (!Object.hasOwn(rec, k) || rec[k] === undefined) {
      if (!(optional as string[]).includes(k)) bad(w, `lacks the field "${k}"`);
      continue;
    }
    out[k] = check(rec[k], `${w}.${k}`);
  }
  return out as FromShape<S, O>;
};

// ---- VM configuration -----------------------------------------------------

/** Guest RAM is mapped in 4 KiB pages (RISC-V privileged spec §4.3, Sv39/Sv48 base pages):
 * a size that is not a whole number of pages could be defined but never started. */
export const PAGE_SIZE = 4096;
const memory: Check<number> = (v, w) => {
  const n = int(LIMITS.memoryMin, LIMITS.memoryMax)(v, w);
  if (n % PAGE_SIZE !== 0) bad(w, 'must be a multiple of 4 KiB');
  return n;
};
/** "user", "user:group" or ":group": at most one colon, and a user or a group named. */
const owner: Check<string> = (v, w) => {
  const s = str(65, 1)(v, w);
  const parts = s.split(':');
  if (parts.length > 2 || parts.every((x) => x === '')) bad(w, 'must be user, user:group or :group');
  return s;
};

const path = str(LIMITS.pathMaxBytes, 1);
/** A disk as a client gives it: no format = detect it once (qcow2 by its
 * signature) and pin it; force = attach as raw even a file with the qcow2 signature. */
const diskShape = obj({ path, format: oneOf('raw', 'qcow2'), readOnly: bool, force: bool }, ['readOnly', 'format', 'force']);
export type DiskInput = ReturnType<typeof diskShape>;
/** A disk in a definition: its format is pinned. */
export interface DiskSpec {
  path: string;
  format: 'raw' | 'qcow2';
  readOnly?: boolean;
}

/** A NIC as a client asks for it (daemon/nics.ts checks it again and fixes the MAC). */
const forwardShape = obj({ hostAddr: int(0, 0xffffffff), hostPort: int(1, 65535), guestPort: int(1, 65535) });
const nicShape = obj(
  { kind: oneOf('nat', 'local', 'tap', 'switch'), switch: str(32, 1), lladdr: str(17, 17), forwards: arr(forwardShape, 64) },
  ['switch', 'lladdr', 'forwards'],
);
export type NicInput = ReturnType<typeof nicShape>;
/** A NIC of a definition, as status shows it; address: what vmsup hands out, where it knows it. */
export interface NicInfo {
  kind: 'nat' | 'local' | 'tap' | 'switch';
  lladdr: string;
  switch?: string;
  forwards?: { hostAddr: number; hostPort: number; guestPort: number }[];
  /** While running: the tap's name (-L, -i). */
  tap?: string;
  /** The guest's address: slirp's first DHCP lease for --nat, the /31's second address for -L. */
  address?: string;
}

const configShape = obj(
  {
    memory,
    cpus: int(LIMITS.cpusMin, LIMITS.cpusMax),
    kernel: path,
    initrd: path,
    cmdline: str(LIMITS.cmdlineMaxBytes),
    bios: path,
    disks: arr(diskShape, LIMITS.disksMax),
    bootDevice: oneOf('disk', 'net', 'cdrom'),
    /** root only: "user", "user:group" or ":group" */
    owner,
    nics: arr(nicShape, LIMITS.nicsMax),
  },
  ['memory', 'cpus', 'kernel', 'initrd', 'cmdline', 'bios', 'disks', 'bootDevice', 'owner', 'nics'],
);
/** What a client may say about a VM; the daemon fills in the defaults. */
export type VmConfigInput = ReturnType<typeof configShape>;

/** vm.conf(5)'s `allow instance` options: what an instance made from a VM may change. */
export const INSTANCE_OPTIONS = ['boot', 'cdrom', 'disk', 'instance', 'interface', 'memory'] as const;
/** `allow instance { … }`: the options an instance may change, and who (besides the owner) may make one. */
const allowInstanceShape = obj({ options: arr(oneOf(...INSTANCE_OPTIONS), INSTANCE_OPTIONS.length), owners: arr(owner, 64) });
export type AllowInstance = ReturnType<typeof allowInstanceShape>;

// Longer than a name may be, so that the daemon's name check gives vmctl's message.
const vmRef = str(255, 1);

// ---- requests ---------------------------------------------------------------

/** Bytes of machine state in one receive-data request (base64 in a frame under MAX_FRAME). */
export const RECEIVE_CHUNK_BYTES = 128 * 1024;

export const REQUESTS = {
  status: obj({ vm: vmRef }, ['vm']),
  /** replace: change an existing definition in place (same id); dryRun: check everything, store nothing;
   * source/enabled/allowInstance: what vm.conf(5) adds (vmsup load). */
  define: obj(
    { name: vmRef, config: configShape, template: vmRef, replace: bool, dryRun: bool, source: path, enabled: bool, allowInstance: allowInstanceShape },
    ['template', 'replace', 'dryRun', 'source', 'enabled', 'allowInstance'],
  ),
  /** whenStopped: a running VM is undefined when it stops (vm.conf reload of a removed VM). */
  undefine: obj({ vm: vmRef, whenStopped: bool }, ['whenStopped']),
  enable: obj({ vm: vmRef }),
  disable: obj({ vm: vmRef }),
  start: obj({ vm: vmRef, config: configShape, template: vmRef }, ['config', 'template']),
  stop: obj({ vm: vmRef, all: bool, force: bool, wait: bool }, ['vm', 'all', 'force', 'wait']),
  pause: obj({ vm: vmRef }),
  unpause: obj({ vm: vmRef }),
  wait: obj({ vm: vmRef }),
  log: obj({ level: oneOf('brief', 'verbose') }),
  reload: obj({}),
  /** vm.conf(5)'s global settings (vmsup load; root, or a per-user daemon's own user). */
  configure: obj(
    {
      staggeredStart: obj({ parallel: int(1, 1024), delay: int(0, 86400) }),
      socketOwner: owner,
      localPrefix: str(18, 9),
      dryRun: bool,
    },
    ['staggeredStart', 'socketOwner', 'localPrefix', 'dryRun'],
  ),
  reset: obj({ what: oneOf('all', 'vms', 'switches') }),
  /** With follow: the answer is a stream of event frames ({id, event}) until the client leaves. */
  events: obj({ vm: vmRef, limit: int(1, LIMITS.eventsMax), follow: bool }, ['vm', 'limit', 'follow']),
  /** Claims the console until this connection closes; answers the tty and the buffered output. */
  console: obj({ vm: vmRef }),
  /** Latest metrics of the VMs the caller may see (one with vm); `history`: that many seconds of the ring. */
  metrics: obj({ vm: vmRef, history: int(1, 600) }, ['vm', 'history']),
  /** A one-time login URL for the web interface, bound to the caller's uid. */
  'web-login': obj({}),
  /** root only: the daemon's own resource use (connections, waiters, listeners), for soak tests and operators. */
  stats: obj({}),
  /** Saves a paused VM's whole state into a new file (native/snapshot); the VM stays paused. */
  save: obj({ vm: vmRef, path }),
  /** Starts a stopped VM from a file `save` wrote (the file names the VM). */
  restore: obj({ path, force: bool }, ['force']),
  /** vmctl's send: the VM's state streams back as {id, data, bytes, pass} frames (data: base64),
   * then the answer; the VM is stopped once all of it was sent. live: pre-copy while it runs. */
  send: obj({ vm: vmRef, live: bool }, ['live']),
  /** vmctl's receive: the state follows in receive-data requests naming this request's id;
   * answered once the VM runs (or the restore failed). */
  receive: obj({ name: vmRef, force: bool }, ['force']),
  /** One chunk of a receive's stream (base64, at most RECEIVE_CHUNK bytes decoded); end: no more. */
  'receive-data': obj({ stream: int(1, Number.MAX_SAFE_INTEGER), data: str(Math.ceil(RECEIVE_CHUNK_BYTES / 3) * 4), end: bool }, ['data', 'end']),
  /** vmd's switch blocks (root or vmsupd's own user): a persistent vmsup switch. */
  'switch-create': obj({ name: str(32, 1), lockedLladdr: bool, group: str(64, 1), uplink: str(24, 1) }, ['lockedLladdr', 'group', 'uplink']),
  /** Refused while running VMs have a port on it (they are listed). */
  'switch-delete': obj({ name: str(32, 1) }),
  'switch-status': obj({}),
};

/** Requests whose answer holds a list that may outgrow one frame (10,000 definitions,
 * `events -n 10000`): the server sends such a list in pages, `{id, page: [...]}` frames,
 * then the final `{id, ok: true, result}` with that list empty; the client joins the pages
 * back in order. Any request may be added here; the mechanism knows nothing of its type. */
export const PAGED: { readonly [K in RequestType]?: string } = { status: 'vms', events: 'events' };
export type RequestType = keyof typeof REQUESTS;
export type Params<K extends RequestType> = ReturnType<(typeof REQUESTS)[K]>;

export interface OwnerInfo {
  uid: number;
  gid: number;
  user: string;
  group: string;
}

export interface VmInfo {
  id: number;
  name: string;
  state: VmState;
  /** Kernel thread id of the VM's worker while it runs. */
  pid: number | null;
  cpus: number;
  memory: number;
  /** Guest RAM really backed by the host (stats().residentBytes). */
  curmem: number;
  /** The latest metrics while the VM runs (daemon/metrics.ts). */
  metrics?: MetricsNow;
  /** Host memory held by the JIT's translated code, bytes (stats().codeCacheBytes; capped per hart). */
  codeCacheBytes: number;
  tty: string | null;
  owner: OwnerInfo;
  enabled: boolean;
  transient: boolean;
  template: string | null;
  /** The vm.conf file that defined it (vmsup load), or null. */
  source: string | null;
  allowInstance: AllowInstance | null;
  kernel: string | null;
  initrd: string | null;
  cmdline: string;
  bios: string | null;
  disks: DiskSpec[];
  /** Its NICs (define/start --nat, -L, -i, -n). */
  nics: NicInfo[];
  bootDevice: string | null;
  /** Why the VM is in its state (the last event's reason). */
  reason: string | null;
  restarts: number;
}

export interface EventRecord {
  seq: number;
  time: string;
  vmId: number | null;
  vm: string;
  from: VmState | null;
  to: VmState | 'defined' | 'undefined';
  reason: string;
}

export interface StopOutcome {
  id: number;
  name: string;
  /** 'requested' (shutdown asked), 'terminated' (waited until stopped), 'forced'
   * (forced off: asked with -f, or the guest ignored Ctrl-Alt-Del until the timeout). */
  outcome: 'requested' | 'terminated' | 'forced';
  /** With -w or -f: the reason recorded when the VM stopped. */
  reason?: string;
}

export interface Results {
  status: { vms: VmInfo[] };
  define: { vm: VmInfo };
  undefine: { id: number; name: string };
  enable: { vm: VmInfo };
  disable: { vm: VmInfo };
  start: { vm: VmInfo };
  stop: { stopped: StopOutcome[] };
  pause: { vm: VmInfo };
  unpause: { vm: VmInfo };
  /** waited: false when the VM was not running at all (nothing to wait for). */
  wait: { vm: VmInfo; reason: string | null; waited: boolean };
  log: { level: 'brief' | 'verbose' };
  reload: { removed: number };
  configure: { applied: string[] };
  reset: { stopped: number };
  events: { events: EventRecord[] };
  /** history: the console output buffered while nobody was attached, base64. */
  console: { vm: VmInfo; tty: string; history: string };
  metrics: { vms: { info: VmInfo; history: MetricSample[] }[] };
  'web-login': { url: string; expires: string };
  stats: DaemonStats;
  save: { vm: VmInfo; bytes: number; ms: number };
  restore: { vm: VmInfo };
  /** downtimeMs: guest paused -> last byte handed to the client. */
  send: { vm: VmInfo; bytes: number; ms: number; downtimeMs: number; passes: number };
  /** downtimeMs: the sender's (from the stream's END) + END received -> resumed here. */
  receive: { vm: VmInfo; bytes: number; ms: number; downtimeMs: number | null; resumeMs: number; passes: number; defined: boolean };
  'receive-data': { bytes: number };
  'switch-create': { switch: SwitchInfo };
  'switch-delete': { name: string };
  'switch-status': { switches: SwitchInfo[] };
}

/** A vmsup switch: its definition and the native registry's counters. */
export interface SwitchInfo {
  name: string;
  lockedLladdr: boolean;
  /** Non-root users in this group may attach VMs to it; null: root's VMs only. */
  group: string | null;
  ports: number;
  rxFrames: number;
  txFrames: number;
  drops: number;
  lockedDrops: number;
  /** Its uplink as created ('tap:IF' or 'bridge:BR'), or null. */
  uplink: string | null;
  /** The uplink's tap while it is attached (null when it has none, or making it failed at start) and its counters (rx: host -> switch). */
  uplinkTap: string | null;
  uplinkRxFrames: number;
  uplinkTxFrames: number;
  uplinkDrops: number;
  /** Running VMs with a port on it. */
  vms: string[];
}

export interface DaemonStats {
  /** Open control connections, in all and per uid. */
  connections: number;
  connectionsByUid: Record<string, number>;
  /** Long-lived requests (wait, stop -w, start, events -f) being held. */
  longLived: number;
  /** Pending state waiters and 'event' listeners in the supervisor. */
  waiters: number;
  eventListeners: number;
}

// ---- frames on the wire -----------------------------------------------------

export interface RequestFrame {
  id: number;
  type: RequestType;
  params: unknown;
}
export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
}
export type ResponseFrame =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: ErrorBody }
  | { id: number; event: EventRecord }
  | { id: number; page: unknown[] }
  /** A chunk of a send's stream: base64 data, bytes sent so far, the pre-copy pass. */
  | { id: number; data: string; bytes: number; pass: number };

/** Shape-checks a decoded request frame; throws VmsupError('BAD_REQUEST'). */
export function parseRequest(frame: Record<string, unknown>): { id: number; type: RequestType; params: unknown } {
  const id = frame.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) bad('request', 'has no valid id');
  const type = frame.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(REQUESTS, type)) bad('request', 'has an unknown type');
  for (const k of Object.keys(frame)) if (k !== 'id' && k !== 'type' && k !== 'params') bad('request', `has an unknown field "${k}"`);
  const params = REQUESTS[type as RequestType](frame.params ?? {}, 'params');
  return { id, type: type as RequestType, params };
}

/** Shape-checks a response frame on the client side. */
export function parseResponse(frame: Record<string, unknown>): ResponseFrame {
  if (typeof frame.id !== 'number') throw new VmsupError('BAD_FRAME', 'unexpected response received from vmsupd');
  if (frame.ok === true) return { id: frame.id, ok: true, result: frame.result };
  if (Array.isArray(frame.page)) return { id: frame.id, page: frame.page };
  if (typeof frame.data === 'string' && typeof frame.bytes === 'number' && typeof frame.pass === 'number')
    return { id: frame.id, data: frame.data, bytes: frame.bytes, pass: frame.pass };
  const ev = frame.event as EventRecord | undefined;
  if (ev && typeof ev === 'object' && typeof ev.vm === 'string' && typeof ev.to === 'string' && typeof ev.reason === 'string')
    return { id: frame.id, event: ev };
  const e = frame.error as ErrorBody | undefined;
  if (frame.ok === false && e && typeof e.code === 'string' && typeof e.message === 'string')
    return { id: frame.id, ok: false, error: { code: e.code, message: e.message, hint: typeof e.hint === 'string' ? e.hint : undefined } };
  throw new VmsupError('BAD_FRAME', 'unexpected response received from vmsupd');
}
