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
  /** vm.conf's `local prefix`: where local interfaces (-L) get their /31s. */
  localPrefix: string;
  /** Milliseconds of guest time per machine.run() slice. */
  sliceMs: number;
  /** The web interface's listener, `[addr:]port` (127.0.0.1 when no address); empty = off. */
  http: string;
  /** Web console WebSocket sessions one user may have open at once. */
  httpSessionsPerUser: number;
  /** A bearer token that lets a Prometheus server scrape /metrics (every VM); empty = none. */
  httpMetricsToken: string;
  /** Per-user quotas (root is exempt; 0 = no limit): definitions (transient ones
   * included), VMs holding a worker slot (waiting, running or paused), and the
   * guest memory of those VMs, in MiB. */
  userMaxVms: number;
  userMaxRunning: number;
  userMaxMemoryMb: number;
  /** Admission control: the guest memory of every VM holding a slot may add up
   * to this many times the host's MemTotal, and one VM may not ask for more than
   * this many times MemAvailable. 1 = no overcommit. */
  memoryOvercommit: number;
  /** Event-log retention: the newest this many events are kept (0 = no count limit),
   * none older than this many days (0 = no age limit). */
  eventLogMax: number;
  eventLogDays: number;
  /** Control connections one non-root user may hold at once (root has its own reserve). */
  connectionsPerUser: number;
  /** Seconds a control connection may sit with no request in flight and no stream before it is closed. */
  idleTimeout: number;
  /** A VM with no -b and no --bios boots its disks through this SBI firmware (M-mode, at DRAM base)... */
  firmware: string;
  /** ...and this boot loader, a raw S-mode binary at 0x80200000 (as QEMU -M virt with -bios/-kernel). */
  uboot: string;
  /** SIGTERM: save every running guest into <state-dir>/resume and resume it at the next start
   * ("save"), or shut the guests down as before ("shutdown"). */
  onShutdown: 'save' | 'shutdown';
  /** vmsup send --live: the pre-copy stops (the guest pauses for the rest) when fewer than
   * liveStopPages dirty pages are left after a pass, or after liveMaxPasses passes. */
  liveMaxPasses: number;
  liveStopPages: number;
}

/** Debian's packages: `opensbi` and `u-boot-qemu` (scripts/install-deps.sh). */
export const DEFAULT_FIRMWARE = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
export const DEFAULT_UBOOT = '/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin';

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
    localPrefix: '100.64.0.0/10',
    sliceMs: 100,
    http: '',
    httpSessionsPerUser: 8,
    httpMetricsToken: '',
    userMaxVms: 100,
    // A share of the worker slots: no one user can fill max_running.
    userMaxRunning: 0,
    userMaxMemoryMb: 0,
    memoryOvercommit: 1,
    eventLogMax: 100_000,
    eventLogDays: 365,
    connectionsPerUser: 32,
    idleTimeout: 120,
    firmware: DEFAULT_FIRMWARE,
    uboot: DEFAULT_UBOOT,
    onShutdown: 'save',
    liveMaxPasses: 8,
    liveStopPages: 256,
  };
}

/** The per-user share of worker slots: user_max_running, or half of max_running (at least 1). */
export function userRunningShare(s: Settings): number {
  return s.userMaxRunning > 0 ? Math.min(s.userMaxRunning, s.maxRunning) : Math.max(1, Math.floor(s.maxRunning / 2));
}

