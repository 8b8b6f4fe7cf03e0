// Access control. Every request is judged by the peer's uid/gid as the kernel
// reported them (SO_PEERCRED): root may do everything; another user sees and
// controls only VMs owned by that user or by one of that user's groups, and may
// only give a VM files that user can read (and write, for writable disks).
import fs from 'node:fs';
import path from 'node:path';
import { VmsupError } from './protocol/errors.js';

export interface Peer {
  pid: number;
  uid: number;
  gid: number;
  /** Primary and supplementary groups, from /etc/passwd and /etc/group. */
  groups: Set<number>;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

/** Parsed /etc/passwd and /etc/group, re-read when the file changes (checked at most once a second). */
const cache = new Map<string, { checked: number; mtimeMs: number; lines: string[][] }>();

function readLines(file: string): string[][] {
  const now = Date.now();
  const c = cache.get(file);
  if (c && now - c.checked < 1000) return c.lines;
  let mtimeMs = -1;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    /* missing: no entries */
  }
  if (c && c.mtimeMs === mtimeMs) {
    c.checked = now;
    return c.lines;
  }
  let lines: string[][] = [];
  try {
    lines = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    /* unreadable: no entries */
  }
  cache.set(file, { checked: now, mtimeMs, lines });
  return lines;
}

function passwd(): PasswdEntry[] {
  return readLines('/etc/passwd').map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) }));
}

function groupTable(): { name: string; gid: number; members: string[] }[] {
  return readLines('/etc/group').map((f) => ({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

export function userName(uid: number): string {
  return passwd().find((p) => p.uid === uid)?.name ?? String(uid);
}

export function groupName(gid: number): string {
  return groupTable().find((g) => g.gid === gid)?.name ?? String(gid);
}

export function lookupUser(name: string): PasswdEntry | undefined {
  if (/^\d+$/.test(name)) return passwd().find((p) => p.uid === Number(name)) ?? { name, uid: Number(name), gid: Number(name) };
  return passwd().find((p) => p.name === name);
}

export function lookupGroup(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  return groupTable().find((g) => g.name === name)?.gid;
}

/** The groups of uid: its primary gid (as the kernel reported it), its passwd gid, and /etc/group memberships. */
export function peerFromCred(cred: { pid: number; uid: number; gid: number }): Peer {
  const groups = new Set<number>([cred.gid]);
  const pw = passwd().find((p) => p.uid === cred.uid);
  if (pw) {
    groups.add(pw.gid);
    for (const g of groupTable()) if (g.members.includes(pw.name)) groups.add(g.gid);
  }
  return { ...cred, groups };
}

export function isRoot(peer: Peer): boolean {
  return peer.uid === 0;
}

/** May this peer see and control a VM owned by uid:gid? */
export function mayControl(peer: Peer, owner: { ownerUid: number; ownerGid: number }): boolean {
  return isRoot(peer) || peer.uid === owner.ownerUid || peer.groups.has(owner.ownerGid);
}

function allowed(st: fs.Stats, peer: Peer, bits: number): boolean {
  // Unix permission rule: the owner class, else the group class, else other.
  if (st.uid === peer.uid) return ((st.mode >> 6) & bits) === bits;
  if (peer.groups.has(st.gid)) return ((st.mode >> 3) & bits) === bits;
  return (st.mode & bits) === bits;
}

/**
 * Throws unless `peer` could open `file` itself: every directory on the way
 * must be searchable and the file readable (and writable when `write`).
 * Root may use any file that exists. ACLs are not consulted.
 */
export function checkFileAccess(peer: Peer, file: string, what: string, write = false): void {
  // Judge the file the path really names: a symlink in the user's own
  // directory must not lend them a file behind directories they cannot search.
  let abs: string;
  let st: fs.Stats;
  try {
    abs = fs.realpathSync(path.resolve(file));
    st = fs.statSync(abs);
  } catch {
    throw new VmsupError('NO_FILE', `cannot open ${what} '${file}': No such file or directory`);
  }
  if (!st.isFile() && !st.isBlockDevice()) throw new VmsupError('NOT_REGULAR', `${what} '${file}' must be a regular file`);
  if (isRoot(peer)) return;
  const parts = abs.split('/').filter(Boolean);
  let dir = '/';
  for (let i = 0; i < parts.length - 1; i++) {
    const ds = fs.statSync(dir);
    if (!allowed(ds, peer, 1)) throw new VmsupError('PERMISSION', `cannot open ${what} '${file}': Permission denied`);
    dir = path.join(dir, parts[i]);
  }
  const ds = fs.statSync(dir);
  if (!allowed(ds, peer, 1)) throw new VmsupError('PERMISSION', `cannot open ${what} '${file}': Permission denied`);
  if (!allowed(st, peer, write ? 6 : 4)) throw new VmsupError('PERMISSION', `cannot open ${what} '${file}': Permission denied`);
}

/** The credentials a VM's files are opened with: the owner's uid, the owner's
 * primary group from /etc/passwd, and its /etc/group memberships (daemon/vmfiles.ts).
 * The VM's group lends no file access: only the owner's own groups count. An
 * owner missing from /etc/passwd gets the VM's gid and no other group. */
export function ownerCredentials(uid: number, vmGid: number): { uid: number; gid: number; groups: number[] } {
  const pw = passwd().find((p) => p.uid === uid);
  if (!pw) return { uid, gid: vmGid, groups: [vmGid] };
  const groups = new Set<number>([pw.gid]);
  for (const g of groupTable()) if (g.members.includes(pw.name)) groups.add(g.gid);
  return { uid, gid: pw.gid, groups: [...groups] };
}
