// One running VM's holdings, owned in one place: its worker task (and the
// AbortController that ends it), the MessagePort to the worker, the shared
// buffer and wake eventfd, the pty and its drain with the console history, web
// console viewers, the VM's open files, a restore's snapshot fd, and its NICs'
// host side (taps, -L addresses). `dispose()` releases all of it, once.
//
// The Supervisor (daemon/supervisor.ts) keeps the mailbox and the state
// transitions: a VmHandle never changes a VM's state or writes the database.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import fs from 'node:fs';
import tty from 'node:tty';
import { Piscina } from 'piscina';
import { addon, type MachineOptions, type NicOptions, type Pty } from '../native/index.js';
import type { VmDefinition, VmRecord } from '../db/repository.js';
import { SHARED_BYTES, TOOK_FDS, type FromWorker, type ToWorker, type VmTask, type VmTaskResult } from '../workers/messages.js';
import { asVmsupError } from './protocol/errors.js';
import { LIMITS } from './protocol/messages.js';
import type { Logger } from './log.js';
import { VmMetrics } from './metrics.js';
import type { VmFiles } from './vmfiles.js';

/** What the Supervisor needs of a worker pool: piscina's run() and destroy(). The daemon's is createPool(). */
export interface VmPool {
  run(task: VmTask, options: { transferList: MessagePort[]; signal: AbortSignal }): Promise<VmTaskResult>;
  destroy(): Promise<void>;
}

/** The daemon's pool: one worker thread per running VM (workers/vm-worker.ts), at most `maxRunning`. */
export function createPool(workerFile: string, maxRunning: number): VmPool {
  return new Piscina({
    filename: workerFile,
    minThreads: 0,
    maxThreads: maxRunning,
    idleTimeout: 5000,
    // A VM's task lives as long as the VM: queued starts are the "waiting" VMs.
    concurrentTasksPerWorker: 1,
    // A VM's worker runs native code; its JS heap stays small. Smaller heap
    // limits keep V8 from reserving more per VM than it needs.
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
  });
}

/** One web console session watching a VM's console. */
export interface ConsoleViewer {
  /** Console output, as the guest wrote it. */
  output(chunk: Buffer): void;
  /** Whether this viewer may type (the oldest viewer does); called again when it changes. */
  role(typist: boolean): void;
  /** The VM stopped or the viewer was dropped. */
  end(why: string): void;
}

/** Per NIC (same order as vm.nics): the tap made for it (-L, -i) and the guest's address. */
export interface NicState {
  tap?: string;
  address?: string;
  localHost?: number;
}

export interface VmHandleOptions {
  vm: VmRecord;
  /** The VM's files, opened as its owner; the handle closes them. */
  files: VmFiles;
  /** What boots it (the definition with the settings' boot chain). */
  boot: VmDefinition;
  /** vmsup restore / resume: the snapshot the worker restores from (the handle closes it). */
  restore?: { fd: number; force?: boolean };
  /** Group of the pty (tty), or -1. */
  ttyGid: number;
  /** Makes the worker's NICs, pushing each one's host state; throws with nothing left open. */
  nics(state: NicState[]): NicOptions[];
  log: Logger;
}

export class VmHandle {
  vm: VmRecord;
  readonly port: MessagePort;
  /** The worker's end of the port, until run() hands it over. */
  private workerPort?: MessagePort;
  readonly wakeFd: number;
  readonly shared: SharedArrayBuffer;
  readonly pty: Pty;
  readonly abort = new AbortController();
  /** The worker task, once run() started it: settles when the worker ends. */
  task?: Promise<VmTaskResult>;
  /** Why we are stopping it, if we are: recorded as the stop reason. */
  stopReason?: string;
  forced?: boolean;
  stopTimer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  /** Reads the pty's slave side while no console client is attached, so the
   * guest never blocks on a full pty; keeps the last output for the next attach. */
  readonly drain: tty.ReadStream;
  /** libuv reopens a tty by its name and reads from its own descriptor; the
   * addon's slave fd is then ours to close when the VM ends (else one pty
   * leaks per start: F10). */
  readonly slaveOwned: boolean;
  history: Buffer[] = [];
  historyBytes = 0;
  attached = false;
  bootedAt = Date.now();
  quickRestarts = 0;
  restarts = 0;
  /** The 10-minute ring of this VM's metrics (daemon/metrics.ts). */
  readonly metrics = new VmMetrics();
  /** Web console viewers (daemon/http): they get the drain's output; the oldest types. */
  viewers: ConsoleViewer[] = [];
  /** Opened on the first viewer: where web keystrokes are written (the pty's slave side). */
  viewerFd?: number;
  /** The VM's files, opened as its owner (daemon/vmfiles.ts); closed when it stops. */
  readonly files: VmFiles;
  /** vmsup restore: the snapshot the worker restores from (closed once it runs or stops). */
  restoreFd?: number;
  private readonly restoreForce?: boolean;
  /** vmsup save: the answer the worker owes (one save at a time per VM). */
  saving?: { fd: number; resolve: (m: FromWorker) => void };
  /** Resuming after a daemon restart: the saved files, and whether the VM was paused. */
  resume?: { base: string; paused: boolean };
  /** Per NIC (same order as vm.nics): the tap made for it (-L, -i) and the guest's address. */
  readonly nicState: NicState[];
  /** What the worker builds the machine from. */
  readonly machine: MachineOptions;
  private readonly log: Logger;
  private disposed = false;

