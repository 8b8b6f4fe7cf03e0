// vmctl's status table (print_vm_info) and its fmt_scaled(3) sizes.
import type { VmInfo } from '../daemon/protocol/messages.js';

/** fmt_scaled: 1023B, 512M, 1.5G (one decimal below 10 of a unit). */
export function fmtScaled(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${n}B`;
  return v < 10 ? `${(Math.round(v * 10) / 10).toFixed(1)}${units[u]}` : `${Math.round(v)}${units[u]}`;
}

function owner(vm: VmInfo): string {
  return vm.owner.group && vm.owner.gid !== vm.owner.uid && vm.owner.group !== vm.owner.user
    ? `${vm.owner.user}:${vm.owner.group}`
    : vm.owner.user;
}

export function statusTable(vms: VmInfo[]): string {
  const row = (c: string[]) =>
    `${c[0].padStart(5)} ${c[1].padStart(5)} ${c[2].padStart(5)} ${c[3].padStart(7)} ${c[4].padStart(7)} ${c[5].padStart(7)} ${c[6].padStart(12)} ${c[7].padStart(8)} ${c[8]}`;
  const lines = [row(['ID', 'PID', 'VCPUS', 'MAXMEM', 'CURMEM', 'TTY', 'OWNER', 'STATE', 'NAME'])];
  for (const vm of vms) {
    const on = vm.state !== 'stopped';
    lines.push(
      row([
        String(vm.id),
        on && vm.pid ? String(vm.pid) : '-',
        String(vm.cpus),
        fmtScaled(vm.memory),
        on && vm.curmem > 0 ? fmtScaled(vm.curmem) : '-',
        on && vm.tty ? vm.tty.replace(/^\/dev\//, '') : '-',
        owner(vm),
        vm.state,
        vm.name,
      ]),
    );
  }
  return lines.join('\n');
}
