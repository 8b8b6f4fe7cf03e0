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
  | { type: 'save'; fd: number; meta: string };

export type FromWorker =
  | { type: 'starting' }
  | { type: 'running'; tid: number }
  | { type: 'paused' }
  | { type: 'unpaused' }
  | { type: 'reboot' }
  | { type: 'log'; message: string }
  | { type: 'saved'; ms: number }
  | { type: 'save-failed'; code: string; message: string };

export interface VmTask {
  vmId: number;
  name: string;
  machine: MachineOptions;
  port: MessagePort;
  /** Layout: Int32 [0] doorbell; Float64 [1] instret, [2] residentBytes, [3] Date.now() of the sample. */
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

export const SHARED_BYTES = 32;
