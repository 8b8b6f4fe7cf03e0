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
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import tty from 'node:tty';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventEmitter } from 'eventemitter3';
import { Piscina } from 'piscina';
import { addon, type MachineOptions, type Pty } from '../native/index.js';
import { Repository, type VmDefinition, type VmRecord } from '../db/repository.js';
import { SHARED_BYTES, type FromWorker, type ToWorker, type VmTask, type VmTaskResult } from '../workers/messages.js';
import { VmsupError, asVmsupError } from './protocol/errors.js';
import {
  DEFAULT_CMDLINE,
  DEFAULT_MEMORY,
  checkVmName,
  type EventRecord,
  type Params,
  type Results,
  type StopOutcome,
  type VmConfigInput,
  type VmInfo,
  type VmState,
} from './protocol/messages.js';
import {
  checkFileAccess,
  groupName,
  isRoot,
  lookupGroup,
  lookupUser,
  mayControl,
  userName,
  type Peer,
} from './access.js';
import type { Logger } from './log.js';
import type { Connection } from './server.js';
import { LIMITS } from './protocol/messages.js';
import { loadSettings, type Settings } from './settings.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKER_FILE = path.resolve(here, '../workers/vm-worker.js');

/** How long a worker has to honour 'kill' before its thread is terminated. */
const KILL_GRACE_MS = 5000;

interface Running {
  vm: VmRecord;
  port: MessagePort;
  wakeFd: number;
  shared: SharedArrayBuffer;
  pty: Pty;
  abort: AbortController;
  /** Why we are stopping it, if we are: recorded as the stop reason. */
  stopReason?: string;
  forced?: boolean;
  stopTimer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  /** Reads the pty's slave side while no console client is attached, so the
   * guest never blocks on a full pty; keeps the last output for the next attach. */
  drain: tty.ReadStream;
  history: Buffer[];
  historyBytes: number;
  attached: boolean;
  bootedAt: number;
  quickRestarts: number;
  restarts: number;
}

export const ROOT_PEER: Peer = { pid: process.pid, uid: 0, gid: 0, groups: new Set([0]) };

function who(peer: Peer): string {
  return isRoot(peer) ? 'root' : userName(peer.uid);
}

export class Supervisor {
  readonly events = new EventEmitter<{ event: [EventRecord] }>();
  settings: Settings;
  private readonly repo: Repository;
  private readonly pool: Piscina;
  private readonly running = new Map<number, Running>();
  private mailbox: Promise<unknown> = Promise.resolve();
  private ttyGid: number;
  private closing = false;

  constructor(
    readonly stateDir: string,
    readonly log: Logger,
  ) {
    this.settings = loadSettings(stateDir, (m) => log.warn(m));
    this.repo = new Repository(stateDir);
    this.pool = new Piscina({
      filename: WORKER_FILE,
      minThreads: 0,
      maxThreads: this.settings.maxRunning,
      idleTimeout: 5000,
      // A VM's task lives as long as the VM: queued starts are the "waiting" VMs.
      concurrentTasksPerWorker: 1,
      // A VM's worker runs native code; its JS heap stays small. Smaller heap
      // limits keep V8 from reserving more per VM than it needs.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
    });
    this.ttyGid = lookupGroup('tty') ?? -1;
  }

  /** Runs fn alone: the mailbox. Callers get fn's result or its error.
   * fn must not return a promise that waits for a later mailbox item. */
  call<T>(fn: () => T | Promise<T>): Promise<T> {
    const p = this.mailbox.then(fn, fn);
    this.mailbox = p.catch(() => undefined);
    return p;
  }

  // ---- state changes ------------------------------------------------------

  private move(vm: VmRecord, to: VmState, reason: string, rt: Parameters<Repository['transition']>[3] = {}): void {
    const ev = this.repo.transition(vm, to, reason, rt);
    this.log.info(`${vm.name}: ${ev.from} -> ${to}: ${reason}`);
    this.events.emit('event', ev);
  }

  private note(vm: VmRecord, reason: string): void {
    const ev = this.repo.note(vm, reason);
    this.log.info(`${vm.name}: ${reason}`);
    this.events.emit('event', ev);
  }

