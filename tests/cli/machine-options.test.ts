// The one table of machine options (cli/machine-options.ts): `run` and
// define/start read the same rows, so a flag means the same value in both, and
// both getopt specs know every row (else `-m128M` would not be split).
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { MACHINE_OPTIONS } from '../../cli/machine-options.js';
import { parseRunArgs, runCommand } from '../../cli/run.js';
import { parseVmArgs } from '../../cli/vmopts.js';
import { startCommand } from '../../cli/start.js';
import { defineCommand } from '../../cli/define.js';

/** Whether a getopt spec takes `flag` with (or without) a value. */
function known(spec: { short: string; longWithValue?: string[] }, flag: string, withValue: boolean): boolean {
  if (flag.startsWith('--')) return withValue ? (spec.longWithValue ?? []).includes(flag.slice(2)) : true;
  const at = spec.short.indexOf(flag[1]);
  return at >= 0 && (spec.short[at + 1] === ':') === withValue;
}

describe('the machine options table', () => {
  test('every row is in the getopt specs of run, start and define (run-only rows in run\'s)', () => {
    for (const o of MACHINE_OPTIONS) {
      for (const f of [...o.flags, ...(o.runFlags ?? [])]) expect(known(runCommand.options!, f, o.arg !== undefined), `run ${f}`).toBe(true);
      if (o.runOnly) continue;
      for (const f of o.flags) {
        expect(known(startCommand.options!, f, o.arg !== undefined), `start ${f}`).toBe(true);
        expect(known(defineCommand.options!, f, o.arg !== undefined), `define ${f}`).toBe(true);
      }
    }
  });

  test('the shared flags give run and define the same values', () => {
    const args = ['-m', '512M', '--cpus', '2', '-b', 'k.elf', '--initrd', 'i.cpio', '--cmdline', 'console=ttyS0 x', '--bios', 'fw.bin'];
    const { opts } = parseRunArgs(args.map((a) => (a.includes('.') && !a.includes(' ') ? '/etc/hostname' : a)));
    const { config } = parseVmArgs([...args, 'vm'], 'define', false);
    expect(opts.memory).toBe(config.memory);
    expect(opts.cpus).toBe(config.cpus);
    expect(opts.cmdline).toBe(config.cmdline);
    expect(config.kernel).toBe(path.resolve('k.elf'));
    expect(config.bios).toBe(path.resolve('fw.bin'));
  });

  test('-c is the cpu count in run and the console in start; define has no -c', () => {
    expect(parseRunArgs(['-c', '2', '-b', '/etc/hostname']).opts.cpus).toBe(2);
    const s = parseVmArgs(['-c', 'vm'], 'start', true);
    expect(s.console).toBe(true);
    expect(s.config.cpus).toBeUndefined();
    expect(() => parseVmArgs(['-c', 'vm'], 'define', false)).toThrow(/unknown option: -c/);
  });

  test('a bad value is refused with the same words by both', () => {
    for (const [args, re] of [
      [['--cpus', '9'], /invalid number of cpus: 9 \(1 to 8\)/],
      [['-B', 'floppy'], /invalid boot device: floppy \(disk, cdrom or net\)/],
      [['-d', 'raw:'], /invalid disk: raw:/],
      [['-m', 'lots'], /memory/],
    ] as [string[], RegExp][]) {
      expect(() => parseRunArgs(['-b', '/etc/hostname', ...args])).toThrow(re);
      expect(() => parseVmArgs([...args, 'vm'], 'define', false)).toThrow(re);
    }
  });

  test('--no-jit is run\'s only', () => {
    expect(parseRunArgs(['--no-jit', '-b', '/etc/hostname']).opts.jit).toBe(false);
    expect(() => parseVmArgs(['--no-jit', 'vm'], 'define', false)).toThrow(/unknown option: --no-jit/);
  });
});