  /** Takes the host resources a VM runs with (pty, wake fd, NICs, port); on failure, releases them and throws. */
  constructor(o: VmHandleOptions) {
    const a = addon();
    const { vm } = o;
    // As root the tty goes to the VM's owner and the tty group (vmd's 0620);
    // a per-user daemon's ptys are already its own and it may not chown them.
    const asRoot = process.getuid?.() === 0;
    const pty = a.openPty(asRoot ? vm.ownerUid : -1, asRoot ? o.ttyGid : -1);
    let wakeFd = -1;
    try {
      wakeFd = a.eventfdCreate();
    } catch (e) {
      a.closeFd(pty.master);
      a.closeFd(pty.slave);
      throw e;
    }
    const nicState: NicState[] = [];
    let nics: NicOptions[];
    try {
      nics = o.nics(nicState);
    } catch (e) {
      a.closeFd(wakeFd);
      a.closeFd(pty.master);
      a.closeFd(pty.slave);
      throw e;
    }
    const { port1, port2 } = new MessageChannel();
    this.vm = vm;
    this.log = o.log;
    this.port = port1;
    this.workerPort = port2;
    this.wakeFd = wakeFd;
    this.shared = new SharedArrayBuffer(SHARED_BYTES);
    this.pty = pty;
    this.files = o.files;
    this.restoreFd = o.restore?.fd;
    this.restoreForce = o.restore?.force;
    this.nicState = nicState;
    this.machine = {
      ...(nics.length ? { nics } : {}),
      memory: vm.memory,
      cpus: vm.cpus,
      cmdline: vm.cmdline,
      // Descriptors only: the worker opens nothing by path. The boot chain
      // (the firmware and U-Boot of a VM with no -b) was opened with the rest.
      ...o.files.machineOptions(o.boot),
      bootDevice: vm.bootDevice ?? undefined,
      // --no-jit: the interpreter; otherwise the host's default engine (VMSUP_JIT may change it).
      ...(vm.jit === false ? { jit: false } : {}),
      consoleIn: pty.master,
      consoleOut: pty.master,
      wakeFd,
    };
    this.drain = new tty.ReadStream(pty.slave);
    const drainFd = (this.drain as unknown as { _handle?: { fd?: number } })._handle?.fd;
    this.slaveOwned = drainFd !== undefined && drainFd !== pty.slave;
    this.drain.on('data', (chunk: Buffer) => {
      for (const v of this.viewers) {
        try {
          v.output(chunk);
        } catch (e) {
          this.log.debug(`${vm.name}: web console viewer: ${asVmsupError(e).message}`);
        }
      }
      this.record(chunk);
    });
    this.drain.on('error', () => undefined); // EIO once the master is closed
  }

  /** Keeps console output for the next attach: the last LIMITS.consoleHistoryBytes or so. */
  record(chunk: Buffer): void {
    this.history.push(chunk);
    this.historyBytes += chunk.length;
    while (this.historyBytes - this.history[0].length >= LIMITS.consoleHistoryBytes) this.historyBytes -= this.history.shift()!.length;
  }

  /** The history as one buffer, at most LIMITS.consoleHistoryBytes (what a new viewer is shown). */
  historyTail(): Buffer {
    const buf = Buffer.concat(this.history);
    return buf.length > LIMITS.consoleHistoryBytes ? buf.subarray(buf.length - LIMITS.consoleHistoryBytes) : buf;
  }

  /** `vmsup console`: stops the drain and hands over the history (cleared: the client has it). */
  claimConsole(): Buffer {
    this.attached = true;
    // Stop reading the slave now, not after another highWaterMark of output:
    // take what the stream already holds, then stop the handle itself.
    this.drain.pause();
    for (let c = this.drain.read() as Buffer | null; c; c = this.drain.read() as Buffer | null) this.history.push(c);
    const h = (this.drain as unknown as { _handle?: { reading: boolean; readStop(): number } })._handle;
    if (h && h.reading) {
      h.reading = false;
      h.readStop();
    }
    const buf = this.historyTail();
    this.history = [];
    this.historyBytes = 0;
    return buf;
  }

  /** The console client left: the drain reads again. */
  releaseConsole(): void {
    this.attached = false;
    this.resumeDrain();
  }

