// The code inside one VM's worker thread (a piscina task that lives as long as
// the VM). It owns one native Machine and runs it in slices; between slices it
// takes control messages off its MessagePort with receiveMessageOnPort, so the
// vCPU loop never returns to the event loop while the guest runs. A paused VM
// blocks in Atomics.wait on its doorbell: it costs no CPU at all. A guest
// reboot is done by the board itself; the worker only reports it. The worker
// opens no file: task.machine carries descriptors the daemon opened as the VM's
// owner (daemon/vmfiles.ts), and the Machine keeps its own duplicates.
import { receiveMessageOnPort, threadId } from 'node:worker_threads';
import { addon } from '../native/index.js';
import { openMachine, runMachine, saveMachine } from './machine-runner.js';
import { LiveSend } from './live-send.js';
import { COUNTERS_OFFSET, MAX_COUNTERS, TOOK_FDS, type FromWorker, type ToWorker, type VmTask, type VmTaskResult } from './messages.js';

/** How often residentBytes is sampled (it may walk the guest's page table). */
const STATS_INTERVAL_MS = 1000;

// async only because the runner is shared with `vmsup run`: this worker gives
// it no yield hook, so the loop never returns to the event loop while it runs.
export default async function runVm(task: VmTask): Promise<VmTaskResult> {
  const { port, shared } = task;
  const doorbell = new Int32Array(shared, 0, 1);
  const stats = new Float64Array(shared, 8, 4);
  const counters = new Float64Array(shared, COUNTERS_OFFSET, MAX_COUNTERS);
  let counterNames: string[] | undefined;
  const post = (m: FromWorker) => port.postMessage(m);
  const a = addon();

  post({ type: 'starting' });
  // From here the Machine owns the descriptors of task.machine (its taps): the supervisor no longer closes them.
  Atomics.store(new Int32Array(shared, 0, 2), TOOK_FDS, 1);
  // A failed restore stops the VM with the restore's error as its reason.
  const machine = openMachine(
    task.machine,
    task.restoreFd !== undefined ? { from: task.restoreFd, force: task.restoreForce === true } : undefined,
  );
  let tid = threadId;
  try {
    tid = a.gettid();
  } catch {
    /* keep the Node thread id */
  }
  post({ type: 'running', tid });

  let paused = false;
  let lastStats = 0;
  /** vmsup send --live in progress (workers/live-send.ts). */
  let live: LiveSend | undefined;
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
    // The device counters: names go to the supervisor once, values in their slots.
    if (!counterNames) {
      counterNames = Object.keys(s.counters).slice(0, MAX_COUNTERS);
      post({ type: 'counterNames', names: counterNames });
    }
    for (let i = 0; i < counterNames.length; i++) counters[i] = s.counters[counterNames[i]] ?? 0;
    stats[0] = s.instret;
    stats[1] = s.residentBytes;
    stats[2] = Date.now();
    stats[3] = s.codeCacheBytes;
    lastStats = Date.now();
  };

  const end = await runMachine<VmTaskResult>(machine, task.machine, {
    before() {
      // Control messages first: they must win over a guest that never idles.
      for (let m = next(); m; m = next()) {
        switch (m.type) {
          case 'kill':
            return { end: { reason: 'forced' } };
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
          case 'save':
            try {
              post({ type: 'saved', ms: saveMachine(machine, m.fd, m.meta) });
            } catch (e) {
              const err = e as NodeJS.ErrnoException;
              post({ type: 'save-failed', code: err.code ?? 'ERR_VMSUP_SNAPSHOT', message: err.message });
            }
            break;
          case 'live-send':
            try {
              live = new LiveSend(machine, m, post);
            } catch (e) {
              const err = e as NodeJS.ErrnoException;
              machine.liveAbort();
              post({ type: 'save-failed', code: err.code ?? 'ERR_VMSUP_SNAPSHOT', message: err.message });
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
      if (live) {
        // One step of the live send's pre-copy, then a slice of the guest (none while
        // it is paused: the send goes on, and with nothing dirtied it soon ends).
        const l = live;
        try {
          if (l.step()) {
            // Sent: this guest stops here (the supervisor stops the VM).
            live = undefined;
            paused = true;
            post({ type: 'paused' });
          }
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          l.abort();
          live = undefined;
          post({ type: 'save-failed', code: err.code ?? 'ERR_VMSUP_SNAPSHOT', message: err.message });
        }
      }
      if (!paused) return undefined;
      if (live) return 'skip';
      // Sleep until the supervisor rings: read the doorbell, re-check the
      // port (a message posted before the read is already queued), then wait
      // for the value to change. The timeout only bounds a lost wake-up.
      const seen = Atomics.load(doorbell, 0);
      const m = receiveMessageOnPort(port);
      if (m) held = m.message as ToWorker; // handled at the top of the next round
      else Atomics.wait(doorbell, 0, seen, 60_000);
      return 'skip';
    },
    sliceMs: () => task.sliceMs,
    sliced() {
      if (Date.now() - lastStats >= STATS_INTERVAL_MS) sample();
    },
    // The guest rebooted: the board has already reset itself (RAM, devices)
    // and boots the same kernel again on the same console.
    rebooted: () => post({ type: 'reboot' }),
  });
  if (end.reason === 'error') throw new Error(end.message);
  return end;
}
