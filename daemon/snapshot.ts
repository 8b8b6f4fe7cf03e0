// Files for `vmsup save NAME FILE` and `vmsup restore FILE`, opened by the
// daemon on a client's behalf: the client must be able to do the same itself
// (create the file in that directory / read it), as checkFileAccess judges
// VM files. A save creates a new file only (O_EXCL, so no symlink or existing
// file is followed or overwritten), mode 0600, owned by the client.
import fs from 'node:fs';
import path from 'node:path';
import { checkFileAccess, isRoot, type Peer } from './access.js';
import { VmsupError } from './protocol/errors.js';

/** What the daemon keeps in a snapshot's META section. */
export interface DaemonSnapshotMeta {
  v: 1;
  daemon: true;
  /** The VM the state belongs to: restore goes back into it. */
  vm: string;
  memory: number;
  cpus: number;
}

function allowed(st: fs.Stats, peer: Peer, bits: number): boolean {
  if (st.uid === peer.uid) return ((st.mode >> 6) & bits) === bits;
  if (peer.groups.has(st.gid)) return ((st.mode >> 3) & bits) === bits;
  return (st.mode & bits) === bits;
}

/** Creates `file` for writing as the client could: throws VmsupError, else returns the fd. */
export function createSnapshotFile(peer: Peer, file: string): number {
  if (!path.isAbsolute(file)) throw new VmsupError('USAGE', `snapshot file must be an absolute path: ${file}`);
  let dir: string;
  try {
    dir = fs.realpathSync(path.dirname(file));
  } catch {
    throw new VmsupError('NO_FILE', `cannot create ${file}: No such directory`);
  }
  if (!isRoot(peer)) {
    let walk = '/';
    for (const part of dir.split('/').filter(Boolean)) {
      if (!allowed(fs.statSync(walk), peer, 1)) throw new VmsupError('PERMISSION', `cannot create ${file}: Permission denied`);
      walk = path.join(walk, part);
    }
    if (!allowed(fs.statSync(dir), peer, 3)) throw new VmsupError('PERMISSION', `cannot create ${file}: Permission denied`);
  }
  let fd: number;
  try {
    fd = fs.openSync(path.join(dir, path.basename(file)), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VmsupError(code === 'EEXIST' ? 'EXISTS' : 'NO_FILE', `cannot create ${file}: ${code === 'EEXIST' ? 'File exists' : (e as Error).message}`);
  }
  if (process.getuid?.() === 0 && !isRoot(peer)) {
    try {
      fs.fchownSync(fd, peer.uid, peer.gid);
    } catch {
      /* leave it root's, mode 0600: the save still works */
    }
  }
  return fd;
}

/** Opens a snapshot for reading as the client could; returns the fd. */
export function openSnapshotFile(peer: Peer, file: string): number {
  checkFileAccess(peer, file, 'snapshot');
  try {
    return fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    throw new VmsupError('NO_FILE', `cannot open snapshot '${file}': ${(e as Error).message}`);
  }
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
