// The typed face of the C++ addon. Arguments are validated here (or by the
// caller) and passed down as plain values; the addon re-checks what it must.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type DiskFormatName = 'raw' | 'qcow2';

export interface DiskOptions {
  path: string;
  format: DiskFormatName;
  readOnly?: boolean;
  /** The image and its whole backing chain as openVmFiles opened them; when
   * given, the disk is built from these descriptors only and `path` just names it. */
  files?: OpenedFile[];
}

/** One descriptor of a disk's chain (host/vmfiles.cc). */
export interface OpenedFile {
  path: string;
  fd: number;
  readOnly: boolean;
}

/** host/vmfiles.cc: what to open, and as whom. */
export interface OpenVmFilesRequest {
  uid: number;
  gid: number;
  groups: number[];
  /** Take uid/gid/groups on the opening thread (a root daemon opening for another user). */
  switchCreds: boolean;
  /** Block devices are accepted (root's VMs only). */
  allowDevices: boolean;
  /** Opened read-only, regular files only: kernel, initrd, bios. */
  files: { path: string; what: string }[];
  /** chain: open the whole backing chain through the block layer (at start). */
  disks: { path: string; format: DiskFormatName | 'probe'; readOnly: boolean; chain: boolean }[];
}

export interface OpenVmFilesResult {
  files: number[];
  disks: { format: DiskFormatName; signature: DiskFormatName; files: OpenedFile[] }[];
}

export interface MachineOptions {
  /** Guest RAM in bytes (multiple of 4 KiB, 16 MiB .. 64 GiB). */
  memory: number;
  cpus: number;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  bios?: string;
  /** Descriptors for kernel, initrd and bios (the paths then only name them). */
  kernelFd?: number;
  initrdFd?: number;
  biosFd?: number;
  /** -B: disk and cdrom are slot order (the caller orders `disks`); net tells U-Boot to boot by DHCP. */
  bootDevice?: string;
  /** The firmware that runs first when `kernel` is a raw binary and `bios` is not given. */
  defaultBios?: string;
  disks?: DiskOptions[];
  /** UART input/output file descriptors (stdin/stdout, or a pty master). */
  consoleIn?: number;
  consoleOut?: number;
  /** An eventfd that, when written, ends an idle sleep inside run(). */
  wakeFd?: number;
  /** Network interfaces, at most addon().limits.nics. */
  nics?: NicOptions[];
  /**
   * Execution engine: true = the JIT (x86-64 hosts; elsewhere the interpreter
   * runs anyway), false = the interpreter. Unset: the default (see README).
   */
  jit?: boolean;
}

export interface ForwardOptions {
  /** Host byte order IPv4 address to listen on (default 127.0.0.1). */
  hostAddr?: number;
  hostPort: number;
  guestPort: number;
}

export interface NicOptions {
  /** nat: libslirp user-mode NAT; tap: an open tap fd; local: vmd's -L (tap + /31 + built-in DHCP). */
  kind: 'nat' | 'tap' | 'local' | 'switch';
  /** switch: the name of a switch made with addon().switchCreate. */
  switch?: string;
  /** xx:xx:xx:xx:xx:xx, unicast. */
  mac: string;
  forwards?: ForwardOptions[];
  /** nat: cap on the host sockets slirp may hold (default 256). */
  maxConnections?: number;
  /** tap/local: the tap descriptor (IFF_TAP | IFF_NO_PI); the machine owns it from then on. */
  tapFd?: number;
  /** local: the host side of the /31, host byte order (the guest gets the next address). */
  localHostAddr?: number;
}

/** The device limits the native device manager enforces (machine/device_manager.h). */
export interface DeviceLimits {
  disks: number;
  nics: number;
  cpus: number;
  virtioSlots: number;
}

export interface NicStats {
  mac: string;
  kind: string;
  rxFrames: number;
  rxBytes: number;
  rxDropped: number;
  rxDroppedNoBuffer: number;
  rxDroppedOversize: number;
  txFrames: number;
  txBytes: number;
  txDropped: number;
}

export type RunReason = 'slice' | 'poweroff' | 'reset' | 'pass' | 'fail' | 'error';

export interface RunStatus {
  reason: RunReason;
  /** For 'fail': the HTIF test number. */
  exitCode?: number;
  /** For 'error': what went wrong. */
  message?: string;
}

