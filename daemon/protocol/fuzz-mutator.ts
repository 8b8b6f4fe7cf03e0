// A seeded mutational fuzzer for the control protocol (fuzz-target.ts), used
// where Jazzer.js cannot run: its prebuilt libFuzzer addon needs glibc 2.38 and
// this host (Debian 12) has 2.36. Structure-aware: besides byte flips, inserts,
// deletions and splices, it rewrites JSON values and keys with the inputs that
// validators get wrong (inherited names, huge or negative numbers, wrong types,
// long strings, NULs, deep nesting). Deterministic for a given seed.
import { encodeFrame } from './frames.js';
import { fuzzProtocolOne } from './fuzz-target.js';

/** xorshift32: the same seed gives the same run. */
export class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
}

const VALUES: unknown[] = [
  0, -1, 1, 4095, 4096, 16 << 20, (16 << 20) + 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, 0.5, NaN, '', 'x', 'a:b:c', ':', '__proto__',
  'constructor', 'toString', 'x'.repeat(300), 'x'.repeat(2000), 'a\u0000b', '\u001b[2J', true, false, null, [], {}, [[[[[]]]]],
  { __proto__: null }, Array(5).fill({ path: '/x', format: 'raw' }),
];
const KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', 'id', 'type', 'params', 'vm',
  'config', 'memory', 'owner', 'disks', 'follow', 'limit', 'page', 'ok', 'event', 'result', 'error'];

/** Valid frames of every request type, answers, events and pages: the seed corpus. */
export function seedCorpus(): Buffer[] {
  const reqs: unknown[] = [
    { id: 1, type: 'status', params: {} },
    { id: 2, type: 'status', params: { vm: 'web' } },
    { id: 3, type: 'define', params: { name: 'vm1', config: { memory: 64 << 20, cpus: 2, kernel: '/k', initrd: '/i', cmdline: 'console=ttyS0', bios: '/b', disks: [{ path: '/d', format: 'qcow2', readOnly: true }], bootDevice: 'disk', owner: 'alice:staff' } } },
    { id: 4, type: 'define', params: { name: 'vm2', config: {}, template: 'vm1' } },
    { id: 5, type: 'undefine', params: { vm: 'vm1' } },
    { id: 6, type: 'enable', params: { vm: '1' } },
    { id: 7, type: 'disable', params: { vm: '1' } },
    { id: 8, type: 'start', params: { vm: 't', config: { memory: 32 << 20, kernel: '/k' } } },
    { id: 9, type: 'stop', params: { all: true, force: false, wait: true } },
    { id: 10, type: 'pause', params: { vm: 'a' } },
    { id: 11, type: 'unpause', params: { vm: 'a' } },
    { id: 12, type: 'wait', params: { vm: 'a' } },
    { id: 13, type: 'log', params: { level: 'verbose' } },
    { id: 14, type: 'reload', params: {} },
    { id: 15, type: 'reset', params: { what: 'vms' } },
    { id: 16, type: 'events', params: { vm: 'x', limit: 2000, follow: true } },
    { id: 17, type: 'console', params: { vm: 'x' } },
    { id: 18, type: 'stats', params: {} },
    { id: 1, ok: true, result: { vms: [] } },
    { id: 1, ok: false, error: { code: 'ERR_VMSUP_X', message: 'm', hint: 'h' } },
    { id: 1, event: { seq: 1, time: 't', vmId: 1, vm: 'a', from: null, to: 'defined', reason: 'r' } },
    { id: 1, page: [{ a: 1 }, { b: 2 }] },
  ];
  const out: Buffer[] = [];
  for (const r of reqs) {
    const f = encodeFrame(r);
    out.push(Buffer.concat([Buffer.from([0]), f])); // raw stream
    out.push(Buffer.concat([Buffer.from([1]), f.subarray(4)])); // one JSON body
  }
  out.push(Buffer.concat([Buffer.from([6]), encodeFrame(reqs[0]), encodeFrame(reqs[2])]));
  return out;
}

