// The repository the supervisor uses: the only code that writes the database.
// better-sqlite3 is synchronous, so a call finishes its transaction before the
// supervisor's next mailbox item runs. WAL keeps readers (sqlite3 shell,
// backups) from blocking the daemon; synchronous=NORMAL is durable across a
// crash of vmsupd (only a host power cut can lose the last transactions).
//
// locking_mode=EXCLUSIVE, set before WAL is entered, keeps the WAL index in
// the daemon's heap instead of a mmap()ed vmsup.db-shm: a page fault on a
// shared file that was made immutable (chattr +i) or truncated is a SIGBUS
// that kills every VM, and an -shm file is one more thing a user could point
// a disk image at. The cost: no other process may read the database while
// vmsupd runs (one vmsupd per state directory holds it anyway). mmap_size=0
// keeps the database file itself out of memory maps for the same reason.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
// db/'s own record types (no wire types): the daemon's are the same shapes (daemon/records.ts).
import type {
  StoredAllowInstance as AllowInstance,
  StoredDisk as DiskSpec,
  StoredEvent as EventRecord,
  StoredNic as NicSpec,
  StoredState as VmState,
} from './records.js';
import { DbError } from './errors.js';

/** One state change as the database stores it (runtime row + event). */
export interface TransitionRow {
  id: number;
  name: string;
  from: VmState | null;
  to: VmState;
  reason: string;
  time: string;
  tty: string | null;
  tid: number | null;
  startedAt: string | null;
}

/** What a retention pass removed; the same facts are kept in event_trims. */
export interface TrimResult {
  deleted: number;
  throughSeq: number;
  digest: string;
}

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
  /** Its NICs, MACs fixed at define (the interfaces table); none when absent. */
  nics?: NicSpec[];
  enabled: boolean;
  transient: boolean;
  template: string | null;
  /** The vm.conf file that defined it (vmsup load), or null. */
  source: string | null;
  /** Its vm.conf `allow instance` block: what an instance may change, who may make one. */
  allowInstance: AllowInstance | null;
}

interface NicRow {
  kind: NicSpec['kind'];
  switch: string | null;
  lladdr: string;
  forwards: string | null;
}

export interface SwitchRecord {
  name: string;
  lockedLladdr: boolean;
  groupGid: number | null;
  /** 'tap:IF' | 'bridge:BR', or null. */
  uplink: string | null;
}

export interface VmRecord extends VmDefinition {
  nics: NicSpec[];
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
  source: string | null;
  allow_instance: string | null;
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

