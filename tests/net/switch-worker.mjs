// A VM in a worker thread of its own, on a vmsup switch (tests/net/switch.test.ts).
// Console output goes to workerData.consoleFile; the parent types with
// { input } messages and ends the machine with { stop: true }.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const addon = require(workerData.addonPath);
const fd = fs.openSync(workerData.consoleFile, 'w');
const m = new addon.Machine({
  memory: 256 << 20, cpus: 1, kernel: workerData.kernel, initrd: workerData.initrd, cmdline: 'console=ttyS0',
  consoleOut: fd, nics: [{ kind: 'switch', switch: workerData.sw, mac: workerData.mac }],
});
let stop = false;
parentPort.on('message', (msg) => {
  if (msg.input) m.consoleInput(Buffer.from(msg.input));
  if (msg.stop) stop = true;
});
const tick = () => new Promise((r) => setImmediate(r));
for (let i = 0; i < 1_000_000 && !stop; i++) {
  const st = m.run(20);
  if (st.reason !== 'slice') break;
  await tick();
}
parentPort.postMessage({ stats: m.stats() });
m.close();
fs.closeSync(fd);
