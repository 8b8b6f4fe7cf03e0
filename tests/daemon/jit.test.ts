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

// Both tests need the JIT as the default engine: x86-64, and not VMSUP_JIT=0 (the suite's
// interpreter run, in which no default VM translates anything).
const jitDefault = process.arch === 'x64' && process.env.VMSUP_JIT !== '0';

test.skipIf(!jitDefault)('status --json reports the code cache of a running VM (the JIT, on x86-64)', async () => {
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

// The per-VM switch (issue 11): --no-jit is kept in the definition (DB
// migration 6), shown by status --json and given to the machine, which then
// has no code cache; a VM defined without it gets the default engine.
test.skipIf(!jitDefault)('define --no-jit keeps the VM on the interpreter: codeCacheBytes stays 0 while a default VM translates', async () => {
  d = await Daemon.create();
  expect((await d.vmsup(['define', '--no-jit', '-m', '64M', '-b', IDLE, 'nj'])).code).toBe(0);
  expect((await d.status('nj'))!.jit).toBe(false);
  expect((await d.vmsup(['define', '-m', '64M', '-b', IDLE, 'dj'])).code).toBe(0);
  expect((await d.status('dj'))!.jit).toBe(true);
  expect((await d.vmsup(['start', 'nj'])).code).toBe(0);
  expect((await d.vmsup(['start', 'dj'])).code).toBe(0);
  await d.waitFor(async () => (await d!.status('nj'))!.state === 'running' && (await d!.status('dj'))!.state === 'running');
  if (process.arch === 'x64') {
    // Both booted the same guest at the same time: by the time dj has translated code, nj has run too.
    await d.waitFor(async () => ((await d!.status('dj'))!.codeCacheBytes as number) > 0);
  }
  const nj = (await d.status('nj'))!;
  expect(nj.state).toBe('running');
  expect(nj.jit).toBe(false);
  expect(nj.codeCacheBytes).toBe(0);
  // The setting survives a restart of the VM (it is the definition's, not the start's).
  expect((await d.vmsup(['stop', '-f', 'nj'])).code).toBe(0);
  await d.waitFor(async () => (await d!.status('nj'))!.state === 'stopped');
  expect((await d.vmsup(['start', 'nj'])).code).toBe(0);
  await d.waitFor(async () => (await d!.status('nj'))!.state === 'running');
  expect((await d.status('nj'))!.codeCacheBytes).toBe(0);
  expect((await d.vmsup(['stop', '-f', 'nj'])).code).toBe(0);
  expect((await d.vmsup(['stop', '-f', 'dj'])).code).toBe(0);
}, 180_000);
