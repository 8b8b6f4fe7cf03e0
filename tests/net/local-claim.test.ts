// Two `vmsup run -L` (or one and vmsupd) starting at once must not pick the
// same /31: each claims its pair with an O_EXCL file under /run/vmsup/local
// (daemon/nics.ts claimLocalPair) until the address is on its tap. Here, in a
// network namespace of its own, a claim held by a live process makes `run -L`
// skip that pair, and a claim whose process is gone is taken over.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { G, vmsup } from '../boot/guest.js';

const isRoot = process.getuid?.() === 0;
const canUnshare = isRoot && spawnSync('unshare', ['-n', 'true']).status === 0;
const DIR = '/run/vmsup/local';

describe.skipIf(!canUnshare)('-L claims its /31 (in a network namespace)', () => {
  test('a pair claimed by a live process is skipped, a stale claim is taken over', async () => {
    // The shell execs vmsup, so $$ (the live claimer of 100.64.0.0) is vmsup itself;
    // 100.64.0.2's claimer is a pid no process has.
    const inner =
      `ip link set lo up && ns=$(stat -L -c %i /proc/self/ns/net) && echo NS=$ns >&2 && mkdir -p ${DIR} && ` +
      `echo $$ > ${DIR}/$ns-100.64.0.0 && echo 2147483646 > ${DIR}/$ns-100.64.0.2 && ` +
      `exec ${process.execPath} ${vmsup} run -L -b ${G.image} --initrd ${G.initrd}`;
    const p = spawn('unshare', ['-n', '--', 'sh', '-c', inner], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (b) => (err += b));
    let ns = 0;
    try {
      for (let i = 0; i < 600 && !/local interface/.test(err) && p.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      ns = Number(/NS=(\d+)/.exec(err)?.[1] ?? 0);
      expect(ns).toBeGreaterThan(0);
      expect(err).toMatch(/vmsup: local interface vmsup0: host 100\.64\.0\.2, guest 100\.64\.0\.3\/31/);
      // Its own claim is released once the address is on the tap; the live one stays.
      expect(fs.existsSync(path.join(DIR, `${ns}-100.64.0.2`))).toBe(false);
      expect(fs.existsSync(path.join(DIR, `${ns}-100.64.0.0`))).toBe(true);
    } finally {
      const gone = new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)));
      p.kill('SIGKILL');
      await gone;
      if (ns) for (const a of ['0', '2']) fs.rmSync(path.join(DIR, `${ns}-100.64.0.${a}`), { force: true });
    }
  }, 120_000);
});
