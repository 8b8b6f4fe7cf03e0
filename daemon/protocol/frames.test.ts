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

describe('FrameDecoder cost (issue 8 F14)', () => {
  test('a 256 KiB frame arriving one byte at a time decodes (each byte copied once, not once per chunk)', () => {
    const big = encodeFrame({ id: 1, type: 'status', params: { vm: 'v' }, pad: 'x'.repeat(MAX_FRAME - 64) });
    const dec = new FrameDecoder();
    const got: unknown[] = [];
    // Quadratic re-concatenation would copy ~34 GB here and never finish.
    for (let i = 0; i < big.length; i++) got.push(...dec.push(big.subarray(i, i + 1)));
    expect(got).toHaveLength(1);
    expect(dec.pending).toBe(0);
    expect(dec.frames).toBe(1);
  });

  test('pending counts the header of a frame whose body has not come', () => {
    const f = encodeFrame({ id: 1 });
    const dec = new FrameDecoder();
    dec.push(f.subarray(0, 2));
    expect(dec.pending).toBe(2);
    dec.push(f.subarray(2, 6));
    expect(dec.pending).toBe(6);
    expect(dec.push(f.subarray(6))).toEqual([{ id: 1 }]);
    expect(dec.pending).toBe(0);
  });
});

describe('shape checks (issue 8 F19)', () => {
  test.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])('an inherited name "%s" is an unknown field', (k) => {
    // JSON.parse makes "__proto__" an own property, as a hostile client's frame would.
    const params = JSON.parse(`{"vm":"a","${k}":{"x":1}}`);
    expect(() => parseRequest({ id: 1, type: 'status', params })).toThrow(`unknown field "${k}"`);
    const config = JSON.parse(`{"${k}":1}`);
    expect(() => parseRequest({ id: 1, type: 'define', params: { name: 'a', config } })).toThrow(`unknown field "${k}"`);
  });

  test('checked params have no prototype to pollute', () => {
    const r = parseRequest({ id: 1, type: 'define', params: { name: 'a', config: { cpus: 1 } } });
    expect(Object.getPrototypeOf(r.params)).toBeNull();
    expect(Object.getPrototypeOf((r.params as { config: object }).config)).toBeNull();
  });

  test('a memory size that is not a multiple of 4 KiB is refused', () => {
    const def = (memory: number) => () => parseRequest({ id: 1, type: 'define', params: { name: 'a', config: { memory } } });
    expect(def((64 << 20) + 1)).toThrow(/multiple of 4 KiB/);
    expect(def((64 << 20) + 2048)).toThrow(/multiple of 4 KiB/);
    expect(def((64 << 20) + 4096)).not.toThrow();
  });

  test.each(['a:b:c', ':', '::', 'a::'])('--owner %j is refused', (owner) => {
    expect(() => parseRequest({ id: 1, type: 'define', params: { name: 'a', config: { owner } } })).toThrow(/user, user:group or :group/);
  });

  test.each(['alice', 'alice:staff', ':staff', 'alice:'])('--owner %j has the right shape', (owner) => {
    expect(() => parseRequest({ id: 1, type: 'define', params: { name: 'a', config: { owner } } })).not.toThrow();
  });
});
