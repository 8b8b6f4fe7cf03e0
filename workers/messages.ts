// Messages between the supervisor and one VM's worker thread, declared once.
// The supervisor posts a control message on the VM's MessagePort, then rings
// the VM's doorbell (a SharedArrayBuffer word, for a paused worker blocked in
// Atomics.wait) and its wake eventfd (for a machine sleeping in WFI inside
// run()), so the worker sees the message within one slice.
import type { MessagePort } from 'node:worker_threads';
import type { MachineOptions } from '../native/index.js';

export type ToWorker =
  | { type: 'pause' }
  | { type: 'unpause' }
  | { type: 'ctrlaltdel' }
  | { type: 'kill' }
  /** Save the (paused) machine into the open file `fd` (the supervisor closes it). */
  | { type: 'save'; fd: number; meta: string }
  /** vmsup send --live: pre-copy into `fd` while the guest runs, then pause and send the rest (workers/live-send.ts). */
  | { type: 'live-send'; fd: number; meta: string; maxPasses: number; donePages: number };

export type FromWorker =
  | { type: 'starting' }
  | { type: 'running'; tid: number }
  | { type: 'paused' }
  | { type: 'unpaused' }
  | { type: 'reboot' }
  | { type: 'log'; message: string }
  /** The names of the device counters, in the order of their slots in `shared` (sent once). */
  | { type: 'counterNames'; names: string[] }
  | { type: 'saved'; ms: number }
  | { type: 'save-failed'; code: string; message: string }
  /** A live send is complete: the guest no longer runs; downtime so far (pause to END written). */
  | { type: 'live-sent'; bytes: number; passes: number; downtimeMs: number; ms: number };

export interface VmTask {
  vmId: number;
  name: string;
  machine: MachineOptions;
  port: MessagePort;
  /** Layout: Int32 [0] doorbell, Int32 [1] TOOK_FDS (1 once the worker took the machine's
   * descriptors: the native Machine owns the taps from then on); Float64 [1] instret, [2] residentBytes, [3] Date.now() of the sample,
   * [4] codeCacheBytes (the JIT's translated code), [5 + i] device counter i (names in the
   * 'counterNames' message; at most MAX_COUNTERS). */
  shared: SharedArrayBuffer;
  sliceMs: number;
  /** Restore the new machine from this open snapshot before it runs (vmsup restore). */
  restoreFd?: number;
  /** Accept disks modified since the save (same size). */
  restoreForce?: boolean;
}

export interface VmTaskResult {
  reason: 'poweroff' | 'forced' | 'pass' | 'fail';
  exitCode?: number;
}

/** Int32 slot of `shared` the worker sets to 1 right before it creates the Machine (which then
 * owns the tap descriptors): while it is 0 (a VM stopped still waiting) the supervisor closes them. */
export const TOOK_FDS = 1;

/** Device counters kept in the shared buffer: more are dropped (a cap on what the board may add). */
export const MAX_COUNTERS = 64;
/** Where the device counters start in `shared`: after the doorbell and the four stats. */
export const COUNTERS_OFFSET = 40;
export const SHARED_BYTES = COUNTERS_OFFSET + 8 * MAX_COUNTERS;
