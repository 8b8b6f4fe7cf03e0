// The one machine runner: `vmsup run` (cli/run.ts, a terminal) and a daemon
// VM's worker thread (workers/vm-worker.ts, a MessagePort) both create their
// native Machine, save it and run it in slices through this module. What
// differs between the two callers comes in as small hooks: what to do before
// a slice (console input, control messages, a paused wait), after one
// (metrics, escapes, deadlines), on a guest reboot, and how to let the event
// loop in (the worker never does: its loop must not return to it while the
// guest runs).
import { addon, type MachineOptions, type NativeMachine, type RunStatus } from '../native/index.js';

/** Where a snapshot comes from or goes to: a file path (`vmsup run`) or an open descriptor (the daemon). */
export type SnapshotTarget = string | number;

/**
 * Creates the native Machine; with `restore`, loads the saved state into it
 * before it ever runs. A failed restore closes the machine and throws the
 * native error (its ERR_VMSUP_SNAPSHOT_* code intact), or what `word` makes of it.
 */
export function openMachine(
  opts: MachineOptions,
  restore?: { from: SnapshotTarget; force: boolean; word?: (err: unknown) => unknown },
): NativeMachine {
  const m = new (addon().Machine)(opts);
  if (restore !== undefined) {
    try {
      m.restore(restore.from, restore.force);
    } catch (e) {
      m.close();
      throw restore.word ? restore.word(e) : e;
    }
  }
  return m;
}

/**
 * Saves the machine, between two slices (no disk request is in flight: they are
 * served inside run()), with `meta` kept beside it. Returns how long it took in
 * ms; throws the native ERR_VMSUP_SNAPSHOT_* error. The one save path: a
 * sender (live migration) hooks in here.
 */
export function saveMachine(m: NativeMachine, to: SnapshotTarget, meta: string): number {
  const t0 = Date.now();
  m.save(to, meta);
  return Date.now() - t0;
}

/** How the guest itself ended the run. */
export type MachineEnd =
  | { reason: 'poweroff' }
  | { reason: 'pass' }
  | { reason: 'fail'; exitCode?: number }
  | { reason: 'error'; message: string };

/** What a hook may answer: go on (undefined), skip this slice and ask again, or end the run with T. */
export type Step<T> = undefined | 'skip' | { end: T };

export interface RunnerHooks<T> {
  /** Before each slice: control messages, console input, a paused wait ('skip': no slice this round). */
  before?(): Step<T>;
  /** The slice length in ms, asked after `before`. */
  sliceMs(): number;
  /** Right after each slice, whatever it ended with, the machine still open (metrics, a test signature). */
  sliced?(st: RunStatus): void;
  /** The guest rebooted: the board has already reset itself and boots the same images again. */
  rebooted?(): void;
  /** After a slice the guest did not end: escapes, signals, deadlines ('skip' counts as going on). */
  after?(): Step<T>;
  /** Lets the event loop in between slices (stdin, signals); the worker has none and never yields. */
  yield?(): Promise<void> | void;
}

/**
 * Runs `m` in slices until the guest ends it (a MachineEnd) or a hook does
 * (its T). Closes the machine on the way out, whatever the way.
 */
export async function runMachine<T>(m: NativeMachine, opts: MachineOptions, hooks: RunnerHooks<T>): Promise<T | MachineEnd> {
  const a = addon();
  try {
    for (;;) {
      const pre = hooks.before?.();
      if (pre === 'skip') continue;
      if (pre !== undefined) return pre.end;
      const st = m.run(hooks.sliceMs());
      // A WFI wake-up that was rung for this slice is used up.
      if (opts.wakeFd !== undefined) a.eventfdDrain(opts.wakeFd);
      hooks.sliced?.(st);
      switch (st.reason) {
        case 'slice':
          break;
        case 'reset':
          hooks.rebooted?.();
          break;
        case 'poweroff':
          return { reason: 'poweroff' };
        case 'pass':
          return { reason: 'pass' };
        case 'fail':
          return { reason: 'fail', exitCode: st.exitCode };
        case 'error':
          return { reason: 'error', message: st.message ?? 'machine error' };
      }
      const post = hooks.after?.();
      if (post !== undefined && post !== 'skip') return post.end;
      const y = hooks.yield?.();
      if (y) await y;
    }
  } finally {
    m.close();
  }
}
