// vmsup send --live inside the VM's worker: the pre-copy of a live migration.
// Between two run() slices the worker calls step(), which writes about
// STEP_BYTES of the current pass into the stream (a blocking pipe the daemon
// drains to its client: when the client is slow, the pass slows down, the
// daemon's memory does not grow). Pass 1 has every page touched so far; each
// later pass has the pages the guest dirtied during the pass before (the dirty
// bitmap in GuestMemory, re-armed by a TLB flush at every take). When the set
// left is small enough, or the pass bound is reached, the guest stops running
// (the downtime starts) and liveFinish writes the disks' identities after a
// flush, the last dirty pages, every device and the END record.
import type { NativeMachine } from '../native/index.js';
import type { FromWorker, ToWorker } from './messages.js';

/** Bytes of one step: about 1/20 s of zstd at level 1; the guest runs a slice between two steps. */
const STEP_BYTES = 2 << 20;

export class LiveSend {
  private readonly t0 = Date.now();
  private pass = 1;

  constructor(
    private readonly machine: NativeMachine,
    private readonly m: Extract<ToWorker, { type: 'live-send' }>,
    private readonly post: (m: FromWorker) => void,
  ) {
    machine.liveBegin(m.fd, m.meta);
  }

  /** One step; true when the send is complete and the guest must not run again. */
  step(): boolean {
    const st = this.machine.liveStep(STEP_BYTES);
    if (!st.done) return false;
    const waiting = this.machine.liveCollect();
    if (waiting > this.m.donePages && this.pass < this.m.maxPasses) {
      this.machine.livePass();
      this.pass++;
      return false;
    }
    // Paused from here: the guest does not run again on this host.
    const pausedAt = Date.now();
    const bytes = this.machine.liveFinish(0);
    const downtimeMs = Date.now() - pausedAt;
    // The last pass is the one written paused (liveFinish numbers it too).
    this.post({ type: 'live-sent', bytes, passes: this.pass + 1, downtimeMs, ms: Date.now() - this.t0 });
    return true;
  }

  abort(): void {
    this.machine.liveAbort();
  }
}
