// bench/net: two VMs on one vmsup switch in one process (as the daemon runs
// them: a worker thread per VM), for the VM<->VM row of bench/net/net.mjs.
// argv: DIR. Consoles go to DIR/a.console and DIR/b.console; stdin lines
// "a CMD" / "b CMD" are typed into that VM's console; "stop" (or stdin's end)
// stops both and exits.
import path from 'node:path';
import readline from 'node:readline';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import fs from 'node:fs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const guest = fs.existsSync(path.resolve(root, '../shared/guest/Image'))
  ? path.resolve(root, '../shared/guest') : path.resolve(root, 'guest/out');
// argv[3]: another build of the addon (an A/B of a change: BENCH_NET_BASELINE_ADDON in net.mjs).
const addonPath = process.argv[3] || path.join(root, 'build/Release/vmsup.node');
const addon = createRequire(import.meta.url)(addonPath);
const dir = process.argv[2];
const sw = `bench-${process.pid}`;
addon.switchCreate(sw, false);
const vms = {};
for (const [name, mac] of [['a', 'fe:e1:ba:d0:00:0a'], ['b', 'fe:e1:ba:d0:00:0b']]) {
  vms[name] = new Worker(path.join(root, 'bench/net/pair-worker.mjs'), {
    workerData: { addonPath, kernel: path.join(guest, 'Image'), initrd: path.join(guest, 'initramfs.cpio.gz'), sw, mac,
      consoleFile: path.join(dir, `${name}.console`) },
  });
}
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await Promise.all(Object.values(vms).map((w) => new Promise((r) => { w.once('message', r); w.once('exit', r); w.postMessage({ stop: true }); })));
  addon.switchDelete(sw);
  process.exit(0);
};
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (l) => {
  if (l === 'stop') return void stop();
  const w = vms[l[0]];
  if (w) w.postMessage({ input: l.slice(2) + '\n' });
});
rl.on('close', stop);
