// The repository the supervisor uses: the only code that writes the database.
// better-sqlite3 is synchronous, so a call finishes its transaction before the
// supervisor's next mailbox item runs. WAL keeps readers (sqlite3 shell,
// backups) from blocking the daemon; synchronous=NORMAL is durable across a
// crash of vmsupd (only a host power cut can lose the last transactions).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DiskSpec, EventRecord, VmState } from '../daemon/protocol/messages.js';
import { migrate } from './migrations.js';

export interface VmDefinition {
  name: string;
  ownerUid: number;
  ownerGid: number;
  memory: number;
  cpus: number;
  kernel: string | null;
  initrd: string | null;
  cmdline: string;
  bios: string | null;
  bootDevice: string | null;
  disks: DiskSpec[];
  enabled: boolean;
  transient: boolean;
  template: string | null;
}

export interface VmRecord extends VmDefinition {
  id: number;
  state: VmState;
  tty: string | null;
  tid: number | null;
  startedAt: string | null;
  reason: string | null;
}

interface VmRowRaw {
  id: number;
  name: string;
  owner_uid: number;
  owner_gid: number;
  memory: number;
  cpus: number;
  kernel: string | null;
  initrd: string | null;
  cmdline: string;
  bios: string | null;
  boot_device: string | null;
  enabled: number;
  transient: number;
  template: string | null;
  state: VmState | null;
  tty: string | null;
  tid: number | null;
  started_at: string | null;
  reason: string | null;
}

export interface RuntimeUpdate {
  tty?: string | null;
  tid?: number | null;
  startedAt?: string | null;
}

export class Repository {
  readonly db: Database.Database;
  private readonly stmt;

