// vmsup load / reload (vm.conf(5)), define --replace and VM instances, through
// bin/vmsup against a real vmsupd, with throw-away users for the instance rules.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildBareMetal, Daemon } from '../daemon/harness.js';

const GROUP = 'vmsuplg';
const ALICE = 'vmsupla';
const BOB = 'vmsuplb';
const MALLORY = 'vmsuplm';

function sh(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

let d: Daemon;
let work: string;
let IDLE: string;
let OTHER: string;
let conf: string;

type Vm = { id: number; name: string; state: string; memory: number; source: string | null; enabled: boolean; template: string | null };
async function vms(): Promise<Vm[]> {
  return JSON.parse((await d.vmsup(['status', '--json'])).stdout) as Vm[];
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vmsup-load-'));
  fs.chmodSync(work, 0o755);
  IDLE = buildBareMetal(work, 'idle', 'IDLE-READY', 'idle');
  OTHER = buildBareMetal(work, 'other', 'OTHER-READY', 'idle');
  conf = path.join(work, 'vm.conf');
  for (const u of [ALICE, BOB, MALLORY]) sh('userdel', [u]);
  sh('groupadd', ['-f', GROUP]);
  for (const u of [ALICE, BOB, MALLORY]) sh('useradd', ['-M', '-U', '-G', GROUP, u]);
  d = await Daemon.create({ stop_timeout: 2 }, ['--group', GROUP]);
});

afterAll(async () => {
  await d?.cleanup();
  for (const u of [ALICE, BOB, MALLORY]) sh('userdel', [u]);
  sh('groupdel', [GROUP]);
  fs.rmSync(work, { recursive: true, force: true });
});