export interface MachineStats {
  /** Instructions retired, all harts. */
  instret: number;
  /** Guest RAM the host has really backed, bytes. */
  residentBytes: number;
  /** Device counters by name: console_out_bytes, console_in_bytes, interrupts,
   * blk<N>_{reads,writes,read_bytes,write_bytes,flushes,errors}, and whatever a
   * later device (net) adds with its own prefix. */
  counters: Record<string, number>;
  /** Per-NIC counters, in interface order. */
  nics?: NicStats[];
  /** Whether the harts run the JIT. */
  jit: boolean;
  /** Host memory held by translated code, bytes (capped per hart). */
  codeCacheBytes: number;
}

export interface NativeMachine {
  /** Runs the guest for at most `maxMillis` ms of host time (sleeping while it idles). */
  run(maxMillis: number): RunStatus;
  /** Host-side Ctrl-Alt-Del through the virtio keyboard: the guest's graceful shutdown request. */
  ctrlAltDel(): void;
  /** Host keystrokes for the console UART (when consoleIn is not used); returns the bytes taken. */
  consoleInput(bytes: Uint8Array): number;
  stats(): MachineStats;
  /**
   * riscv-arch-test: a copy of guest RAM from the ELF symbol begin_signature up to
   * end_signature (bare-metal -b ELFs). Throws ERR_VMSUP_NO_SIGNATURE when the ELF
   * lacks either symbol or the region is reversed, outside RAM or over 64 MiB.
   */
  signature(): Buffer;
  /**
   * Saves the whole machine (between run() slices) to a file path or an open
   * descriptor (native/snapshot/snapshot.h): disks flushed and identified, RAM
   * pages that were touched and are not zero, compressed. `meta` is kept as is
   * (the caller's options). Throws ERR_VMSUP_SNAPSHOT_*.
   */
  save(file: string | number, meta?: string): void;
  /**
   * Loads a saved state into this freshly created machine (same memory, cpus and
   * devices) and returns the saved meta string. Throws ERR_VMSUP_SNAPSHOT_FORMAT,
   * _VERSION, _CORRUPT, _MISMATCH, _DISK (a changed disk; `force` accepts it) or
   * _IO; after a failure the machine is unusable.
   */
  restore(file: string | number, force?: boolean): string;
  /**
   * Live send (vmsup send --live; native/snapshot/snapshot.h PASS sections),
   * between run() slices, into a blocking descriptor the caller keeps:
   * liveBegin writes the head and starts pass 1; liveStep writes about
   * `budget` more bytes of the pass; liveCollect takes the pages dirtied since
   * and returns how many wait; livePass starts a pass over them; liveFinish
   * (the guest no longer runs) writes the rest and END, with `pausedMicros`
   * added to its own time as the downtime, and returns the stream's bytes.
   */
  liveBegin(fd: number, meta: string): void;
  liveStep(budget: number): { done: boolean; bytes: number; pass: number };
  liveCollect(): number;
  livePass(): void;
  liveFinish(pausedMicros: number): number;
  liveAbort(): void;
  /** Releases RAM, disks and fds now rather than at garbage collection. */
  close(): void;
}

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

export interface Pty {
  master: number;
  slave: number;
  path: string;
}

export interface Addon {
  Machine: new (opts: MachineOptions) => NativeMachine;
  /** The device limits, from the device manager (the only place they are enforced). */
  limits: DeviceLimits;
  /** machine_napi.cc / host/tap.cc: a non-blocking tap (IFF_TAP | IFF_NO_PI); name '' lets the kernel pick. */
  openTap(name?: string): { fd: number; name: string };
  /** net/switch_registry.h: the process's vmsup switches (VM<->VM frames stay in the process). */
  switchCreate(name: string, lockedLladdr?: boolean): void;
  /** Refused (ERR_VMSUP_SWITCH) while a running machine has a port on it. */
  switchDelete(name: string): void;
  switchList(): {
    name: string;
    lockedLladdr: boolean;
    /** VM ports (the uplink's is not counted). */
    ports: number;
    rxFrames: number;
    txFrames: number;
    drops: number;
    lockedDrops: number;
    /** The switch's uplink tap and its counters (rx: host -> switch), when it has one. */
    uplink?: { tap: string; rxFrames: number; txFrames: number; drops: number };
  }[];
  /** net/switch_registry.h: the tap `fd` (named `tap`) becomes the switch's uplink port; the addon owns the fd from then on, also when this throws. */
  switchAttachUplink(name: string, fd: number, tap: string): void;
  /** Stops the uplink's thread and closes its tap; false when the switch had none. */
  switchDetachUplink(name: string): boolean;
  /** host/netlink.h: an interface's kind (IFLA_INFO_KIND: 'tun', 'bridge', 'veth', '' …) and alias. */
  linkInfo(name: string): { exists: boolean; kind: string; alias: string };
  linkSetAlias(name: string, alias: string): void;
  linkSetUp(name: string): void;
  /** SIOCBRADDIF: enslaves `ifname` to the Linux bridge `bridge`. */
  bridgeAddIf(bridge: string, ifname: string): void;
  /** The meta string of a snapshot file (its options), without loading it. */
  readSnapshotMeta(pathOrFd: string | number): string;
  /** host/tap.cc: IPv4 address (host byte order) / prefix on an interface, and up. */
  setInterfaceAddr(name: string, addr: number, prefix: number): void;
  /** host/host_napi.cc: a pty whose tty belongs to uid:gid, mode 0620 (gid -1 keeps the group). */
  openPty(uid: number, gid: number): Pty;
  /** host/host_napi.cc: SO_PEERCRED of a connected Unix socket fd. */
  peerCred(fd: number): PeerCred;
  /** host/host_napi.cc: a non-blocking eventfd, and ways to ring, drain and close it. */
  eventfdCreate(): number;
  eventfdWrite(fd: number): void;
  eventfdDrain(fd: number): number;
  closeFd(fd: number): void;
  /** host/host_napi.cc: a blocking close-on-exec pipe [read, write] (vmsup send/receive). */
  pipeCreate(): [number, number];
  /** host/vmfiles.cc: opens a VM's files once, as its owner; the caller owns every fd. */
  openVmFiles(req: OpenVmFilesRequest): Promise<OpenVmFilesResult>;
  /** host/host_napi.cc: the kernel thread id of the calling thread. */
  gettid(): number;
  [name: string]: unknown;
}

