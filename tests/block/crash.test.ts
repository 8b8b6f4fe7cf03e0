// Crash consistency: a process writing a qcow2 image is killed (SIGKILL) at
// arbitrary points while it allocates clusters, L2 tables and refcount blocks.
// Afterwards `qemu-img check` finds at worst leaked clusters, `-r all` repairs
// them, and everything flushed before the kill is intact.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { blockAddon } from '../../native/index.js';
import { MIB, pattern, qemuCheck, qemuImg, qemuView, tempDir } from './helpers.js';

const dir = tempDir('crash');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const addonPath = path.resolve(import.meta.dirname, '../../build/Release/vmsup.node');

// The writer: flushes a known 1 MiB region, says so, then writes (allocating
// and overwriting, 512-byte clusters so refcount blocks and the refcount table
// grow) until it is killed.
const writer = `
const m = require(${JSON.stringify(addonPath)});
const img = new m.BlockImage(process.argv[1], 'qcow2', false);
const flushed = Buffer.alloc(${MIB}, 0x5a);
img.write(${3 * MIB}, flushed);
img.flush();
process.stdout.write('flushed\\n');
let x = 12345;
for (;;) {
  x = (x * 1103515245 + 12345) >>> 0;
  const off = (x % ${60 * MIB}) & ~511;
  if (off >= ${3 * MIB - 70000} && off < ${4 * MIB}) continue;
  img.write(off, Buffer.alloc(1 + (x % 70000), x & 0xff));
}
`;

function runAndKill(file: string, afterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', writer, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('flushed')) setTimeout(() => child.kill('SIGKILL'), afterMs);
    });
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer ended by itself`))));
  });
}

test('a writer killed at arbitrary points leaves a repairable image with its flushed data', async () => {
  const delays = [0, 1, 3, 7, 15, 30, 60, 120];
  for (const [i, ms] of delays.entries()) {
    const f = path.join(dir, `crash-${i}.qcow2`);
    blockAddon().createImage(f, 'qcow2', 64 * MIB, { clusterSize: 512 });
    await runAndKill(f, ms);
    const before = qemuCheck(f);
    console.log(`kill after ${ms} ms: qemu-img check status ${before.status}`);
    // 0: clean; 3: leaked clusters only. Never 2 (corruption).
    expect([0, 3], before.out).toContain(before.status);
    qemuImg('check', '-q', '-r', 'all', f);
    const after = qemuCheck(f);
    expect(after.status, after.out).toBe(0);
    const view = qemuView(f, 'qcow2', dir);
    expect(view.subarray(3 * MIB, 4 * MIB).equals(Buffer.alloc(MIB, 0x5a))).toBe(true);
    // And vmsup opens it again for writing.
    const img = new (blockAddon().BlockImage)(f, 'qcow2', false);
    img.write(0, pattern(4096, i));
    img.close();
    expect(qemuCheck(f).status).toBe(0);
  }
}, 300_000);
