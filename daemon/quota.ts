// Admission control: per-user quotas and the host's memory. Guest RAM is
// charged to vmsupd itself, so a host that runs out kills every VM at once
// (the OOM killer picks the daemon): a start that would not fit is refused.
import fs from 'node:fs';
import { VmsupError } from './protocol/errors.js';
import { userRunningShare, type Settings } from './settings.js';
import type { VmRecord } from '../db/repository.js';

export interface HostMemory {
  total: number;
  available: number;
}

/** MemTotal and MemAvailable from /proc/meminfo, in bytes. */
export function hostMemory(): HostMemory {
  const text = fs.readFileSync('/proc/meminfo', 'utf8');
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { total: kb('MemTotal'), available: kb('MemAvailable') };
}

/** 96M, 1.5G: whole MiB below 1 GiB, one decimal above. */
function gib(n: number): string {
  return n < 2 ** 30 ? `${Math.round(n / 2 ** 20)}M` : `${(n / 2 ** 30).toFixed(1)}G`;
}

/**
 * Whether `vm` may take a worker slot now. `holding`: the VMs that hold one
 * (waiting, starting, running, paused, stopping). VMs owned by root skip the
 * per-user quotas (not the host's memory). Throws the refusal.
 */
export function admission(
  vm: Pick<VmRecord, 'name' | 'memory' | 'ownerUid'>,
  holding: Pick<VmRecord, 'memory' | 'ownerUid'>[],
  s: Settings,
  host: HostMemory,
): void {
  const committed = holding.reduce((n, v) => n + v.memory, 0);
  const limit = s.memoryOvercommit * host.total;
  if (vm.memory > s.memoryOvercommit * host.available || committed + vm.memory > limit)
    throw new VmsupError(
      'NO_MEMORY',
      `not enough host memory for vm ${vm.name}: it needs ${gib(vm.memory)}, the host has ${gib(host.total)} ` +
        `(${gib(host.available)} available), ${gib(committed)} is given to running vms, memory_overcommit ${s.memoryOvercommit}`,
      'give the vm less memory (-m), stop another vm, or raise memory_overcommit in vmsupd.conf',
    );
  if (vm.ownerUid === 0) return;
  const mine = holding.filter((v) => v.ownerUid === vm.ownerUid);
  const share = userRunningShare(s);
  if (mine.length >= share)
    throw new VmsupError(
      'QUOTA',
      `quota exceeded: the owner of vm ${vm.name} already has ${mine.length} vms running, paused or waiting (limit ${share})`,
      'stop one of them first; paused vms keep their worker slot',
    );
  const memLimit = s.userMaxMemoryMb * 2 ** 20;
  const used = mine.reduce((n, v) => n + v.memory, 0);
  if (memLimit > 0 && used + vm.memory > memLimit)
    throw new VmsupError(
      'QUOTA',
      `quota exceeded: vm ${vm.name} needs ${gib(vm.memory)}; its owner's running vms have ${gib(used)} of ${gib(memLimit)} (user_max_memory)`,
    );
}

/** Whether a user (not root) may store one more definition. */
export function definitionQuota(ownerUid: number, owned: number, s: Settings): void {
  if (ownerUid === 0 || s.userMaxVms === 0) return;
  if (owned >= s.userMaxVms)
    throw new VmsupError('QUOTA', `quota exceeded: the owner already has ${owned} vms defined (limit ${s.userMaxVms}, user_max_vms)`, 'undefine one first');
}
