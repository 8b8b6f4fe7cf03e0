// daemon/vmdefs.ts: definitions and access checks, with a table of names instead of /etc.
import { describe, expect, test } from 'vitest';
import type { SwitchRecord, VmRecord } from '../db/repository.js';
import type { Peer } from './access.js';
import {
  bootChain,
  buildDefinition,
  checkConsoleOwner,
  controlled,
  instanceParent,
  keepLladdrs,
  resolveOwner,
  type DefinitionContext,
  type Names,
} from './vmdefs.js';

const USERS: Record<string, { uid: number; gid: number }> = { alice: { uid: 1000, gid: 1000 }, bob: { uid: 1001, gid: 1001 } };
const GROUPS: Record<string, number> = { alice: 1000, bob: 1001, vmops: 2000 };
const names: Names = {
  lookupUser: (n) => USERS[n],
  lookupGroup: (n) => GROUPS[n],
  userName: (uid) => Object.keys(USERS).find((k) => USERS[k].uid === uid) ?? String(uid),
  groupName: (gid) => Object.keys(GROUPS).find((k) => GROUPS[k] === gid) ?? String(gid),
};
const peer = (uid: number, gid: number, more: number[] = []): Peer => ({ pid: 1, uid, gid, groups: new Set([gid, ...more]) });
const root = peer(0, 0);
const alice = peer(1000, 1000, [2000]);
const bob = peer(1001, 1001);
const switches: SwitchRecord[] = [
  { name: 'ops', lockedLladdr: false, groupGid: 2000, uplink: null },
  { name: 'rootonly', lockedLladdr: false, groupGid: null, uplink: null },
];
const ctx = (rootDaemon = true): DefinitionContext => ({ names, switches, rootDaemon });

function record(over: Partial<VmRecord> = {}): VmRecord {
  return {
    id: 7, name: 'base', ownerUid: 1000, ownerGid: 1000, memory: 256 << 20, cpus: 2, kernel: '/k', initrd: null, cmdline: 'console=ttyS0',
    bios: null, bootDevice: null, disks: [{ path: '/d.img', format: 'raw', readOnly: false }], nics: [], enabled: false, transient: false,
    template: null, source: null, allowInstance: null, state: 'stopped', tty: null, tid: null, startedAt: null, reason: null, ...over,
  };
}

describe('owners', () => {
  test('a user owns what they define; root gives a vm away; a user only to a group of theirs', () => {
    expect(resolveOwner(alice, undefined, names)).toEqual({ ownerUid: 1000, ownerGid: 1000 });
    expect(resolveOwner(root, 'bob', names)).toEqual({ ownerUid: 1001, ownerGid: 1001 });
    expect(resolveOwner(root, 'bob:vmops', names)).toEqual({ ownerUid: 1001, ownerGid: 2000 });
    expect(resolveOwner(alice, ':vmops', names)).toEqual({ ownerUid: 1000, ownerGid: 2000 });
    expect(() => resolveOwner(alice, 'bob', names)).toThrow(/only root may give a vm/);
    expect(() => resolveOwner(bob, ':vmops', names)).toThrow(/only root may give a vm/);
    expect(() => resolveOwner(root, 'mallory', names)).toThrow(/invalid user: mallory/);
    expect(() => resolveOwner(root, ':nogroup', names)).toThrow(/invalid group: nogroup/);
  });
});

