// Runs the native unit tests (native/**/*_test.cc) as part of `npm test`.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (e === 'fuzz') continue;
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (e.endsWith('_test.cc')) out.push(path.relative(root, p));
  }
  return out.sort();
}

const tests = findTests(path.join(root, 'native'));

describe('native unit tests', () => {
  test('build', () => {
    execFileSync('make', ['-f', 'native/Makefile.tests', '-j2', '--no-print-directory'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }, 600_000);

  for (const t of tests) {
    test(t.replace(/^native\//, '').replace(/_test\.cc$/, ''), () => {
      const bin = path.join(root, 'build/ntest', t.replace(/\.cc$/, ''));
      let out = '';
      try {
        // Device tests log every guest misbehaviour they provoke (rate-limited per
        // device, but a fuzz run makes thousands of devices): allow for it.
        out = execFileSync(bin, [], {
          cwd: root,
          encoding: 'utf8',
          timeout: 300_000,
          maxBuffer: 256 * 1024 * 1024,
        });
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        throw new Error(`${t} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
      }
      expect(out).toMatch(/\d+ passed, 0 failed/);
    }, 300_000);
  }
});
