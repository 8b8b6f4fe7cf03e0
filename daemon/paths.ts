// Where vmsupd keeps its database and its socket, and where the CLI looks for
// the socket. As root: /var/lib/vmsup and /run/vmsup/vmsup.sock. As another
// user: $XDG_STATE_HOME/vmsup (default ~/.local/state/vmsup) and
// $XDG_RUNTIME_DIR/vmsup/vmsup.sock (default /tmp/vmsup-<uid>/vmsup.sock).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SYSTEM_STATE_DIR = '/var/lib/vmsup';
export const SYSTEM_SOCKET = '/run/vmsup/vmsup.sock';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function defaultStateDir(): string {
  if (isRoot()) return SYSTEM_STATE_DIR;
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'vmsup');
}

function userSocket(): string {
  const rt = process.env.XDG_RUNTIME_DIR;
  if (rt) return path.join(rt, 'vmsup', 'vmsup.sock');
  return path.join(os.tmpdir(), `vmsup-${process.getuid?.() ?? 0}`, 'vmsup.sock');
}

/** The socket vmsupd listens on by default. */
export function defaultDaemonSocket(): string {
  return isRoot() ? SYSTEM_SOCKET : userSocket();
}

/** The socket the CLI talks to: $VMSUP_SOCKET, else the user's own daemon if
 * one is listening, else the system daemon's. */
export function clientSocket(): string {
  if (process.env.VMSUP_SOCKET) return process.env.VMSUP_SOCKET;
  if (isRoot()) return SYSTEM_SOCKET;
  const mine = userSocket();
  try {
    if (fs.statSync(mine).isSocket()) return mine;
  } catch {
    /* not running */
  }
  return SYSTEM_SOCKET;
}
