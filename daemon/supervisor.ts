// The supervisor: an actor. Every change (a client request, a worker's report,
// a timer) goes through one mailbox and runs to completion before the next, so
// VM state and the database never see two writers. State changes are appended
// to the event log and emitted (eventemitter3) to `wait`, `stop -w` and watchers.
//
// State machine of one VM (vmd's, plus an explicit queue state):
//   stopped --start--> waiting --worker picks it up--> starting --machine built--> running
//   running <--pause/unpause--> paused
//   running|paused --stop--> stopping --guest powers off / forced--> stopped
//   running --guest reboot--> starting --> running (same worker, same console)
//   any running state --worker fails--> stopped (with the reason)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventEmitter } from 'eventemitter3';
import { addon, type NicOptions } from '../native/index.js';
import { attachUplink, checkUplink, formatUplink, parseUplink } from './switches.js';
import { checkSwitchName, formatIpv4, isLocalPrefix, machineNic, parsePrefix, setUpLocal } from './nics.js';
import { Repository, type VmDefinition, type VmRecord } from '../db/repository.js';
import { admission, definitionQuota, hostMemory } from './quota.js';
import type { FromWorker, ToWorker, VmTaskResult } from '../workers/messages.js';
import { VmsupError, asVmsupError } from './protocol/errors.js';
import { createSnapshotFile, openSnapshotFile, parseDaemonMeta, type DaemonSnapshotMeta, type MigrateDefinition } from './snapshot.js';
import {
  checkVmName,
  type EventRecord,
  type Params,
  type Results,
  type StopOutcome,
  type AllowInstance,
  type VmConfigInput,
  type VmInfo,
  type VmState,
  type SwitchInfo,
} from './protocol/messages.js';
import {
  groupName,
  isAdmin,
  isRoot,
  lookupGroup,
  lookupUser,
  mayControl,
  userName,
  type Peer,
} from './access.js';
import type { Logger } from './log.js';
import type { Connection } from './connection.js';
import { requestScope } from './request-scope.js';
import { parseRequest } from './protocol/messages.js';
import { loadSettings, type Settings } from './settings.js';
import { MAX_COUNTERS } from '../workers/messages.js';
import { checkDefinitionFiles, formatRequests, openForStart, type DiskFormatRequest, type VmFiles } from './vmfiles.js';
import { VmHandle, createPool, type ConsoleViewer, type NicState, type VmPool } from './vm-handle.js';
import { bootChain, buildDefinition, checkConsoleOwner, controlled, instanceParent, keepLladdrs, type DefinitionContext, type Names } from './vmdefs.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Whether the kernel behind `fd` is a raw binary: neither an ELF nor a RISC-V
 * Linux Image ("RSC\x05" at offset 56), as native/machine/boot.cc tells them apart. */
function isRawKernel(fd: number | undefined): boolean {
  if (fd === undefined) return false;
  const head = Buffer.alloc(64);
  let n = 0;
  try {
    n = fs.readSync(fd, head, 0, 64, 0);
  } catch {
    return false; // the machine reports what is wrong with it
  }
  if (n >= 4 && head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) return false;
  if (n >= 60 && head.readUInt32LE(56) === 0x05435352) return false;
  return n > 0;
}
const WORKER_FILE = path.resolve(here, '../workers/vm-worker.js');

/** How long a worker has to honour 'kill' before its thread is terminated. */
const KILL_GRACE_MS = 5000;
/** Database writes kept in memory while the database refuses them (full disk,
 * immutable or corrupted file): bounds the daemon's memory if it never recovers. */
const MAX_DEFERRED_WRITES = 10_000;
/** Retry delays for deferred writes: from 1 s, doubling up to 30 s. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
/** How often the event log's retention runs (and once at start-up). */
const TRIM_INTERVAL_MS = 3600_000;

interface DeferredWrite {
  vmId: number;
  name: string;
  write: () => void;
}

/** A running VM's holdings (daemon/vm-handle.ts). */
type Running = VmHandle;
export type { ConsoleViewer } from './vm-handle.js';

/** What the web console gets from webConsoleAttach. */
export interface ConsoleSession {
  history: Buffer;
  typist: boolean;
  /** Keystrokes (ignored unless this viewer is the typist). */
  input(data: Buffer): void;
  detach(): void;
}

/** Hooks the HTTP listener installs (daemon/http); absent while it is off. */
export interface WebHooks {
  /** A one-time login URL for `peer`, and when it expires. */
  issueLogin(peer: Peer): { url: string; expires: string };
}

interface Waiter {
  states: VmState[];
  resolve(ev: EventRecord): void;
}

export const ROOT_PEER: Peer = { pid: process.pid, uid: 0, gid: 0, groups: new Set([0]) };

/** The host's user and group names (daemon/access.ts), for daemon/vmdefs.ts. */
const NAMES: Names = { lookupUser, lookupGroup, userName, groupName };

function who(peer: Peer): string {
  return isRoot(peer) ? 'root' : userName(peer.uid);
}

export class Supervisor {
  readonly events = new EventEmitter<{ event: [EventRecord] }>();
  settings: Settings;
  private readonly repo: Repository;
  private readonly pool: VmPool;
  private readonly running = new Map<number, Running>();
  private mailbox: Promise<unknown> = Promise.resolve();
  private ttyGid: number;
  private closing = false;
  /** VMs whose send SIGTERM cancelled while the send had them paused: saved for resume as running. */
  private resumeRunning = new Set<number>();
  private metricsTimer?: NodeJS.Timeout;
  /** Set by the HTTP listener when it runs. */
  web?: WebHooks;
  /** Writes the database refused, oldest first; retried by retryTimer in order. */
  private deferred: DeferredWrite[] = [];
  private retryTimer?: NodeJS.Timeout;
  private retryMs = RETRY_MIN_MS;
  private storageFailedAt?: string;
  private storageProblem = '';
  private lostWrites = 0;
  /** VMs whose database rows are behind a deferred write: the live record, or null once forgotten. */
  private readonly unsaved = new Map<number, VmRecord | null>();
  private trimTimer?: NodeJS.Timeout;
  /** until()'s waiters by VM id, and `events -f` followers: see dispatch(). */
  private readonly waiters = new Map<number, Set<Waiter>>();
  private readonly followers = new Set<(ev: EventRecord) => void>();

  /** The daemon's supervisor: the settings, database and worker pool of `stateDir`. */
  static open(stateDir: string, log: Logger): Supervisor {
    const settings = loadSettings(stateDir, (m) => log.warn(m));
    const repo = new Repository(stateDir);
    return new Supervisor(stateDir, log, { repo, pool: createPool(WORKER_FILE, settings.maxRunning), settings });
  }

  /** Over a given Repository and worker pool (a unit test's: tests/daemon/supervisor-unit.test.ts). */
  constructor(
    readonly stateDir: string,
    readonly log: Logger,
    deps: { repo: Repository; pool: VmPool; settings?: Settings },
  ) {
    this.settings = deps.settings ?? loadSettings(stateDir, (m) => log.warn(m));
    this.repo = deps.repo;
    this.pool = deps.pool;
    this.ttyGid = lookupGroup('tty') ?? -1;
    this.events.on('event', (ev) => this.dispatch(ev));
    // One sample a second of every running VM, read from what the workers already publish.
    this.metricsTimer = setInterval(() => this.sampleMetrics(), 1000);
    this.metricsTimer.unref();
  }

  /** Samples every running VM's metrics (no worker is woken; no database write). */
  sampleMetrics(at = Date.now()): void {
    for (const r of this.running.values()) {
      if (r.vm.state === 'waiting') continue;
      try {
        r.metrics.sample(r.shared, r.vm.tid, at);
      } catch (e) {
        this.log.debug(`${r.vm.name}: metrics: ${asVmsupError(e).message}`);
      }
    }
  }

  /** Runs fn alone: the mailbox. Callers get fn's result or its error.
   * fn must not return a promise that waits for a later mailbox item. */
  call<T>(fn: () => T | Promise<T>): Promise<T> {
    const p = this.mailbox.then(fn, fn);
    this.mailbox = p.catch(() => undefined);
    return p;
  }

  // ---- state changes ------------------------------------------------------

  /**
   * Changes a VM's state: in memory first, then in the database. A database
   * that refuses the write (full disk, immutable or corrupted file) does not
   * stop the change: it is kept in memory, retried in order, and reported in
   * the log and to event followers. Never throws for a storage error.
   */
  private move(vm: VmRecord, to: VmState, reason: string, rt: Parameters<Repository['transition']>[3] = {}): void {
    const row = Repository.transitionRow(vm, to, reason, rt);
    Repository.applyTransition(vm, row);
    const seq = this.store(vm, () => this.repo.writeTransition(row));
    this.log.info(`${vm.name}: ${row.from} -> ${to}: ${reason}`);
    this.events.emit('event', { seq, time: row.time, vmId: vm.id, vm: vm.name, from: row.from, to, reason });
  }

  private note(vm: VmRecord, reason: string): void {
    const time = new Date().toISOString();
    const state = vm.state;
    const seq = this.store(vm, () => this.repo.writeNote(vm.id, vm.name, state, reason, time));
    this.log.info(`${vm.name}: ${reason}`);
    this.events.emit('event', { seq, time, vmId: vm.id, vm: vm.name, from: state, to: state, reason });
  }

  /** A new definition: a request that fails cleanly when the database refuses it. */
  private create(def: VmDefinition, reason: string): VmRecord {
    if (this.deferred.length > 0)
      throw new VmsupError('STORAGE', `cannot store vm ${def.name}: the database refuses writes (${this.storageProblem})`, 'vmsupd retries its pending writes; try again later');
    let vm: VmRecord;
    try {
      vm = this.repo.insert(def, reason);
    } catch (e) {
      throw new VmsupError('STORAGE', `cannot store vm ${def.name}: ${(e as Error).message}`);
    }
    const ev = this.repo.events(vm.id, 1)[0];
    if (ev) this.events.emit('event', ev);
    return vm;
  }

  private forget(vm: VmRecord, reason: string): void {
    const time = new Date().toISOString();
    const from = vm.state;
    const seq = this.store(vm, () => this.repo.remove(vm, reason, time).seq, true);
    this.events.emit('event', { seq, time, vmId: vm.id, vm: vm.name, from, to: 'undefined', reason });
  }

