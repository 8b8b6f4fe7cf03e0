// The control protocol's framing and shape checks, including a seeded random
// mutator over valid frames: every mutant decodes, or is refused with a
// VmsupError; nothing else is ever thrown.
import { describe, expect, test } from 'vitest';
import { VmsupError } from './errors.js';
import { encodeFrame, FrameDecoder, MAX_FRAME } from './frames.js';
import { parseRequest } from './messages.js';

describe('FrameDecoder', () => {
  test('reassembles frames split at every byte and several frames in one chunk', () => {
    const a = encodeFrame({ id: 1, type: 'status', params: {} });
    const b = encodeFrame({ id: 2, type: 'wait', params: { vm: 'x' } });
    const all = Buffer.concat([a, b]);
    for (let cut = 0; cut <= all.length; cut++) {
      const dec = new FrameDecoder();
      const got = [...dec.push(all.subarray(0, cut)), ...dec.push(all.subarray(cut))];
      expect(got).toEqual([{ id: 1, type: 'status', params: {} }, { id: 2, type: 'wait', params: { vm: 'x' } }]);
      expect(dec.pending).toBe(0);
    }
  });

  test('refuses an oversized or empty frame before buffering its body', () => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(MAX_FRAME + 1);
    expect(() => new FrameDecoder().push(h)).toThrow(/bad frame length/);
    expect(() => new FrameDecoder().push(Buffer.alloc(4))).toThrow(/bad frame length 0/);
  });

  test('refuses JSON that is not an object', () => {
    for (const body of ['[1]', '"s"', 'null', '3', '{']) {
      const b = Buffer.from(body);
      const h = Buffer.alloc(4);
      h.writeUInt32BE(b.length);
      expect(() => new FrameDecoder().push(Buffer.concat([h, b]))).toThrow(VmsupError);
    }
  });
});

describe('parseRequest', () => {
  test('accepts a well-formed start and fills nothing in', () => {
    const r = parseRequest({ id: 3, type: 'start', params: { vm: 'a', config: { memory: 64 << 20, disks: [{ path: '/d', format: 'qcow2' }] } } });
    expect(r).toEqual({ id: 3, type: 'start', params: { vm: 'a', config: { memory: 64 << 20, disks: [{ path: '/d', format: 'qcow2' }] } } });
  });

  test.each([
    [{ id: -1, type: 'status' }, /valid id/],
    [{ id: 1, type: 'constructor' }, /unknown type/],
    [{ id: 1, type: '__proto__' }, /unknown type/],
    [{ id: 1, type: 'status', params: { vm: 'x'.repeat(300) } }, /longer than 255 bytes/],
    [{ id: 1, type: 'define', params: { name: 'a', config: { cpus: 99 } } }, /between 1 and 8/],
    [{ id: 1, type: 'define', params: { name: 'a', config: { disks: Array(5).fill({ path: '/x', format: 'raw' }) } } }, /more than 4/],
    [{ id: 1, type: 'define', params: { name: 'a', config: { disks: [{ path: '/x', format: 'vmdk' }] } } }, /one of raw, qcow2/],
    [{ id: 1, type: 'define', params: { name: 'a', config: { kernel: 'a\u0000b' } } }, /NUL/],
    [{ id: 1, type: 'stop', params: { vm: 'a', force: 'yes' } }, /true or false/],
    [{ id: 1, type: 'status', extra: 1 }, /unknown field/],
  ])('refuses %j', (frame, msg) => {
    expect(() => parseRequest(frame as Record<string, unknown>)).toThrow(msg);
  });

  test('a seeded mutator over valid frames: decoded or refused with a VmsupError, never anything else', () => {
    let seed = 0x2545f491;
    const rnd = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const samples = [
      { id: 1, type: 'define', params: { name: 'vm1', config: { memory: 1 << 26, cpus: 2, kernel: '/k', disks: [{ path: '/d', format: 'raw', readOnly: true }] } } },
      { id: 2, type: 'stop', params: { all: true, force: false, wait: true } },
      { id: 3, type: 'events', params: { vm: 'x', limit: 10 } },
    ].map((s) => encodeFrame(s));
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const buf = Buffer.from(samples[rnd(samples.length)]);
      for (let k = 0, n = 1 + rnd(4); k < n; k++) {
        const at = rnd(buf.length);
        switch (rnd(3)) {
          case 0: buf[at] = rnd(256); break;
          case 1: buf[at] ^= 1 << rnd(8); break;
          default: buf[at] = '{}[]":,0-9e'.charCodeAt(rnd(11));
        }
      }
      try {
        for (const f of new FrameDecoder().push(buf)) parseRequest(f);
      } catch (e) {
        expect(e).toBeInstanceOf(VmsupError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});
