// Hostile clients: malformed, truncated and oversized frames close that
// connection only; the daemon keeps serving everyone else.
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Daemon, GUEST, sleep } from './harness.js';

const KERNEL = path.join(GUEST, 'Image');
let d: Daemon;
beforeAll(async () => {
  d = await Daemon.create();
  await d.vmsup(['define', '-b', KERNEL, 'survivor']);
});
afterAll(async () => {
  await d.cleanup();
});

function frame(obj: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(obj));
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  return Buffer.concat([h, body]);
}

/** Sends raw bytes; resolves with what came back once the daemon closed the connection (or after `ms`). */
function exchange(bytes: Buffer, ms = 15_000): Promise<{ closed: boolean; data: Buffer }> {
  return new Promise((resolve) => {
    const s = net.connect(d.socket);
    const got: Buffer[] = [];
    const t = setTimeout(() => {
      s.destroy();
      resolve({ closed: false, data: Buffer.concat(got) });
    }, ms);
    s.on('data', (c) => got.push(c));
    s.on('close', () => {
      clearTimeout(t);
      resolve({ closed: true, data: Buffer.concat(got) });
    });
    s.on('error', () => undefined);
    s.write(bytes);
  });
}

async function daemonStillServes(): Promise<void> {
  const r = await d.vmsup(['status', 'survivor']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/survivor/);
}

test('a frame announcing more than the limit closes the connection', async () => {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(0x7fffffff);
  const r = await exchange(h);
  expect(r.closed).toBe(true);
  await daemonStillServes();
});

test('a zero-length frame closes the connection', async () => {
  expect((await exchange(Buffer.alloc(4))).closed).toBe(true);
  await daemonStillServes();
});

test('bytes that are not JSON close the connection', async () => {
  const body = Buffer.from('{not json');
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  expect((await exchange(Buffer.concat([h, body]))).closed).toBe(true);
  await daemonStillServes();
});

test('a request of the wrong shape is answered with an error and the connection closed', async () => {
  const r = await exchange(frame({ id: 7, type: 'define', params: { name: 'x', config: { memory: 'a lot' } } }));
  expect(r.closed).toBe(true);
  expect(r.data.subarray(4).toString()).toMatch(/malformed request: params.config.memory must be an integer/);
  expect((await exchange(frame({ id: 1, type: 'status', params: { vm: 'x', extra: 1 } }))).closed).toBe(true);
  expect((await exchange(frame({ id: 1, type: 'no-such-request' }))).closed).toBe(true);
  expect((await exchange(frame([1, 2, 3]))).closed).toBe(true);
  await daemonStillServes();
});

test('a truncated frame is dropped after a while; nothing is half-done', async () => {
  const full = frame({ id: 1, type: 'define', params: { name: 'half', config: { kernel: KERNEL } } });
  const r = await exchange(full.subarray(0, full.length - 3), 20_000);
  expect(r.closed).toBe(true);
  expect(await d.status('half')).toBeUndefined();
  await daemonStillServes();
});

test('a client that disconnects right after a request leaves either a whole VM or none', async () => {
  const s = net.connect(d.socket);
  await new Promise((r) => s.once('connect', r));
  s.write(frame({ id: 1, type: 'define', params: { name: 'hasty', config: { kernel: KERNEL, memory: 32 << 20 } } }));
  s.destroy();
  await sleep(500);
  const vm = await d.status('hasty');
  if (vm) expect(vm).toMatchObject({ kernel: KERNEL, memory: 32 << 20, state: 'stopped' });
  await daemonStillServes();
});

test('a flood of requests without reading answers closes that connection only', async () => {
  const many = Buffer.concat(Array.from({ length: 200 }, (_, i) => frame({ id: i + 1, type: 'wait', params: { vm: 'survivor' } })));
  const r = await exchange(many, 10_000);
  expect(r.closed).toBe(true);
  await daemonStillServes();
});