  /**
   * Runs a database write now, or queues it behind earlier failed ones. Returns
   * the event's seq, or 0 when the write is deferred. `gone`: the write forgets the VM.
   */
  private store(vm: VmRecord, write: () => number, gone = false): number {
    if (this.deferred.length === 0) {
      try {
        const seq = write();
        if (gone) this.unsaved.delete(vm.id);
        return seq;
      } catch (e) {
        this.storageFailed(e, vm);
      }
    }
    if (this.deferred.length >= MAX_DEFERRED_WRITES) {
      this.deferred.shift();
      this.lostWrites++;
    }
    this.deferred.push({ vmId: vm.id, name: vm.name, write: () => void write() });
    this.unsaved.set(vm.id, gone ? null : vm);
    return 0;
  }

  private storageFailed(e: unknown, vm: VmRecord): void {
    const msg = (e as Error)?.message ?? String(e);
    if (!this.storageFailedAt) this.storageFailedAt = new Date().toISOString();
    this.storageProblem = msg;
    this.log.warn(`database write failed (${msg}): ${vm.name}'s change is kept in memory and retried`);
    // Followers of `events` learn it now; the log gets it once the database takes writes again.
    const time = new Date().toISOString();
    this.events.emit('event', {
      seq: 0,
      time,
      vmId: vm.id,
      vm: vm.name,
      from: vm.state,
      to: vm.state,
      reason: `storage error: ${msg}; the change is kept in memory and retried`,
    });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closing) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.call(() => this.flushDeferred()).catch((e) => this.log.warn(`retrying database writes: ${String(e)}`));
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /** Writes the deferred changes in order; stops at the first that fails again. */
  private flushDeferred(): boolean {
    const affected = new Map<number, string>();
    while (this.deferred.length > 0) {
      const w = this.deferred[0];
      try {
        w.write();
      } catch (e) {
        this.storageProblem = (e as Error)?.message ?? String(e);
        this.log.warn(`database still refuses writes (${this.storageProblem}); ${this.deferred.length} changes wait`);
        this.scheduleRetry();
        return false;
      }
      this.deferred.shift();
      affected.set(w.vmId, w.name);
    }
    this.unsaved.clear();
    this.retryMs = RETRY_MIN_MS;
    if (this.storageFailedAt) {
      const lost = this.lostWrites ? `; ${this.lostWrites} older changes were dropped (more than ${MAX_DEFERRED_WRITES} waited)` : '';
      const reason = `the database refused writes from ${this.storageFailedAt} (${this.storageProblem}); this vm's changes were kept in memory and stored late${lost}`;
      this.log.warn(`database writable again; deferred changes stored${lost}`);
      const time = new Date().toISOString();
      for (const [id, name] of affected) {
        try {
          const live = this.running.get(id)?.vm;
          const state = live?.state ?? this.repo.byId(id)?.state ?? null;
          this.repo.writeNote(id, name, state, reason, time);
        } catch (e) {
          this.log.warn(`${name}: ${String(e)}`);
        }
      }
      this.storageFailedAt = undefined;
      this.lostWrites = 0;
    }
    return true;
  }

  /** A record as the daemon knows it: the database's, with changes not yet stored laid over it. */
  private fresh(vm: VmRecord | undefined): VmRecord | undefined {
    if (!vm || !this.unsaved.has(vm.id)) return vm;
    const live = this.unsaved.get(vm.id);
    if (!live) return undefined;
    return { ...vm, state: live.state, reason: live.reason, tty: live.tty, tid: live.tid, startedAt: live.startedAt, enabled: live.enabled };
  }

  private find(ref: string): VmRecord | undefined {
    return this.fresh(this.repo.find(ref));
  }

  private byId(id: number): VmRecord | undefined {
    return this.fresh(this.repo.byId(id));
  }

  private listVms(): VmRecord[] {
    return this.repo.listVms().flatMap((v) => this.fresh(v) ?? []);
  }

