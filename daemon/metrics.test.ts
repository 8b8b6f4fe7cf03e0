// The metrics ring: rates from two samples of a worker's shared buffer.
import { expect, test } from 'vitest';
import { RING_SECONDS, VmMetrics, threadCpuSeconds } from './metrics.js';
import { COUNTERS_OFFSET, SHARED_BYTES } from '../workers/messages.js';
import { parseListen } from './settings.js';

function shared(instret: number, rss: number, counters: number[]): SharedArrayBuffer {
  const b = new SharedArrayBuffer(SHARED_BYTES);
  const f = new Float64Array(b, 8, 4);
  f[0] = instret;
  f[1] = rss;
  f[3] = 4096; // the JIT's code cache
  new Float64Array(b, COUNTERS_OFFSET, counters.length).set(counters);
  return b;
}

test('rates come from the difference of two samples; the first sample only sets the base', () => {
  const m = new VmMetrics();
  m.names = ['interrupts', 'blk0_read_bytes'];
  m.sample(shared(1e6, 4096, [10, 0]), null, 10_000);
  expect(m.ring).toHaveLength(0);
  m.sample(shared(51e6, 8192, [110, 1 << 20]), null, 12_000);
  expect(m.ring).toHaveLength(1);
  expect(m.now.mips).toBeCloseTo(25);
  expect(m.now.rss).toBe(8192);
  expect(m.now.rates).toEqual({ interrupts: 50, blk0_read_bytes: (1 << 20) / 2 });
  expect(m.now.counters).toEqual({ interrupts: 110, blk0_read_bytes: 1 << 20 });
  expect(m.now.cpu).toBe(0); // no thread
});

test('the ring keeps 10 minutes', () => {
  const m = new VmMetrics();
  for (let i = 0; i <= RING_SECONDS + 50; i++) m.sample(shared(i * 1e6, 0, []), null, i * 1000);
  expect(m.ring).toHaveLength(RING_SECONDS);
  expect(m.history(60)).toHaveLength(60);
  expect(m.history(60)[59].t).toBe((RING_SECONDS + 50) * 1000);
});

test("a thread's CPU time is read from /proc, and a thread that is gone reads as undefined", () => {
  const t0 = threadCpuSeconds(process.pid);
  expect(t0).toBeGreaterThanOrEqual(0);
  expect(threadCpuSeconds(2 ** 22 + 12345)).toBeUndefined();
});

test('--http takes [addr:]port, 127.0.0.1 by default', () => {
  expect(parseListen('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
  expect(parseListen('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
  expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
  for (const bad of ['', 'x', '70000', 'a b:80', ':80', '1.2.3.4:']) expect(parseListen(bad)).toBeUndefined();
});