/** vmsupd.conf's keys, each with the setting it sets and its bounds. */
export const SETTING_KEYS: Record<string, { key: keyof Settings; min?: number; max?: number; integer?: boolean }> = {
  max_running: { key: 'maxRunning', min: 1, max: 1024 },
  autostart_parallel: { key: 'autostartParallel', min: 1, max: 1024 },
  autostart_delay: { key: 'autostartDelay', min: 0, max: 3600 },
  stop_timeout: { key: 'stopTimeout', min: 0, max: 3600 },
  shutdown_timeout: { key: 'shutdownTimeout', min: 0, max: 3600 },
  restart_limit: { key: 'restartLimit', min: 1, max: 1000 },
  restart_window: { key: 'restartWindow', min: 0, max: 3600 },
  socket_group: { key: 'socketGroup' },
  slice_ms: { key: 'sliceMs', min: 1, max: 1000 },
  http: { key: 'http' },
  http_sessions_per_user: { key: 'httpSessionsPerUser', min: 1, max: 256 },
  http_metrics_token: { key: 'httpMetricsToken' },
  user_max_vms: { key: 'userMaxVms', min: 0, max: 1_000_000 },
  user_max_running: { key: 'userMaxRunning', min: 0, max: 1024 },
  user_max_memory: { key: 'userMaxMemoryMb', min: 0, max: 1 << 30 },
  memory_overcommit: { key: 'memoryOvercommit', min: 0.01, max: 100 },
  event_log_max: { key: 'eventLogMax', min: 0, max: 1e9 },
  event_log_days: { key: 'eventLogDays', min: 0, max: 36_500 },
  connections_per_user: { key: 'connectionsPerUser', min: 1, max: 256 },
  idle_timeout: { key: 'idleTimeout', min: 1, max: 86400 },
  firmware: { key: 'firmware' },
  uboot: { key: 'uboot' },
  on_shutdown: { key: 'onShutdown' },
  live_max_passes: { key: 'liveMaxPasses', min: 1, max: 100, integer: true },
  live_stop_pages: { key: 'liveStopPages', min: 0, max: 1 << 22, integer: true },
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
    if (!m || !SETTING_KEYS[m[1]]) {
      warn(`vmsupd.conf:${i + 1}: unknown setting: ${line}`);
      return;
    }
    const spec = SETTING_KEYS[m[1]];
    if (spec.key === 'socketGroup') {
      s.socketGroup = m[2];
      return;
    }
    if (spec.key === 'http') {
      if (m[2] !== '' && !parseListen(m[2])) {
        warn(`vmsupd.conf:${i + 1}: bad value for http: ${m[2]} (want [addr:]port)`);
        return;
      }
      s.http = m[2];
      return;
    }
    if (spec.key === 'httpMetricsToken') {
      // A secret: at least 16 characters of a bearer token's alphabet, never logged.
      if (!/^[A-Za-z0-9._~+/-]{16,256}$/.test(m[2])) {
        warn(`vmsupd.conf:${i + 1}: http_metrics_token must be 16 to 256 token characters`);
        return;
      }
      s.httpMetricsToken = m[2];
      return;
    }
    if (spec.key === 'firmware' || spec.key === 'uboot') {
      // Paths of the boot chain for VMs without -b/--bios; absolute, as the daemon's cwd means nothing.
      if (!path.isAbsolute(m[2])) {
        warn(`vmsupd.conf:${i + 1}: ${m[1]} must be an absolute path: ${m[2]}`);
        return;
      }
      s[spec.key] = m[2];
      return;
    }
    if (spec.key === 'onShutdown') {
      if (m[2] === 'save' || m[2] === 'shutdown') s.onShutdown = m[2];
      else warn(`vmsupd.conf:${i + 1}: bad value for on_shutdown: ${m[2]} (save or shutdown)`);
      return;
    }
    const n = Number(m[2]);
    if (!Number.isFinite(n) || n < (spec.min ?? 0) || n > (spec.max ?? Infinity) || (spec.integer && !Number.isInteger(n))) {
      warn(`vmsupd.conf:${i + 1}: bad value for ${m[1]}: ${m[2]}`);
      return;
    }
    (s as unknown as Record<string, number>)[spec.key] = n;
  });
  return s;
}

/** `[addr:]port` (IPv6 as `[::1]:port`); undefined when malformed. Without an address: 127.0.0.1. */
export function parseListen(spec: string): { host: string; port: number } | undefined {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(spec.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 0 || port > 65535) return undefined;
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host, port };
}