  /** `stateDir`'s vmsup.db, or with ':memory:' a database in memory (the Supervisor's unit tests). */
  constructor(stateDir: string) {
    const memory = stateDir === ':memory:';
    if (!memory) fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const file = memory ? ':memory:' : path.join(stateDir, 'vmsup.db');
    if (!memory) Repository.checkFile(file);
    try {
      this.db = new Database(file);
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('mmap_size = 0');
      this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      migrate(this.db);
      // Fail now, with the reason, rather than at the first VM's exit.
      this.db.prepare(`INSERT INTO settings (key, value) VALUES ('opened_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(new Date().toISOString());
    } catch (e) {
      if (e instanceof DbError) throw e;
      throw new DbError('DB', `cannot use the database ${file}: ${(e as Error).message}`, 'check that the file and its directory are writable (not immutable, not on a full or read-only file system)');
    }
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
        `INSERT INTO vms (name, owner_uid, owner_gid, memory, cpus, kernel, initrd, cmdline, bios, boot_device, enabled, transient, template, source, allow_instance, created_at)
         VALUES (@name, @ownerUid, @ownerGid, @memory, @cpus, @kernel, @initrd, @cmdline, @bios, @bootDevice, @enabled, @transient, @template, @source, @allowInstanceJson, @now)`,
      ),
      updateVm: d.prepare(
        `UPDATE vms SET owner_uid = @ownerUid, owner_gid = @ownerGid, memory = @memory, cpus = @cpus, kernel = @kernel, initrd = @initrd,
           cmdline = @cmdline, bios = @bios, boot_device = @bootDevice, enabled = @enabled, transient = @transient, template = @template,
           source = @source, allow_instance = @allowInstanceJson WHERE id = @id`,
      ),
      nics: d.prepare(`SELECT kind, switch, lladdr, forwards FROM interfaces WHERE vm_id = ? ORDER BY idx`),
      allNics: d.prepare(`SELECT vm_id, kind, switch, lladdr, forwards FROM interfaces ORDER BY vm_id, idx`),
      insertNic: d.prepare(`INSERT INTO interfaces (vm_id, idx, kind, switch, lladdr, forwards) VALUES (?, ?, ?, ?, ?, ?)`),
      deleteNics: d.prepare(`DELETE FROM interfaces WHERE vm_id = ?`),
      switches: d.prepare(`SELECT name, locked_lladdr, group_gid, uplink FROM switches ORDER BY name`),
      insertSwitch: d.prepare(`INSERT INTO switches (name, locked_lladdr, group_gid, created_at, uplink) VALUES (?, ?, ?, ?, ?)`),
      deleteSwitch: d.prepare(`DELETE FROM switches WHERE name = ?`),
      deleteDisks: d.prepare(`DELETE FROM disks WHERE vm_id = ?`),
      setTransient: d.prepare(`UPDATE vms SET transient = ? WHERE id = ?`),
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
      eventsVmId: d.prepare(`SELECT * FROM (SELECT * FROM events WHERE vm_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`),
      eventCount: d.prepare(`SELECT COUNT(*) AS n, MIN(seq) AS first FROM events`),
      oldEvents: d.prepare(`SELECT * FROM events WHERE seq <= ? ORDER BY seq`),
      lastTrim: d.prepare(`SELECT * FROM event_trims ORDER BY id DESC LIMIT 1`),
      insertTrim: d.prepare(
        `INSERT INTO event_trims (time, first_seq, through_seq, deleted, digest, prev_digest) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      deleteEvents: d.prepare(`DELETE FROM events WHERE seq <= ?`),
      seqOfAge: d.prepare(`SELECT MAX(seq) AS seq FROM events WHERE time < ?`),
      getSetting: d.prepare(`SELECT value FROM settings WHERE key = ?`),
      putSetting: d.prepare(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
    };
  }

  private static nicOfRow(n: NicRow): NicSpec {
    const spec: NicSpec = { kind: n.kind, lladdr: n.lladdr };
    if (n.switch !== null) spec.switch = n.switch;
    if (n.kind === 'nat') spec.forwards = n.forwards ? JSON.parse(n.forwards) : [];
    return spec;
  }

  private nicsOf(id: number): NicSpec[] {
    return (this.stmt.nics.all(id) as NicRow[]).map(Repository.nicOfRow);
  }

  private insertNics(id: number, nics: NicSpec[] | undefined): void {
    (nics ?? []).forEach((n, i) =>
      this.stmt.insertNic.run(id, i, n.kind, n.switch ?? null, n.lladdr, n.kind === 'nat' ? JSON.stringify(n.forwards ?? []) : null),
    );
  }

  private toRecord(r: VmRowRaw, disks: DiskSpec[], nics?: NicSpec[]): VmRecord {
    return {
      nics: nics ?? this.nicsOf(r.id),
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
      source: r.source,
      allowInstance: r.allow_instance ? (JSON.parse(r.allow_instance) as AllowInstance) : null,
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
    const nics = new Map<number, NicSpec[]>();
    for (const n of this.stmt.allNics.all() as (NicRow & { vm_id: number })[]) {
      const list = nics.get(n.vm_id) ?? [];
      list.push(Repository.nicOfRow(n));
      nics.set(n.vm_id, list);
    }
    return (this.stmt.all.all() as VmRowRaw[]).map((r) => this.toRecord(r, disks.get(r.id) ?? [], nics.get(r.id) ?? []));
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
        allowInstanceJson: def.allowInstance ? JSON.stringify(def.allowInstance) : null,
        now,
      });
      const vmId = Number(info.lastInsertRowid);
      def.disks.forEach((d, i) => this.stmt.insertDisk.run(vmId, i, d.path, d.format, d.readOnly ? 1 : 0));
      this.insertNics(vmId, def.nics);
      this.stmt.insertRuntime.run(vmId, reason);
      this.stmt.appendEvent.run(now, vmId, def.name, null, 'defined', reason);
      return vmId;
    })();
    return this.byId(id)!;
  }

