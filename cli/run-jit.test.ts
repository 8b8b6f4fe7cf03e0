// vmsup run --no-jit selects the interpreter (issue 11); without it the
// machine options leave the engine to the default (the JIT on x86-64).
import { expect, test } from 'vitest';
import { parseRunArgs } from './run.js';

test('--no-jit sets MachineOptions.jit = false; without it jit is left unset', () => {
  const file = process.execPath;  // any readable file stands in for the kernel
  expect(parseRunArgs(['--no-jit', '-b', file]).opts.jit).toBe(false);
  expect(parseRunArgs(['-b', file]).opts.jit).toBeUndefined();
});