  /** Resolves when the VM with this id reaches one of `states` (or is forgotten).
   * Inside a request (requestScope), the waiter goes away when the client leaves:
   * the promise then rejects with DISCONNECTED. Waiters sit in one Set per VM,
   * dispatched by a single 'event' listener, so adding or dropping one is O(1)
   * however many there are (eventemitter3 rebuilds its listener array on every off()). */
  private until(vmId: number, states: VmState[]): Promise<EventRecord> {
    const signal = requestScope.getStore()?.signal;
    const p = new Promise<EventRecord>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new VmsupError('DISCONNECTED', 'the client closed the connection'));
        return;
      }
      let set = this.waiters.get(vmId);
      if (!set) this.waiters.set(vmId, (set = new Set()));
      const onAbort = () => {
        this.dropWaiter(vmId, w);
        reject(new VmsupError('DISCONNECTED', 'the client closed the connection'));
      };
      const w: Waiter = {
        states,
        resolve: (ev) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(ev);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(w);
    });
    // A caller that failed after creating the wait may never await it: its
    // rejection on disconnect must not become an unhandled rejection.
    p.catch(() => undefined);
    return p;
  }

  private dropWaiter(vmId: number, w: Waiter): void {
    const set = this.waiters.get(vmId);
    if (!set) return;
    set.delete(w);
    if (set.size === 0) this.waiters.delete(vmId);
  }

  /** The one 'event' listener behind until() and `events -f`. */
  private dispatch(ev: EventRecord): void {
    const set = ev.vmId !== null ? this.waiters.get(ev.vmId) : undefined;
    if (set) {
      for (const w of set) {
        if ((w.states as string[]).includes(ev.to) || ev.to === 'undefined') {
          this.dropWaiter(ev.vmId!, w);
          w.resolve(ev);
        }
      }
    }
    for (const f of this.followers) f(ev);
  }

  /** Held waiters and listeners: what a leak would grow (`stats`). */
  waiterStats(): { waiters: number; eventListeners: number } {
    let waiters = this.followers.size;
    for (const set of this.waiters.values()) waiters += set.size;
    return { waiters, eventListeners: this.events.listenerCount('event') };
  }


  // ---- helpers ------------------------------------------------------------

  private findFor(peer: Peer, ref: string): VmRecord {
    return controlled(peer, ref, this.find(ref));
  }

  private info(vm: VmRecord): VmInfo {
    const r = this.running.get(vm.id);
    const live = r?.vm ?? vm;
    let curmem = 0;
    let codeCacheBytes = 0;
    if (r) {
      const st = new Float64Array(r.shared, 8, 4);
      curmem = st[1];
      codeCacheBytes = st[3];
    }
    return {
      id: live.id,
      name: live.name,
      state: live.state,
      pid: r && live.tid ? live.tid : null,
      cpus: live.cpus,
      memory: live.memory,
      curmem,
      metrics: r ? r.metrics.now : undefined,
      codeCacheBytes,
      tty: live.state === 'stopped' ? null : live.tty,
      owner: { uid: live.ownerUid, gid: live.ownerGid, user: userName(live.ownerUid), group: groupName(live.ownerGid) },
      enabled: live.enabled,
      transient: live.transient,
      template: live.template,
      source: live.source,
      allowInstance: live.allowInstance,
      kernel: live.kernel,
      initrd: live.initrd,
      cmdline: live.cmdline,
      bios: live.bios,
      disks: live.disks,
      nics: live.nics.map((n, i) => ({ ...n, ...(r ? { tap: r.nicState[i]?.tap, address: r.nicState[i]?.address } : {}) })),
      bootDevice: live.bootDevice,
      jit: live.jit !== false,
      reason: live.reason,
      restarts: r?.restarts ?? 0,
    };
  }

  /** VMs whose files are being opened for a start (by id, or by name for a new transient VM). */
  private readonly opening = new Set<string>();

  /** How vmdefs.ts sees names and switches: the host's, the database's. */
  private defContext(): DefinitionContext {
    return { names: NAMES, switches: this.repo.listSwitches(), rootDaemon: process.getuid?.() === 0 };
  }

  private bootChain<T extends Pick<VmDefinition, 'kernel' | 'bios'>>(def: T, rawKernel: boolean): T {
    return bootChain(def, rawKernel, this.settings);
  }

  private buildDefinition(peer: Peer, name: string, cfg: VmConfigInput, template: VmRecord | undefined, transient: boolean): VmDefinition {
    return buildDefinition(peer, name, cfg, template, transient, this.defContext());
  }

  /**
   * The worker's NICs for a VM: -L and -i taps are made here (the machine owns
   * their descriptors from then on, and a tap that is not persistent goes away
   * with its last descriptor: when the VM stops, or when vmsupd dies).
   */
  private machineNics(vm: VmRecord, state: NicState[]): NicOptions[] {
    const out: NicOptions[] = [];
    const a = addon();
    try {
      for (const n of vm.nics) {
        const o = machineNic(n);
        if (n.kind === 'local') {
          const taken = new Set<number>();
          for (const x of this.running.values()) for (const st of x.nicState) if (st.localHost !== undefined) taken.add(st.localHost);
          for (const st of state) if (st.localHost !== undefined) taken.add(st.localHost);
          const { tap, host } = setUpLocal(o, parsePrefix(this.settings.localPrefix), taken);
          state.push({ tap, address: formatIpv4(host + 1), localHost: host });
        } else if (n.kind === 'tap') {
          if (process.getuid?.() !== 0) throw new VmsupError('NET', '-i needs root (taps): this vmsupd is not root');
          const t = a.openTap('');
          o.tapFd = t.fd;
          state.push({ tap: t.name });
        } else if (n.kind === 'nat') {
          state.push({ address: '10.0.2.15' }); // slirp's first DHCP lease (native/net/slirp_backend.h)
        } else {
          if (!a.switchList().some((w) => w.name === n.switch)) throw new VmsupError('NO_SWITCH', `switch not found: ${n.switch}`);
          state.push({});
        }
        out.push(o);
      }
    } catch (e) {
      for (const o of out) if (o.tapFd !== undefined) a.closeFd(o.tapFd);
      throw e;
    }
    return out;
  }

  // ---- quotas ----------------------------------------------------------------

  /** user_max_vms: counts the owner's definitions, transient ones included. */
  private checkDefinitionQuota(def: VmDefinition): void {
    const owned = def.ownerUid === 0 ? 0 : this.listVms().filter((v) => v.ownerUid === def.ownerUid).length;
    definitionQuota(def.ownerUid, owned, this.settings);
  }

  /** Host memory and the owner's share of worker slots, before a VM takes a slot. */
  private checkAdmission(vm: Pick<VmRecord, 'name' | 'memory' | 'ownerUid'>): void {
    try {
      admission(vm, [...this.running.values()].map((x) => x.vm), this.settings, hostMemory());
    } catch (e) {
      const err = asVmsupError(e);
      throw new VmsupError(err.code, `start vm command failed: ${err.message}`, err.hint);
    }
  }

  /** Event-log retention (event_log_max, event_log_days); a failure is logged and retried next time. */
  private trimEvents(): void {
    try {
      const t = this.repo.trimEvents(this.settings.eventLogMax, this.settings.eventLogDays);
      if (t) this.log.info(`event log: removed ${t.deleted} old events through seq ${t.throughSeq} (sha256 ${t.digest})`);
      const v = this.repo.verifyEvents();
      if (!v.ok) this.log.warn(`event log: ${v.problem}, and no trim record explains it: the log was changed outside vmsupd`);
    } catch (e) {
      this.log.warn(`event log retention: ${String(e)}`);
    }
  }

  // ---- launching and stopping ---------------------------------------------

  private launch(vm: VmRecord, reason: string, files: VmFiles, boot: VmDefinition = vm, restore?: { fd: number; force?: boolean }): Running {
    const r = new VmHandle({ vm, files, boot, restore, ttyGid: this.ttyGid, nics: (state) => this.machineNics(vm, state), log: this.log });
    this.running.set(vm.id, r);
    this.move(vm, 'waiting', reason, { tty: r.pty.path, tid: null, startedAt: new Date().toISOString() });
    r.port.on('message', (m: FromWorker) => void this.call(() => this.onWorker(r, m)).catch((e) => this.log.warn(String(e))));
    r.run(this.pool, this.settings.sliceMs)
      .then(
        (res: VmTaskResult) => this.call(() => this.onExit(r, res, undefined)),
        (err: unknown) => this.call(() => this.onExit(r, undefined, err)),
      )
      .catch((e) => this.log.warn(`${vm.name}: handling the end of its worker: ${String(e)}`));
    return r;
  }

  private send(r: Running, m: ToWorker): void {
    r.send(m);
  }

  private onWorker(r: Running, m: FromWorker): void {
    if (this.running.get(r.vm.id) !== r) return;
    const vm = r.vm;
    switch (m.type) {
      case 'starting':
        if (vm.state === 'waiting') this.move(vm, 'starting', 'a worker thread took the vm');
        break;
      case 'running':
        this.closeSnapshotFds(r);
        if (r.resume) {
          removeResumeFiles(r.resume.base);
          if (r.resume.paused) this.send(r, { type: 'pause' });
          r.resume = undefined;
        }
        if (vm.state === 'starting') this.move(vm, 'running', `started vm ${vm.id} successfully, tty ${vm.tty}`, { tid: m.tid });
        else vm.tid = m.tid;
        r.bootedAt = Date.now();
        break;
      case 'paused':
        if (vm.state === 'running') this.move(vm, 'paused', 'paused on request');
        break;
      case 'unpaused':
        if (vm.state === 'paused') this.move(vm, 'running', 'unpaused on request');
        break;
      case 'reboot': {
        const now = Date.now();
        r.restarts++;
        r.quickRestarts = now - r.bootedAt < this.settings.restartWindow * 1000 ? r.quickRestarts + 1 : 0;
        r.bootedAt = now;
        if (vm.state === 'stopping') break; // the stop in progress decides
        this.move(vm, 'starting', `guest rebooted (restart ${r.restarts})`);
        if (r.quickRestarts >= this.settings.restartLimit) {
          this.forceStop(
            r,
            `restart loop: ${r.quickRestarts} restarts, each within ${this.settings.restartWindow} s of the boot before`,
          );
          break;
        }
        this.move(vm, 'running', 'restarted; console kept');
        break;
      }
      case 'log':
        this.log.info(`${vm.name}: ${m.message}`);
        break;
      case 'counterNames':
        if (Array.isArray(m.names)) r.metrics.names = m.names.slice(0, MAX_COUNTERS).map(String);
        break;
      case 'saved':
      case 'save-failed':
      case 'live-sent':
        r.saving?.resolve(m);
        break;
    }
  }

  /** The snapshot a restore reads, once the worker has it running (or has stopped). */
  private closeSnapshotFds(r: Running): void {
    r.closeSnapshotFds();
  }

  private onExit(r: Running, res: VmTaskResult | undefined, err: unknown): void {
    if (this.running.get(r.vm.id) !== r) return;
    this.running.delete(r.vm.id);
    r.dispose('the vm stopped');
    let reason: string;
    if (r.stopReason) {
      reason = r.stopReason;
      if (res?.reason === 'poweroff' && !r.forced) reason += '; the guest powered off';
    } else if (res) {
      reason =
        res.reason === 'poweroff'
          ? 'the guest powered off'
          : res.reason === 'pass'
            ? 'the guest exited: test passed'
            : res.reason === 'fail'
              ? `the guest exited: test ${res.exitCode} failed`
              : 'the vm was terminated';
    } else {
      reason = `worker failed: ${asVmsupError(err).message}`;
    }
    const vm = r.vm;
    this.move(vm, 'stopped', reason, { tty: null, tid: null, startedAt: null });
    if (vm.transient) this.forget(vm, 'a transient vm is forgotten when it stops');
    else if (r.resume && !this.closing) {
      // The saved state could not be restored (another format version, a
      // changed disk, ...): boot the VM afresh instead, with the reason.
      removeResumeFiles(r.resume.base);
      // start() opens the files as the owner again; it runs after this mailbox step.
      void this.start(ROOT_PEER, { vm: String(vm.id) }, `resume failed (${reason}); booting normally`).catch((e) =>
        this.call(() => {
          const cur = this.byId(vm.id);
          if (cur) this.note(cur, `boot after a failed resume failed: ${asVmsupError(e).message}`);
        }),
      );
    }
  }

  /** Kill now: the worker returns between slices; a stuck one loses its thread. */
  private forceStop(r: Running, reason: string): void {
    r.forced = true;
    r.stopReason = reason;
    clearTimeout(r.stopTimer);
    if (r.vm.state === 'waiting') {
      r.abort.abort(new VmsupError('STOPPED', reason));
      return;
    }
    if (r.vm.state !== 'stopping') this.move(r.vm, 'stopping', reason);
    this.send(r, { type: 'kill' });
    r.killTimer ??= setTimeout(() => r.abort.abort(new VmsupError('STOPPED', reason)), KILL_GRACE_MS);
  }

  /** Ctrl-Alt-Del, then force after `timeout` seconds. */
  private gracefulStop(r: Running, reason: string, timeout: number): void {
    if (r.vm.state === 'waiting') return this.forceStop(r, reason);
    if (r.vm.state === 'stopping') return;
    r.stopReason = reason;
    this.move(r.vm, 'stopping', reason);
    this.send(r, { type: 'ctrlaltdel' });
    r.stopTimer = setTimeout(
      () =>
        void this.call(() => {
          if (this.running.get(r.vm.id) === r && !r.forced)
            this.forceStop(r, `${reason}; the guest ignored Ctrl-Alt-Del for ${timeout} s and was forced off`);
        }).catch((e) => this.log.warn(`${r.vm.name}: forcing it off: ${String(e)}`)),
      timeout * 1000,
    );
  }

  // ---- requests ------------------------------------------------------------

  async status(peer: Peer, p: Params<'status'>): Promise<Results['status']> {
    return this.call(() => {
      if (p.vm !== undefined) return { vms: [this.info(this.findFor(peer, p.vm))] };
      return { vms: this.listVms().filter((vm) => mayControl(peer, vm)).map((vm) => this.info(vm)) };
    });
  }

  /**
   * Defines a VM, or with `replace` changes an existing definition in place
   * (same id; a running VM gets it at its next start). `dryRun` checks all a
   * define would (names, quotas, instance rules, the files as the owner) and
   * stores nothing: `vmsup load` checks a whole vm.conf so before it applies it.
   */
  async define(peer: Peer, p: Params<'define'>): Promise<Results['define']> {
    const plan = await this.call(() => {
      checkVmName(p.name);
      const existing = this.find(p.name);
      if (existing && !p.replace) throw new VmsupError('EXISTS', `vm ${p.name} already exists`);
      if (existing && !mayControl(peer, existing))
        throw new VmsupError('PERMISSION', `permission denied: vm ${existing.name} belongs to another user`);
      if (existing?.transient) throw new VmsupError('TRANSIENT', `vm ${existing.name} is transient: it cannot be redefined while it exists`);
      const template = p.template !== undefined ? this.instanceParent(peer, p.template, p.config, p.allowInstance) : undefined;
      const def = this.buildDefinition(peer, p.name, p.config, template, false);
      if (existing && p.config.owner === undefined) {
        // A new definition of a VM keeps its owner unless it names one.
        def.ownerUid = existing.ownerUid;
        def.ownerGid = existing.ownerGid;
      }
      def.enabled = p.enabled ?? existing?.enabled ?? false;
      def.source = p.source ?? null;
      def.allowInstance = p.allowInstance ?? null;
      if (!existing) this.checkDefinitionQuota(def);
      return { def, existingId: existing?.id };
    });
    const { def } = plan;
    // Outside the mailbox: opening files may take a while. As the owner; pins disk formats.
    await checkDefinitionFiles(def, formatRequests(p.config.disks, def.disks));
    return this.call(() => {
      const existing = this.find(p.name);
      if (existing?.id !== plan.existingId) throw new VmsupError('EXISTS', `vm ${p.name} changed while it was being defined: try again`);
      if (p.dryRun) {
        const probe: VmRecord = { ...def, nics: def.nics ?? [], id: existing?.id ?? 0, state: existing?.state ?? 'stopped', tty: null, tid: null, startedAt: null, reason: null };
        return { vm: this.info(probe) };
      }
      if (existing) {
        // MACs stay the VM's across a redefinition: a NIC of the same kind (and switch) in the
        // same place keeps its stored MAC unless --lladdr gives one.
        def.nics = keepLladdrs(existing.nics, def.nics, p.config.nics);
        return { vm: this.info(this.redefine(existing, def, `redefined by ${who(peer)}`)) };
      }
      this.checkDefinitionQuota(def);
      const vm = this.create(def, `defined by ${who(peer)}`);
      this.log.info(`${vm.name}: defined by ${who(peer)}`);
      return { vm: this.info(vm) };
    });
  }

  /** Stores a VM's new definition (same id); a running VM keeps its old one until it stops. */
  private redefine(vm: VmRecord, def: VmDefinition, reason: string): VmRecord {
    if (this.deferred.length > 0)
      throw new VmsupError('STORAGE', `cannot store vm ${def.name}: the database refuses writes (${this.storageProblem})`, 'vmsupd retries its pending writes; try again later');
    const time = new Date().toISOString();
    let seq: number;
    try {
      seq = this.repo.replace(vm.id, vm.state, def, reason, time);
    } catch (e) {
      throw new VmsupError('STORAGE', `cannot store vm ${def.name}: ${(e as Error).message}`);
    }
    this.log.info(`${vm.name}: ${reason}`);
    this.events.emit('event', { seq, time, vmId: vm.id, vm: vm.name, from: vm.state, to: vm.state, reason });
    const r = this.running.get(vm.id);
    if (r) r.vm.enabled = def.enabled; // autostart follows at once; the rest at the next start
    return r?.vm ?? this.byId(vm.id) ?? vm;
  }

  private instanceParent(peer: Peer, ref: string, cfg: VmConfigInput | undefined, allow: AllowInstance | undefined): VmRecord {
    return instanceParent(peer, ref, this.find(ref), cfg, allow, NAMES);
  }

  async undefine(peer: Peer, p: Params<'undefine'>): Promise<Results['undefine']> {
    return this.call(() => {
      const vm = this.findFor(peer, p.vm);
      const r = this.running.get(vm.id);
      if (r && p.whenStopped) {
        // Kept running; made transient, so it is forgotten when it stops.
        if (this.deferred.length > 0)
          throw new VmsupError('STORAGE', `cannot change vm ${vm.name}: the database refuses writes (${this.storageProblem})`);
        this.repo.setTransient(vm.id, true);
        r.vm.transient = true;
        this.note(r.vm, `to be undefined when it stops, by ${who(peer)}`);
        return { id: vm.id, name: vm.name };
      }
      if (vm.state !== 'stopped' || r)
        throw new VmsupError('RUNNING', `cannot undefine vm ${vm.name}: it is ${vm.state}`, 'stop it first');
      this.forget(vm, `undefined by ${who(peer)}`);
      this.log.info(`${vm.name}: undefined by ${who(peer)}`);
      return { id: vm.id, name: vm.name };
    });
  }

  async setEnabled(peer: Peer, p: Params<'enable'>, enabled: boolean): Promise<Results['enable']> {
    return this.call(() => {
      const vm = this.findFor(peer, p.vm);
      if (vm.transient) throw new VmsupError('TRANSIENT', `vm ${vm.name} is transient`, 'define it to make it persistent');
      if (vm.enabled !== enabled) {
        // Not ahead of changes still waiting for the database: refused, as a new definition is.
        if (this.deferred.length > 0)
          throw new VmsupError('STORAGE', `cannot change vm ${vm.name}: the database refuses writes (${this.storageProblem})`, 'vmsupd retries its pending writes; try again later');
        this.repo.setEnabled(vm.id, enabled);
        vm.enabled = enabled;
        const r = this.running.get(vm.id);
        if (r) r.vm.enabled = enabled;
        this.note(vm, `${enabled ? 'enabled' : 'disabled'} for autostart by ${who(peer)}`);
      }
      return { vm: this.info(vm) };
    });
  }

  async start(peer: Peer, p: Params<'start'>, reason?: string): Promise<Results['start']> {
    let settled: Promise<EventRecord> | undefined;
    // 1. Which VM, and may this peer start it (the mailbox).
    const plan = await this.call(() => {
      if (this.closing) throw new VmsupError('SHUTDOWN', 'vmsupd is shutting down');
      const vm = this.find(p.vm);
      const hasOptions = p.config !== undefined && Object.keys(p.config).length > 0;
      let def: VmDefinition;
      let key: string;
      let reqs: DiskFormatRequest[];
      if (vm) {
        if (!mayControl(peer, vm)) throw new VmsupError('PERMISSION', `permission denied: vm ${vm.name} belongs to another user`);
        if (vm.state !== 'stopped' || this.running.has(vm.id) || this.opening.has(`#${vm.id}`))
          throw new VmsupError('ALREADY', `start vm command failed: vm ${vm.name} is already ${vm.state === 'stopped' ? 'starting' : vm.state}`);
        if (hasOptions || p.template !== undefined)
          throw new VmsupError('DEFINED', `vm ${vm.name} is defined: start it without options`, 'change a definition by undefine + define');
        this.checkAdmission(vm);
        // The files are opened as the VM's owner, whoever asks (root, a group
        // member, autostart): never with more rights than the owner has.
        def = vm;
        key = `#${vm.id}`;
        reqs = formatRequests(undefined, vm.disks);
      } else {
        if (/^\d+$/.test(p.vm)) throw new VmsupError('NO_VM', `vm not found: ${p.vm}`);
        if (!hasOptions && p.template === undefined) throw new VmsupError('NO_VM', `vm not found: ${p.vm}`);
        if (this.opening.has(p.vm)) throw new VmsupError('ALREADY', `start vm command failed: vm ${p.vm} is already starting`);
        const template = p.template !== undefined ? this.instanceParent(peer, p.template, p.config, undefined) : undefined;
        def = this.buildDefinition(peer, p.vm, p.config ?? {}, template, true);
        this.checkDefinitionQuota(def);
        this.checkAdmission(def);
        key = p.vm;
        reqs = formatRequests(p.config?.disks, def.disks);
      }
      this.opening.add(key);
      return { vmId: vm?.id, def, key, reqs };
    });
    // 2. Open every file once, as the owner, outside the mailbox: the VM's own,
    // and the boot chain that the settings add to them (see bootChain()).
    let files: VmFiles;
    let boot = this.bootChain(plan.def, false);
    try {
      files = await openForStart(boot, plan.reqs);
      if (plan.def.kernel && !plan.def.bios && isRawKernel(files.kernelFd)) {
        files.close();
        boot = this.bootChain(plan.def, true);
        files = await openForStart(boot, plan.reqs);
      }
    } catch (e) {
      this.opening.delete(plan.key);
      const err = asVmsupError(e);
      throw new VmsupError(err.code, `start vm command failed: ${err.message}`, err.hint);
    }
    // 3. Launch with those descriptors (the mailbox again).
    let vmId: number;
    try {
      vmId = await this.call(() => {
        if (this.closing) throw new VmsupError('SHUTDOWN', 'vmsupd is shutting down');
        let vm: VmRecord | undefined;
        // The quotas and the host's memory again: other starts ran while the files were opened.
        if (plan.vmId !== undefined) {
          vm = this.byId(plan.vmId);
          if (!vm) throw new VmsupError('NO_VM', `vm not found: ${p.vm}`);
          if (vm.state !== 'stopped' || this.running.has(vm.id))
            throw new VmsupError('ALREADY', `start vm command failed: vm ${vm.name} is already ${vm.state}`);
          this.checkAdmission(vm);
        } else {
          if (this.find(plan.def.name)) throw new VmsupError('EXISTS', `vm ${plan.def.name} already exists`);
          this.checkDefinitionQuota(plan.def);
          this.checkAdmission(plan.def);
          vm = this.create(plan.def, `transient vm created by ${who(peer)}`);
        }
        try {
          this.launch(vm, reason ?? `start requested by ${who(peer)}`, files, { ...vm, kernel: boot.kernel, bios: boot.bios });
        } catch (e) {
          const err = asVmsupError(e);
          if (vm.transient) this.forget(vm, `start failed: ${err.message}`);
          throw new VmsupError(err.code, `start vm command failed: ${err.message}`);
        }
        // Queued behind a full pool: answer now, the VM stays "waiting".
        if (this.running.size <= this.settings.maxRunning) settled = this.until(vm.id, ['running', 'stopped']);
        return vm.id;
      });
    } catch (e) {
      files.close();
      throw e;
    } finally {
      this.opening.delete(plan.key);
    }
    if (settled) {
      const ev = await settled;
      if (ev.to === 'stopped' || ev.to === 'undefined') {
        const last = ev.to === 'undefined' ? 'the vm stopped' : ev.reason;
        throw new VmsupError('START_FAILED', `start vm command failed: ${last}`);
      }
    }
    return this.call(() => {
      const r = [...this.running.values()].find((x) => x.vm.id === vmId);
      if (r) return { vm: this.info(r.vm) };
      const vm = this.byId(vmId);
      if (!vm) throw new VmsupError('START_FAILED', 'start vm command failed: the vm stopped');
      return { vm: this.info(vm) };
    });
  }

  async stop(peer: Peer, p: Params<'stop'>): Promise<Results['stop']> {
    const waits: Promise<void>[] = [];
    const outcomes = await this.call(() => {
      let targets: VmRecord[];
      if (p.all) {
        targets = this.listVms().filter((vm) => mayControl(peer, vm) && this.running.has(vm.id));
      } else {
        if (p.vm === undefined) throw new VmsupError('USAGE', 'no vm given');
        const vm = this.findFor(peer, p.vm);
        if (!this.running.has(vm.id)) throw new VmsupError('NOT_RUNNING', `stopping vm ${vm.name}: cannot stop vm that is not running`);
        targets = [vm];
      }
      const out: StopOutcome[] = [];
      for (const t of targets) {
        const r = this.running.get(t.id)!;
        const by = who(peer);
        if (p.force) this.forceStop(r, `forced to stop by ${by}`);
        else this.gracefulStop(r, `shutdown requested by ${by}`, this.settings.stopTimeout);
        const o: StopOutcome = { id: t.id, name: t.name, outcome: p.force ? 'forced' : p.wait ? 'terminated' : 'requested' };
        // Waited for: say how it really ended (a guest that ignored Ctrl-Alt-Del was forced off).
        if (p.wait || p.force)
          waits.push(
            this.until(t.id, ['stopped']).then((ev) => {
              // Forced off after the guest ignored Ctrl-Alt-Del: say so, and why.
              if (r.forced && !p.force) {
                o.outcome = 'forced';
                o.reason = ev.reason;
              }
            }),
          );
        out.push(o);
      }
      return out;
    });
    await Promise.all(waits);
    return { stopped: outcomes };
  }

  async pause(peer: Peer, p: Params<'pause'>, pause: boolean): Promise<Results['pause']> {
    const settled = await this.call(() => {
      const vm = this.findFor(peer, p.vm);
      const r = this.running.get(vm.id);
      const want: VmState = pause ? 'running' : 'paused';
      if (!r || r.vm.state !== want)
        throw new VmsupError(
          'BAD_STATE',
          `${pause ? 'pause' : 'unpause'} vm command failed: vm ${vm.name} is ${r?.vm.state ?? vm.state}`,
        );
      const w = this.until(vm.id, [pause ? 'paused' : 'running', 'stopped']);
      this.send(r, { type: pause ? 'pause' : 'unpause' });
      // Wrapped: a promise returned bare would hold the mailbox until it settles.
      return { w };
    });
    const ev = await settled.w;
    return this.call(() => {
      const vm = this.byId(ev.vmId!);
      if (!vm) throw new VmsupError('STOPPED', 'the vm stopped');
      return { vm: this.info(this.running.get(vm.id)?.vm ?? vm) };
    });
  }

  /** vmsup save NAME FILE: a paused VM's state into a new file; the VM stays paused. */
  async save(peer: Peer, p: Params<'save'>): Promise<Results['save']> {
    const check = () => {
      const vm = this.findFor(peer, p.vm);
      const r = this.running.get(vm.id);
      if (!r || r.vm.state !== 'paused')
        throw new VmsupError('BAD_STATE', `save vm command failed: vm ${vm.name} is ${r?.vm.state ?? vm.state}`, 'pause it first: vmsup pause ' + vm.name);
      if (r.saving) throw new VmsupError('BUSY', `save vm command failed: vm ${vm.name} is being saved`);
      return { vm, r };
    };
    await this.call(check);
    // Created as the client (outside the mailbox: a helper process makes it).
    let fd: number;
    try {
      fd = await createSnapshotFile(peer, p.path);
    } catch (e) {
      const err = asVmsupError(e);
      throw new VmsupError(err.code, `save vm command failed: ${err.message}`);
    }
    const job = await this.call(() => {
      const { vm, r } = check();
      const done = new Promise<FromWorker>((resolve) => { r.saving = { fd, resolve }; });
      const meta: DaemonSnapshotMeta = { v: 1, daemon: true, vm: vm.name, memory: vm.memory, cpus: vm.cpus };
      this.send(r, { type: 'save', fd, meta: JSON.stringify(meta) });
      return { r, fd, done };
    }).catch((e) => {
      addon().closeFd(fd);
      throw e;
    });
    const m = await job.done;
    job.r.saving = undefined;
    const bytes = fs.fstatSync(job.fd).size;
    // A failed save leaves an empty file (emptied through our descriptor:
    // removing it by path could follow a directory swapped in meanwhile).
    if (m.type === 'save-failed') fs.ftruncateSync(job.fd, 0);
    addon().closeFd(job.fd);
    if (m.type === 'save-failed') {
      throw new VmsupError(m.code, `save vm command failed: ${m.message}`);
    }
    const ms = m.type === 'saved' ? m.ms : 0;
    return this.call(() => {
      this.log.info(`${job.r.vm.name}: saved to ${p.path} (${bytes} bytes, ${ms} ms) by ${who(peer)}`);
      return { vm: this.info(job.r.vm), bytes, ms };
    });
  }

  /** vmsup restore FILE: starts the stopped VM the file names from the saved state. */
  async restore(peer: Peer, p: Params<'restore'>): Promise<Results['restore']> {
    let settled: Promise<EventRecord> | undefined;
    if (!path.isAbsolute(p.path)) throw new VmsupError('USAGE', `restore command failed: snapshot file must be an absolute path: ${p.path}`);
    // 1. The snapshot, read with the client's credentials; the VM it names.
    let fd: number;
    try {
      fd = await openSnapshotFile(peer, p.path);
    } catch (e) {
      const err = asVmsupError(e);
      throw new VmsupError(err.code, `restore command failed: ${err.message}`);
    }
    let files: VmFiles | undefined;
    let vmId: number;
    try {
      const plan = await this.call(() => {
        if (this.closing) throw new VmsupError('SHUTDOWN', 'vmsupd is shutting down');
        let raw: string;
        try {
          raw = addon().readSnapshotMeta(fd);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          throw new VmsupError(err.code ?? 'SNAPSHOT', `restore command failed: ${err.message.replace(`/proc/self/fd/${fd}`, p.path)}`);
        }
        const meta = parseDaemonMeta(raw, p.path);
        const vm = this.findFor(peer, meta.vm);
        if (vm.state !== 'stopped' || this.running.has(vm.id) || this.opening.has(`#${vm.id}`))
          throw new VmsupError('ALREADY', `restore command failed: vm ${vm.name} is ${vm.state}`);
        this.checkAdmission(vm);
        this.opening.add(`#${vm.id}`);
        return vm;
      });
      // 2. The VM's own files, opened as its owner, as for start.
      try {
        const boot = this.bootChain(plan, false);
        files = await openForStart(boot, formatRequests(undefined, plan.disks));
        // 3. Launch from the saved state.
        vmId = await this.call(() => {
          const vm = this.byId(plan.id);
          if (!vm || vm.state !== 'stopped' || this.running.has(vm.id)) throw new VmsupError('ALREADY', `restore command failed: vm ${plan.name} is ${vm?.state ?? 'gone'}`);
          try {
            this.launch(vm, `restore from ${p.path}${p.force ? ' (forced)' : ''} requested by ${who(peer)}`, files!, { ...vm, kernel: boot.kernel, bios: boot.bios }, { fd, force: p.force });
          } catch (e) {
            throw new VmsupError(asVmsupError(e).code, `restore command failed: ${asVmsupError(e).message}`);
          }
          if (this.running.size <= this.settings.maxRunning) settled = this.until(vm.id, ['running', 'stopped']);
          return vm.id;
        });
      } finally {
        this.opening.delete(`#${plan.id}`);
      }
    } catch (e) {
      addon().closeFd(fd);
      files?.close();
      const err = asVmsupError(e);
      throw err.message.startsWith('restore command failed') ? err : new VmsupError(err.code, `restore command failed: ${err.message}`, err.hint);
    }
    if (settled) {
      const ev = await settled;
      if (ev.to === 'stopped' || ev.to === 'undefined') throw new VmsupError('RESTORE_FAILED', `restore command failed: ${ev.reason}`);
    }
    return this.call(() => {
      const r = this.running.get(vmId);
      const vm = r?.vm ?? this.byId(vmId);
      if (!vm) throw new VmsupError('STOPPED', 'the vm stopped');
      return { vm: this.info(vm) };
    });
  }

  async wait(peer: Peer, p: Params<'wait'>): Promise<Results['wait']> {
    const [vm, w] = await this.call(() => {
      const vm = this.findFor(peer, p.vm);
      if (!this.running.has(vm.id)) return [vm, undefined] as const;
      return [vm, this.until(vm.id, ['stopped'])] as const;
    });
    if (!w) return { vm: this.info(vm), reason: vm.reason, waited: false };
    const ev = await w;
    return { vm: { ...this.info(vm), state: 'stopped', tty: null, pid: null, curmem: 0, codeCacheBytes: 0 }, reason: ev.reason, waited: true };
  }

  async setLog(peer: Peer, p: Params<'log'>): Promise<Results['log']> {
    if (!isAdmin(peer)) throw new VmsupError('PERMISSION', "permission denied: only root or vmsupd's own user may change the log level");
    this.log.verbose = p.level === 'verbose';
    this.log.info(`log level ${p.level}`);
    return { level: p.level };
  }

  async reload(peer: Peer): Promise<Results['reload']> {
    if (!isAdmin(peer)) throw new VmsupError('PERMISSION', "permission denied: only root or vmsupd's own user may reload vmsupd");
    return this.call(() => {
      const max = this.settings.maxRunning;
      this.settings = loadSettings(this.stateDir, (m) => this.log.warn(m));
      if (this.settings.maxRunning !== max) this.log.warn('max_running takes effect at the next start of vmsupd');
      let removed = 0;
      for (const vm of this.listVms()) {
        if (vm.transient && !this.running.has(vm.id)) {
          this.forget(vm, 'reload removed a stopped transient vm');
          removed++;
        }
      }
      this.log.info('configuration reloaded');
      return { removed };
    });
  }

  /**
   * vm.conf(5)'s globals, from `vmsup load`: `staggered start` sets the
   * autostart batches, `socket owner` the control socket's owner and group
   * (through the hook main.ts installs), `local prefix` where local interfaces
   * get their addresses. Kept until vmsupd.conf is read again (reload, restart);
   * `vmsup reload` loads the files again after it.
   */
  async configure(peer: Peer, p: Params<'configure'>): Promise<Results['configure']> {
    if (!isAdmin(peer)) throw new VmsupError('PERMISSION', "permission denied: only root or vmsupd's own user may change vmsupd's global settings");
    return this.call(() => {
      const applied: string[] = [];
      if (p.socketOwner !== undefined) {
        const [u, g] = p.socketOwner.split(':');
        const uid = u ? lookupUser(u)?.uid : -1;
        const gid = g ? lookupGroup(g) : -1;
        if (uid === undefined) throw new VmsupError('NO_USER', `socket owner: invalid user: ${u}`);
        if (gid === undefined) throw new VmsupError('NO_GROUP', `socket owner: invalid group: ${g}`);
        if (!this.setSocketOwner) throw new VmsupError('UNSUPPORTED', 'socket owner: the control socket cannot be changed by this vmsupd');
        if (!p.dryRun) this.setSocketOwner(uid, gid);
        applied.push('socket owner');
      }
      if (p.localPrefix !== undefined) {
        if (!isLocalPrefix(p.localPrefix)) throw new VmsupError('USAGE', `invalid local prefix: ${p.localPrefix}`);
        if (!p.dryRun) this.settings.localPrefix = p.localPrefix;
        applied.push('local prefix');
      }
      if (p.staggeredStart !== undefined) {
        if (!p.dryRun) {
          this.settings.autostartParallel = p.staggeredStart.parallel;
          this.settings.autostartDelay = p.staggeredStart.delay;
        }
        applied.push('staggered start');
      }
      if (applied.length && !p.dryRun) this.log.info(`global settings from vm.conf: ${applied.join(', ')} (by ${who(peer)})`);
      return { applied };
    });
  }

  /** Set by main.ts: changes the control socket's owner and group (uid/gid -1: unchanged). */
  setSocketOwner?: (uid: number, gid: number) => void;

  // ---- switches -----------------------------------------------------------

  /** Running VMs with a port on switch `name`. */
  private switchUsers(name: string): string[] {
    return [...this.running.values()].filter((r) => r.vm.nics.some((n) => n.kind === 'switch' && n.switch === name)).map((r) => r.vm.name).sort();
  }

  /**
   * Makes the native registry match the stored switches (daemon start, `reset
   * switches`): stored ones that are missing are created; native ones that are
   * no longer stored and have no running VM on them are removed.
   */
  private syncSwitches(): number {
    const a = addon();
    const stored = this.repo.listSwitches();
    const live = a.switchList();
    let made = 0;
    for (const sw of stored) {
      const l = live.find((x) => x.name === sw.name);
      if (!l) {
        try {
          a.switchCreate(sw.name, sw.lockedLladdr);
          made++;
        } catch (e) {
          this.log.warn(`switch ${sw.name}: ${asVmsupError(e).message}`);
          continue;
        }
      }
      // Its uplink's tap is made again (taps do not outlive the daemon); a
      // failure leaves the switch without one, logged and shown in status.
      if (sw.uplink !== null && !l?.uplink) {
        try {
          const tap = attachUplink(sw.name, parseUplink(sw.uplink));
          this.log.info(`switch ${sw.name}: uplink ${sw.uplink} on tap ${tap}`);
        } catch (e) {
          this.log.warn(`switch ${sw.name}: uplink ${sw.uplink}: ${asVmsupError(e).message}`);
        }
      }
    }
    for (const l of live) {
      if (stored.some((sw) => sw.name === l.name) || this.switchUsers(l.name).length) continue;
      try {
        a.switchDelete(l.name);
      } catch (e) {
        this.log.warn(`switch ${l.name}: ${asVmsupError(e).message}`);
      }
    }
    return made;
  }

  private switchInfo(name: string): SwitchInfo {
    const sw = this.repo.listSwitches().find((x) => x.name === name);
    const l = addon().switchList().find((x) => x.name === name);
    return {
      name,
      lockedLladdr: sw?.lockedLladdr ?? l?.lockedLladdr ?? false,
      group: sw?.groupGid != null ? groupName(sw.groupGid) : null,
      ports: l?.ports ?? 0,
      rxFrames: l?.rxFrames ?? 0,
      txFrames: l?.txFrames ?? 0,
      drops: l?.drops ?? 0,
      lockedDrops: l?.lockedDrops ?? 0,
      uplink: sw?.uplink ?? null,
      uplinkTap: l?.uplink?.tap ?? null,
      uplinkRxFrames: l?.uplink?.rxFrames ?? 0,
      uplinkTxFrames: l?.uplink?.txFrames ?? 0,
      uplinkDrops: l?.uplink?.drops ?? 0,
      vms: this.switchUsers(name),
    };
  }

  async switchCreate(peer: Peer, p: Params<'switch-create'>): Promise<Results['switch-create']> {
    if (!isAdmin(peer)) throw new VmsupError('PERMISSION', "permission denied: only root or vmsupd's own user may create switches");
    checkSwitchName(p.name);
    let groupGid: number | null = null;
    if (p.group !== undefined) {
      const g = lookupGroup(p.group);
      if (g === undefined) throw new VmsupError('NO_GROUP', `invalid group: ${p.group}`);
      groupGid = g;
    }
    const uplink = p.uplink !== undefined ? parseUplink(p.uplink) : undefined;
    if (uplink) checkUplink(uplink);
    return this.call(() => {
      if (this.repo.listSwitches().some((x) => x.name === p.name)) throw new VmsupError('EXISTS', `switch ${p.name} exists`);
      addon().switchCreate(p.name, Boolean(p.lockedLladdr));
      try {
        if (uplink) attachUplink(p.name, uplink);
        this.repo.insertSwitch({ name: p.name, lockedLladdr: Boolean(p.lockedLladdr), groupGid, uplink: uplink ? formatUplink(uplink) : null });
      } catch (e) {
        addon().switchDelete(p.name);
        throw e;
      }
      this.log.info(`switch ${p.name} created by ${who(peer)}`);
      return { switch: this.switchInfo(p.name) };
    });
  }

  async switchDelete(peer: Peer, p: Params<'switch-delete'>): Promise<Results['switch-delete']> {
    if (!isAdmin(peer)) throw new VmsupError('PERMISSION', "permission denied: only root or vmsupd's own user may delete switches");
    return this.call(() => {
      if (!this.repo.listSwitches().some((x) => x.name === p.name)) throw new VmsupError('NO_SWITCH', `switch not found: ${p.name}`);
      const users = this.switchUsers(p.name);
      if (users.length) throw new VmsupError('BUSY', `switch ${p.name} is in use by running vms: ${users.join(', ')}`);
      const a = addon();
      if (a.switchList().some((l) => l.name === p.name)) a.switchDelete(p.name);
      this.repo.deleteSwitch(p.name);
      this.log.info(`switch ${p.name} deleted by ${who(peer)}`);
      return { name: p.name };
    });
  }

  async switchStatus(_peer: Peer): Promise<Results['switch-status']> {
    return this.call(() => {
      const names = new Set([...this.repo.listSwitches().map((s) => s.name), ...addon().switchList().map((l) => l.name)]);
      return { switches: [...names].sort().map((n) => this.switchInfo(n)) };
    });
  }

  async reset(peer: Peer, p: Params<'reset'>): Promise<Results['reset']> {
    if (!isAdmin(peer)) throw new VmsupError('PERMISSION', "permission denied: only root or vmsupd's own user may reset vmsupd");
    // vmctl reset switches: the switches made again from their stored definitions.
    if (p.what === 'switches') return this.call(() => (this.syncSwitches(), { stopped: 0 }));
    const res = await this.stop(peer, { all: true, force: true });
    if (p.what === 'all') await this.call(() => this.syncSwitches());
    return { stopped: res.stopped.length };
  }

  /** The console is the owner's (and root's): members of the owning group
   * control the VM but get neither its history nor the claim (F13), in the
   * terminal or in the web interface. */
  private checkConsoleOwner(peer: Peer, vm: VmRecord): void {
    checkConsoleOwner(peer, vm);
  }

  /** Claims the console for this connection: stops draining the pty and
   * hands over the buffered output; the drain resumes when the client leaves. */
  async consoleAttach(peer: Peer, p: Params<'console'>, conn: Connection): Promise<Results['console']> {
    return this.call(() => {
      const vm = this.findFor(peer, p.vm);
      this.checkConsoleOwner(peer, vm);
      const r = this.running.get(vm.id);
      if (!r) throw new VmsupError('NOT_RUNNING', `console: vm ${vm.name} is not running`);
      if (r.attached) throw new VmsupError('BUSY', `console: vm ${vm.name}: the console is in use`);
      if (r.viewers.length > 0) throw new VmsupError('BUSY', `console: vm ${vm.name}: the console is open in the web interface`);
      const buf = r.claimConsole();
      conn.onClose(() => r.releaseConsole());
      return { vm: this.info(r.vm), tty: r.pty.path, history: buf.toString('base64') };
    });
  }

  async eventLog(peer: Peer, p: Params<'events'>, conn?: Connection, reqId = 0): Promise<Results['events']> {
    const res = await this.call(() => {
      const limit = p.limit ?? 100;
      let name: string | undefined;
      // Events belong to a VM's identity: a later VM of the same name does not
      // see its predecessor's (F15). Only root may look a past name up.
      let key: number | string | undefined;
      let keyId: number | undefined;
      if (p.vm !== undefined) {
        const vm = this.find(p.vm);
        if (vm && !mayControl(peer, vm)) throw new VmsupError('PERMISSION', `permission denied: vm ${vm.name} belongs to another user`);
        if (!vm && !isRoot(peer)) throw new VmsupError('NO_VM', `vm not found: ${p.vm}`);
        name = vm?.name ?? p.vm;
        keyId = vm?.id;
        key = vm ? vm.id : p.vm;
      }
      const visible = (vmId: number | null) => {
        if (isRoot(peer)) return true;
        const vm = vmId !== null ? this.byId(vmId) : undefined;
        return vm !== undefined && mayControl(peer, vm);
      };
      const backlog = this.repo.events(key, isRoot(peer) || name ? limit : 10 * limit);
      // A name that is not defined and has no history is not found, as for status.
      if (p.vm !== undefined && !this.find(p.vm) && backlog.length === 0 && !p.follow)
        throw new VmsupError('NO_VM', `vm not found: ${p.vm}`);
      const events = isRoot(peer) || name ? backlog : backlog.filter((e) => visible(e.vmId)).slice(-limit);
      if (!p.follow || !conn) return { events, follow: undefined };
      // Follow: stream every later event this peer may see until the client leaves.
      const owned = new Set<number>();
      const on = (ev: EventRecord) => {
        if (name !== undefined && (keyId !== undefined ? ev.vmId !== keyId : ev.vm !== name)) return;
        // A VM's last event ('undefined') comes after its row is gone: remember who could see it.
        if (ev.vmId !== null && (owned.has(ev.vmId) || visible(ev.vmId))) {
          owned.add(ev.vmId);
          conn.push({ id: reqId, event: ev });
        }
      };
      for (const e of events) {
        if (e.vmId !== null) owned.add(e.vmId);
        conn.push({ id: reqId, event: e });
      }
      this.followers.add(on);
      return { events: [], follow: new Promise<void>((resolve) => conn.onClose(() => (this.followers.delete(on), resolve()))) };
    });
    if (res.follow) await res.follow;
    return { events: res.events };
  }

  /** `vmsup top`, the web UI: the latest figures and (with history) the ring of every VM the peer may see. */
  async metrics(peer: Peer, p: Params<'metrics'>): Promise<Results['metrics']> {
    return this.call(() => {
      const vms = p.vm !== undefined ? [this.findFor(peer, p.vm)] : this.repo.listVms().filter((vm) => mayControl(peer, vm));
      return {
        vms: vms.map((vm) => {
          const r = this.running.get(vm.id);
          const info = this.info(vm);
          return { info, history: r && p.history ? r.metrics.history(p.history) : [] };
        }),
      };
    });
  }

  /** `vmsup web`: a one-time login URL bound to the caller's uid. */
  async webLogin(peer: Peer): Promise<Results['web-login']> {
    if (!this.web) throw new VmsupError('HTTP_OFF', 'the web interface is off', 'start vmsupd with --http [addr:]port or set http in vmsupd.conf');
    return this.web.issueLogin(peer);
  }

  /**
   * A web console viewer. Policy: any number watch (each gets the history and
   * then the live output, read from the same drain that keeps the pty empty);
   * the oldest viewer types, and when it leaves the next oldest does. The CLI
   * console (`vmsup console`) is exclusive: it is refused while the web has
   * viewers, and the web is refused while the CLI holds the console.
   */
  async webConsoleAttach(peer: Peer, ref: string, viewer: ConsoleViewer, maxViewers: number): Promise<ConsoleSession> {
    return this.call(() => {
      const vm = this.findFor(peer, ref);
      this.checkConsoleOwner(peer, vm);
      const r = this.running.get(vm.id);
      if (!r) throw new VmsupError('NOT_RUNNING', `console: vm ${vm.name} is not running`);
      if (r.attached) throw new VmsupError('BUSY', `console: vm ${vm.name}: the console is in use by vmsup console`);
      if (r.viewers.length >= maxViewers) throw new VmsupError('BUSY', `console: vm ${vm.name}: too many viewers`);
      if (r.viewerFd === undefined) {
        // Non-blocking: a guest that stops reading its console must not stall the daemon.
        r.viewerFd = fs.openSync(r.pty.path, fs.constants.O_WRONLY | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
      }
      r.viewers.push(viewer);
      const typist = r.viewers[0] === viewer;
      const buf = r.historyTail();
      let gone = false;
      return {
        history: buf,
        typist,
        input: (data: Buffer) => {
          if (gone || r.viewers[0] !== viewer || r.viewerFd === undefined) return;
          try {
            fs.writeSync(r.viewerFd, data);
          } catch {
            /* EAGAIN: the guest is not reading its console; the keystrokes are dropped */
          }
        },
        detach: () => {
          if (gone) return;
          gone = true;
          const i = r.viewers.indexOf(viewer);
          if (i < 0) return;
          r.viewers.splice(i, 1);
          if (i === 0 && r.viewers.length > 0) {
            try {
              r.viewers[0].role(true);
            } catch {
              /* that viewer is going too */
            }
          }
          if (r.viewers.length === 0) this.closeViewerFd(r);
        },
      };
    });
  }

  private closeViewerFd(r: Running): void {
    r.closeViewerFd();
  }

  // ---- daemon life ---------------------------------------------------------

  /** After a crash or kill -9: VMs recorded as running did not survive. */
  async reconcile(): Promise<void> {
    await this.call(() => {
      this.syncSwitches();
      for (const vm of this.listVms()) {
        if (vm.state === 'stopped') continue;
        const was = vm.state;
        this.move(vm, 'stopped', `vmsupd was not running (killed or crashed) while the vm was ${was}; reconciled at start-up`, {
          tty: null,
          tid: null,
          startedAt: null,
        });
        if (vm.transient) this.forget(vm, 'a transient vm is forgotten when it stops');
      }
      this.trimEvents();
    });
    this.trimTimer ??= setInterval(
      () => void this.call(() => this.trimEvents()).catch((e) => this.log.warn(`event log retention: ${String(e)}`)),
      TRIM_INTERVAL_MS,
    ).unref();
  }

  /** vmd's staggered start: `autostartParallel` at a time, `autostartDelay` s between batches. */
  async autostart(): Promise<void> {
    await this.resumeSaved().catch((e) => this.log.warn(`resume: ${asVmsupError(e).message}`));
    const enabled = await this.call(() => this.listVms().filter((vm) => vm.enabled && vm.state === 'stopped'));
    const n = this.settings.autostartParallel;
    for (let i = 0; i < enabled.length && !this.closing; i += n) {
      if (i > 0) await new Promise((r) => setTimeout(r, this.settings.autostartDelay * 1000));
      const batch = enabled.slice(i, i + n);
      await Promise.all(
        batch.map((vm) =>
          this.start(ROOT_PEER, { vm: String(vm.id) }, 'autostart of an enabled vm').catch((e) =>
            this.call(() => {
              const cur = this.byId(vm.id);
              if (cur) this.note(cur, `autostart failed: ${asVmsupError(e).message}`);
            }).catch((e2) => this.log.warn(`${vm.name}: autostart failed: ${asVmsupError(e).message}; ${String(e2)}`)),
          ),
        ),
      );
    }
  }

  // ---- SIGTERM with on_shutdown = save: guests survive a daemon restart -----

  private resumeDir(): string {
    return path.join(this.stateDir, 'resume');
  }

  /** Saves every running or paused (defined) VM into <state-dir>/resume and stops it. */
  private async saveForResume(): Promise<void> {
    const targets = await this.call(() =>
      [...this.running.values()].filter((r) => !r.vm.transient && (r.vm.state === 'running' || r.vm.state === 'paused')),
    );
    if (!targets.length) return;
    fs.mkdirSync(this.resumeDir(), { recursive: true, mode: 0o700 });
    const all = Promise.all(
      targets.map((r) => this.saveOneForResume(r).catch((e) => this.log.warn(`${r.vm.name}: not saved for resume: ${asVmsupError(e).message}`))),
    );
    await Promise.race([all, new Promise((res) => setTimeout(res, this.settings.shutdownTimeout * 1000))]);
  }

  private async saveOneForResume(r: Running): Promise<void> {
    // A VM paused by a send that SIGTERM cancelled was running: it resumes running.
    const wasPaused = r.vm.state === 'paused' && !this.resumeRunning.has(r.vm.id);
    if (r.vm.state !== 'paused') {
      const w = await this.call(() => {
        const w = this.until(r.vm.id, ['paused', 'stopped']);
        this.send(r, { type: 'pause' });
        return { w };
      });
      if ((await w.w).to !== 'paused') throw new VmsupError('STOPPED', 'the vm stopped');
    }
    const base = path.join(this.resumeDir(), String(r.vm.id));
    const fd = fs.openSync(base + '.vmsave', 'w', 0o600);
    const done = new Promise<FromWorker>((resolve) => {
      r.saving = { fd, resolve };
    });
    const meta: DaemonSnapshotMeta = { v: 1, daemon: true, vm: r.vm.name, memory: r.vm.memory, cpus: r.vm.cpus };
    await this.call(() => this.send(r, { type: 'save', fd, meta: JSON.stringify(meta) }));
    const m = await done;
    r.saving = undefined;
    fs.closeSync(fd);
    if (m.type !== 'saved') {
      removeResumeFiles(base);
      throw new VmsupError('SNAPSHOT', m.type === 'save-failed' ? m.message : 'no answer from the vm');
    }
    r.collectPending();
    fs.writeFileSync(base + '.console', Buffer.concat(r.history), { mode: 0o600 });
    fs.writeFileSync(base + '.json', JSON.stringify({ paused: wasPaused }), { mode: 0o600 });
    await this.call(() => {
      if (this.running.get(r.vm.id) === r) this.forceStop(r, 'saved for resume: vmsupd is shutting down');
    });
  }

  /** At start-up: every VM saved by the last SIGTERM runs again from its state (paused ones paused). */
  private async resumeSaved(): Promise<void> {
    let names: string[];
    try {
      names = fs.readdirSync(this.resumeDir());
    } catch {
      return;
    }
    const plans = await this.call(() => {
      const out: { vm: VmRecord; base: string; paused: boolean; history: Buffer }[] = [];
      for (const f of names) {
        const m = /^(\d+)\.vmsave$/.exec(f);
        if (!m) continue;
        const id = Number(m[1]);
        const base = path.join(this.resumeDir(), m[1]);
        const vm = this.byId(id);
        if (!vm || vm.state !== 'stopped' || this.running.has(id)) {
          removeResumeFiles(base);
          continue;
        }
        let paused = false;
        let history = Buffer.alloc(0);
        try {
          paused = (JSON.parse(fs.readFileSync(base + '.json', 'utf8')) as { paused?: boolean }).paused === true;
          history = fs.readFileSync(base + '.console');
        } catch {
          /* no console history: resume all the same */
        }
        out.push({ vm, base, paused, history });
      }
      return out;
    });
    for (const { vm, base, paused, history } of plans) {
      // The saved state is the daemon's own file; the VM's files are opened as its owner, as at start.
      let fd: number | undefined;
      let files: VmFiles | undefined;
      const boot = this.bootChain(vm, false);
      try {
        fd = fs.openSync(base + '.vmsave', fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        files = await openForStart(boot, formatRequests(undefined, vm.disks));
      } catch (e) {
        if (fd !== undefined) addon().closeFd(fd);
        removeResumeFiles(base);
        const why = asVmsupError(e).message;
        await this.call(() => this.note(vm, `resume failed: ${why}`));
        continue;
      }
      const snap = fd;
      const owned = files;
      await this.call(() => {
        try {
          const r = this.launch(vm, 'resuming after a vmsupd restart', owned, { ...vm, kernel: boot.kernel, bios: boot.bios }, { fd: snap });
          r.resume = { base, paused };
          r.restoreHistory(history);
        } catch (e) {
          addon().closeFd(snap);
          owned.close();
          removeResumeFiles(base);
          this.note(vm, `resume failed: ${asVmsupError(e).message}`);
        }
      });
    }
  }

  /** SIGTERM: Ctrl-Alt-Del to every guest, wait up to shutdownTimeout, force the rest. */
  async shutdown(): Promise<void> {
    if (this.settings.onShutdown === 'save') {
      await this.call(() => {
        this.closing = true;
      });
      await this.saveForResume();
    }
    const waits = await this.call(() => {
      this.closing = true;
      const ws: Promise<EventRecord>[] = [];
      for (const r of this.running.values()) {
        ws.push(this.until(r.vm.id, ['stopped']));
        this.gracefulStop(r, 'vmsupd is shutting down', this.settings.shutdownTimeout);
      }
      return ws;
    });
    const deadline = new Promise((r) => setTimeout(r, this.settings.shutdownTimeout * 1000 + 1000));
    await Promise.race([Promise.all(waits), deadline]);
    await this.call(() => {
      for (const r of this.running.values())
        if (!r.forced) this.forceStop(r, `vmsupd is shutting down; the guest did not power off within ${this.settings.shutdownTimeout} s`);
    });
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, KILL_GRACE_MS + 2000))]);
    await this.call(() => {
      // Anything still here lost its worker: record it as stopped all the same.
      for (const r of [...this.running.values()]) this.onExit(r, undefined, new Error('vmsupd shut down'));
    });
    clearInterval(this.metricsTimer);
    await this.pool.destroy().catch(() => undefined);
    // The uplinks' taps go now, not whenever the process ends.
    for (const l of addon().switchList()) if (l.uplink) addon().switchDetachUplink(l.name);
    clearInterval(this.trimTimer);
    clearTimeout(this.retryTimer);
    await this.call(() => {
      // A last try for changes the database refused; what still fails is reconciled at the next start.
      if (this.deferred.length > 0 && !this.flushDeferred())
        this.log.warn(`${this.deferred.length} changes could not be stored; the next start reconciles the vms`);
      clearTimeout(this.retryTimer);
      this.repo.close();
    });
  }

  // ---- vmsup send / receive (daemon/migrate.ts moves the bytes) ------------

  /** META of a send stream: the daemon's snapshot meta and the definition receive needs. */
  private migrateMeta(vm: VmRecord): string {
    const def: MigrateDefinition = {
      memory: vm.memory,
      cpus: vm.cpus,
      cmdline: vm.cmdline,
      ...(vm.kernel ? { kernel: vm.kernel } : {}),
      ...(vm.initrd ? { initrd: vm.initrd } : {}),
      ...(vm.bios ? { bios: vm.bios } : {}),
      ...(vm.bootDevice ? { bootDevice: vm.bootDevice as MigrateDefinition['bootDevice'] } : {}),
      disks: vm.disks.map((d) => ({ path: d.path, format: d.format, ...(d.readOnly ? { readOnly: true } : {}) })),
      nics: (vm.nics ?? []).map((n) => ({
        kind: n.kind,
        lladdr: n.lladdr,
        ...(n.switch ? { switch: n.switch } : {}),
        ...(n.forwards?.length ? { forwards: n.forwards } : {}),
      })),
    };
    const meta: DaemonSnapshotMeta = { v: 1, daemon: true, vm: vm.name, memory: vm.memory, cpus: vm.cpus, def };
    return JSON.stringify(meta);
  }

  /** vmsup send: has the worker write the VM's state into `fd` (paused first, or a live
   * pre-copy); resolves with the worker's last word. The VM is left as it is: see sendFinished. */
  async sendState(peer: Peer, ref: string, fd: number, live: boolean): Promise<{ vmId: number; wasRunning: boolean; pausedAt: number; doneAt: number; m: FromWorker }> {
    const job = await this.call(() => {
      const vm = this.findFor(peer, ref);
      const r = this.running.get(vm.id);
      const state = r?.vm.state ?? vm.state;
      if (!r || (state !== 'running' && state !== 'paused') || (live && state !== 'running'))
        throw new VmsupError('BAD_STATE', `send vm command failed: vm ${vm.name} is ${state}`, live ? 'send --live moves a running vm' : undefined);
      if (r.saving) throw new VmsupError('BUSY', `send vm command failed: vm ${vm.name} is being saved`);
      if (this.closing) throw new VmsupError('SHUTDOWN', 'send vm command failed: vmsupd is shutting down');
      const done = new Promise<FromWorker>((resolve) => {
        r.saving = { fd, resolve };
      });
      const meta = this.migrateMeta(r.vm);
      if (live) this.send(r, { type: 'live-send', fd, meta, maxPasses: this.settings.liveMaxPasses, donePages: this.settings.liveStopPages });
      else {
        if (state === 'running') this.send(r, { type: 'pause' });
        this.send(r, { type: 'save', fd, meta });
      }
      this.log.info(`${vm.name}: send${live ? ' --live' : ''} requested by ${who(peer)}`);
      return { r, vmId: vm.id, done, wasRunning: state === 'running', pausedAt: Date.now() };
    });
    const m = await job.done;
    const doneAt = Date.now();
    if (job.r.saving?.fd === fd) job.r.saving = undefined;
    return { vmId: job.vmId, wasRunning: job.wasRunning, pausedAt: job.pausedAt, doneAt, m };
  }

  /** After a send: a sent VM is stopped (with `reason`); one whose send failed runs again if it ran.
   * `shuttingDown`: a send cancelled by SIGTERM; the VM stays as it is and the shutdown's save
   * records it as running if it ran before the send. */
  async sendFinished(vmId: number, ok: boolean, wasRunning: boolean, reason: string, shuttingDown = false): Promise<VmInfo> {
    return this.call(() => {
      const r = this.running.get(vmId);
      if (r && ok) this.forceStop(r, reason);
      else if (r && shuttingDown) {
        if (wasRunning) this.resumeRunning.add(vmId);
        this.note(r.vm, 'send cancelled: vmsupd is shutting down');
      } else if (r && wasRunning && r.vm.state === 'paused') this.send(r, { type: 'unpause' });
      const vm = r?.vm ?? this.byId(vmId);
      if (!vm) throw new VmsupError('STOPPED', 'the vm is gone');
      return this.info(vm);
    });
  }

  /**
   * vmsup receive: defines `name` from the stream's META when it is new (owned by
   * the client, checked as a define request is), then starts it restoring from
   * `source` (a pipe the client's bytes go into, or, when its disks are still
   * held by the sender on this host, a file the stream was kept in). Resolves once it runs; on failure
   * a VM defined here is removed again. `failure` is the stream's own error, if
   * any (a client that left, a stall), preferred over the restore's.
   */
  async receiveState(
    peer: Peer,
    name: string,
    meta: DaemonSnapshotMeta & { def: MigrateDefinition },
    source: { open(): number; spool(): Promise<void> },
    force: boolean,
    failure: () => VmsupError | undefined,
    label: string,
  ): Promise<{ vm: VmInfo; defined: boolean }> {
    let defined = false;
    let launched = false;
    let files: VmFiles | undefined;
    try {
      if (!(await this.call(() => this.find(name)))) {
        const d = meta.def;
        const req = parseRequest({ id: 0, type: 'define', params: { name, config: { ...d, ...(d.nics?.length ? {} : { nics: undefined }) } } });
        await this.define(peer, req.params as Params<'define'>);
        defined = true;
      }
      const plan = await this.call(() => {
        if (this.closing) throw new VmsupError('SHUTDOWN', 'vmsupd is shutting down');
        const vm = this.findFor(peer, name);
        if (vm.state !== 'stopped' || this.running.has(vm.id) || this.opening.has(`#${vm.id}`))
          throw new VmsupError('ALREADY', `receive command failed: vm ${vm.name} is ${vm.state}`);
        this.checkAdmission(vm);
        this.opening.add(`#${vm.id}`);
        return vm;
      });
      let settled: { w: Promise<EventRecord> };
      try {
        const boot = this.bootChain(plan, false);
        const wanted = formatRequests(undefined, plan.disks);
        const inUse = (e: unknown) => / is in use/.test(asVmsupError(e).message);
        try {
          files = await openForStart(boot, wanted);
        } catch (e) {
          if (!inUse(e)) throw e;
          // Its disks are still the sender's (a send on this host releases them after its
          // last byte): keep the stream until it ends, then open them when they are free.
          await source.spool();
          const until = Date.now() + 30_000;
          for (;;) {
            try {
              files = await openForStart(boot, wanted);
              break;
            } catch (e2) {
              if (!inUse(e2) || Date.now() > until) throw e2;
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        }
        settled = await this.call(() => {
          const vm = this.byId(plan.id);
          if (!vm || vm.state !== 'stopped' || this.running.has(vm.id)) throw new VmsupError('ALREADY', `receive command failed: vm ${plan.name} is ${vm?.state ?? 'gone'}`);
          const fd = source.open();
          try {
            this.launch(vm, `${label} by ${who(peer)}${force ? ' (forced)' : ''}`, files!, { ...vm, kernel: boot.kernel, bios: boot.bios }, { fd, force });
          } catch (e) {
            addon().closeFd(fd);
            throw e;
          }
          launched = true;
          return { w: this.until(vm.id, ['running', 'stopped']) };
        });
      } finally {
        this.opening.delete(`#${plan.id}`);
      }
      const ev = await settled.w;
      if (ev.to !== 'running') {
        const f = failure();
        throw new VmsupError(f?.code ?? 'RESTORE_FAILED', `receive command failed: ${f && f.code !== 'ERR_VMSUP_RECEIVE' ? f.message : ev.reason}`);
      }
      return await this.call(() => {
        const vm = this.running.get(plan.id)?.vm ?? this.byId(plan.id);
        if (!vm) throw new VmsupError('STOPPED', 'the vm stopped');
        return { vm: this.info(vm), defined };
      });
    } catch (e) {
      if (!launched) files?.close();
      if (defined) await this.undefine(peer, { vm: name }).catch(() => undefined);
      throw e;
    }
  }
}

/** The files of one VM saved for resume (<state-dir>/resume/ID.{vmsave,json,console}). */
function removeResumeFiles(base: string): void {
  for (const ext of ['.vmsave', '.json', '.console']) fs.rmSync(base + ext, { force: true });
}
