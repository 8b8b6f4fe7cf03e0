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
}

export interface MachineOptions {
  /** Guest RAM in bytes (multiple of 4 KiB, 16 MiB .. 64 GiB). */
  memory: number;
  cpus: number;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  bios?: string;
  disks?: DiskOptions[];
  /** UART input/output file descriptors (stdin/stdout, or a pty master). */
  consoleIn?: number;
  consoleOut?: number;
  /** An eventfd that, when written, ends an idle sleep inside run(). */
  wakeFd?: number;
  /**
   * Execution engine: true = the JIT (x86-64 hosts; elsewhere the interpreter
   * runs anyway), false = the interpreter. Unset: the default (see README).
   */
  jit?: boolean;
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
  /** host/host_napi.cc: a pty whose tty belongs to uid:gid, mode 0620 (gid -1 keeps the group). */
  openPty(uid: number, gid: number): Pty;
  /** host/host_napi.cc: SO_PEERCRED of a connected Unix socket fd. */
  peerCred(fd: number): PeerCred;
  /** host/host_napi.cc: a non-blocking eventfd, and ways to ring, drain and close it. */
  eventfdCreate(): number;
  eventfdWrite(fd: number): void;
  eventfdDrain(fd: number): number;
  closeFd(fd: number): void;
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