function mutateJson(rng: Rng, v: unknown, depth = 0): unknown {
  if (depth > 6 || v === null || typeof v !== 'object') return rng.below(3) === 0 ? rng.pick(VALUES) : v;
  if (Array.isArray(v)) {
    const a = v.map((x) => (rng.below(3) === 0 ? mutateJson(rng, x, depth + 1) : x));
    if (rng.below(4) === 0) a.push(rng.pick(VALUES));
    return a;
  }
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const r = rng.below(10);
    if (r === 0) continue; // drop a field
    o[r === 1 ? rng.pick(KEYS) : k] = rng.below(3) === 0 ? mutateJson(rng, x, depth + 1) : x;
  }
  if (rng.below(4) === 0) o[rng.pick(KEYS)] = rng.pick(VALUES);
  return o;
}

/** One mutant of `input` (a corpus entry: mode byte + bytes). */
export function mutate(rng: Rng, input: Buffer, corpus: Buffer[]): Buffer {
  const mode = input[0] ?? 0;
  let body = Buffer.from(input.subarray(1));
  // Structure-aware half the time when the body is a JSON object.
  if (mode & 1 && rng.below(2) === 0) {
    try {
      const text = JSON.stringify(mutateJson(rng, JSON.parse(body.toString('utf8'))));
      // "__proto__" set through an object literal key is lost by JSON.stringify; write it back as a hostile client would.
      body = Buffer.from(rng.below(8) === 0 ? text.replace(/^\{/, `{"${rng.pick(KEYS)}":${JSON.stringify(rng.pick(VALUES)) ?? 0},`).replace(/,\}$/, '}') : text);
      return Buffer.concat([Buffer.from([rng.below(4) === 0 ? rng.below(256) | 1 : mode]), body]);
    } catch {
      // not JSON any more: fall through to bytes
    }
  }
  for (let k = 0, n = 1 + rng.below(4); k < n; k++) {
    const at = rng.below(body.length + 1);
    switch (rng.below(7)) {
      case 0:
        if (body.length) body[Math.min(at, body.length - 1)] = rng.below(256);
        break;
      case 1:
        if (body.length) body[Math.min(at, body.length - 1)] ^= 1 << rng.below(8);
        break;
      case 2:
        if (body.length) body[Math.min(at, body.length - 1)] = '{}[]":,0123456789e-.\\u'.charCodeAt(rng.below(22));
        break;
      case 3: {
        const ins = Buffer.from(rng.below(2) ? JSON.stringify(rng.pick(VALUES)) ?? 'null' : rng.pick(KEYS));
        body = Buffer.concat([body.subarray(0, at), ins, body.subarray(at)]);
        break;
      }
      case 4:
        body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1 + rng.below(8))]);
        break;
      case 5: {
        const other = rng.pick(corpus).subarray(1);
        const from = rng.below(other.length);
        body = Buffer.concat([body.subarray(0, at), other.subarray(from, from + 1 + rng.below(64))]);
        break;
      }
      default: {
        // A length header out of range, or a duplicated frame.
        const h = Buffer.alloc(4);
        h.writeUInt32BE(rng.pick([0, 1, 3, 262144, 262145, 0x7fffffff, 0xffffffff, body.length]));
        body = Buffer.concat([body.subarray(0, at), h, body.subarray(at)]);
      }
    }
  }
  return Buffer.concat([Buffer.from([rng.below(8) === 0 ? rng.below(256) : mode]), body.subarray(0, 300_000)]);
}

export interface FuzzRun {
  execs: number;
  findings: { input: Buffer; error: string }[];
}

/** Runs `iterations` mutants (or until `deadline`, ms since epoch), starting from the seed corpus plus `extra`.
 * Inputs that raise a non-VmsupError are findings; distinct short inputs are kept in the working corpus. */
export function fuzzProtocol(seed: number, iterations: number, deadline = Infinity, extra: Buffer[] = []): FuzzRun {
  const rng = new Rng(seed);
  const corpus = [...seedCorpus(), ...extra];
  const run: FuzzRun = { execs: 0, findings: [] };
  const one = (input: Buffer) => {
    run.execs++;
    try {
      fuzzProtocolOne(input);
    } catch (e) {
      run.findings.push({ input, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  };
  for (const c of corpus) one(c);
  for (let i = 0; i < iterations && Date.now() < deadline; i++) {
    const m = mutate(rng, rng.pick(corpus), corpus);
    one(m);
    // Keep a bounded, rotating sample of mutants so mutations stack.
    if (m.length < 4096 && rng.below(16) === 0) {
      if (corpus.length < 2000) corpus.push(m);
      else corpus[corpus.length - 1 - rng.below(1000)] = m;
    }
  }
  return run;
}
