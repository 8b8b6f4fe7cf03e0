// The `vmsup run` console escape filter: escapes only after a newline (or at
// the start), everything else reaches the guest unchanged.
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { EscapeFilter, parseRunArgs } from './run.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('EscapeFilter', () => {
  test('~. at the start quits and sends nothing', () => {
    const r = new EscapeFilter().feed(enc('~.'));
    expect(r.actions).toEqual(['quit']);
    expect(dec(r.bytes)).toBe('');
  });

  test('~p after a newline (CR or LF) asks for Ctrl-Alt-Del', () => {
    const f = new EscapeFilter();
    expect(f.feed(enc('ls\r~p')).actions).toEqual(['ctrlaltdel']);
    expect(f.feed(enc('ls\n~p')).actions).toEqual(['ctrlaltdel']);
  });

  test('a tilde inside a line passes through', () => {
    const r = new EscapeFilter().feed(enc('cd ~.\r'));
    expect(r.actions).toEqual([]);
    expect(dec(r.bytes)).toBe('cd ~.\r');
  });

  test('~~ sends one tilde; ~x sends both characters', () => {
    expect(dec(new EscapeFilter().feed(enc('~~.')).bytes)).toBe('~.');
    expect(dec(new EscapeFilter().feed(enc('~x')).bytes)).toBe('~x');
  });

  test('an escape split across reads is still recognised', () => {
    const f = new EscapeFilter();
    expect(f.feed(enc('\r~')).actions).toEqual([]);
    expect(f.feed(enc('.')).actions).toEqual(['quit']);
  });

  test('~? prints help instead of sending', () => {
    const r = new EscapeFilter().feed(enc('~?'));
    expect(r.actions).toEqual(['help']);
    expect(r.bytes.length).toBe(0);
  });
});

describe('vmsup run options', () => {
  test('-d and -r are repeatable, take an explicit format, and become absolute paths', () => {
    const { opts } = parseRunArgs(['-b', '/bin/sh', '-d', 'a.img', '-r', 'qcow2:b.qcow2', '-d', 'raw:c']);
    expect(opts.disks).toEqual([
      { path: path.resolve('a.img'), format: 'raw', readOnly: false },
      { path: path.resolve('b.qcow2'), format: 'qcow2', readOnly: true },
      { path: path.resolve('c'), format: 'raw', readOnly: false },
    ]);
  });

  test('-c takes 1 to 8 cpus', () => {
    expect(parseRunArgs(['-b', '/bin/sh', '-c', '4']).opts.cpus).toBe(4);
    expect(() => parseRunArgs(['-b', '/bin/sh', '-c', '9'])).toThrow(/cpus/);
  });
});
