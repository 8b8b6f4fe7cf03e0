// terminalSafe: what the CLI prints from the daemon cannot drive the terminal,
// and --json output stays the same JSON.
import { expect, test } from 'vitest';
import { statusTable, terminalSafe } from './format.js';
import type { VmInfo } from '../daemon/protocol/messages.js';

const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

test('control characters, C1 and bidi overrides become visible \\uXXXX; tab and newline stay', () => {
  expect(terminalSafe('a\x1b[2Jb\x07c\x9b31m\u202eevil\r')).toBe('a\\u001b[2Jb\\u0007c\\u009b31m\\u202eevil\\u000d');
  expect(terminalSafe('line one\n\tline two')).toBe('line one\n\tline two');
  expect(terminalSafe('plain ünïcode ✓')).toBe('plain ünïcode ✓');
});

test('every code unit below 0x3000 either passes unchanged or is escaped, and JSON round-trips', () => {
  let all = '';
  for (let c = 0; c < 0x3000; c++) if (c < 0xd800 || c > 0xdfff) all += String.fromCharCode(c);
  const json = terminalSafe(JSON.stringify({ reason: all }));
  expect(UNSAFE.test(json)).toBe(false);
  expect(JSON.parse(json)).toEqual({ reason: all });
  expect(terminalSafe(terminalSafe(all))).toBe(terminalSafe(all));
});

test("status's PID column is '-' even for a running VM", () => {
  const vm = {
    id: 1, name: 'x', state: 'running', pid: 4242, cpus: 1, memory: 64 << 20, curmem: 0, tty: '/dev/pts/3',
    owner: { uid: 0, gid: 0, user: 'root', group: 'root' },
  } as unknown as VmInfo;
  const row = statusTable([vm]).split('\n')[1].trim().split(/\s+/);
  expect(row[0]).toBe('1');
  expect(row[1]).toBe('-');
  expect(statusTable([vm])).not.toContain('4242');
});