  /**
   * Changes a VM's definition in place (define --replace, vm.conf load): same
   * id, same runtime row; a running VM gets it at its next start. Logged as a
   * note in the VM's current state, in the same transaction. Returns its seq.
   */
  replace(id: number, state: VmState, def: VmDefinition, reason: string, time = new Date().toISOString()): number {
    return this.db.transaction(() => {
      this.stmt.updateVm.run({
        ...def,
        id,
        enabled: def.enabled ? 1 : 0,
        transient: def.transient ? 1 : 0,
        allowInstanceJson: def.allowInstance ? JSON.stringify(def.allowInstance) : null,
      });
      this.stmt.deleteDisks.run(id);
      def.disks.forEach((d, i) => this.stmt.insertDisk.run(id, i, d.path, d.format, d.readOnly ? 1 : 0));
      this.stmt.deleteNics.run(id);
      this.insertNics(id, def.nics);
      return Number(this.stmt.appendEvent.run(time, id, def.name, state, state, reason).lastInsertRowid);
    })();
  }

  /** A transient VM is forgotten when it stops (vm.conf reload removes running VMs so). */
  setTransient(id: number, transient: boolean): void {
    this.stmt.setTransient.run(transient ? 1 : 0, id);
  }

  /** Forgets a VM (definition, disks, runtime); the event log keeps its history. */
  remove(vm: VmRecord, reason: string, time = new Date().toISOString()): EventRecord {
    const seq = this.db.transaction(() => {
      this.stmt.deleteVm.run(vm.id);
      return Number(this.stmt.appendEvent.run(time, vm.id, vm.name, vm.state, 'undefined', reason).lastInsertRowid);
    })();
    return { seq, time, vmId: vm.id, vm: vm.name, from: vm.state, to: 'undefined', reason };
  }

  /** The switches `vmsup switch create` stored. */
  listSwitches(): SwitchRecord[] {
    return (this.stmt.switches.all() as { name: string; locked_lladdr: number; group_gid: number | null; uplink: string | null }[]).map((r) => ({
      name: r.name,
      lockedLladdr: r.locked_lladdr === 1,
      groupGid: r.group_gid,
      uplink: r.uplink,
    }));
  }

  insertSwitch(sw: SwitchRecord): void {
    this.stmt.insertSwitch.run(sw.name, sw.lockedLladdr ? 1 : 0, sw.groupGid, new Date().toISOString(), sw.uplink);
  }

  deleteSwitch(name: string): void {
    this.stmt.deleteSwitch.run(name);
  }

  setEnabled(id: number, enabled: boolean): void {
    this.stmt.setEnabled.run(enabled ? 1 : 0, id);
  }

  /** Moves a VM to a new state and appends the transition to the event log, atomically. */
  transition(vm: VmRecord, to: VmState, reason: string, rt: RuntimeUpdate = {}): EventRecord {
    const row = Repository.transitionRow(vm, to, reason, rt);
    const seq = this.writeTransition(row);
    Repository.applyTransition(vm, row);
    return { seq, time: row.time, vmId: vm.id, vm: vm.name, from: row.from, to, reason };
  }

  /** The row a transition of `vm` would store; nothing is written. */
  static transitionRow(vm: VmRecord, to: VmState, reason: string, rt: RuntimeUpdate = {}): TransitionRow {
    return {
      id: vm.id,
      name: vm.name,
      from: vm.state,
      to,
      reason,
      time: new Date().toISOString(),
      tty: rt.tty !== undefined ? rt.tty : vm.tty,
      tid: rt.tid !== undefined ? rt.tid : vm.tid,
      startedAt: rt.startedAt !== undefined ? rt.startedAt : vm.startedAt,
    };
  }

  /** The in-memory half of a transition. */
  static applyTransition(vm: VmRecord, row: TransitionRow): void {
    vm.state = row.to;
    vm.reason = row.reason;
    vm.tty = row.tty;
    vm.tid = row.tid;
    vm.startedAt = row.startedAt;
  }

  /** The database half: runtime row and event in one transaction; returns the event's seq. */
  writeTransition(row: TransitionRow): number {
    return this.db.transaction(() => {
      // The VM may be gone (undefined while this write waited for a retry): the event still counts.
      this.stmt.setRuntime.run({ id: row.id, state: row.to, reason: row.reason, tty: row.tty, tid: row.tid, startedAt: row.startedAt });
      return Number(this.stmt.appendEvent.run(row.time, row.id, row.name, row.from, row.to, row.reason).lastInsertRowid);
    })();
  }

  /** Appends a note (from = to = state) with a given time; returns its seq. */
  writeNote(vmId: number | null, name: string, state: VmState | null, reason: string, time: string): number {
    return Number(this.stmt.appendEvent.run(time, vmId, name, state, state ?? 'stopped', reason).lastInsertRowid);
  }

