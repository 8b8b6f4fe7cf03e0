// `vmsup run` with bare-metal programs (issue 2): HTIF PASS / FAIL / console,
// the boot state, Sstc, self-modifying code, --timeout, and one clear error
// line for every kind of bad input. The programs are tests/cpu/*.S, built
// with the riscv64 cross compiler into tests/.work/cpu/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(root, 'tests', '.work', 'cpu');
const vmsup = join(root, 'bin', 'vmsup');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [vmsup, 'run', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A copy of putchar.elf with `patch` applied to its bytes. */
function patched(name: string, patch: (b: Buffer) => Buffer): string {
  const p = join(out, name);
  writeFileSync(p, patch(readFileSync(join(out, 'putchar.elf'))));
  return p;
}

describe('vmsup run -b with bare-metal programs', () => {
  beforeAll(() => {
    const r = spawnSync('bash', [join(here, 'build.sh')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building tests/cpu failed:\n${r.stderr}${r.error ?? ''}`);
  });

  test('HTIF console putchar reaches stdout and tohost = 1 ends with PASS, exit 0', () => {
    const r = run('--timeout', '20', '-b', join(out, 'putchar.elf'));
    expect(r).toEqual({ status: 0, stdout: 'hi vmsup\nPASS\n', stderr: '' });
  });

  test('tohost = (n << 1) | 1 ends with "FAIL test n", exit 1', () => {
    const r = run('--timeout', '20', '-b', join(out, 'fail.elf'));
    expect(r).toEqual({ status: 1, stdout: 'FAIL test 42\n', stderr: '' });
  });

  test.each(['hartid', 'sstc', 'smc'])('%s passes its checks', (name) => {
    const r = run('--timeout', '20', '-b', join(out, `${name}.elf`));
    expect({ status: r.status, stdout: r.stdout.trim() }, r.stderr).toEqual({ status: 0, stdout: 'PASS' });
  });

  test('-m sizes the RAM the program runs in', () => {
    expect(run('-m', '64M', '--timeout', '20', '-b', join(out, 'putchar.elf')).status).toBe(0);
  });

  test('--timeout ends a program that never exits with a message and exit 2', () => {
    const r = run('--timeout', '1', '-b', join(out, 'spin.elf'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/timeout/);
  });

  const errors: Array<[string, () => string[], RegExp]> = [
    ['a missing file', () => ['-b', join(out, 'no-such-file.elf')], /no-such-file\.elf/],
    // Any other non-empty file is a raw binary now (issue 13, as QEMU's -kernel): only an empty one is refused.
    ['an empty file', () => ['-b', patched('empty.bin', (b) => b.subarray(0, 0))], /is empty/],
    ['a 32-bit ELF', () => ['-b', patched('class32.elf', (b) => { b[4] = 1; return b; })], /not a 64-bit ELF/],
    ['an ELF for another machine', () => ['-b', patched('x86.elf', (b) => { b.writeUInt16LE(62, 18); return b; })],
      /not a RISC-V ELF/],
    ['a truncated ELF', () => ['-b', patched('trunc.elf', (b) => b.subarray(0, 100))], /truncated/],
    ['a truncated segment', () => ['-b', patched('trunc2.elf', (b) => b.subarray(0, 0x1010))], /truncated/],
    ['a segment outside RAM', () => ['-b', join(out, 'below-ram.elf')], /outside RAM/],
    ['a memory size below 16 MiB', () => ['-m', '8M', '-b', join(out, 'putchar.elf')], /memory size/],
    ['an unparsable memory size', () => ['-m', 'lots', '-b', join(out, 'putchar.elf')], /invalid memory size/],
  ];
  test.each(errors)('%s gets one clear error line and a non-zero exit', (_what, args, message) => {
    const r = run('--timeout', '20', ...args());
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines.length, r.stderr).toBe(1);
    expect(lines[0]).toMatch(/^vmsup: /);
    expect(lines[0]).toMatch(message);
  });

  test('the same ELF can be loaded twice (the loader does not modify its input)', () => {
    const copy = join(out, 'copy.elf');
    copyFileSync(join(out, 'putchar.elf'), copy);
    expect(run('--timeout', '20', '-b', copy).status).toBe(0);
    expect(run('--timeout', '20', '-b', copy).status).toBe(0);
  });
});
