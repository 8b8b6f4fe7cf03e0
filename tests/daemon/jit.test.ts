// The JIT's code cache as the daemon reports it (issue 11): `status --json`
// gives each running VM's codeCacheBytes, sampled like curmem.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { buildBareMetal, Daemon } from './harness.js';

let work: string;
let IDLE: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-jit-'));
  fs.chmodSync(work, 0o755);
  IDLE = buildBareMetal(work, 'idle', 'VMSUP-GUEST-READY', 'idle');
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

let d: Daemon | undefined;
afterEach(async () => {
  await d?.cleanup();
  d = undefined;
});

test('status --json reports the code cache of a running VM (the JIT, on x86-64)', async () => {
  d = await Daemon.create();
  expect((await d.vmsup(['start', '-m', '64M', '-b', IDLE, 'jv'])).code).toBe(0);
  if (process.arch === 'x64') {
    await d.waitFor(async () => ((await d!.status('jv'))!.codeCacheBytes as number) > 0);
  }
  const cc = (await d.status('jv'))!.codeCacheBytes as number;
  expect(cc).toBeGreaterThanOrEqual(0);
  expect(cc).toBeLessThanOrEqual(8 * 32 * 1024 * 1024);  // 8 harts at most, 32 MiB each
  expect((await d.vmsup(['stop', '-f', 'jv'])).code).toBe(0);
}, 120_000);