  /** Appends an event that is not a state change (e.g. a guest reboot). */
  note(vm: VmRecord, reason: string): EventRecord {
    const time = new Date().toISOString();
    const seq = Number(this.stmt.appendEvent.run(time, vm.id, vm.name, vm.state, vm.state, reason).lastInsertRowid);
    return { seq, time, vmId: vm.id, vm: vm.name, from: vm.state, to: vm.state, reason };
  }

  /**
   * The last `limit` events: of one VM identity (a number: its id, so a later VM
   * of the same name does not inherit them), of a name (root's look-up of a VM
   * that no longer exists), or of all VMs.
   */
  events(vm: number | string | undefined, limit: number): EventRecord[] {
    const q =
      typeof vm === 'number' ? this.stmt.eventsVmId.all(vm, limit) : vm !== undefined ? this.stmt.eventsVm.all(vm, limit) : this.stmt.eventsAll.all(limit);
    const rows = q as {
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

  /**
   * Retention: removes the oldest events so that at most `maxEvents` remain and
   * none is older than `maxAgeDays` (0: no age limit). Tamper-evidence is kept:
   * the removal is allowed by the database only up to a seq recorded first in
   * the append-only event_trims table, with the count and a SHA-256 digest of
   * the removed rows chained to the previous trim's digest. A verifier checks
   * that seqs run without gaps from the last trim's through_seq + 1.
   */
  trimEvents(maxEvents: number, maxAgeDays: number): TrimResult | undefined {
    return this.db.transaction(() => {
      const { n, first } = this.stmt.eventCount.get() as { n: number; first: number | null };
      if (first === null) return undefined;
      let through = 0;
      if (maxEvents > 0 && n > maxEvents) through = first + (n - maxEvents) - 1;
      if (maxAgeDays > 0) {
        const cutoff = new Date(Date.now() - maxAgeDays * 86_400_000).toISOString();
        const old = (this.stmt.seqOfAge.get(cutoff) as { seq: number | null }).seq;
        if (old !== null && old > through) through = old;
      }
      if (through < first) return undefined;
      const prev = this.stmt.lastTrim.get() as { digest: string } | undefined;
      const h = crypto.createHash('sha256');
      h.update(prev?.digest ?? '');
      let deleted = 0;
      for (const r of this.stmt.oldEvents.iterate(through) as Iterable<Record<string, unknown>>) {
        h.update(JSON.stringify([r.seq, r.time, r.vm_id, r.vm_name, r.from_state, r.to_state, r.reason]) + '\n');
        deleted++;
      }
      const digest = h.digest('hex');
      this.stmt.insertTrim.run(new Date().toISOString(), first, through, deleted, digest, prev?.digest ?? null);
      this.stmt.deleteEvents.run(through);
      return { deleted, throughSeq: through, digest };
    })();
  }

  /** Checks that the event log has no gap that a trim record does not explain. */
  verifyEvents(): { ok: boolean; problem?: string } {
    const trim = this.stmt.lastTrim.get() as { through_seq: number } | undefined;
    const rows = this.db.prepare(`SELECT seq FROM events ORDER BY seq`).pluck().all() as number[];
    let expect = trim ? trim.through_seq + 1 : rows[0] ?? 1;
    for (const seq of rows) {
      if (seq !== expect) return { ok: false, problem: `event ${expect} is missing (next is ${seq})` };
      expect++;
    }
    return { ok: true };
  }

  /** Refuses a 0-byte database (a truncated or clobbered file would otherwise start empty, losing every definition). */
  static checkFile(file: string): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      // New: create it 0600 before SQLite does (it would use the umask).
      try {
        fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600));
      } catch (e) {
        throw new DbError('DB', `cannot create the database ${file}: ${(e as Error).message}`);
      }
      return;
    }
    if (!st.isFile()) throw new DbError('DB', `the database ${file} is not a regular file`);
    if (st.size === 0)
      throw new DbError(
        'DB_EMPTY',
        `the database ${file} is empty (0 bytes): refusing to start without its definitions`,
        'restore it from a backup, or remove the file to start with no vms',
      );
    // Definitions name users' files, the event log says who did what: not for every local user.
    if ((st.mode & 0o077) !== 0) {
      try {
        fs.chmodSync(file, st.mode & 0o700);
      } catch {
        /* reported by the open below if it matters */
      }
    }
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
