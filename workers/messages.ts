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
  | { type: 'kill' };

export type FromWorker =
  | { type: 'starting' }
  | { type: 'running'; tid: number }
  | { type: 'paused' }
  | { type: 'unpaused' }
  | { type: 'reboot' }
  | { type: 'log'; message: string };

export interface VmTask {
  vmId: number;
  name: string;
  machine: MachineOptions;
  port: MessagePort;
  /**
   * Layout: Int32 [0] doorbell; Float64 [1] instret, [2] residentBytes, [3] Date.now() of the
   * sample, [4] codeCacheBytes (the JIT's translated code).
   */
  shared: SharedArrayBuffer;
  sliceMs: number;
}

export interface VmTaskResult {
  reason: 'poweroff' | 'forced' | 'pass' | 'fail';
  exitCode?: number;
}

export const SHARED_BYTES = 40;