  /** Takes into the history what the drain holds but has not handed out, and what still waits in the pty (a save for resume). */
  collectPending(): void {
    // What the drain holds but has not handed out yet belongs to the history too (as on attach).
    if (this.attached || this.drain.destroyed) return;
    for (let c = this.drain.read() as Buffer | null; c; c = this.drain.read() as Buffer | null) this.history.push(c);
    // And what still waits in the pty (the drain may not be reading after a detach).
    const chunk = Buffer.alloc(4096);
    for (let got = 0; got < LIMITS.consoleHistoryBytes; ) {
      let n = 0;
      try {
        n = fs.readSync(this.pty.slave, chunk, 0, chunk.length, null);
      } catch {
        break; // EAGAIN: empty
      }
      if (n <= 0) break;
      this.history.push(Buffer.from(chunk.subarray(0, n)));
      got += n;
    }
  }

  /** A resumed VM's history from before the daemon restart, ahead of what it prints now. */
  restoreHistory(saved: Buffer): void {
    if (!saved.length) return;
    const h = saved.subarray(Math.max(0, saved.length - LIMITS.consoleHistoryBytes));
    this.history.unshift(h);
    this.historyBytes += h.length;
  }

  /** Hands the VM to a worker of `pool`; the task settles when the worker ends. */
  run(pool: VmPool, sliceMs: number): Promise<VmTaskResult> {
    const port = this.workerPort!;
    this.workerPort = undefined;
    const task: VmTask = {
      vmId: this.vm.id,
      name: this.vm.name,
      machine: this.machine,
      port,
      shared: this.shared,
      sliceMs,
      restoreFd: this.restoreFd,
      restoreForce: this.restoreForce,
    };
    this.task = pool.run(task, { transferList: [port], signal: this.abort.signal });
    return this.task;
  }

  /** A message to the worker, and a ring of its doorbell and wake fd. */
  send(m: ToWorker): void {
    this.port.postMessage(m);
    const bell = new Int32Array(this.shared, 0, 1);
    Atomics.add(bell, 0, 1);
    Atomics.notify(bell, 0);
    try {
      addon().eventfdWrite(this.wakeFd);
    } catch {
      /* the fd is closed only after the worker ended */
    }
  }

  /** The snapshot a restore reads, once the worker has it running (or has stopped). */
  closeSnapshotFds(): void {
    if (this.restoreFd !== undefined) {
      addon().closeFd(this.restoreFd);
      this.restoreFd = undefined;
    }
  }

  /** Starts reading the pty's slave side again (after a console client left). */
  resumeDrain(): void {
    if (this.drain.destroyed) return;
    // consoleAttach stopped the libuv handle itself; Readable.resume() alone
    // does not restart it, and output would pile up in the pty until the
    // guest blocked on a full buffer (F12).
    const h = (this.drain as unknown as { _handle?: { reading: boolean; readStart(): number } })._handle;
    if (h && !h.reading) {
      h.reading = true;
      h.readStart();
    }
    this.drain.resume();
  }

  closeViewerFd(): void {
    if (this.viewerFd === undefined) return;
    try {
      fs.closeSync(this.viewerFd);
    } catch {
      /* already closed */
    }
    this.viewerFd = undefined;
  }

  endViewers(why: string): void {
    for (const v of this.viewers.splice(0)) {
      try {
        v.end(why);
      } catch {
        /* a viewer's failure is its own */
      }
    }
    this.closeViewerFd();
  }

  /** Closes what a running VM held on the host: port, wake fd, both pty fds, its files. */
  private releaseHost(): void {
    const a = addon();
    const close = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (e) {
        this.log.warn(`${this.vm.name}: closing its ${what}: ${String(e)}`);
      }
    };
    close('control port', () => this.port.close());
    if (this.workerPort) close('worker port', () => this.workerPort!.close());
    close('wake fd', () => a.closeFd(this.wakeFd));
    close('pty master', () => a.closeFd(this.pty.master));
    close('console drain', () => this.drain.destroy()); // closes libuv's own descriptor of the slave
    if (this.slaveOwned) close('pty slave', () => a.closeFd(this.pty.slave));
    close('files', () => this.files.close());
    // The taps made for -i and -L: the Machine owns them once the worker took them; a VM
    // stopped while still waiting never got that far, and they are ours to close.
    if (Atomics.load(new Int32Array(this.shared, 0, 2), TOOK_FDS) === 0)
      for (const n of this.machine.nics ?? []) if (n.tapFd !== undefined) close('tap', () => a.closeFd(n.tapFd!));
  }

  /**
   * Releases everything the VM held (its worker has ended, or never started):
   * timers, a restore's snapshot fd, a save in progress (answered as failed),
   * port, wake fd, pty, files, web viewers. The NICs' taps and -L addresses go
   * with the machine's descriptors, or are closed here when no worker took them
   * (a VM stopped while waiting). Idempotent.
   */
  dispose(why = 'the vm stopped'): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.stopTimer);
    clearTimeout(this.killTimer);
    this.closeSnapshotFds();
    this.saving?.resolve({ type: 'save-failed', code: 'ERR_VMSUP_STOPPED', message: 'the vm stopped during the save' });
    this.releaseHost();
    this.endViewers(why);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}
