// A seeded, bounded slice of the control-protocol fuzzer (the long run is
// scripts/fuzz-protocol.sh): every mutant is decoded and validated, or refused
// with a VmsupError; decoding never depends on how the bytes were cut.
import { expect, test } from 'vitest';
import { FrameDecoder } from './frames.js';
import { fuzzProtocol, seedCorpus } from './fuzz-mutator.js';
import { fuzzProtocolOne } from './fuzz-target.js';

test('the seed corpus decodes', () => {
  for (const c of seedCorpus()) {
    expect(() => fuzzProtocolOne(c)).not.toThrow();
    if (c[0] === 0) expect(new FrameDecoder().push(c.subarray(1)).length).toBeGreaterThan(0);
  }
});

test('20,000 seeded mutants raise nothing but VmsupError', () => {
  const run = fuzzProtocol(0x5eed0008, 20_000);
  expect(run.findings.map((f) => `${f.error} on ${f.input.toString('base64')}`)).toEqual([]);
  expect(run.execs).toBeGreaterThan(20_000);
});
