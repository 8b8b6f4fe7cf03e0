// The code inside one VM's worker thread (a piscina task that lives as long as
// the VM). It owns one native Machine and runs it in slices; between slices it
// takes control messages off its MessagePort with receiveMessageOnPort, so the
// vCPU loop never returns to the event loop while the guest runs. A paused VM
// blocks in Atomics.wait on its doorbell: it costs no CPU at all. A guest
// reboot is done by the board itself; the worker only reports it.
import { receiveMessageOnPort, threadId } from 'node:worker_threads';
import { addon, type NativeMachine } from '../native/index.js';
import type { FromWorker, ToWorker, VmTask, VmTaskResult } from './messages.js';

/** How often residentBytes is sampled (it may walk the guest's page table). */
const STATS_INTERVAL_MS = 1000;

export default function runVm(task: VmTask): VmTaskResult {
  const { port, shared } = task;
  const doorbell = new Int32Array(shared, 0, 1);
  const stats = new Float64Array(shared, 8, 4);
  const post = (m: FromWorker) => port.postMessage(m);
  const a = addon();

  post({ type: 'starting' });
  const machine: NativeMachine = new a.Machine(task.machine);
  let tid = threadId;
  try {
    tid = a.gettid();
  } catch {
    /* keep the Node thread id */
  }
  post({ type: 'running', tid });

  let paused = false;
  let lastStats = 0;
  let held: ToWorker | undefined;
  const next = (): ToWorker | undefined => {
    if (held) {
      const h = held;
      held = undefined;
      return h;
    }
    return receiveMessageOnPort(port)?.message as ToWorker | undefined;
  };
  const sample = () => {
    const s = machine.stats();
    stats[0] = s.instret;
    stats[1] = s.residentBytes;
    stats[2] = Date.now();
    stats[3] = s.codeCacheBytes;
    lastStats = Date.now();
  };

  try {
    for (;;) {
      // Control messages first: they must win over a guest that never idles.
      for (let m = next(); m; m = next()) {
        switch (m.type) {
          case 'kill':
            return { reason: 'forced' };
          case 'pause':
            if (!paused) {
              paused = true;
              sample();
              post({ type: 'paused' });
            }
            break;
          case 'unpause':
            if (paused) {
              paused = false;
              post({ type: 'unpaused' });
            }
            break;
          case 'ctrlaltdel':
            if (paused) {
              paused = false;
              post({ type: 'unpaused' });
            }
            machine.ctrlAltDel();
            break;
        }
      }
      if (paused) {
        // Sleep until the supervisor rings: read the doorbell, re-check the
        // port (a message posted before the read is already queued), then wait
        // for the value to change. The timeout only bounds a lost wake-up.
        const seen = Atomics.load(doorbell, 0);
        const m = receiveMessageOnPort(port);
        if (m) held = m.message as ToWorker; // handled at the top of the loop
        else Atomics.wait(doorbell, 0, seen, 60_000);
        continue;
      }
      const st = machine.run(task.sliceMs);
      if (task.machine.wakeFd !== undefined) a.eventfdDrain(task.machine.wakeFd);
      if (Date.now() - lastStats >= STATS_INTERVAL_MS) sample();
      switch (st.reason) {
        case 'slice':
          break;
        case 'poweroff':
          return { reason: 'poweroff' };
        case 'pass':
          return { reason: 'pass' };
        case 'fail':
          return { reason: 'fail', exitCode: st.exitCode };
        case 'reset':
          // The guest rebooted: the board has already reset itself (RAM,
          // devices) and boots the same kernel again on the same console.
          post({ type: 'reboot' });
          break;
        case 'error':
          throw new Error(st.message ?? 'machine error');
      }
    }
  } finally {
    machine.close();
  }
}