  private create(def: VmDefinition, reason: string): VmRecord {
    const vm = this.repo.insert(def, reason);
    const ev = this.repo.events(vm.name, 1)[0];
    if (ev) this.events.emit('event', ev);
    return vm;
  }

  private forget(vm: VmRecord, reason: string): void {
    this.events.emit('event', this.repo.remove(vm, reason));
  }

  /** Resolves when the VM with this id reaches one of `states` (or is forgotten). */
  private until(vmId: number, states: VmState[]): Promise<EventRecord> {
    return new Promise((resolve) => {
      const on = (ev: EventRecord) => {
        if (ev.vmId !== vmId) return;
        if ((states as string[]).includes(ev.to) || ev.to === 'undefined') {
          this.events.off('event', on);
          resolve(ev);
        }
      };
      this.events.on('event', on);
    });
  }

  // ---- helpers ------------------------------------------------------------

  private findFor(peer: Peer, ref: string): VmRecord {
    const vm = this.repo.find(ref);
    if (!vm) throw new VmsupError('NO_VM', `vm not found: ${ref}`);
    if (!mayControl(peer, vm)) throw new VmsupError('PERMISSION', `permission denied: vm ${vm.name} belongs to another user`);
    return vm;
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
      codeCacheBytes,
      tty: live.state === 'stopped' ? null : live.tty,
      owner: { uid: live.ownerUid, gid: live.ownerGid, user: userName(live.ownerUid), group: groupName(live.ownerGid) },
      enabled: live.enabled,
      transient: live.transient,
      template: live.template,
      kernel: live.kernel,
      initrd: live.initrd,
      cmdline: live.cmdline,
      bios: live.bios,
      disks: live.disks,
      bootDevice: live.bootDevice,
      reason: live.reason,
      restarts: r?.restarts ?? 0,
    };
  }

  /** Every file the VM would open, checked with the requester's permissions. */
  private checkFiles(peer: Peer, def: Pick<VmDefinition, 'kernel' | 'initrd' | 'bios' | 'disks'>): void {
    if (def.kernel) checkFileAccess(peer, def.kernel, 'kernel');
    if (def.initrd) checkFileAccess(peer, def.initrd, 'initrd');
    if (def.bios) checkFileAccess(peer, def.bios, 'bios');
    const seen = new Set<string>();
    for (const d of def.disks) {
      const abs = path.resolve(d.path);
      if (seen.has(abs)) throw new VmsupError('DUP_DISK', `disk ${d.path} given twice`);
      seen.add(abs);
      checkFileAccess(peer, d.path, 'disk', !d.readOnly);
    }
  }

  private resolveOwner(peer: Peer, spec: string | undefined): { ownerUid: number; ownerGid: number } {
    if (spec === undefined) return { ownerUid: peer.uid, ownerGid: peer.gid };
    const [u, g] = spec.split(':');
    let ownerUid = peer.uid;
    let ownerGid = peer.gid;
    if (u) {
      const pw = lookupUser(u);
      if (!pw) throw new VmsupError('NO_USER', `invalid user: ${u}`);
      ownerUid = pw.uid;
      ownerGid = pw.gid;
    }
    if (g !== undefined && g !== '') {
      const gid = lookupGroup(g);
      if (gid === undefined) throw new VmsupError('NO_GROUP', `invalid group: ${g}`);
      ownerGid = gid;
    }
    if (!isRoot(peer) && (ownerUid !== peer.uid || !peer.groups.has(ownerGid)))
      throw new VmsupError('PERMISSION', 'permission denied: only root may give a vm to another user or group');
    return { ownerUid, ownerGid };
  }

  /** A full definition from a client's options, over a template's when one is given. */
  private buildDefinition(peer: Peer, name: string, cfg: VmConfigInput, template: VmRecord | undefined, transient: boolean): VmDefinition {
    checkVmName(name);
    const base = template;
    const def: VmDefinition = {
      name,
      ...this.resolveOwner(peer, cfg.owner),
      memory: cfg.memory ?? base?.memory ?? DEFAULT_MEMORY,
      cpus: cfg.cpus ?? base?.cpus ?? 1,
      kernel: cfg.kernel !== undefined ? path.resolve(cfg.kernel) : base?.kernel ?? null,
      initrd: cfg.initrd !== undefined ? path.resolve(cfg.initrd) : base?.initrd ?? null,
      cmdline: cfg.cmdline ?? base?.cmdline ?? DEFAULT_CMDLINE,
      bios: cfg.bios !== undefined ? path.resolve(cfg.bios) : base?.bios ?? null,
      bootDevice: cfg.bootDevice ?? base?.bootDevice ?? null,
      disks: (cfg.disks ?? base?.disks ?? []).map((d) => ({ path: path.resolve(d.path), format: d.format, readOnly: Boolean(d.readOnly) })),
      enabled: false,
      transient,
      template: base?.name ?? null,
    };
    if (def.bootDevice && def.bootDevice !== 'disk')
      throw new VmsupError('UNSUPPORTED', `boot device ${def.bootDevice} is not supported yet (only disk)`);
    if (!def.kernel && !def.bios && def.disks.length === 0) throw new VmsupError('USAGE', 'no kernel or disk/cdrom specified');
    if (!def.kernel && !def.bios)
      throw new VmsupError('USAGE', 'no kernel specified', 'this machine has no boot loader: give -b kernel or --bios firmware');
    this.checkFiles(peer, def);
    return def;
  }

  // ---- launching and stopping ---------------------------------------------

  private launch(vm: VmRecord, reason: string): Running {
    const a = addon();
    // As root the tty goes to the VM's owner and the tty group (vmd's 0620);
    // a per-user daemon's ptys are already its own and it may not chown them.
    const asRoot = process.getuid?.() === 0;
    const pty = a.openPty(asRoot ? vm.ownerUid : -1, asRoot ? this.ttyGid : -1);
    let wakeFd = -1;
    try {
      wakeFd = a.eventfdCreate();
    } catch (e) {
      a.closeFd(pty.master);
      a.closeFd(pty.slave);
      throw e;
    }
    const shared = new SharedArrayBuffer(SHARED_BYTES);
    const { port1, port2 } = new MessageChannel();
    const machine: MachineOptions = {
      memory: vm.memory,
      cpus: vm.cpus,
      kernel: vm.kernel ?? undefined,
      initrd: vm.initrd ?? undefined,
      cmdline: vm.cmdline,
      bios: vm.bios ?? undefined,
      disks: vm.disks.map((d) => ({ path: d.path, format: d.format, readOnly: d.readOnly })),
      consoleIn: pty.master,
      consoleOut: pty.master,
      wakeFd,
    };
    const drain = new tty.ReadStream(pty.slave);
    const r: Running = {
      vm,
      port: port1,
      wakeFd,
      shared,
      pty,
      drain,
      history: [],
      historyBytes: 0,
      attached: false,
      abort: new AbortController(),
      bootedAt: Date.now(),
      quickRestarts: 0,
      restarts: 0,
    };
    drain.on('data', (chunk: Buffer) => {
      r.history.push(chunk);
      r.historyBytes += chunk.length;
      while (r.historyBytes - r.history[0].length >= LIMITS.consoleHistoryBytes) r.historyBytes -= r.history.shift()!.length;
    });
    drain.on('error', () => undefined); // EIO once the master is closed
    this.running.set(vm.id, r);
    this.move(vm, 'waiting', reason, { tty: pty.path, tid: null, startedAt: new Date().toISOString() });
    const task: VmTask = { vmId: vm.id, name: vm.name, machine, port: port2, shared, sliceMs: this.settings.sliceMs };
    port1.on('message', (m: FromWorker) => void this.call(() => this.onWorker(r, m)).catch((e) => this.log.warn(String(e))));
    this.pool.run(task, { transferList: [port2], signal: r.abort.signal }).then(
      (res: VmTaskResult) => this.call(() => this.onExit(r, res, undefined)),
      (err: unknown) => this.call(() => this.onExit(r, undefined, err)),
    );
    return r;
  }

  private send(r: Running, m: ToWorker): void {
    r.port.postMessage(m);
    const bell = new Int32Array(r.shared, 0, 1);
    Atomics.add(bell, 0, 1);
    Atomics.notify(bell, 0);
    try {
      addon().eventfdWrite(r.wakeFd);
    } catch {
      /* the fd is closed only after the worker ended */
    }
  }

  private onWorker(r: Running, m: FromWorker): void {
    if (this.running.get(r.vm.id) !== r) return;
    const vm = r.vm;
    switch (m.type) {
      case 'starting':
        if (vm.state === 'waiting') this.move(vm, 'starting', 'a worker thread took the vm');
        break;
      case 'running':
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
    }
  }

  private onExit(r: Running, res: VmTaskResult | undefined, err: unknown): void {
    if (this.running.get(r.vm.id) !== r) return;
    clearTimeout(r.stopTimer);
    clearTimeout(r.killTimer);
    this.running.delete(r.vm.id);
    r.port.close();
    const a = addon();
    a.closeFd(r.wakeFd);
    a.closeFd(r.pty.master);
    r.drain.destroy(); // closes the slave fd
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
        }),
      timeout * 1000,
    );
  }

  // ---- requests ------------------------------------------------------------

  async status(peer: Peer, p: Params<'status'>): Promise<Results['status']> {
    return this.call(() => {
      if (p.vm !== undefined) return { vms: [this.info(this.findFor(peer, p.vm))] };
      return { vms: this.repo.listVms().filter((vm) => mayControl(peer, vm)).map((vm) => this.info(vm)) };
    });
  }

  async define(peer: Peer, p: Params<'define'>): Promise<Results['define']> {
    return this.call(() => {
      checkVmName(p.name);
      if (this.repo.find(p.name)) throw new VmsupError('EXISTS', `vm ${p.name} already exists`);
      const template = p.template !== undefined ? this.findFor(peer, p.template) : undefined;
      if (p.template !== undefined && !template) throw new VmsupError('NO_VM', 'invalid template');
      const def = this.buildDefinition(peer, p.name, p.config, template, false);
      const vm = this.create(def, `defined by ${who(peer)}`);
      this.log.info(`${vm.name}: defined by ${who(peer)}`);
      return { vm: this.info(vm) };
    });
  }

  async undefine(peer: Peer, p: Params<'undefine'>): Promise<Results['undefine']> {
    return this.call(() => {
      const vm = this.findFor(peer, p.vm);
      if (vm.state !== 'stopped' || this.running.has(vm.id))
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
    const vmId = await this.call(() => {
      if (this.closing) throw new VmsupError('SHUTDOWN', 'vmsupd is shutting down');
      let vm = this.repo.find(p.vm);
      const hasOptions = p.config !== undefined && Object.keys(p.config).length > 0;
      if (vm) {
        if (!mayControl(peer, vm)) throw new VmsupError('PERMISSION', `permission denied: vm ${vm.name} belongs to another user`);
        if (vm.state !== 'stopped' || this.running.has(vm.id))
          throw new VmsupError('ALREADY', `start vm command failed: vm ${vm.name} is already ${vm.state}`);
        if (hasOptions || p.template !== undefined)
          throw new VmsupError('DEFINED', `vm ${vm.name} is defined: start it without options`, 'change a definition by undefine + define');
        // A requester from the owning group must be able to read the files too.
        this.checkFiles(peer, vm);
      } else {
        if (/^\d+$/.test(p.vm)) throw new VmsupError('NO_VM', `vm not found: ${p.vm}`);
        if (!hasOptions && p.template === undefined) throw new VmsupError('NO_VM', `vm not found: ${p.vm}`);
        const template = p.template !== undefined ? this.findFor(peer, p.template) : undefined;
        const def = this.buildDefinition(peer, p.vm, p.config ?? {}, template, true);
        vm = this.create(def, `transient vm created by ${who(peer)}`);
      }
      try {
        this.launch(vm, reason ?? `start requested by ${who(peer)}`);
      } catch (e) {
        const err = asVmsupError(e);
        if (vm.transient) this.forget(vm, `start failed: ${err.message}`);
        throw new VmsupError(err.code, `start vm command failed: ${err.message}`);
      }
      // Queued behind a full pool: answer now, the VM stays "waiting".
      if (this.running.size <= this.settings.maxRunning) settled = this.until(vm.id, ['running', 'stopped']);
      return vm.id;
    });
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
      const vm = this.repo.byId(vmId);
      if (!vm) throw new VmsupError('START_FAILED', 'start vm command failed: the vm stopped');
      return { vm: this.info(vm) };
    });
  }

  async stop(peer: Peer, p: Params<'stop'>): Promise<Results['stop']> {
    const waits: Promise<EventRecord>[] = [];
    const outcomes = await this.call(() => {
      let targets: VmRecord[];
      if (p.all) {
        targets = this.repo.listVms().filter((vm) => mayControl(peer, vm) && this.running.has(vm.id));
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
        if (p.wait || p.force) waits.push(this.until(t.id, ['stopped']));
        out.push({ id: t.id, name: t.name, outcome: p.force ? 'forced' : p.wait ? 'terminated' : 'requested' });
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
      const vm = this.repo.byId(ev.vmId!);
      if (!vm) throw new VmsupError('STOPPED', 'the vm stopped');
      return { vm: this.info(this.running.get(vm.id)?.vm ?? vm) };
    });
  }

  async wait(peer: Peer, p: Params<'wait'>): Promise<Results['wait']> {
    const [vm, w] = await this.call(() => {
      const vm = this.findFor(peer, p.vm);
      if (!this.running.has(vm.id)) return [vm, undefined] as const;
      return [vm, this.until(vm.id, ['stopped'])] as const;
    });
    if (!w) return { vm: this.info(vm), reason: vm.reason };
    const ev = await w;
    return { vm: { ...this.info(vm), state: 'stopped', tty: null, pid: null, curmem: 0, codeCacheBytes: 0 }, reason: ev.reason };
  }

  async setLog(peer: Peer, p: Params<'log'>): Promise<Results['log']> {
    if (!isRoot(peer)) throw new VmsupError('PERMISSION', 'permission denied: only root may change the log level');
    this.log.verbose = p.level === 'verbose';
    this.log.info(`log level ${p.level}`);
    return { level: p.level };
  }

  async reload(peer: Peer): Promise<Results['reload']> {
    if (!isRoot(peer)) throw new VmsupError('PERMISSION', 'permission denied: only root may reload vmsupd');
    return this.call(() => {
      const max = this.settings.maxRunning;
      this.settings = loadSettings(this.stateDir, (m) => this.log.warn(m));
      if (this.settings.maxRunning !== max) this.log.warn('max_running takes effect at the next start of vmsupd');
      let removed = 0;
      for (const vm of this.repo.listVms()) {
        if (vm.transient && !this.running.has(vm.id)) {
          this.forget(vm, 'reload removed a stopped transient vm');
          removed++;
        }
      }
      this.log.info('configuration reloaded');
      return { removed };
    });
  }

  async reset(peer: Peer, p: Params<'reset'>): Promise<Results['reset']> {
    if (!isRoot(peer)) throw new VmsupError('PERMISSION', 'permission denied: only root may reset vmsupd');
    if (p.what === 'switches') return { stopped: 0 }; // no switches exist until networking lands
    const res = await this.stop(peer, { all: true, force: true });
    return { stopped: res.stopped.length };
  }

  /** Claims the console for this connection: stops draining the pty and
   * hands over the buffered output; the drain resumes when the client leaves. */
  async consoleAttach(peer: Peer, p: Params<'console'>, conn: Connection): Promise<Results['console']> {
    return this.call(() => {
      const vm = this.findFor(peer, p.vm);
      const r = this.running.get(vm.id);
      if (!r) throw new VmsupError('NOT_RUNNING', `console: vm ${vm.name} is not running`);
      if (r.attached) throw new VmsupError('BUSY', `console: vm ${vm.name}: the console is in use`);
      r.attached = true;
      // Stop reading the slave now, not after another highWaterMark of output:
      // take what the stream already holds, then stop the handle itself.
      r.drain.pause();
      for (let c = r.drain.read() as Buffer | null; c; c = r.drain.read() as Buffer | null) r.history.push(c);
      const h = (r.drain as unknown as { _handle?: { reading: boolean; readStop(): number } })._handle;
      if (h && h.reading) {
        h.reading = false;
        h.readStop();
      }
      let buf = Buffer.concat(r.history);
      if (buf.length > LIMITS.consoleHistoryBytes) buf = buf.subarray(buf.length - LIMITS.consoleHistoryBytes);
      r.history = [];
      r.historyBytes = 0;
      conn.onClose(() => {
        r.attached = false;
        if (!r.drain.destroyed) r.drain.resume();
      });
      return { vm: this.info(r.vm), tty: r.pty.path, history: buf.toString('base64') };
    });
  }

  async eventLog(peer: Peer, p: Params<'events'>, conn?: Connection, reqId = 0): Promise<Results['events']> {
    const res = await this.call(() => {
      const limit = p.limit ?? 100;
      let name: string | undefined;
      if (p.vm !== undefined) {
        const vm = this.repo.find(p.vm);
        if (vm && !mayControl(peer, vm)) throw new VmsupError('PERMISSION', `permission denied: vm ${vm.name} belongs to another user`);
        if (!vm && !isRoot(peer)) throw new VmsupError('NO_VM', `vm not found: ${p.vm}`);
        name = vm?.name ?? p.vm;
      }
      const visible = (vmId: number | null) => {
        if (isRoot(peer)) return true;
        const vm = vmId !== null ? this.repo.byId(vmId) : undefined;
        return vm !== undefined && mayControl(peer, vm);
      };
      const backlog = this.repo.events(name, isRoot(peer) || name ? limit : 10 * limit);
      const events = isRoot(peer) || name ? backlog : backlog.filter((e) => visible(e.vmId)).slice(-limit);
      if (!p.follow || !conn) return { events, follow: undefined };
      // Follow: stream every later event this peer may see until the client leaves.
      const owned = new Set<number>();
      const on = (ev: EventRecord) => {
        if (name !== undefined && ev.vm !== name) return;
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
      this.events.on('event', on);
      return { events: [], follow: new Promise<void>((resolve) => conn.onClose(() => (this.events.off('event', on), resolve()))) };
    });
    if (res.follow) await res.follow;
    return { events: res.events };
  }

  // ---- daemon life ---------------------------------------------------------

  /** After a crash or kill -9: VMs recorded as running did not survive. */
  async reconcile(): Promise<void> {
    await this.call(() => {
      for (const vm of this.repo.listVms()) {
        if (vm.state === 'stopped') continue;
        const was = vm.state;
        this.move(vm, 'stopped', `vmsupd was not running (killed or crashed) while the vm was ${was}; reconciled at start-up`, {
          tty: null,
          tid: null,
          startedAt: null,
        });
        if (vm.transient) this.forget(vm, 'a transient vm is forgotten when it stops');
      }
    });
  }

  /** vmd's staggered start: `autostartParallel` at a time, `autostartDelay` s between batches. */
  async autostart(): Promise<void> {
    const enabled = await this.call(() => this.repo.listVms().filter((vm) => vm.enabled && vm.state === 'stopped'));
    const n = this.settings.autostartParallel;
    for (let i = 0; i < enabled.length && !this.closing; i += n) {
      if (i > 0) await new Promise((r) => setTimeout(r, this.settings.autostartDelay * 1000));
      const batch = enabled.slice(i, i + n);
      await Promise.all(
        batch.map((vm) =>
          this.start(ROOT_PEER, { vm: String(vm.id) }, 'autostart of an enabled vm').catch((e) =>
            this.call(() => {
              const cur = this.repo.byId(vm.id);
              if (cur) this.note(cur, `autostart failed: ${asVmsupError(e).message}`);
            }),
          ),
        ),
      );
    }
  }

  /** SIGTERM: Ctrl-Alt-Del to every guest, wait up to shutdownTimeout, force the rest. */
  async shutdown(): Promise<void> {
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
    await this.pool.destroy().catch(() => undefined);
    await this.call(() => this.repo.close());
  }
}
