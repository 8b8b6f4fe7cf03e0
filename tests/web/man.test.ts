// The manual pages: mdoc that `mandoc -T lint` accepts at warning level, and
// vmsup(8) and vmsup.conf(5) describe every command and every setting there is.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { repoRoot } from '../daemon/harness.js';
import { commands } from '../../cli/commands.js';
import { SETTING_KEYS } from '../../daemon/settings.js';

const MAN = path.join(repoRoot, 'man');
const PAGES = ['vmsup.8', 'vmsupd.8', 'vmsup.conf.5', 'vm.conf.5'];

test.each(PAGES)('%s passes mandoc -T lint', (page) => {
  const r = spawnSync('mandoc', ['-T', 'lint', '-W', 'warning', path.join(MAN, page)], { encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('vmsup(8) documents every command of the CLI', () => {
  const text = fs.readFileSync(path.join(MAN, 'vmsup.8'), 'utf8');
  const documented = [...text.matchAll(/^\.It (?:Xo )?Cm (\S+)/gm)].map((m) => m[1]);
  for (const c of commands) expect(c.names.some((n) => documented.includes(n)), `command ${c.names.join('/')}`).toBe(true);
});

test('vmsup.conf(5) documents every setting', () => {
  const text = fs.readFileSync(path.join(MAN, 'vmsup.conf.5'), 'utf8');
  // The keys vmsupd.conf takes, as the settings parser reads them.
  const keys = Object.keys(SETTING_KEYS);
  for (const k of keys) expect(text, k).toMatch(new RegExp(`^\\.It Ic ${k}\\b|Ic ${k} Ar`, 'm'));
});
