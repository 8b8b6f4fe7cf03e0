// Access control. Every request is judged by the peer's uid/gid as the kernel
// reported them (SO_PEERCRED): root may do everything; another user sees and
// controls only VMs owned by that user or by one of that user's groups. Files
// are not judged here by path: daemon/vmfiles.ts opens them as the VM's owner
// (ownerCredentials below), so the kernel itself decides.
import fs from 'node:fs';

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

/**
 * May this peer administer the daemon (log, reload, reset)? Root, and the user
 * a per-user vmsupd runs as: that daemon is theirs.
 */
export function isAdmin(peer: Peer): boolean {
  return isRoot(peer) || peer.uid === process.getuid?.();
}

/** May this peer see and control a VM owned by uid:gid? */
export function mayControl(peer: Peer, owner: { ownerUid: number; ownerGid: number }): boolean {
  return isRoot(peer) || peer.uid === owner.ownerUid || peer.groups.has(owner.ownerGid);
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
