// `vmsup run --signature FILE [--signature-granularity N]`: the riscv-arch-test
// signature (RISCOF compares it with the reference model's). tests/cpu/signature.S
// is built here with the riscv64 cross compiler, in variants; the expected
// words are worked out by hand from the stores in that program (QEMU has no
// signature dump to compare against).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(root, 'tests', '.work', 'signature');
const vmsup = join(root, 'bin', 'vmsup');
const variants = ['PASS', 'FAIL', 'NO_SIG', 'REVERSED', 'OUTSIDE'] as const;
const elf = (v: (typeof variants)[number]) => join(out, `${v.toLowerCase()}.elf`);

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [vmsup, 'run', '--timeout', '20', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs `variant` with --signature and the extra options; returns the run and the file (or null). */
function runSig(variant: (typeof variants)[number], name: string, ...extra: string[]) {
  const sig = join(out, `${name}.sig`);
  rmSync(sig, { force: true });
  const r = run('--signature', sig, ...extra, '-b', elf(variant));
  return { ...r, sig: existsSync(sig) ? readFileSync(sig, 'utf8') : null };
}

// The region: 0x01234567 at +0, the canary 0xdeadbeef at +4, 0x89abcdeffedcba98
// at +8, canary with byte +17 = 0x5a at +16, canary with halfword +20 = 0xfffe at +20.
const WORDS4 = ['01234567', 'deadbeef', 'fedcba98', '89abcdef', 'dead5aef', 'deadfffe'];

describe('vmsup run --signature', () => {
  beforeAll(() => {
    mkdirSync(out, { recursive: true });
    for (const v of variants) {
      const r = spawnSync('riscv64-linux-gnu-gcc', [
        '-march=rv64gc', '-mabi=lp64d', '-nostdlib', '-nostartfiles', '-static', '-Wl,--build-id=none',
        '-I', here, `-Wl,-T,${join(here, 'link.ld')}`, ...(v === 'PASS' ? [] : [`-D${v}`]),
        '-o', elf(v), join(here, 'signature.S'),
      ], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`building signature.S (${v}) failed:\n${r.stderr}${r.error ?? ''}`);
    }
  });

  test('granularity 4 (the default): one little-endian word per line, lowest address first', () => {
    const r = runSig('PASS', 'g4');
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'PASS\n', stderr: '' });
    expect(r.sig).toBe(WORDS4.join('\n') + '\n');
    expect(runSig('PASS', 'g4b', '--signature-granularity', '4').sig).toBe(r.sig);
  });

  test('granularity 8: one doubleword per line, most significant byte first', () => {
    const r = runSig('PASS', 'g8', '--signature-granularity', '8');
    expect(r.status, r.stderr).toBe(0);
    expect(r.sig).toBe('deadbeef01234567\n89abcdeffedcba98\ndeadfffedead5aef\n');
  });

  test('granularity 16 pads a short last line with zero bytes at the top; 1 gives one byte a line', () => {
    expect(runSig('PASS', 'g16', '--signature-granularity', '16').sig).toBe(
      '89abcdeffedcba98deadbeef01234567\n0000000000000000deadfffedead5aef\n');
    const bytes = WORDS4.flatMap((w) => [6, 4, 2, 0].map((i) => w.slice(i, i + 2)));
    expect(runSig('PASS', 'g1', '--signature-granularity', '1').sig).toBe(bytes.join('\n') + '\n');
  });

  test('a guest that ends with an HTIF failure still gets its signature written', () => {
    const r = runSig('FAIL', 'fail');
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: 'FAIL test 7\n' });
    expect(r.sig).toBe(WORDS4.join('\n') + '\n');
  });

  const refusals: Array<[string, (typeof variants)[number], RegExp]> = [
    ['an ELF without begin_signature/end_signature', 'NO_SIG', /lacks the symbols begin_signature and end_signature/],
    ['end_signature before begin_signature', 'REVERSED', /end_signature before begin_signature/],
    ['a region outside RAM', 'OUTSIDE', /signature region 0x1000\.\.0x1018 lies outside RAM/],
  ];
  test.each(refusals)('%s: one error line, non-zero exit, no file, the guest never runs', (_what, v, message) => {
    const r = runSig(v, `bad-${v}`);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');  // no PASS: refused before the run
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^vmsup: /);
    expect(r.stderr).toMatch(message);
    expect(r.sig).toBeNull();
  });

  test('without --signature those ELFs run as usual', () => {
    expect(run('-b', elf('NO_SIG'))).toEqual({ status: 0, stdout: 'PASS\n', stderr: '' });
    expect(run('-b', elf('OUTSIDE'))).toEqual({ status: 0, stdout: 'PASS\n', stderr: '' });
  });

  test('an unwritable signature file is one clear error line', () => {
    const r = run('--signature', join(out, 'no-such-dir', 'x.sig'), '-b', elf('PASS'));
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^vmsup: cannot write the signature to .*no-such-dir/);
  });

  test.each([['3'], ['0'], ['32'], ['4k'], ['-4']])('--signature-granularity %s is a usage error', (n) => {
    const r = run('--signature', join(out, 'u.sig'), '--signature-granularity', n, '-b', elf('PASS'));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^vmsup: invalid signature granularity: ${n} \\(bytes per line: 1, 2, 4, 8, 16\\)`));
  });

  test('--signature-granularity without --signature is a usage error', () => {
    const r = run('--signature-granularity', '4', '-b', elf('PASS'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vmsup: --signature-granularity needs --signature file/);
  });
});
