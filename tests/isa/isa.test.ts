// Instruction-level tests of the vCPU (issue 2): every bare-metal program in
// tests/isa/*.S (and *.c) is built with the riscv64 cross compiler into tests/.work/isa/
// and run with `vmsup run`; each reports over HTIF (PASS, or "FAIL test n"
// where n is the number of the failing check in the program's source).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(root, 'tests', '.work', 'isa');
const vmsup = join(root, 'bin', 'vmsup');
const programs = readdirSync(here)
  .filter((f) => f.endsWith('.S') || f.endsWith('.c'))
  .map((f) => f.slice(0, -2))
  .sort();

describe('ISA test programs under vmsup run', () => {
  beforeAll(() => {
    // The toolchain is a declared test dependency (scripts/install-deps.sh):
    // a missing compiler fails here, loudly.
    const r = spawnSync('bash', [join(here, 'build.sh')], { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`building the ISA programs failed (status ${r.status}):\n${r.stderr}${r.error ?? ''}`);
    }
  });

  test('there are programs to run', () => {
    expect(programs.length).toBeGreaterThanOrEqual(25);
  });

  test.each(programs)('%s passes every check', (name) => {
    const elf = join(out, `${name}.elf`);
    const r = spawnSync(process.execPath, [vmsup, 'run', '--timeout', '30', '-b', elf], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    const stdout = (r.stdout ?? '').trim();
    const failed = /FAIL test (\d+)/.exec(stdout);
    const what = failed
      ? `${name}: check ${failed[1]} failed (see "${failed[1]}" in tests/isa/${name}.S or .c)`
      : `${name}: exit status ${r.status}${r.signal ? ` signal ${r.signal}` : ''}`;
    expect({ status: r.status, stdout }, `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toEqual({
      status: 0,
      stdout: 'PASS',
    });
  });
});
