// `vmsup run` argument handling for save/restore: the ~s escape, and
// --restore taking the machine's options from the file only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EscapeFilter, parseRunArgs } from '../../cli/run.js';

describe('run --save / --restore arguments', () => {
  it('~s after a newline is the save escape; elsewhere it is text', () => {
    const r = new EscapeFilter().feed(new TextEncoder().encode('ls\r~sx~s'));
    expect(r.actions).toEqual(['save']);
    expect(new TextDecoder().decode(r.bytes)).toBe('ls\rx~s');
  });

  it('--restore refuses machine options and files that are not snapshots', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-snapargs-'));
    try {
      const f = path.join(dir, 'x.snap');
      fs.writeFileSync(f, 'not a snapshot at all');
      expect(() => parseRunArgs(['--restore', f, '-m', '1G'])).toThrow(/--restore takes the machine's options from the saved file/);
      expect(() => parseRunArgs(['--restore', f])).toThrow(/not a vmsup snapshot/);
      expect(() => parseRunArgs(['--restore', path.join(dir, 'missing')])).toThrow(/cannot open/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
