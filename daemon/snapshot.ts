// Files for `vmsup save NAME FILE` and `vmsup restore FILE`, opened by the
// daemon on a client's behalf, with the client's own credentials (so the
// kernel judges what the client may create or read, not a check of ours). A save creates a new file only (O_EXCL, so no symlink or existing
// file is followed or overwritten), mode 0600, owned by the client.
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { isRoot, type Peer } from './access.js';
import { openFileAs } from './vmfiles.js';
import { VmsupError } from './protocol/errors.js';

/** What the daemon keeps in a snapshot's META section. */
export interface DaemonSnapshotMeta {
  v: 1;
  daemon: true;
  /** The VM the state belongs to: restore goes back into it. */
  vm: string;
  memory: number;
  cpus: number;
  /** vmsup send: what `receive` needs to define the VM where it is new. */
  def?: MigrateDefinition;
}

/** A VM's definition as a send stream carries it (VmConfigInput's fields, no owner:
 * the receiving client owns what it receives). */
export interface MigrateDefinition {
  memory: number;
  cpus: number;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  bios?: string;
  bootDevice?: 'disk' | 'net' | 'cdrom';
  disks?: { path: string; format: 'raw' | 'qcow2'; readOnly?: boolean }[];
  nics?: { kind: 'nat' | 'local' | 'tap' | 'switch'; switch?: string; lladdr: string; forwards?: { hostAddr: number; hostPort: number; guestPort: number }[] }[];
}

/**
 * META of a send stream: nothing in it is trusted. It must be the daemon's
 * own; its definition is shape-checked again by `define` (the same check as a
 * client's request), here only its outline.
 */
export function parseMigrateMeta(raw: string, what: string): DaemonSnapshotMeta & { def: MigrateDefinition } {
  const m = parseDaemonMeta(raw, what);
  const d = m.def as unknown;
  if (d === null || typeof d !== 'object' || Array.isArray(d) || typeof (d as MigrateDefinition).memory !== 'number' || typeof (d as MigrateDefinition).cpus !== 'number')
    throw new VmsupError('SNAPSHOT_FORMAT', `${what}: not a stream from vmsup send (its META has no VM definition)`);
  return m as DaemonSnapshotMeta & { def: MigrateDefinition };
}

/**
 * Creates `file` for the client, as the client: a short-lived child process
 * with the client's uid and gid makes it (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), so
 * the kernel judges the directory, not a check of ours. The daemon then opens
 * the path and keeps the descriptor only if it is that very file (device and
 * inode), regular and empty: a directory swapped for a symlink in between
 * gets a refusal, not a file somewhere the client could not write.
 */
export async function createSnapshotFile(peer: Peer, file: string): Promise<number> {
  if (!path.isAbsolute(file)) throw new VmsupError('USAGE', `snapshot file must be an absolute path: ${file}`);
  const asSelf = isRoot(peer) || peer.uid === process.getuid?.();
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
  const refuse = (e: unknown): never => {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'File exists' : code === 'EACCES' ? 'Permission denied' : code === 'ENOENT' ? 'No such file or directory' : (e as Error).message;
    throw new VmsupError(code === 'EEXIST' ? 'EXISTS' : code === 'EACCES' ? 'PERMISSION' : 'NO_FILE', `cannot create ${file}: ${why}`);
  };
  if (asSelf) {
    try {
      return fs.openSync(file, flags, 0o600);
    } catch (e) {
      return refuse(e);
    }
  }
  const made = await new Promise<{ dev: number; ino: number }>((resolve, reject) => {
    const script =
      "const fs=require('fs');try{const fd=fs.openSync(process.argv[1],fs.constants.O_WRONLY|fs.constants.O_CREAT|fs.constants.O_EXCL|fs.constants.O_NOFOLLOW,0o600);" +
      "const st=fs.fstatSync(fd);process.stdout.write(JSON.stringify({dev:st.dev,ino:st.ino}))}catch(e){process.stdout.write(JSON.stringify({code:e.code,message:e.message}))}";
    execFile(process.execPath, ['-e', script, file], { uid: peer.uid, gid: peer.gid, timeout: 10_000, env: {} }, (err, stdout) => {
      let r: { dev?: number; ino?: number; code?: string; message?: string } = {};
      try {
        r = JSON.parse(String(stdout)) as typeof r;
      } catch {
        return reject(new VmsupError('NO_FILE', `cannot create ${file}: ${err?.message ?? 'the helper failed'}`));
      }
      if (r.code !== undefined) return reject(Object.assign(new Error(r.message), { code: r.code }));
      resolve({ dev: r.dev!, ino: r.ino! });
    });
  }).catch(refuse);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    return refuse(e);
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile() || st.dev !== made.dev || st.ino !== made.ino || st.size !== 0 || st.uid !== peer.uid) {
    fs.closeSync(fd);
    throw new VmsupError('NO_FILE', `cannot create ${file}: the file changed while it was being created`);
  }
  return fd;
}

/** Opens a snapshot for reading with the client's own credentials (daemon/vmfiles.ts); returns the fd. */
export function openSnapshotFile(peer: Peer, file: string): Promise<number> {
  if (!path.isAbsolute(file)) throw new VmsupError('USAGE', `snapshot file must be an absolute path: ${file}`);
  return openFileAs(peer.uid, peer.gid, file, 'snapshot');
}

export function parseDaemonMeta(raw: string, file: string): DaemonSnapshotMeta {
  try {
    const m = JSON.parse(raw) as DaemonSnapshotMeta;
    if (m.v === 1 && m.daemon === true && typeof m.vm === 'string') return m;
  } catch {
    /* below */
  }
  throw new VmsupError('SNAPSHOT_FORMAT', `${file}: not a snapshot saved by vmsupd (vmsup run --save files restore with vmsup run --restore)`);
}
