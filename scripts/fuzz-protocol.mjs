// The long run of the control-protocol fuzzer (see daemon/protocol/fuzz-mutator.ts).
// Usage: node scripts/fuzz-protocol.mjs [seconds=600] [seed=1] [iterations=Infinity] [corpus-dir]
// Prints executions and findings; writes each finding to build/fuzz-protocol/crash-<n>.bin;
// exits 1 when there is one.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzzProtocol } from '../dist/daemon/protocol/fuzz-mutator.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 600);
const seed = Number(process.argv[3] ?? 1);
const iterations = Number(process.argv[4] ?? Infinity);
const corpusDir = process.argv[5];
const extra = corpusDir && fs.existsSync(corpusDir) ? fs.readdirSync(corpusDir).map((f) => fs.readFileSync(path.join(corpusDir, f))) : [];
const t0 = Date.now();
const deadline = t0 + seconds * 1000;
let execs = 0;
const findings = [];
// Slices of 100k with derived seeds, so progress is printed and a run can be replayed per slice.
for (let slice = 0; Date.now() < deadline && execs < iterations; slice++) {
  const n = Math.min(100_000, iterations - execs);
  const run = fuzzProtocol((seed * 1_000_003 + slice) >>> 0, n, deadline, extra);
  execs += run.execs;
  findings.push(...run.findings);
  process.stderr.write(`slice ${slice} (seed ${(seed * 1_000_003 + slice) >>> 0}): ${run.execs} execs, ${run.findings.length} findings\n`);
}
const out = path.join(root, 'build/fuzz-protocol');
findings.forEach((f, i) => {
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, `crash-${i}.bin`), f.input);
  process.stderr.write(`finding ${i}: ${f.error}\n`);
});
const secs = (Date.now() - t0) / 1000;
console.log(`protocol fuzz: ${execs} executions in ${secs.toFixed(0)} s (${Math.round(execs / secs)}/s), ${findings.length} findings`);
process.exit(findings.length ? 1 : 0);
