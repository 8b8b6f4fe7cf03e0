// vmsupd's settings, read from <state-dir>/vmsupd.conf at start-up and on
// `vmsup reload`. The file is optional: lines of `key = value`, `#` comments.
// Unknown keys and bad values are reported and ignored (the default stays).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Settings {
  /** Pool size: how many VMs may run at once; more starts wait. */
  maxRunning: number;
  /** vmd's staggered start: VMs started per batch, and seconds between batches. */
  autostartParallel: number;
  autostartDelay: number;
  /** Seconds a guest has to power off after Ctrl-Alt-Del before `stop` forces it. */
  stopTimeout: number;
  /** Seconds SIGTERM waits for every guest before forcing the rest. */
  shutdownTimeout: number;
  /** vmd's restart-loop rule: this many restarts, each within restartWindow seconds of the boot before, stop the VM. */
  restartLimit: number;
  restartWindow: number;
  /** Group owning the control socket (0660 root:group); empty = the daemon's own group. */
  socketGroup: string;
  /** Milliseconds of guest time per machine.run() slice. */
  sliceMs: number;
  /** SIGTERM: save every running guest into <state-dir>/resume and resume it at the next start
   * ("save"), or shut the guests down as before ("shutdown"). */
  onShutdown: 'save' | 'shutdown';
}

export function defaultSettings(): Settings {
  return {
    maxRunning: 32,
    autostartParallel: Math.max(1, os.cpus().length),
    autostartDelay: 30,
    stopTimeout: 30,
    shutdownTimeout: 30,
    restartLimit: 3,
    restartWindow: 6,
    socketGroup: '',
    sliceMs: 100,
    onShutdown: 'save',
  };
}

const KEYS: Record<string, { key: keyof Settings; min?: number; max?: number }> = {
  max_running: { key: 'maxRunning', min: 1, max: 1024 },
  autostart_parallel: { key: 'autostartParallel', min: 1, max: 1024 },
  autostart_delay: { key: 'autostartDelay', min: 0, max: 3600 },
  stop_timeout: { key: 'stopTimeout', min: 0, max: 3600 },
  shutdown_timeout: { key: 'shutdownTimeout', min: 0, max: 3600 },
  restart_limit: { key: 'restartLimit', min: 1, max: 1000 },
  restart_window: { key: 'restartWindow', min: 0, max: 3600 },
  socket_group: { key: 'socketGroup' },
  slice_ms: { key: 'sliceMs', min: 1, max: 1000 },
  on_shutdown: { key: 'onShutdown' },
};

export function settingsFile(stateDir: string): string {
  return path.join(stateDir, 'vmsupd.conf');
}

/** Reads the settings; `warn` receives one line per ignored entry. */
export function loadSettings(stateDir: string, warn: (msg: string) => void): Settings {
  const s = defaultSettings();
  let text: string;
  try {
    text = fs.readFileSync(settingsFile(stateDir), 'utf8');
  } catch {
    return s;
  }
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const m = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
    if (!m || !KEYS[m[1]]) {
      warn(`vmsupd.conf:${i + 1}: unknown setting: ${line}`);
      return;
    }
    const spec = KEYS[m[1]];
    if (spec.key === 'socketGroup') {
      s.socketGroup = m[2];
      return;
    }
    if (spec.key === 'onShutdown') {
      if (m[2] === 'save' || m[2] === 'shutdown') s.onShutdown = m[2];
      else warn(`vmsupd.conf:${i + 1}: bad value for on_shutdown: ${m[2]} (save or shutdown)`);
      return;
    }
    const n = Number(m[2]);
    if (!Number.isFinite(n) || n < (spec.min ?? 0) || n > (spec.max ?? Infinity)) {
      warn(`vmsupd.conf:${i + 1}: bad value for ${m[1]}: ${m[2]}`);
      return;
    }
    (s as unknown as Record<string, number>)[spec.key] = n;
  });
  return s;
}
