import { describe, expect, test } from 'vitest';
import { asksForHelp, expandArgs } from './getopt.js';

const start = { short: 'b:B:cd:i:Ln:m:r:t:', longWithValue: ['initrd', 'cmdline', 'bios', 'cpus', 'owner'] };

describe('getopt forms, as vmctl accepts them', () => {
  test('bundled flags are split: stop -fw', () => {
    expect(expandArgs(['-fw', 'web'], { short: 'afw' })).toEqual(['-f', '-w', 'web']);
  });
  test('a value attached to its letter is split off: -m128M', () => {
    expect(expandArgs(['-m128M', 'web'], start)).toEqual(['-m', '128M', 'web']);
  });
  test('flags then an option with an attached value: -cm1G', () => {
    expect(expandArgs(['-cm1G', 'web'], start)).toEqual(['-c', '-m', '1G', 'web']);
  });
  test('-cL is two flags', () => {
    expect(expandArgs(['-cL', 'web'], start)).toEqual(['-c', '-L', 'web']);
  });
  test('the word after an option taking a value is never split', () => {
    expect(expandArgs(['-b', '-cL', '--cmdline', '-fw', 'web'], start)).toEqual(['-b', '-cL', '--cmdline', '-fw', 'web']);
  });
  test('unknown letters leave the word alone for the handler to report', () => {
    expect(expandArgs(['-cz', 'web'], start)).toEqual(['-cz', 'web']);
  });
  test('-- ends the options', () => {
    expect(expandArgs(['--', '-fw'], { short: 'afw' })).toEqual(['--', '-fw']);
  });
  test('-h asks for help, but not as the value of an option', () => {
    expect(asksForHelp(['-c', '-h', 'web'], start)).toBe(true);
    expect(asksForHelp(['--cmdline', '-h', 'web'], start)).toBe(false);
    expect(asksForHelp(['-b', '-h', 'web'], start)).toBe(false);
    expect(asksForHelp(['--', '-h'], start)).toBe(false);
  });
});