const here = path.dirname(fileURLToPath(import.meta.url));

function findAddon(): string {
  // native/index.ts runs from the checkout (vitest) or from dist/native (built).
  const candidates = [
    path.resolve(here, '../build/Release/vmsup.node'),
    path.resolve(here, '../../build/Release/vmsup.node'),
  ];
  for (const c of candidates) {
    try {
      require_.resolve(c);
      return c;
    } catch {
      /* try the next */
    }
  }
  throw Object.assign(new Error('the vmsup addon is not built: run `npm run build`'), {
    code: 'ERR_VMSUP_ADDON_MISSING',
  });
}

const require_ = createRequire(import.meta.url);
let cached: Addon | undefined;

/** Loads the addon once per thread (it is context-aware, so every worker may load it). */
export function addon(): Addon {
  cached ??= require_(findAddon()) as Addon;
  return cached;
}

// ---- Disk images (native/block/block_napi.cc) ----

export interface ImageInfo {
  format: DiskFormatName;
  /** Bytes the guest sees. */
  virtualSize: number;
  /** Bytes of the image file. */
  fileSize: number;
  /** qcow2 only. */
  version?: number;
  clusterSize?: number;
  refcountBits?: number;
  /** As stored in the image (relative names are relative to the image's directory). */
  backingFile?: string;
  backingFormat?: DiskFormatName;
}

export interface CreateImageOptions {
  /** A base image (qcow2 only), stored as given; relative to the new image's directory. */
  backing?: string;
  backingFormat?: DiskFormatName;
  /** qcow2 cluster size: a power of two, 512 .. 2 MiB (default 64 KiB). */
  clusterSize?: number;
}

/** A handle on an open disk backend (the one virtio-blk uses); for tests and benchmarks. */
export interface NativeBlockImage {
  read(offset: number, length: number): Buffer;
  write(offset: number, data: Buffer): void;
  /** fdatasync of everything written so far. */
  flush(): void;
  size(): number;
  /** Releases the file and its lock now. */
  close(): void;
}

export interface BlockAddon {
  /** Creates a new image (fails when the file exists). size 0 with a backing file: the base's size. */
  createImage(path: string, format: DiskFormatName, size: number, opts?: CreateImageOptions): void;
  /** Copies src into a new dst of dstSize bytes (0: the source's size), sparse. */
  convertImage(
    src: string,
    srcFormat: DiskFormatName,
    dst: string,
    dstFormat: DiskFormatName,
    dstSize: number,
    progress?: (done: number, total: number) => void,
  ): void;
  imageInfo(path: string, format: DiskFormatName): ImageInfo;
  BlockImage: new (path: string, format: DiskFormatName, readOnly?: boolean) => NativeBlockImage;
  /** Benchmark loop (bench/block): `count` requests of `bs` bytes, offset += step mod size; seconds taken. */
  benchImage(path: string, format: DiskFormatName, write: boolean, bs: number, step: number, count: number): number;
}

/** The disk-image half of the addon, typed. */
export function blockAddon(): BlockAddon {
  return addon() as unknown as BlockAddon;
}
