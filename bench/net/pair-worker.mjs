// bench/net: one VM of the VM<->VM pair, in a worker thread of its own, on a
// vmsup switch, run as the daemon's worker runs a VM (workers/vm-worker.ts):
// machine.run(sliceMs) in a loop, messages read between slices without
// yielding to the event loop. Console output goes to workerData.consoleFile;
// { input } messages are typed into the console, { stop } ends the machine.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { receiveMessageOnPort, parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const addon = require(workerData.addonPath);
const fd = fs.openSync(workerData.consoleFile, 'w');
const m = new addon.Machine({
  memory: 256 << 20, cpus: 1, kernel: workerData.kernel, initrd: workerData.initrd, cmdline: 'console=ttyS0',
  consoleOut: fd, nics: [{ kind: 'switch', switch: workerData.sw, mac: workerData.mac }],
});
let stop = false;
const deadline = Date.now() + 900_000;
while (!stop && Date.now() < deadline) {
  for (let msg; (msg = receiveMessageOnPort(parentPort));) {
    if (msg.message.input) m.consoleInput(Buffer.from(msg.message.input));
    if (msg.message.stop) stop = true;
  }
  const st = m.run(100);
  if (st.reason !== 'slice') break;
}
m.close();
fs.closeSync(fd);
parentPort.postMessage({ done: true });
