// Conformance checks of the vCPU (issue 2): bare-metal programs in
// tests/conformance/*.S that exercise the behaviours the public RISC-V
// conformance suites (riscv-tests "p"/"v" environments, riscv-arch-test)
// depend on. They are built with the ISA suite's helper (tests/isa/build.sh,
// same flags, common.h and link.ld) into tests/.work/conformance/ and run with
// `vmsup run`; each reports over HTIF (PASS, or "FAIL test n" where n is the
// number of the failing check in the program's source).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(root, 'tests', '.work', 'conformance');
const vmsup = join(root, 'bin', 'vmsup');
const programs = readdirSync(here)
  .filter((f) => f.endsWith('.S'))
  .map((f) => f.slice(0, -2))
  .sort();

// A program may ask for extra `vmsup run` options (e.g. more harts) with a
// line "VMSUP_RUN_ARGS: <options>" in its source.
function runArgs(name: string): string[] {
  const m = /VMSUP_RUN_ARGS:([^\n]*)/.exec(readFileSync(join(here, `${name}.S`), 'utf8'));
  return m ? m[1].trim().split(/\s+/) : [];
}

describe('conformance programs under vmsup run', () => {
  beforeAll(() => {
    const r = spawnSync('bash', [join(here, 'build.sh')], { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`building the conformance programs failed (status ${r.status}):\n${r.stderr}${r.error ?? ''}`);
    }
  });

  test('there are programs to run', () => {
    expect(programs.length).toBeGreaterThanOrEqual(3);
  });

  test.each(programs)('%s passes every check', (name) => {
    const elf = join(out, `${name}.elf`);
    const r = spawnSync(process.execPath, [vmsup, 'run', ...runArgs(name), '--timeout', '30', '-b', elf], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    const stdout = (r.stdout ?? '').trim();
    const failed = /FAIL test (\d+)/.exec(stdout);
    const what = failed
      ? `${name}: check ${failed[1]} failed (see "${failed[1]}" in tests/conformance/${name}.S)`
      : `${name}: exit status ${r.status}${r.signal ? ` signal ${r.signal}` : ''}`;
    expect({ status: r.status, stdout }, `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toEqual({
      status: 0,
      stdout: 'PASS',
    });
  });
});