describe('vmsup load', () => {
  test('defines the VMs of a vm.conf (macros, include, relative paths); -n checks without storing', async () => {
    fs.writeFileSync(path.join(work, 'more.conf'), 'vm "beta" {\n  memory 32M\n  boot idle.elf\n  disable\n}\n');
    fs.writeFileSync(conf, `kern = "${IDLE}"\nvm "alpha" {\n  memory 64M\n  boot $kern\n  disable\n}\ninclude "more.conf"\n`);
    const n = await d.vmsup(['load', '-n', conf]);
    expect(n.stderr).toBe(`vmsup: ${conf}: configuration OK\n`);
    expect(await vms()).toEqual([]);
    const r = await d.vmsup(['load', conf]);
    expect(r.stderr).toBe(`vmsup: ${conf}: loaded: 2 defined, 0 redefined, 0 undefined, 0 started\n`);
    expect(r.code).toBe(0);
    const list = await vms();
    expect(list.map((v) => [v.name, v.memory >> 20, v.source, v.enabled, v.state])).toEqual([
      ['alpha', 64, conf, false, 'stopped'],
      ['beta', 32, conf, false, 'stopped'],
    ]);
  });

  test('a file with one error loads nothing, and says file:line', async () => {
    const bad = path.join(work, 'bad.conf');
    fs.writeFileSync(bad, `vm "gamma" {\n  boot "${IDLE}"\n}\nvm "delta" {\n  memory lots\n}\n`);
    const r = await d.vmsup(['load', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`vmsup: ${bad}:5: invalid memory size: lots (16M to 32G)\nvmsup: ${bad}: not loaded: nothing changed\n`);
    expect((await vms()).map((v) => v.name)).toEqual(['alpha', 'beta']);
  });

  test('an error only the daemon sees (a missing kernel) also loads nothing', async () => {
    const bad = path.join(work, 'missing.conf');
    fs.writeFileSync(bad, `vm "epsilon" {\n  boot "${IDLE}"\n  disable\n}\nvm "zeta" {\n  boot "${work}/nosuch.elf"\n  disable\n}\n`);
    const r = await d.vmsup(['load', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^vmsup: ${bad}:5: vm "zeta": .*nosuch\\.elf`));
    expect((await vms()).map((v) => v.name)).toEqual(['alpha', 'beta']);
  });

  test('global settings (root only), switch blocks and interfaces apply; what vmsupd cannot do is refused with its line', async () => {
    const g = path.join(work, 'globals.conf');
    fs.writeFileSync(g, `staggered start parallel 2 delay 5\nlocal prefix 10.77.0.0/16\nsocket owner root:${GROUP}\n`);
    fs.chmodSync(g, 0o644);
    const u = await d.vmsup(['load', g], { asUser: ALICE });
    expect(u.code).toBe(1);
    expect(u.stderr.split('\n')[0]).toMatch(new RegExp(`^vmsup: ${g}:1: global settings: permission denied: only root`));
    const r = await d.vmsup(['load', g]);
    expect(r.stderr).toBe(`vmsup: ${g}: loaded: 0 defined, 0 redefined, 0 undefined, 0 started\n`);
    expect(d.log).toContain('global settings from vm.conf: socket owner, local prefix, staggered start (by root)');
    // vmd's switch blocks and interfaces: a switch is made, the VM's NICs are stored.
    const n = path.join(work, 'net.conf');
    fs.writeFileSync(n, `switch "sw" {\n  locked lladdr\n}\nvm "kappa" {\n  boot "${IDLE}"\n  interface { switch "sw" }\n  local interface\n  disable\n}\n`);
    const x = await d.vmsup(['load', n]);
    expect(x.stderr).toBe(`vmsup: ${n}: loaded: 1 defined, 0 redefined, 0 undefined, 0 started\n`);
    const sw = JSON.parse((await d.vmsup(['switch', 'status', '--json'])).stdout) as { switches?: { name: string; lockedLladdr: boolean }[] } | { name: string; lockedLladdr: boolean }[];
    const list = Array.isArray(sw) ? sw : sw.switches ?? [];
    expect(list.find((s) => s.name === 'sw')?.lockedLladdr).toBe(true);
    const kappa = (JSON.parse((await d.vmsup(['status', '--json'])).stdout) as { name: string; nics: { kind: string; switch?: string; lladdr: string }[] }[]).find((v) => v.name === 'kappa')!;
    expect(kappa.nics.map((i) => [i.kind, i.switch])).toEqual([['switch', 'sw'], ['local', undefined]]);
    expect(kappa.nics[0].lladdr).toMatch(/^fe:e1:ba:d0(:[0-9a-f]{2}){2}$/);
    // What vmsupd cannot do is refused with its line, and nothing loads.
    const up = path.join(work, 'uplink.conf');
    fs.writeFileSync(up, `switch "up" {\n  interface bridge0\n}\nvm "lambda" {\n  boot "${IDLE}"\n  interface tap7\n}\n`);
    const y = await d.vmsup(['load', up]);
    expect(y.code).toBe(1);
    // (A switch's `interface bridge0` is its uplink now: tests/net/uplink.test.ts.)
    expect(y.stderr.split('\n').slice(0, 1)).toEqual([`vmsup: ${up}:4: vm "lambda": interface tap7: vmsupd names its taps itself; leave the name out`]);
    expect((await d.vmsup(['undefine', 'kappa'])).code).toBe(0);
    expect((await vms()).map((v) => v.name)).toEqual(['alpha', 'beta']);
  });

  test('reload: changed VMs keep their id, removed ones go (a running one when it stops), new ones come', async () => {
    const before = await vms();
    expect((await d.vmsup(['start', 'beta'])).code).toBe(0);
    fs.writeFileSync(conf, `vm "alpha" {\n  memory 128M\n  boot "${IDLE}"\n  disable\n}\nvm "eta" {\n  boot "${OTHER}"\n  disable\n}\n`);
    const r = await d.vmsup(['reload']);
    expect(r.stderr).toBe(`vmsup: ${conf}: reloaded: 1 defined, 1 redefined, 1 undefined, 0 started\n`);
    expect(r.code).toBe(0);
    const after = await vms();
    const alpha = after.find((v) => v.name === 'alpha')!;
    expect(alpha.id).toBe(before.find((v) => v.name === 'alpha')!.id);
    expect(alpha.memory).toBe(128 << 20);
    expect(after.find((v) => v.name === 'eta')?.source).toBe(conf);
    // beta left the file while running: it runs on, and is forgotten when it stops.
    expect(after.find((v) => v.name === 'beta')?.state).toBe('running');
    expect((await d.vmsup(['stop', '-fw', 'beta'])).code).toBe(0);
    expect((await vms()).map((v) => v.name)).toEqual(['alpha', 'eta']);
  });

  test('VMs without disable start when loaded, as vmd starts them', async () => {
    const c = path.join(work, 'auto.conf');
    fs.writeFileSync(c, `vm "theta" {\n  boot "${IDLE}"\n  memory 32M\n}\n`);
    const r = await d.vmsup(['load', c]);
    expect(r.stderr).toBe(`vmsup: ${c}: loaded: 1 defined, 0 redefined, 0 undefined, 1 started\n`);
    const theta = (await vms()).find((v) => v.name === 'theta')!;
    expect(theta.enabled).toBe(true);
    expect(theta.state).toBe('running');
    expect((await d.vmsup(['stop', '-fw', 'theta'])).code).toBe(0);
  });
});

describe('define --replace', () => {
  test('changes a definition in place: same id, new settings', async () => {
    expect((await d.vmsup(['define', '-m', '32M', '-b', IDLE, 'iota'])).code).toBe(0);
    const id = (await vms()).find((v) => v.name === 'iota')!.id;
    expect((await d.vmsup(['define', '-m', '48M', '-b', IDLE, 'iota'])).stderr).toMatch(/already exists/);
    const r = await d.vmsup(['define', '--replace', '-m', '48M', '-b', OTHER, 'iota']);
    expect(r.code).toBe(0);
    const iota = (await vms()).find((v) => v.name === 'iota')!;
    expect([iota.id, iota.memory]).toEqual([id, 48 << 20]);
  });
});

describe('instances (allow instance)', () => {
  test('who may make an instance, and what it may change, follow the parent', async () => {
    const c = path.join(work, 'inst.conf');
    fs.writeFileSync(
      c,
      `vm "parent" {\n  owner ${ALICE}\n  memory 32M\n  boot "${IDLE}"\n  allow instance { memory\n    owner ${BOB} }\n  disable\n}\n` +
        `vm "child" instance "parent" {\n  memory 48M\n  disable\n}\n`,
    );
    const r = await d.vmsup(['load', c]);
    expect(r.code).toBe(0);
    const child = (await vms()).find((v) => v.name === 'child')!;
    expect([child.template, child.memory]).toEqual(['parent', 48 << 20]);
    // bob is named by allow instance: he may change the memory, not the kernel.
    const ok = await d.vmsup(['start', '-t', 'parent', '-m', '40M', 'bobs'], { asUser: BOB });
    expect(ok.stderr).toMatch(/^vmsup: started vm \d+ successfully/);
    const no = await d.vmsup(['start', '-t', 'parent', '-b', OTHER, 'bobs2'], { asUser: BOB });
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/may not change the boot image/);
    // mallory is not named: not even told the parent exists... she is in the group, so she sees it and is refused.
    const m = await d.vmsup(['start', '-t', 'parent', '-m', '40M', 'mals'], { asUser: MALLORY });
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/does not allow vmsuplm to create instances|vm not found/);
    // the owner too may change only what allow instance lists.
    const a = await d.vmsup(['start', '-t', 'parent', '-d', IDLE, 'alis'], { asUser: ALICE });
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/may not change disks/);
    await d.vmsup(['stop', '-fw', 'bobs']);
  });
});