  constructor(stateDir: string) {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.db = new Database(path.join(stateDir, 'vmsup.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    const d = this.db;
    this.stmt = {
      all: d.prepare(
        `SELECT v.*, r.state, r.tty, r.tid, r.started_at, r.reason FROM vms v LEFT JOIN runtime r ON r.vm_id = v.id ORDER BY v.id`,
      ),
      byId: d.prepare(
        `SELECT v.*, r.state, r.tty, r.tid, r.started_at, r.reason FROM vms v LEFT JOIN runtime r ON r.vm_id = v.id WHERE v.id = ?`,
      ),
      byName: d.prepare(
        `SELECT v.*, r.state, r.tty, r.tid, r.started_at, r.reason FROM vms v LEFT JOIN runtime r ON r.vm_id = v.id WHERE v.name = ?`,
      ),
      disks: d.prepare(`SELECT path, format, read_only FROM disks WHERE vm_id = ? ORDER BY idx`),
      allDisks: d.prepare(`SELECT vm_id, path, format, read_only FROM disks ORDER BY vm_id, idx`),
      insertVm: d.prepare(
        `INSERT INTO vms (name, owner_uid, owner_gid, memory, cpus, kernel, initrd, cmdline, bios, boot_device, enabled, transient, template, created_at)
         VALUES (@name, @ownerUid, @ownerGid, @memory, @cpus, @kernel, @initrd, @cmdline, @bios, @bootDevice, @enabled, @transient, @template, @now)`,
      ),
      insertDisk: d.prepare(`INSERT INTO disks (vm_id, idx, path, format, read_only) VALUES (?, ?, ?, ?, ?)`),
      insertRuntime: d.prepare(`INSERT INTO runtime (vm_id, state, reason) VALUES (?, 'stopped', ?)`),
      deleteVm: d.prepare(`DELETE FROM vms WHERE id = ?`),
      setEnabled: d.prepare(`UPDATE vms SET enabled = ? WHERE id = ?`),
      setRuntime: d.prepare(
        `UPDATE runtime SET state = @state, reason = @reason, tty = @tty, tid = @tid, started_at = @startedAt WHERE vm_id = @id`,
      ),
      appendEvent: d.prepare(
        `INSERT INTO events (time, vm_id, vm_name, from_state, to_state, reason) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      eventsAll: d.prepare(`SELECT * FROM (SELECT * FROM events ORDER BY seq DESC LIMIT ?) ORDER BY seq`),
      eventsVm: d.prepare(`SELECT * FROM (SELECT * FROM events WHERE vm_name = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`),
      getSetting: d.prepare(`SELECT value FROM settings WHERE key = ?`),
      putSetting: d.prepare(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
    };
  }

  private toRecord(r: VmRowRaw, disks: DiskSpec[]): VmRecord {
    return {
      id: r.id,
      name: r.name,
      ownerUid: r.owner_uid,
      ownerGid: r.owner_gid,
      memory: r.memory,
      cpus: r.cpus,
      kernel: r.kernel,
      initrd: r.initrd,
      cmdline: r.cmdline,
      bios: r.bios,
      bootDevice: r.boot_device,
      enabled: r.enabled === 1,
      transient: r.transient === 1,
      template: r.template,
      disks,
      state: r.state ?? 'stopped',
      tty: r.tty,
      tid: r.tid,
      startedAt: r.started_at,
      reason: r.reason,
    };
  }

  private disksOf(id: number): DiskSpec[] {
    return (this.stmt.disks.all(id) as { path: string; format: 'raw' | 'qcow2'; read_only: number }[]).map((d) => ({
      path: d.path,
      format: d.format,
      readOnly: d.read_only === 1,
    }));
  }

  listVms(): VmRecord[] {
    const disks = new Map<number, DiskSpec[]>();
    for (const d of this.stmt.allDisks.all() as { vm_id: number; path: string; format: 'raw' | 'qcow2'; read_only: number }[]) {
      const list = disks.get(d.vm_id) ?? [];
      list.push({ path: d.path, format: d.format, readOnly: d.read_only === 1 });
      disks.set(d.vm_id, list);
    }
    return (this.stmt.all.all() as VmRowRaw[]).map((r) => this.toRecord(r, disks.get(r.id) ?? []));
  }

  /** By numeric id ("3") or by name. */
  find(ref: string): VmRecord | undefined {
    const r = (/^\d+$/.test(ref) ? this.stmt.byId.get(Number(ref)) : this.stmt.byName.get(ref)) as VmRowRaw | undefined;
    return r ? this.toRecord(r, this.disksOf(r.id)) : undefined;
  }

  byId(id: number): VmRecord | undefined {
    const r = this.stmt.byId.get(id) as VmRowRaw | undefined;
    return r ? this.toRecord(r, this.disksOf(r.id)) : undefined;
  }

  /** Stores a new VM and logs its definition, in one transaction. */
  insert(def: VmDefinition, reason: string): VmRecord {
    const id = this.db.transaction(() => {
      const now = new Date().toISOString();
      const info = this.stmt.insertVm.run({
        ...def,
        enabled: def.enabled ? 1 : 0,
        transient: def.transient ? 1 : 0,
        now,
      });
      const vmId = Number(info.lastInsertRowid);
      def.disks.forEach((d, i) => this.stmt.insertDisk.run(vmId, i, d.path, d.format, d.readOnly ? 1 : 0));
      this.stmt.insertRuntime.run(vmId, reason);
      this.stmt.appendEvent.run(now, vmId, def.name, null, 'defined', reason);
      return vmId;
    })();
    return this.byId(id)!;
  }

  /** Forgets a VM (definition, disks, runtime); the event log keeps its history. */
  remove(vm: VmRecord, reason: string): EventRecord {
    const time = new Date().toISOString();
    const seq = this.db.transaction(() => {
      this.stmt.deleteVm.run(vm.id);
      return Number(this.stmt.appendEvent.run(time, vm.id, vm.name, vm.state, 'undefined', reason).lastInsertRowid);
    })();
    return { seq, time, vmId: vm.id, vm: vm.name, from: vm.state, to: 'undefined', reason };
  }

  setEnabled(id: number, enabled: boolean): void {
    this.stmt.setEnabled.run(enabled ? 1 : 0, id);
  }

  /** Moves a VM to a new state and appends the transition to the event log, atomically. */
  transition(vm: VmRecord, to: VmState, reason: string, rt: RuntimeUpdate = {}): EventRecord {
    const time = new Date().toISOString();
    const from = vm.state;
    const seq = this.db.transaction(() => {
      this.stmt.setRuntime.run({
        id: vm.id,
        state: to,
        reason,
        tty: rt.tty !== undefined ? rt.tty : vm.tty,
        tid: rt.tid !== undefined ? rt.tid : vm.tid,
        startedAt: rt.startedAt !== undefined ? rt.startedAt : vm.startedAt,
      });
      return Number(this.stmt.appendEvent.run(time, vm.id, vm.name, from, to, reason).lastInsertRowid);
    })();
    vm.state = to;
    vm.reason = reason;
    if (rt.tty !== undefined) vm.tty = rt.tty;
    if (rt.tid !== undefined) vm.tid = rt.tid;
    if (rt.startedAt !== undefined) vm.startedAt = rt.startedAt;
    return { seq, time, vmId: vm.id, vm: vm.name, from, to, reason };
  }

  /** Appends an event that is not a state change (e.g. a guest reboot). */
  note(vm: VmRecord, reason: string): EventRecord {
    const time = new Date().toISOString();
    const seq = Number(this.stmt.appendEvent.run(time, vm.id, vm.name, vm.state, vm.state, reason).lastInsertRowid);
    return { seq, time, vmId: vm.id, vm: vm.name, from: vm.state, to: vm.state, reason };
  }

  events(vmName: string | undefined, limit: number): EventRecord[] {
    const rows = (vmName ? this.stmt.eventsVm.all(vmName, limit) : this.stmt.eventsAll.all(limit)) as {
      seq: number;
      time: string;
      vm_id: number | null;
      vm_name: string;
      from_state: VmState | null;
      to_state: EventRecord['to'];
      reason: string;
    }[];
    return rows.map((r) => ({ seq: r.seq, time: r.time, vmId: r.vm_id, vm: r.vm_name, from: r.from_state, to: r.to_state, reason: r.reason }));
  }

  getSetting(key: string): string | undefined {
    return (this.stmt.getSetting.get(key) as { value: string } | undefined)?.value;
  }

  putSetting(key: string, value: string): void {
    this.stmt.putSetting.run(key, value);
  }

  close(): void {
    this.db.close();
  }
}