describe('definitions', () => {
  test('defaults, absolute paths and the boot chain', () => {
    const def = buildDefinition(alice, 'web', { kernel: '/boot/Image' }, undefined, false, ctx());
    expect(def).toMatchObject({ name: 'web', ownerUid: 1000, memory: 512 * 1024 * 1024, cpus: 1, kernel: '/boot/Image', cmdline: 'console=ttyS0', nics: [], template: null });
    expect(() => buildDefinition(alice, 'web', { kernel: 'Image' }, undefined, false, ctx())).toThrow(/must be absolute/);
    expect(() => buildDefinition(alice, 'web', {}, undefined, false, ctx())).toThrow(/no kernel or disk/);
    expect(() => buildDefinition(alice, '-web', { kernel: '/k' }, undefined, false, ctx())).toThrow(/invalid VM name/);
    const fw = { firmware: '/fw.bin', uboot: '/u-boot.bin' };
    expect(bootChain({ kernel: null, bios: null }, false, fw)).toEqual({ kernel: '/u-boot.bin', bios: '/fw.bin' });
    expect(bootChain({ kernel: '/raw', bios: null }, true, fw)).toEqual({ kernel: '/raw', bios: '/fw.bin' });
    expect(bootChain({ kernel: '/Image', bios: null }, false, fw)).toEqual({ kernel: '/Image', bios: null });
  });

  test('an instance takes its template\'s settings but new MACs', () => {
    const tpl = record({ nics: [{ kind: 'nat', lladdr: 'fe:e1:ba:d0:00:01', forwards: [] }] });
    const def = buildDefinition(alice, 'copy', { memory: 1 << 30 }, tpl, true, ctx());
    expect(def).toMatchObject({ memory: 1 << 30, cpus: 2, kernel: '/k', template: 'base', transient: true });
    expect(def.nics).toHaveLength(1);
    expect(def.nics![0].lladdr).not.toBe('fe:e1:ba:d0:00:01');
  });

  test('switches by group, taps only for a root daemon', () => {
    expect(buildDefinition(alice, 'a', { kernel: '/k', nics: [{ kind: 'switch', switch: 'ops' }] }, undefined, false, ctx()).nics).toHaveLength(1);
    expect(() => buildDefinition(bob, 'a', { kernel: '/k', nics: [{ kind: 'switch', switch: 'ops' }] }, undefined, false, ctx())).toThrow(
      /switch ops belongs to group vmops, which bob is not in/,
    );
    expect(() => buildDefinition(alice, 'a', { kernel: '/k', nics: [{ kind: 'switch', switch: 'rootonly' }] }, undefined, false, ctx())).toThrow(/has no group/);
    expect(() => buildDefinition(root, 'a', { kernel: '/k', nics: [{ kind: 'switch', switch: 'none' }] }, undefined, false, ctx())).toThrow(/switch not found: none/);
    expect(() => buildDefinition(root, 'a', { kernel: '/k', nics: [{ kind: 'local' }] }, undefined, false, ctx(false))).toThrow(/-L needs root/);
    expect(() => buildDefinition(root, 'a', { kernel: '/k', nics: [{ kind: 'tap' }] }, undefined, false, ctx(false))).toThrow(/-i needs root/);
    expect(buildDefinition(root, 'a', { kernel: '/k', nics: [{ kind: 'local' }] }, undefined, false, ctx(true)).nics![0].kind).toBe('local');
  });

  test('a redefinition keeps MACs of NICs of the same kind in the same place, unless one is named', () => {
    const was = [
      { kind: 'nat' as const, lladdr: 'fe:e1:ba:d0:00:01', forwards: [] },
      { kind: 'switch' as const, switch: 'ops', lladdr: 'fe:e1:ba:d0:00:02' },
    ];
    const now = [
      { kind: 'nat' as const, lladdr: 'fe:e1:ba:d0:99:01', forwards: [] },
      { kind: 'switch' as const, switch: 'other', lladdr: 'fe:e1:ba:d0:99:02' },
      { kind: 'nat' as const, lladdr: 'fe:e1:ba:d0:99:03', forwards: [] },
    ];
    expect(keepLladdrs(was, now, undefined)!.map((n) => n.lladdr)).toEqual(['fe:e1:ba:d0:00:01', 'fe:e1:ba:d0:99:02', 'fe:e1:ba:d0:99:03']);
    expect(keepLladdrs(was, now, [{ kind: 'nat', lladdr: 'fe:e1:ba:d0:99:01' }])![0].lladdr).toBe('fe:e1:ba:d0:99:01');
  });
});

describe('access', () => {
  test('control: the owner and the owning group, not others; a missing vm is not found', () => {
    const vm = record({ ownerGid: 2000 });
    expect(controlled(alice, 'base', vm)).toBe(vm);
    expect(controlled(root, 'base', vm)).toBe(vm);
    expect(controlled(peer(1002, 1002, [2000]), 'base', vm)).toBe(vm);
    expect(() => controlled(bob, 'base', vm)).toThrow(/belongs to another user/);
    expect(() => controlled(bob, 'nope', undefined)).toThrow(/vm not found: nope/);
  });

  test('the console: the owner or root only, not the group', () => {
    const vm = record({ ownerGid: 2000 });
    expect(() => checkConsoleOwner(alice, vm)).not.toThrow();
    expect(() => checkConsoleOwner(root, vm)).not.toThrow();
    expect(() => checkConsoleOwner(peer(1002, 1002, [2000]), vm)).toThrow(/only the owner of vm base/);
  });

  test('instances: vmd\'s allow instance rules', () => {
    const parent = record({ ownerUid: 1001, ownerGid: 1001, allowInstance: { options: ['memory'], owners: ['alice'] } });
    expect(instanceParent(alice, 'base', parent, { memory: 1 << 30 }, undefined, names)).toBe(parent);
    expect(() => instanceParent(alice, 'base', parent, { disks: [] }, undefined, names)).toThrow(/may not change disks \(allow instance \{ disk \}/);
    expect(() => instanceParent(alice, 'base', parent, undefined, { options: [], owners: [] }, names)).toThrow(/instances of its own/);
    const closed = record({ ownerUid: 1001, ownerGid: 1001 });
    expect(() => instanceParent(alice, 'base', closed, undefined, undefined, names)).toThrow(/vm not found: base/);
    expect(() => instanceParent(peer(1002, 1002, [1001]), 'base', closed, undefined, undefined, names)).toThrow(/does not allow 1002 to create instances/);
    expect(instanceParent(root, 'base', closed, { disks: [] }, undefined, names)).toBe(closed);
    const byGroup = record({ ownerUid: 1001, ownerGid: 1001, allowInstance: { options: [], owners: [':vmops'] } });
    expect(instanceParent(alice, 'base', byGroup, undefined, undefined, names)).toBe(byGroup);
    expect(() => instanceParent(alice, 'nope', undefined, undefined, undefined, names)).toThrow(/vm not found: nope/);
  });
});
