// Numbered schema migrations. Migration N brings the database from
// user_version N-1 to N inside one transaction; a database newer than this
// code is refused rather than guessed at. Never edit a published migration:
// add the next number.
import type Database from 'better-sqlite3';
import { DbError } from './errors.js';

export const MIGRATIONS: string[] = [
  // 1: VM definitions, their disks and interfaces, runtime state, the event log, settings.
  `
  CREATE TABLE vms (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, as vmd's ids
    name        TEXT NOT NULL UNIQUE,
    owner_uid   INTEGER NOT NULL,
    owner_gid   INTEGER NOT NULL,
    memory      INTEGER NOT NULL CHECK (memory > 0),
    cpus        INTEGER NOT NULL CHECK (cpus > 0),
    kernel      TEXT,
    initrd      TEXT,
    cmdline     TEXT NOT NULL,
    bios        TEXT,
    boot_device TEXT,
    enabled     INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    transient   INTEGER NOT NULL DEFAULT 0 CHECK (transient IN (0, 1)),
    template    TEXT,            -- the VM this one was instantiated from (-t)
    created_at  TEXT NOT NULL
  );
  CREATE TABLE disks (
    vm_id     INTEGER NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    path      TEXT NOT NULL,
    format    TEXT NOT NULL CHECK (format IN ('raw', 'qcow2')),  -- pinned, never re-probed
    read_only INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vm_id, idx)
  );
  CREATE TABLE interfaces (
    vm_id  INTEGER NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    switch TEXT,
    lladdr TEXT,
    PRIMARY KEY (vm_id, idx)
  );
  CREATE TABLE runtime (
    vm_id      INTEGER PRIMARY KEY REFERENCES vms(id) ON DELETE CASCADE,
    state      TEXT NOT NULL CHECK (state IN ('stopped','waiting','starting','running','paused','stopping')),
    tty        TEXT,
    tid        INTEGER,
    started_at TEXT,
    reason     TEXT
  );
  -- The event log outlives the VMs it names, so it has no foreign key.
  CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    time       TEXT NOT NULL,
    vm_id      INTEGER,
    vm_name    TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    reason     TEXT NOT NULL
  );
  CREATE INDEX events_vm ON events (vm_name, seq);
  CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
  CREATE TRIGGER events_append_only_d BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: events are found by VM identity (id), not by name; retention may remove
  // the oldest events only up to a point recorded first in event_trims, which
  // is itself append-only and chains a digest of what each trim removed.
  `
  CREATE INDEX events_vm_id ON events (vm_id, seq);
  CREATE TABLE event_trims (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    time        TEXT NOT NULL,
    first_seq   INTEGER NOT NULL,
    through_seq INTEGER NOT NULL,
    deleted     INTEGER NOT NULL,
    digest      TEXT NOT NULL,   -- sha256(prev_digest, removed rows)
    prev_digest TEXT
  );
  CREATE TRIGGER event_trims_append_only_u BEFORE UPDATE ON event_trims
    BEGIN SELECT RAISE(ABORT, 'the trim record is append-only'); END;
  CREATE TRIGGER event_trims_append_only_d BEFORE DELETE ON event_trims
    BEGIN SELECT RAISE(ABORT, 'the trim record is append-only'); END;
  DROP TRIGGER events_append_only_d;
  CREATE TRIGGER events_append_only_d BEFORE DELETE ON events
    WHEN old.seq > (SELECT COALESCE(MAX(through_seq), 0) FROM event_trims)
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
  `,
  // 3: vm.conf(5): the file that defined a VM (so that a later load or reload
  // of that file can update and remove what it made), and its `allow instance`
  // block as JSON ({options, owners}).
  `
  ALTER TABLE vms ADD COLUMN source TEXT;
  ALTER TABLE vms ADD COLUMN allow_instance TEXT;
  `,
  // 4: networking (issue 9): each interface's kind (nat, local, tap, switch) and,
  // for nat, its port forwards as JSON [{hostAddr, hostPort, guestPort}].
  `
  ALTER TABLE interfaces ADD COLUMN kind TEXT NOT NULL DEFAULT 'switch' CHECK (kind IN ('nat', 'local', 'tap', 'switch'));
  ALTER TABLE interfaces ADD COLUMN forwards TEXT;
  `,
  // 5: vmsup switches (vmsup switch create), made again in the native registry at each start.
  `
  CREATE TABLE switches (
    name          TEXT PRIMARY KEY,
    locked_lladdr INTEGER NOT NULL DEFAULT 0 CHECK (locked_lladdr IN (0, 1)),
    group_gid     INTEGER,          -- non-root users of this group may attach VMs; NULL: root only
    created_at    TEXT NOT NULL
  );
  `,
  // 6: another branch's (seams); this placeholder gives way to it at the merge.
  ``,
  // 7: a switch's uplink ('tap:IF' or 'bridge:BR'), made again at each start.
  `
  ALTER TABLE switches ADD COLUMN uplink TEXT;
  `,
];

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length)
    throw new DbError(
      'DB_TOO_NEW',
      `the database is at schema version ${current}, newer than this vmsupd (${MIGRATIONS.length})`,
    );
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return MIGRATIONS.length;
}
